/**
 * The driver: the only code that turns the core's actions into port calls and feeds
 * their outcomes back as inputs. It owns no decision. Order within one step is the core's
 * (release, claim, announce, send, exit); VIP changes of one group run strictly one after
 * another so their results come back in the order they were asked. Its ports and counters
 * are in driver-deps.ts.
 */
import { DEFAULTS } from '../config/defaults.js';
import { vipCidr } from '../config/vip.js';
import type { Config } from '../config/types.js';
import { Core } from '../core/election.js';

export type { DriverDeps, DriverStats, Timers } from './driver-deps.js';
import type { CoreView } from '../core/read-view.js';
import type { Action, CommandReply, Input, OperatorCommand, StepResult } from '../core/types.js';
import { realTimers, type AnnounceOutcome, type Datagram } from '../ports/index.js';
import { ensureVipsThen, gather } from '../ports/vip-set.js';
import type { DriverDeps, DriverStats, Timers } from './driver-deps.js';
import { PeerIdentity, peerNodeCount } from '../wire/identity.js';
import { jsMac } from '../wire/mac.js';
import { Receiver, Sender, type WireSelf } from './wire-io.js';
import { KeyRing, type HeartbeatKeys, type KeyView } from '../wire/keyring.js';
import { DropCounters } from '../wire/counters.js';
import type { DropReason, Message } from '../wire/types.js';

export class Driver {
  private readonly core: Core;
  readonly drops = new DropCounters();
  readonly stats: DriverStats = { sent: 0, probesSent: 0, sendErrors: 0, received: 0, receivedByPeer: new Map(), vipFailures: 0, transitions: 0 };
  /** per group: the burst in progress, aborted when the VIP is being released. */
  private readonly bursts = new Map<string, AbortController>();
  private readonly timers: Timers;
  private timer: unknown = null;
  /** the deadline the timer is set for (a step that leaves it unchanged leaves the timer). */
  private armedFor: number | null = null;
  private readonly receiver: Receiver;
  private readonly sender: Sender;
  private readonly keys: KeyRing;
  private closed = false;
  /** when the core last took an input (the watchdog's sign that the loop turns). */
  private lastTurnAt: number | null = null;
  private readonly wall: () => number;

  constructor(private readonly deps: DriverDeps) {
    const hb = deps.config.heartbeat;
    this.core = new Core({
      node: deps.config.node,
      interval: hb.interval,
      deadTime: hb.deadTime,
      initDead: hb.initDead,
      expectedPeers: peerNodeCount(hb.peers),
      groups: deps.config.groups,
      maintenance: deps.maintenance ?? false,
      // A majority of the configured nodes (peers + self), when quorum is on.
      quorum: deps.config.quorum ? Math.floor((peerNodeCount(hb.peers) + 1) / 2) + 1 : 0,
      probes: deps.probes,
      detect: deps.detector ? DEFAULTS.conflict : null,
      confirm: deps.confirmer ? DEFAULTS.confirmProbe : null,
    });
    this.timers = deps.timers ?? realTimers;
    this.wall = deps.wall ?? Date.now;
    this.keys = new KeyRing({ send: deps.key, accept: deps.acceptKey ?? null }, deps.macFor ?? jsMac, () => this.now());
    const self: WireSelf = {
      keys: this.keys,
      bootId: deps.bootId,
      cluster: () => this.deps.config.cluster,
      node: () => this.deps.config.node,
      interval: () => this.deps.config.heartbeat.interval,
      wall: this.wall,
    };
    this.receiver = new Receiver(self, new PeerIdentity(hb), deps.markStore);
    this.sender = new Sender(self);
  }

  /** The core, read-only: for status, metrics and LevIP. */
  view(): CoreView {
    return this.core;
  }

  start(): void {
    this.deps.transport.onMessage((d) => this.onDatagram(d));
    this.deps.transport.onUnreachable((address, quoted) => this.feed({ kind: 'unreachable', now: this.now(), address, verified: quoted.some((q) => this.sender.ours(q)) }));
    this.feed({ kind: 'start', now: this.now() });
  }

