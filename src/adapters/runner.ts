/**
 * The real CommandRunner: spawn with an argv (never a shell, so a VIP or interface name can
 * never be interpreted), stdin closed, output bounded, hard timeout with SIGKILL. It never
 * rejects: a missing binary is code -1 with the spawn error in stderr, so callers handle one
 * shape of failure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Millis } from '../config/types.js';
import type { CommandResult, CommandRunner, RunOptions } from '../ports/index.js';
import { BoundedBuffer, errorText } from './bounded-buffer.js';

export const DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024;

/**
 * After SIGKILL the pipes normally close at once; a grandchild that inherited them could keep
 * them open, so stop waiting for 'close' after this long and answer with what we have.
 */
const CLOSE_GRACE_MS = 1000;

export interface SpawnRunnerOptions {
  /** per stream (stdout, stderr). */
  maxOutputBytes?: number;
}

export class SpawnRunner implements CommandRunner {
  private readonly maxOutputBytes: number;

  constructor(opts: SpawnRunnerOptions = {}) {
    this.maxOutputBytes = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
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
        child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], shell: false, ...env });
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
      clearTimeout(killTimer);
      clearTimeout(graceTimer);
      resolve(r);
    };
    const killTimer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
      graceTimer = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        finish({ code: -1, signal: 'SIGKILL', stdout: out.text(), stderr: err.text(), timedOut });
      }, CLOSE_GRACE_MS);
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
