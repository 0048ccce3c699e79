/**
 * The command line's parser: yargs with the global options and every command of the registry
 * (index.ts). main.ts runs it on the process's arguments; `exit` is how a usage error ends
 * the process (process.exit), `registry` the commands (tests pass commands on fake ports).
 */
import yargs, { type Argv, type CommandModule } from 'yargs';
import { commands } from './index.js';
import { EXIT } from './exit.js';

export function parser(
  argv: string[],
  exit: (code: number) => never = (code) => process.exit(code),
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  registry: readonly CommandModule<object, any>[] = commands,
): Argv {
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
      exit(EXIT.USAGE);
    });
  for (const c of registry) y.command(c);
  return y;
}
