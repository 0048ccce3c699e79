/** The command line: argv to the command registry, exit code back (src/main.ts is the entry). */
import { hideBin } from 'yargs/helpers';
import { EXIT } from './exit.js';
import { parser } from './parser.js';
import { onStdoutError } from './stdout.js';

export async function main(argv: string[]): Promise<void> {
  process.stdout.on('error', onStdoutError(argv));
  await parser(argv).parseAsync();
}

main(hideBin(process.argv)).catch((err: unknown) => {
  process.stderr.write(`haagent: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exitCode = EXIT.FAILURE;
});
