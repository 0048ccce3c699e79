/** The command line: argv to the command registry, exit code back (src/main.ts is the entry). */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { commands } from './index.js';
import { EXIT } from './exit.js';

export async function main(argv: string[]): Promise<void> {
  const y = yargs(argv)
    .scriptName('haagent')
    .usage('$0 <command> [options]\n\nHeartbeat-style failover agent: elects one active director per VIP group.')
    .option('config', {
      alias: 'c',
      type: 'string',
      default: '/etc/haagent/haagent.yaml',
      describe: 'configuration file',
      global: true,
    })
    .demandCommand(1, 'name a command')
    .strict()
    .help()
    .alias('h', 'help')
    .version()
    .fail((msg, err) => {
      if (err) throw err;
      process.stderr.write(`haagent: ${msg}\n(see haagent --help)\n`);
      process.exit(EXIT.USAGE);
    });
  for (const c of commands) y.command(c);
  await y.parseAsync();
}

main(hideBin(process.argv)).catch((err: unknown) => {
  process.stderr.write(`haagent: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exitCode = EXIT.FAILURE;
});
