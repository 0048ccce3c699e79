/** What a one-shot command does when its stdout goes away. */
import { EXIT } from './exit.js';

/**
 * A reader that closed our stdout (`haagent status | head -1`) wants no more output: a one-shot
 * command ends quietly with the exit code it has so far, as a program killed by SIGPIPE would
 * end its part; the agent (`run`) keeps running, since what it serves is not its stdout.
 */
export function onStdoutError(argv: readonly string[], exit: (code: number) => void = (c) => process.exit(c)) {
  return (err: NodeJS.ErrnoException): void => {
    if (err.code !== 'EPIPE') throw err;
    if (argv[0] !== 'run') exit(typeof process.exitCode === 'number' ? process.exitCode : EXIT.OK);
  };
}
