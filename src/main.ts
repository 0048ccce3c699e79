#!/usr/bin/env -S node --max-semi-space-size=1 --lite-mode --no-expose-wasm
/**
 * Process entry: argv to the command registry, exit code back.
 *
 * The shebang's node flags keep a long-running agent small: a 1 MB young generation and
 * V8's lite mode (no optimizing compiler: an agent handles a few hundred small events a
 * second, where optimization buys nothing measurable) took the agent's RSS from ~85 MB to
 * ~61 MB at 10 ms heartbeats with the same CPU (docs/benchmarks.md). Lite mode turns
 * WebAssembly off anyway; --no-expose-wasm says so, so node prints no warning about it on
 * every command an operator types.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { commands } from './cli/index.js';
import { EXIT } from './cli/exit.js';

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
