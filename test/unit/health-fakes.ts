// Hand-driven time for the health loops: a Clock and Timers that only move when the test says.
// advance() fires due timers in deadline order and lets promise continuations run after each,
// so a check run resolved "later" is seen at the right moment. Nothing sleeps.
import type { Clock } from '../../src/ports/index.js';
import type { Timers } from '../../src/ports/index.js';

interface Pending {
  id: number;
  at: number;
  fn: () => void;
}

/** Runs every queued microtask and immediate continuation (no timer of the real clock). */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class FakeTime implements Clock, Timers {
  private t = 0;
  private nextId = 1;
  private queue: Pending[] = [];

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): number {
    const id = this.nextId++;
    this.queue.push({ id, at: this.t + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.queue = this.queue.filter((p) => p.id !== handle);
  }

  /** timers still queued. */
  pending(): number {
    return this.queue.length;
  }

  /** Moves time forward by ms, firing what falls due (in order, ties by creation). */
  async advance(ms: number): Promise<void> {
    const until = this.t + ms;
    await flush();
    for (let guard = 0; guard < 100_000; guard++) {
      const due = this.queue.filter((p) => p.at <= until).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.queue = this.queue.filter((p) => p !== due);
      this.t = due.at;
      due.fn();
      await flush();
    }
    this.t = until;
    await flush();
  }
}

/** A promise with its resolve exposed, for check runs the test finishes by hand. */
export function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
