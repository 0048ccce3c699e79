/**
 * Fire-and-forget children with a bounded life, tracked by PID. Built for arping: bookworm's
 * arping puts its frame on the wire ~3 ms after spawn but lingers ~1 s before exiting, and
 * `-i 0` hangs forever (measured on Debian 12 bookworm), so the caller must not wait for the exit, yet no child
 * may outlive its bound. Every child is reaped ('close'), killed by its own handle (never by a
 * name), and its exit reported to the starter so a failure (arping exit 2 = bad device) gets
 * logged rather than lost.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Millis } from '../config/types.js';
import { BoundedBuffer, errorText } from './bounded-buffer.js';

/** stderr of a short-lived helper: one error line is all we need. */
const MAX_STDERR_BYTES = 4 * 1024;

export interface ChildStart {
  pid?: number;
  /** set when the child could not be started (e.g. "spawn arping ENOENT"). */
  error?: string;
}

export interface ChildExit {
  argv: readonly string[];
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** true when we killed it (life bound reached, or killAll). */
  killed: boolean;
}

export type ChildExitHandler = (exit: ChildExit) => void;

/** What the ArpingAnnouncer needs; unit tests pass a fake. */
export interface ChildStarter {
  /** Starts argv; resolves as soon as the child is running (or failed to start). */
  start(argv: readonly string[], maxLifeMs: Millis, onExit?: ChildExitHandler): Promise<ChildStart>;
  /** SIGKILLs every tracked child still running. */
  killAll(): void;
  /** children started and not yet reaped. */
  running(): number;
}

interface Tracked {
  child: ChildProcess;
  killed: boolean;
}

export class ChildTracker implements ChildStarter {
  private readonly children = new Map<number, Tracked>();

  start(argv: readonly string[], maxLifeMs: Millis, onExit?: ChildExitHandler): Promise<ChildStart> {
    return new Promise((resolve) => {
      if (argv.length === 0) {
        resolve({ error: 'empty argv' });
        return;
      }
      let child: ChildProcess;
      try {
        child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], shell: false });
      } catch (err) {
        resolve({ error: `${argv[0]}: ${errorText(err)}` });
        return;
      }
      // Spawn failures (ENOENT) arrive as 'error' with no pid; later errors (a failed kill of an
      // already-reaped child) are harmless, but a listener must exist or they would throw.
      child.on('error', (err) => {
        if (child.pid === undefined) resolve({ error: errorText(err) });
      });
      child.once('spawn', () => {
        this.track(child, argv, maxLifeMs, onExit);
        resolve({ pid: child.pid });
      });
    });
  }

  killAll(): void {
    for (const t of this.children.values()) {
      t.killed = true;
      t.child.kill('SIGKILL');
    }
  }

  running(): number {
    return this.children.size;
  }

  private track(child: ChildProcess, argv: readonly string[], maxLifeMs: Millis, onExit?: ChildExitHandler): void {
    const pid = child.pid as number;
    const entry: Tracked = { child, killed: false };
    this.children.set(pid, entry);
    const stderr = new BoundedBuffer(MAX_STDERR_BYTES);
    child.stderr?.on('data', (c: Buffer) => stderr.push(c));
    // Killing through the ChildProcess handle is a no-op once the child was reaped, so a
    // recycled PID can never be hit.
    const bound = setTimeout(() => {
      entry.killed = true;
      child.kill('SIGKILL');
    }, maxLifeMs);
    child.once('close', (code, signal) => {
      clearTimeout(bound);
      this.children.delete(pid);
      onExit?.({ argv, pid, code, signal, stderr: stderr.text(), killed: entry.killed });
    });
  }
}
