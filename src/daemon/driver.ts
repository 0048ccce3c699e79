/**
 * The driver: the only code that turns the core's actions into port calls and feeds
 * their outcomes back as inputs. It owns no decision. Order within one step is the core's
 * (release, claim, announce, send, exit); VIP changes of one group run strictly one after
 * another so their results come back in the order they were asked.
 */
import type { Config } from '../config/types.js';
import { Core } from '../core/election.js';
import type { Action, CommandReply, Input, OperatorCommand, StepResult } from '../core/types.js';
import type { Logger } from '../log.js';
import type { Announcer, Clock, Datagram, HeartbeatTransport, VipHost } from '../ports/index.js';
import { decode, encode, MAC_LEN, seqOffset, withSeq } from '../wire/codec.js';
import { jsMac, type DatagramMac } from '../wire/mac.js';
import { DropCounters } from '../wire/counters.js';
import { ReplayGuard } from '../wire/replay.js';
import type { DropReason, Message } from '../wire/types.js';

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** runs fn after the event loop has polled its sockets (setImmediate). */
  afterPoll(fn: () => void): void;
}

export interface DriverDeps {
  /** replaced by reconfigure(). */
  config: Config;
  key: Buffer;
  /** seals and checks the steady-state datagrams (default: node:crypto with `key`). */
  mac?: DatagramMac;
  bootId: bigint;
  clock: Clock;
  log: Logger;
  transport: HeartbeatTransport;
  vipHost: VipHost;
  announcer: Announcer;
  timers?: Timers;
  maintenance?: boolean;
  /** called once the core says every VIP is released after a shutdown. */
  onExit?: () => void;
  /** called after every step (metrics, events stream, tests). */
  onStep?: (r: StepResult, input: Input) => void;
}

export interface DriverStats {
  sent: number;
  sendErrors: number;
  received: number;
  receivedByPeer: Map<string, number>;
  vipFailures: number;
  transitions: number;
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  afterPoll: (fn) => void setImmediate(fn),
};

/** The last datagram accepted from an address: the next one that differs only in seq needs no parse. */
interface Accepted {
  data: Buffer;
  seqAt: number;
  msg: Message;
}

/** An ICMP error quoting one of our last this many datagrams is about now (a few seconds at 10 ms). */
const RECENT_SEQS = 1000n;

/** Addresses remembered for that (only authenticated datagrams get in; a key holder gets no more). */
const MAX_ACCEPTED = 64;

/** The last datagram sent and what it said: the next one with the same content only differs in seq. */
interface SentTemplate {
  type: Message['type'];
  groups: Message['groups'];
  data: Buffer;
}

export class Driver {
  readonly core: Core;
  readonly drops = new DropCounters();
  readonly stats: DriverStats = { sent: 0, sendErrors: 0, received: 0, receivedByPeer: new Map(), vipFailures: 0, transitions: 0 };
  private readonly replay = new ReplayGuard();
  private readonly vipQueues = new Map<string, Promise<void>>();
  /** per group: the burst in progress, aborted when the VIP is being released. */
  private readonly bursts = new Map<string, AbortController>();
  private readonly timers: Timers;
  private timer: unknown = null;
  /** the deadline the timer is set for (a step that leaves it unchanged leaves the timer). */
  private armedFor: number | null = null;
  private seq = 0n;
  private template: SentTemplate | null = null;
  private readonly accepted = new Map<string, Accepted>();
  private readonly mac: DatagramMac;
  private closed = false;
  /** when the core's own timer last fired (the watchdog's sign that the loop turns). */
  private lastTickAt: number | null = null;

  constructor(private readonly deps: DriverDeps) {
    const hb = deps.config.heartbeat;
    this.core = new Core({
      node: deps.config.node,
      interval: hb.interval,
      deadTime: hb.deadTime,
      initDead: hb.initDead,
      expectedPeers: hb.peers.length,
      groups: deps.config.groups,
      maintenance: deps.maintenance ?? false,
      // A majority of the configured nodes (peers + self), when quorum is on.
      quorum: deps.config.quorum ? Math.floor((hb.peers.length + 1) / 2) + 1 : 0,
    });
    this.timers = deps.timers ?? realTimers;
    this.mac = deps.mac ?? jsMac(deps.key);
  }

