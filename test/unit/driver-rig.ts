/**
 * The driver on fake ports, shared by the driver tests: hand-driven timers and a rig that
 * records every datagram the driver sends and can deliver a peer's heartbeats to it.
 */
import { Driver, type DriverDeps, type Timers } from '../../src/daemon/driver.js';
import { createLogger } from '../../src/log.js';
import type { Config } from '../../src/config/types.js';
import type { Datagram } from '../../src/ports/index.js';
import { encode } from '../../src/wire/codec.js';
import type { Message } from '../../src/wire/types.js';
import { parse, withLines } from './config-harness.js';

export const KEY = Buffer.alloc(32, 7);

/** Hand-driven time: setTimeout queues, afterPoll queues apart, nothing runs until told. */
export class Loop implements Timers {
  now = 0;
  timers: { at: number; fn: () => void }[] = [];
  polled: (() => void)[] = [];
  armed = 0;
  setTimeout(fn: () => void, ms: number): unknown {
    const h = { at: this.now + ms, fn };
    this.timers.push(h);
    this.armed++;
    return h;
  }
  clearTimeout(h: unknown): void {
    this.timers = this.timers.filter((x) => x !== h);
  }
  afterPoll(fn: () => void): void {
    this.polled.push(fn);
  }
  /** Fires the timers due by `at` (the timers phase) without running what they deferred. */
  fireTimers(at: number): void {
    this.now = at;
    const due = this.timers.filter((x) => x.at <= at).sort((a, b) => a.at - b.at);
    this.timers = this.timers.filter((x) => x.at > at);
    for (const x of due) x.fn();
  }
  /** The check phase: what was deferred until after the sockets were read. */
  runPolled(): void {
    const fns = this.polled.splice(0);
    for (const fn of fns) fn();
  }
  /** Both phases, as many turns as needed up to `at`. */
  advance(at: number): void {
    for (let i = 0; i < 10_000; i++) {
      const next = this.timers.reduce((m, x) => Math.min(m, x.at), Infinity);
      if (next > at) break;
      this.fireTimers(next);
      this.runPolled();
    }
    this.now = at;
  }
}

/** A driver for `config` (the base document by default) on a Loop, sending into `sent`; `extra` overrides deps (keys). */
export function rig(config: Config = parse(withLines()), extra: Partial<DriverDeps> = {}) {
  const loop = new Loop();
  const sent: Buffer[] = [];
  let deliver: (d: Datagram) => void = () => undefined;
  let refuse: (address: string, quoted: Buffer[]) => void = () => undefined;
  const driver = new Driver({
    config,
    key: KEY,
    bootId: 1n,
    clock: { now: () => loop.now },
    log: createLogger('silent', config.node),
    transport: { broadcast: (d) => void sent.push(d), onMessage: (h) => (deliver = h), onUnreachable: (h) => (refuse = h), close: async () => undefined },
    vipHost: { ensurePresent: async () => ({ ok: true, changed: true }), ensureAbsent: async () => ({ ok: true, changed: false }) },
    announcer: { announce: async () => ({ sent: 0, errors: [] }), close: () => undefined },
    timers: loop,
    ...extra,
  });
  const peer = (seq: bigint, state: 'active' | 'standby' = 'active', priority = 200, key = KEY): Datagram => {
    const msg: Message = { type: 'heartbeat', cluster: config.cluster, node: 'peer', bootId: 9n, seq, intervalMs: config.heartbeat.interval, groups: config.groups.map((g) => ({ name: g.name, state, priority, reach: 0 })) };
    return { data: encode(msg, key), address: config.heartbeat.peers[0]?.address ?? '198.51.100.11', port: 694 };
  };
  return { loop, sent, driver, config, peer, deliver: (d: Datagram) => deliver(d), refuse: (a: string, q: Buffer[]) => refuse(a, q) };
}

/** Lets pending promises (the VIP host's answers) settle. */
export const settle = () => new Promise((r) => setImmediate(r));

/** Steps the loop 50 ms at a time for `ms`, letting promises settle after each step. */
export async function advanceBy(loop: { advance(at: number): void; now: number }, ms: number): Promise<void> {
  for (let i = 0; i < ms / 50; i++) {
    loop.advance(loop.now + 50);
    await settle();
  }
}
