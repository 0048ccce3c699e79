/**
 * The simulator's time: one discrete-event queue shared by every node, each agent process's
 * timers on it, the promises its fake ports settle at an instant of that clock, and the seeded
 * random source. Nothing here reads the real clock, so a run is the same for the same seed.
 */
import type { Timers } from '../../src/daemon/driver.js';

interface Ev {
  at: number;
  seq: number;
  fn: () => void;
  live: boolean;
}

/** Events due later than this many per run() are a runaway loop, not a scenario. */
const MAX_EVENTS_PER_RUN = 20_000_000;

/**
 * A binary heap of events ordered by (time, insertion). Events of the same instant run in the
 * order they were queued, so one queued "now" runs after everything already due now.
 */
export class EventQueue {
  now = 0;
  private heap: Ev[] = [];
  private seq = 0;
  private micro: (() => void)[] = [];

  at(delay: number, fn: () => void): Ev {
    const ev: Ev = { at: this.now + Math.max(0, delay), seq: this.seq++, fn, live: true };
    this.heap.push(ev);
    this.up(this.heap.length - 1);
    return ev;
  }

  cancel(ev: Ev): void {
    ev.live = false;
  }

  /** Runs fn right after the current event, before any other (a promise continuation). */
  microtask(fn: () => void): void {
    this.micro.push(fn);
  }

  /** Runs every event due by `end`; the clock then reads `end`. */
  runUntil(end: number): void {
    this.drain(); // what the caller's own call (start, stop, command) left for after it
    for (let n = 0; n < MAX_EVENTS_PER_RUN; n++) {
      const top = this.heap[0];
      if (top === undefined || top.at > end) {
        this.now = end;
        return;
      }
      this.pop();
      if (!top.live) continue;
      this.now = top.at;
      top.fn();
      this.drain();
    }
    throw new Error(`simulator: more than ${MAX_EVENTS_PER_RUN} events before ${end} ms (a loop that never waits?)`);
  }

  private drain(): void {
    for (let m = this.micro.shift(); m !== undefined; m = this.micro.shift()) m();
  }

  private before(a: Ev, b: Ev): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(h[i]!, h[p]!)) return;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.before(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.before(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}

/**
 * One agent process's timers (the driver's, the health monitor's): every
 * callback it armed is dropped once the process is dead, as a killed process runs nothing more.
 * afterPoll queues at the current instant, behind the datagrams already due: Node reads its
 * sockets before it runs setImmediate callbacks.
 */
export class ProcTimers implements Timers {
  alive = true;

  constructor(private readonly q: EventQueue) {}

  setTimeout(fn: () => void, ms: number): unknown {
    return this.q.at(ms, () => this.alive && fn());
  }

  clearTimeout(handle: unknown): void {
    if (handle !== null && typeof handle === 'object') this.q.cancel(handle as Ev);
  }

  afterPoll(fn: () => void): void {
    this.q.at(0, () => this.alive && fn());
  }

  /** A port's answer `ms` from now (computed then), unless the process died. */
  answer<T>(ms: number, value: () => T): Promise<T> {
    const d = this.deferred<T>();
    this.q.at(ms, () => this.alive && d.resolve(value()));
    return d.promise;
  }

  /**
   * A promise of this process that the simulator resolves: its continuation runs as a
   * microtask (right after the event that resolved it), and never once the process died.
   */
  deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
    const p = new Settled<T>();
    return { promise: p.promise(), resolve: (v) => this.q.microtask(() => this.alive && p.settle(v)) };
  }
}

/**
 * A promise the simulator settles on its own queue. Its caller (the driver) calls then() at once
 * on what a port returns; one that awaited instead would get its continuation from Node only
 * after run() returned, so settling with nobody waiting throws.
 */
class Settled<T> {
  private readonly waiting: ((v: T) => unknown)[] = [];

  then(ok?: (v: T) => unknown): this {
    if (ok) this.waiting.push(ok);
    return this;
  }

  settle(v: T): void {
    if (this.waiting.length === 0) throw new Error('simulator: a port answer settled with no then() waiting (the caller awaits it; the simulator needs then() called at once)');
    for (const ok of this.waiting) ok(v);
  }

  promise(): Promise<T> {
    return this as unknown as Promise<T>;
  }
}

/** xorshift32: deterministic for a seed. */
export class Rng {
  constructor(private state: number) {}

  next(): number {
    let x = this.state || 1;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state / 0x100000000;
  }
}
