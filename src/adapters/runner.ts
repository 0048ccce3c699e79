/**
 * The real CommandRunner: spawn with an argv (never a shell, so a VIP or interface name can
 * never be interpreted), stdin closed, output bounded, hard timeout with SIGKILL. It never
 * rejects: a missing binary is code -1 with the spawn error in stderr, so callers handle one
 * shape of failure.
 *
 * With `processGroup` (operator programs: hooks, exec checks) each child leads its own process
 * group (a new session, `detached`), and the timeout and killAll() SIGKILL the whole group, so
 * a `sleep` under `sh` or a forked daemon dies with the program. The group is signalled only
 * while the runner still waits for that child: its leader unreaped, or a member still holding
 * the pipes, which keeps the PGID from being reused (unless that member left the group with
 * setsid, and the PID space wrapped within the timeout). The agent's own helpers (ip, ping) do
 * not fork and stay in the agent's group.
 */
import { DEFAULTS } from '../config/defaults.js';
import { spawn, type ChildProcess } from 'node:child_process';
import type { Millis } from '../config/types.js';
import type { CommandResult, CommandRunner, RunOptions } from '../ports/index.js';
import { BoundedBuffer, errorText } from './bounded-buffer.js';

/**
 * After SIGKILL the pipes normally close at once; a grandchild that inherited them could keep
 * them open, so stop waiting for 'close' after this long and answer with what we have.
 */
const CLOSE_GRACE_MS = 1000;

export interface SpawnRunnerOptions {
  /** per stream (stdout, stderr). */
  maxOutputBytes?: number;
  /** each child in its own process group, killed as a group (see above). */
  processGroup?: boolean;
}

/**
 * SIGKILLs process group `pgid`; false when that failed (ESRCH: already gone; EPERM: no member
 * we may signal). Never throws: it runs from timers.
 */
function killGroup(pgid: number): boolean {
  try {
    process.kill(-pgid, 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}

export class SpawnRunner implements CommandRunner {
  private readonly maxOutputBytes: number;
  private readonly processGroup: boolean;
  /** children not yet settled, with what kills them. */
  private readonly running = new Set<() => void>();

  constructor(opts: SpawnRunnerOptions = {}) {
    this.maxOutputBytes = opts.maxOutputBytes ?? DEFAULTS.commands.maxOutputBytes;
    this.processGroup = opts.processGroup === true;
  }

  /** SIGKILLs every child still running (with its group, in processGroup mode): agent stop. */
  killAll(): void {
    for (const kill of this.running) kill();
  }

  run(argv: readonly string[], timeoutMs: Millis, opts: RunOptions = {}): Promise<CommandResult> {
    return new Promise((resolve) => {
      if (argv.length === 0) {
        resolve(spawnFailure('empty argv'));
        return;
      }
      let child: ChildProcess;
      try {
        const env = opts.env === undefined ? {} : { env: opts.env };
        child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], shell: false, detached: this.processGroup, ...env });
      } catch (err) {
        // Synchronous throws are argument errors (e.g. a NUL byte in an argument).
        resolve(spawnFailure(`${argv[0]}: ${errorText(err)}`));
        return;
      }
      this.supervise(child, timeoutMs, resolve);
    });
  }

  private supervise(child: ChildProcess, timeoutMs: Millis, resolve: (r: CommandResult) => void): void {
    const out = new BoundedBuffer(this.maxOutputBytes);
    const err = new BoundedBuffer(this.maxOutputBytes);
    child.stdout?.on('data', (c: Buffer) => out.push(c));
    child.stderr?.on('data', (c: Buffer) => err.push(c));
    let settled = false;
    let timedOut = false;
    let graceTimer: NodeJS.Timeout | undefined;
    const finish = (r: CommandResult): void => {
      if (settled) return;
      settled = true;
      this.running.delete(kill);
      clearTimeout(killTimer);
      clearTimeout(graceTimer);
      resolve(r);
    };
    const kill = (): void => {
      if (graceTimer !== undefined) return;
      // Not settled yet, so the group is still pinned (see the header); a failed spawn has no
      // pid. Killing through the handle is a no-op once the child was reaped.
      if (!(this.processGroup && child.pid !== undefined && killGroup(child.pid))) child.kill('SIGKILL');
      graceTimer = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        finish({ code: -1, signal: 'SIGKILL', stdout: out.text(), stderr: err.text(), timedOut });
      }, CLOSE_GRACE_MS);
    };
    this.running.add(kill);
    const killTimer = setTimeout(() => {
      timedOut = true;
      kill();
    }, timeoutMs);
    child.on('error', (e) => {
      // Without a pid the process never started (ENOENT, EACCES); 'close' would report a
      // negative errno as the code, so answer here with the documented shape instead.
      if (child.pid === undefined) finish(spawnFailure(errorText(e)));
    });
    child.on('close', (code, signal) => {
      finish({ code: code ?? -1, signal, stdout: out.text(), stderr: err.text(), timedOut });
    });
  }
}

function spawnFailure(message: string): CommandResult {
  return { code: -1, signal: null, stdout: '', stderr: message, timedOut: false };
}

/** One line for logs and error records: the command as typed, and how it ended. */
export function describeResult(argv: readonly string[], r: CommandResult): string {
  const cmd = argv.join(' ');
  const stderr = r.stderr.trim();
  if (r.timedOut) return `${cmd}: timed out, killed${stderr ? `: ${stderr}` : ''}`;
  if (r.code === -1 && r.signal === null) return `${cmd}: could not start: ${stderr}`;
  if (r.signal !== null) return `${cmd}: killed by ${r.signal}${stderr ? `: ${stderr}` : ''}`;
  return `${cmd}: exit ${r.code}${stderr ? `: ${stderr}` : ''}`;
}