  /** Applies a validated new configuration (reload). Heartbeat socket settings are not changed here. */
  reconfigure(config: Config): void {
    const hb = config.heartbeat;
    this.deps.config = config;
    this.sender.forget(); // the interval is in every datagram
    this.feed({ kind: 'reconfigure', now: this.now(), options: { interval: hb.interval, deadTime: hb.deadTime, initDead: hb.initDead, expectedPeers: peerNodeCount(hb.peers), groups: config.groups } });
  }

  /**
   * Replaces the heartbeat keys (a reload, both keys already loaded and checked): the next
   * datagram is sealed with the new send key, and from now on only the keys given
   * authenticate (src/wire/keyring.ts).
   */
  rekey(keys: HeartbeatKeys): void {
    this.keys.set(keys);
  }

  /** The keys held, send key first, with what each authenticated (never their bytes). */
  keyViews(): KeyView[] {
    return this.keys.views();
  }

  shutdown(): void {
    this.feed({ kind: 'shutdown', now: this.now() });
  }

  command(command: OperatorCommand): CommandReply {
    return this.feed({ kind: 'command', now: this.now(), command })?.reply ?? { ok: false, message: 'no reply' };
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
   * Whether the election loop turns: the core took an input within `withinMs` (a tick is due
   * at least once per interval and a quarter). Any input counts: a follower's timer is a
   * backstop that the leader's heartbeats keep pushing out, so it may never fire while all
   * is well. False once stopped.
   */
  turning(withinMs: number): boolean {
    if (this.closed || this.lastTurnAt === null) return false;
    return this.now() - this.lastTurnAt <= withinMs;
  }

  drop(reason: DropReason, from: string): void {
    this.drops.count(reason);
    this.deps.log.debug({ reason, from }, 'datagram dropped');
  }

  private onDatagram(d: Datagram): void {
    const r = this.receiver.accept(d);
    if (!r.ok) return this.drop(r.reason, d.address);
    const msg = r.msg;
    this.stats.received++;
    this.stats.receivedByPeer.set(msg.node, (this.stats.receivedByPeer.get(msg.node) ?? 0) + 1);
    this.feed({ kind: 'message', now: this.now(), msg, address: d.address, port: d.port, same: r.same });
  }

  /** One step of the core on `input`, its actions performed; null once stopped. */
  feed(input: Input): StepResult | null {
    if (this.closed) return null;
    this.lastTurnAt = input.now;
    input.wall ??= this.wall(); // both clocks on every input: LevIP's slots are on the wall clock
    const r = this.core.step(input);
    // Act first, log after: a takeover's VIP and gratuitous ARP must not wait for log writes.
    for (const a of r.actions) this.execute(a);
    for (const t of r.transitions) {
      this.stats.transitions++;
      const level = t.to === 'fault' ? 'error' : 'info';
      this.deps.log[level]({ group: t.group, from: t.from, to: t.to, reason: t.reason }, `${t.group}: ${t.from} -> ${t.to}`);
    }
    for (const n of r.notes) this.deps.log[n.level]({ group: n.group, peer: n.peer, ...n.data }, n.msg);
    this.deps.onStep?.(r, input);
    this.schedule(r.wakeAt);
    return r;
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
      this.timers.afterPoll(() => this.feed({ kind: 'tick', now: this.now(), late }));
    }, Math.ceil(delay));
  }

  private execute(a: Action): void {
    switch (a.kind) {
      case 'send':
        return this.send(a.type, a.groups, a.skip);
      case 'ensureVip':
        return this.ensureVip(a);
      case 'announce':
        return this.announce(a);
      case 'detect':
        return this.detect(a);
      case 'confirm':
        return this.confirm(a);
      case 'levipAnswer':
        return this.answerArp(a.iface, a.on);
      case 'exit':
        this.deps.onExit?.();
        return;
    }
  }

  private send(type: Message['type'], groups: Message['groups'], skip?: readonly string[]): void {
    this.deps.transport.broadcast(this.sender.datagram(type, groups), skip);
    this.stats.sent++;
    if (type === 'probe') this.stats.probesSent++;
  }

  /**
   * The core keeps one VIP change per group in flight, so the host is called right away: the
   * in-process host (netlink) has done the change when this returns, and its result is fed
   * back in the same turn of the loop (the gratuitous ARP follows at once). A group's VIPs go
   * in one call (ensureVips); the result is ok only if every one is as asked, and a failure
   * names each VIP that is not, with what the host said.
   */
  private ensureVip(a: Extract<Action, { kind: 'ensureVip' }>): void {
    const { group, gid, present, vips } = a;
    if (!present) this.bursts.get(group)?.abort();
    ensureVipsThen(this.deps.vipHost, vips, present, (outs) => {
      const failed = outs.flatMap((o) => (o.ok ? [] : [o.error]));
      if (failed.length === 0) {
        this.feed({ kind: 'vipResult', now: this.now(), group, gid, present, ok: true });
        outs.forEach((o, i) => {
          const p = vips[i]!;
          if (o.ok && o.changed) this.deps.log.info({ group, vip: vipCidr(p.vip), dev: p.iface }, present ? 'VIP added' : 'VIP removed');
        });
      } else {
        this.stats.vipFailures++;
        this.feed({ kind: 'vipResult', now: this.now(), group, gid, present, ok: false, error: failed.join('; ') });
      }
    });
  }

  private answerArp(iface: string, on: boolean): void {
    const port = this.deps.arpAnswering;
    const pending = port ? port.answer(iface, on) : Promise.reject(new Error('no ARP answering switch in this process'));
    pending.then(
      () => this.feed({ kind: 'levipAnswerResult', now: this.now(), iface, on, ok: true }),
      (e: unknown) => this.feed({ kind: 'levipAnswerResult', now: this.now(), iface, on, ok: false, error: e instanceof Error ? e.message : String(e) }),
    );
  }

  private announce(a: Extract<Action, { kind: 'announce' }>): void {
    const { group, gid, reason } = a;
    this.deps.log.debug({ group, reason }, 'announcing');
    this.bursts.get(group)?.abort();
    const ctl = new AbortController();
    this.bursts.set(group, ctl);
    // One burst per VIP, side by side (IPv4 and IPv6 each go to their own announcer).
    const bursts = a.vips.map((p) => () => this.deps.announcer.announce(p.vip, p.iface, a.garp, ctl.signal));
    gather(bursts, (e): AnnounceOutcome => ({ sent: 0, errors: [String(e)] }), (outs) => {
      this.feed({ kind: 'announceResult', now: this.now(), group, gid, sent: outs.reduce((n, o) => n + o.sent, 0), errors: outs.flatMap((o) => o.errors) });
    });
  }

  /** One conflict probe; its answers (or why it gave none) come back as detectResult. */
  private detect(a: Extract<Action, { kind: 'detect' }>): void {
    const { group, gid } = a;
    const detector = this.deps.detector;
    if (!detector) return void this.feed({ kind: 'detectResult', now: this.now(), group, gid, macs: [], error: 'no detector', address: a.vip.address });
    const address = a.vip.address;
    detector.detect(a.vip, a.iface).then(
      (o) => this.feed(o.error === undefined ? { kind: 'detectResult', now: this.now(), group, gid, macs: o.macs, address } : { kind: 'detectResult', now: this.now(), group, gid, macs: o.macs, error: o.error, address }),
      (e: unknown) => this.feed({ kind: 'detectResult', now: this.now(), group, gid, macs: [], error: String(e), address }),
    );
  }

  /** One announcement check probe; whether the gateway answered comes back as confirmResult. */
  private confirm(a: Extract<Action, { kind: 'confirm' }>): void {
    const { group, gid } = a;
    const address = a.vip.address;
    const done = (o: { answered: boolean; latency?: number; error?: string }) => this.feed({ kind: 'confirmResult', now: this.now(), group, gid, address, ...o });
    const confirmer = this.deps.confirmer;
    if (!confirmer) return void done({ answered: false, error: 'no confirmer' });
    confirmer.confirm(a.vip, a.iface, a.gateway).then(done, (e: unknown) => done({ answered: false, error: String(e) }));
  }
}