  start(): void {
    this.deps.transport.onMessage((d) => this.onDatagram(d));
    this.deps.transport.onUnreachable((address, quoted) => this.feed({ kind: 'unreachable', now: this.now(), address, verified: quoted.some((q) => this.ours(q)) }));
    this.lastTickAt = this.now();
    this.feed({ kind: 'start', now: this.lastTickAt });
  }

  /** Applies a validated new configuration (reload). Heartbeat socket settings are not changed here. */
  reconfigure(config: Config): void {
    const hb = config.heartbeat;
    this.deps.config = config;
    this.template = null; // the interval is in every datagram
    this.feed({ kind: 'reconfigure', now: this.now(), options: { interval: hb.interval, deadTime: hb.deadTime, initDead: hb.initDead, expectedPeers: hb.peers.length, groups: config.groups } });
  }

  shutdown(): void {
    this.feed({ kind: 'shutdown', now: this.now() });
  }

  command(command: OperatorCommand): CommandReply {
    this.feed({ kind: 'command', now: this.now(), command });
    return this.core.lastReply ?? { ok: false, message: 'no reply' };
  }

  /** Stops timers; the transport and announcer are closed by the owner. */
  stop(): void {
    this.closed = true;
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
  }

  now(): number {
    return this.deps.clock.now();
  }

  /**
   * Whether the election loop turns: the core's timer fired within `withinMs` (it is due at
   * least once per heartbeat interval while running). False once stopped.
   */
  turning(withinMs: number): boolean {
    if (this.closed || this.lastTickAt === null) return false;
    return this.now() - this.lastTickAt <= withinMs;
  }

  drop(reason: DropReason, from: string): void {
    this.drops.count(reason);
    this.deps.log.debug({ reason, from }, 'datagram dropped');
  }

  private onDatagram(d: Datagram): void {
    const last = this.sameAsLast(d);
    let msg: Message;
    if (last !== null) {
      // The steady state: the bytes of the last accepted datagram but for seq. The MAC is
      // still checked over all of them; what decode() would parse is known already.
      if (!this.mac.check(d.data)) return this.drop('bad-mac', d.address);
      msg = { ...last.msg, seq: d.data.readBigUInt64BE(last.seqAt) };
    } else {
      const r = decode(d.data, this.deps.key, this.deps.config.cluster);
      if (!r.ok) return this.drop(r.reason, d.address);
      msg = r.msg;
    }
    if (msg.node === this.deps.config.node) return this.drop('own-node', d.address);
    const verdict = this.replay.check(msg.node, msg.bootId, msg.seq);
    if (verdict !== 'ok') return this.drop(verdict, d.address);
    if (last === null) {
      if (this.accepted.size >= MAX_ACCEPTED) this.accepted.clear();
      this.accepted.set(d.address, { data: d.data, seqAt: seqOffset(d.data), msg });
    } else {
      last.data = d.data;
    }
    this.stats.received++;
    this.stats.receivedByPeer.set(msg.node, (this.stats.receivedByPeer.get(msg.node) ?? 0) + 1);
    this.feed({ kind: 'message', now: this.now(), msg, address: d.address, port: d.port, same: last !== null });
  }

  /**
   * Whether a datagram an ICMP error quoted is one we sent lately: our MAC, our node name and
   * boot, a seq among our last ones. Then the error is the peer host's own answer to it (only
   * a host that reads our unicast heartbeats could quote one), not a forgery.
   */
  private ours(quoted: Buffer): boolean {
    const r = decode(quoted, this.deps.key, this.deps.config.cluster);
    if (!r.ok) return false;
    const m = r.msg;
    return m.node === this.deps.config.node && m.bootId === this.deps.bootId && m.seq <= this.seq && this.seq - m.seq < RECENT_SEQS;
  }

  /** The last datagram accepted from d's address, when d has its bytes everywhere but seq. */
  private sameAsLast(d: Datagram): Accepted | null {
    const a = this.accepted.get(d.address);
    if (a === undefined || a.data.length !== d.data.length) return null;
    const end = d.data.length - MAC_LEN;
    const after = a.seqAt + 8;
    if (after > end || d.data.compare(a.data, 0, a.seqAt, 0, a.seqAt) !== 0 || d.data.compare(a.data, after, end, after, end) !== 0) return null;
    return a;
  }

