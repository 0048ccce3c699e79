/**
 * The runner for operator programs: notify hooks and exec health checks. On top of SpawnRunner
 * in process-group mode (the timeout kills the program with everything it started):
 *
 * - a minimal, fixed environment (OPERATOR_ENV, plus what the caller adds: the hooks'
 *   HAAGENT_* variables), never the agent's own, so nothing like NOTIFY_SOCKET, WATCHDOG_USEC
 *   or NODE_OPTIONS leaks into a script (docs/configuration.md#notify-hooks);
 * - script security before every run (src/config/script-security.ts): the configuration was
 *   checked at load, but a program installed or loosened since then must not run either. The
 *   walk is a few lstat calls on local paths, far below the cost of the fork that follows.
 *   A refused program is a "could not start" result with the reason in stderr.
 */
import type { Millis } from '../config/types.js';
import { checkProgram, type ProgramCheck } from '../config/script-security.js';
import type { CommandResult, CommandRunner, RunOptions } from '../ports/index.js';
import { SpawnRunner } from './runner.js';

/** What the OperatorRunner runs through: a SpawnRunner in process-group mode; tests pass a fake. */
export interface GroupRunner extends CommandRunner {
  killAll(): void;
}

/** The whole environment of a hook or exec check, before the hook's HAAGENT_* variables. */
export const OPERATOR_ENV: Readonly<Record<string, string>> = Object.freeze({
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  LANG: 'C.UTF-8',
});

export interface OperatorRunnerOptions {
  /** default: checkProgram (owner root or the agent's uid). */
  check?: ProgramCheck;
  /** default: a SpawnRunner in process-group mode. */
  runner?: GroupRunner;
}

export class OperatorRunner implements CommandRunner {
  private readonly check: ProgramCheck;
  private readonly runner: GroupRunner;

  constructor(opts: OperatorRunnerOptions = {}) {
    this.check = opts.check ?? checkProgram;
    this.runner = opts.runner ?? new SpawnRunner({ processGroup: true });
  }

  /** `opts.env` is the whole environment when given; OPERATOR_ENV otherwise. */
  run(argv: readonly string[], timeoutMs: Millis, opts: RunOptions = {}): Promise<CommandResult> {
    const program = argv[0];
    const problem = program === undefined ? null : this.check(program);
    if (problem !== null) return Promise.resolve({ code: -1, signal: null, stdout: '', stderr: `refused by script security: ${problem}`, timedOut: false });
    return this.runner.run(argv, timeoutMs, { env: opts.env ?? { ...OPERATOR_ENV } });
  }

  /** SIGKILLs every program still running, with its process group (agent stop). */
  killAll(): void {
    this.runner.killAll();
  }
}