  feed(input: Input): void {
    if (this.closed) return;
    const r = this.core.step(input);
    for (const t of r.transitions) {
      this.stats.transitions++;
      const level = t.to === 'fault' ? 'error' : 'info';
      this.deps.log[level]({ group: t.group, from: t.from, to: t.to, reason: t.reason }, `${t.group}: ${t.from} -> ${t.to}`);
    }
    for (const n of r.notes) this.deps.log[n.level]({ group: n.group, peer: n.peer }, n.msg);
    for (const a of r.actions) this.execute(a);
    this.deps.onStep?.(r, input);
    this.schedule(r.wakeAt);
  }

  private schedule(wakeAt: number | null): void {
    if (this.timer !== null && wakeAt === this.armedFor && !this.closed) return;
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
    this.armedFor = null;
    if (wakeAt === null || this.closed) return;
    const delay = Math.max(0, wakeAt - this.now());
    this.armedFor = wakeAt;
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      this.armedFor = null;
      // How late the timer fired: our own stall, which the core does not count as silence.
      const late = Math.max(0, this.now() - wakeAt);
      // Node runs expired timers before it polls the sockets. After a stall (a saturated CPU,
      // a GC pause) a peer's heartbeats may be sitting unread while its deadline has passed:
      // read them first, so a node whose own loop was starved does not call a peer silent.
      this.timers.afterPoll(() => {
        this.lastTickAt = this.now();
        this.feed({ kind: 'tick', now: this.lastTickAt, late });
      });
    }, Math.ceil(delay));
  }

  private execute(a: Action): void {
    switch (a.kind) {
      case 'send':
        return this.send(a.type, a.groups);
      case 'ensureVip':
        return this.ensureVip(a);
      case 'announce':
        return this.announce(a);
      case 'exit':
        this.deps.onExit?.();
        return;
    }
  }

  private send(type: Message['type'], groups: Message['groups']): void {
    this.seq++;
    const t = this.template;
    let data: Buffer;
    if (t !== null && t.type === type && sameGroups(t.groups, groups)) {
      // The steady state: the same datagram as last time but for its sequence number.
      data = withSeq(t.data, this.seq, this.mac);
    } else {
      const msg: Message = {
        type,
        cluster: this.deps.config.cluster,
        node: this.deps.config.node,
        bootId: this.deps.bootId,
        seq: this.seq,
        intervalMs: this.deps.config.heartbeat.interval,
        groups,
      };
      data = encode(msg, this.deps.key);
    }
    this.template = { type, groups, data };
    this.deps.transport.broadcast(data);
    this.stats.sent++;
  }

  private ensureVip(a: Extract<Action, { kind: 'ensureVip' }>): void {
    const { group, gid, present, vip, iface } = a;
    const host = this.deps.vipHost;
    if (!present) this.bursts.get(group)?.abort();
    const prev = this.vipQueues.get(group) ?? Promise.resolve();
    const next = prev.then(async () => {
      let out: Awaited<ReturnType<VipHost['ensurePresent']>>;
      try {
        out = present ? await host.ensurePresent(vip, iface) : await host.ensureAbsent(vip, iface);
      } catch (e) {
        out = { ok: false, error: e instanceof Error ? e.message : String(e) };
      }
      if (out.ok) {
        if (out.changed) this.deps.log.info({ group, vip: `${vip.address}/${vip.prefix}`, dev: iface }, present ? 'VIP added' : 'VIP removed');
        this.feed({ kind: 'vipResult', now: this.now(), group, gid, present, ok: true });
      } else {
        this.stats.vipFailures++;
        this.feed({ kind: 'vipResult', now: this.now(), group, gid, present, ok: false, error: out.error });
      }
    });
    this.vipQueues.set(group, next.catch(() => undefined));
  }

  private announce(a: Extract<Action, { kind: 'announce' }>): void {
    const { group, gid, reason } = a;
    this.deps.log.debug({ group, reason }, 'announcing');
    this.bursts.get(group)?.abort();
    const ctl = new AbortController();
    this.bursts.set(group, ctl);
    this.deps.announcer.announce(a.vip, a.iface, a.garp, ctl.signal).then(
      (o) => this.feed({ kind: 'announceResult', now: this.now(), group, gid, sent: o.sent, errors: o.errors }),
      (e: unknown) => this.feed({ kind: 'announceResult', now: this.now(), group, gid, sent: 0, errors: [String(e)] }),
    );
  }
}

function sameGroups(a: Message['groups'], b: Message['groups']): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.name !== y.name || x.state !== y.state || x.priority !== y.priority || x.reach !== y.reach) return false;
  }
  return true;
}
