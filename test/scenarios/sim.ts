/**
 * In-process simulator: several cores on a virtual clock and a seeded, lossy virtual
 * network. VIP changes take `vipMs`, a gratuitous ARP lands `garpMs` after it was asked
 * for, datagrams take `latencyMs`. The transcript (transitions and who the router's ARP
 * entry points at) is what scenario tests assert on.
 */
import { Core } from '../../src/core/election.js';
import type { Action, CoreOptions, Input, OperatorCommand, StepResult } from '../../src/core/types.js';
import type { GroupConfig } from '../../src/config/types.js';
import type { Message } from '../../src/wire/types.js';

export interface SimOptions {
  interval?: number;
  deadTime?: number;
  initDead?: number;
  latencyMs?: number;
  vipMs?: number;
  garpMs?: number;
  lossPct?: number;
  seed?: number;
}

interface Ev {
  at: number;
  seq: number;
  fn: () => void;
}

export interface SimNode {
  name: string;
  core: Core;
  running: boolean;
  /** the host still exists (a killed agent on a live host answers ICMP unreachable). */
  hostUp: boolean;
  vip: Map<string, boolean>;
  tickToken: number;
  bootId: bigint;
  seq: bigint;
  exited: boolean;
  opts: CoreOptions;
}

export function group(name: string, priority: number, extra: Partial<GroupConfig> = {}): GroupConfig {
  return {
    name,
    vip: { address: '198.51.100.100', prefix: 32, family: 4 },
    interface: 'eth0',
    priority,
    preempt: true,
    preemptDelay: 0,
    garp: { count: 3, spacing: 20, form: 'both', refresh: 0 },
    ...extra,
  };
}

export class Sim {
  now = 0;
  readonly nodes = new Map<string, SimNode>();
  readonly transcript: string[] = [];
  /** per group: which node the router's ARP entry names. */
  readonly router = new Map<string, string | null>();
  readonly cut = new Set<string>();
  private q: Ev[] = [];
  private seqNo = 0;
  private rng: number;
  readonly o: Required<SimOptions>;

  constructor(opts: SimOptions = {}) {
    this.o = { interval: 50, deadTime: 150, initDead: 300, latencyMs: 1, vipMs: 4, garpMs: 4, lossPct: 0, seed: 1, ...opts };
    this.rng = this.o.seed;
  }

  private random(): number {
    // xorshift32: deterministic, seeded.
    let x = this.rng || 1;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x >>> 0;
    return this.rng / 0x100000000;
  }

  add(name: string, groups: GroupConfig[], extra: Partial<CoreOptions> = {}): SimNode {
    const opts: CoreOptions = {
      node: name,
      interval: this.o.interval,
      deadTime: this.o.deadTime,
      initDead: this.o.initDead,
      expectedPeers: 0,
      groups,
      ...extra,
    };
    const n: SimNode = { name, core: new Core(opts), running: false, hostUp: true, vip: new Map(), tickToken: 0, bootId: 0n, seq: 0n, exited: false, opts };
    this.nodes.set(name, n);
    return n;
  }

  start(name: string): void {
    const n = this.node(name);
    n.core = new Core(n.opts);
    n.running = true;
    n.exited = false;
    n.bootId++;
    n.seq = 0n;
    this.feed(n, { kind: 'start', now: this.now });
  }

  /** SIGKILL of the agent; the VIP stays on the host (like every real agent) unless released. */
  kill(name: string): void {
    this.node(name).running = false;
  }

  /** What `haagent release` (systemd ExecStopPost) does after a crash. */
  release(name: string): void {
    const n = this.node(name);
    for (const g of n.vip.keys()) n.vip.set(g, false);
    this.line(`${name} released its VIPs`);
  }

  /** A reload with a new group list (same timing). */
  reconfigure(name: string, groups: GroupConfig[]): void {
    const n = this.node(name);
    n.opts = { ...n.opts, groups };
    const { interval, deadTime, initDead, expectedPeers } = n.opts;
    this.feed(n, { kind: 'reconfigure', now: this.now, options: { interval, deadTime, initDead, expectedPeers, groups } });
  }

  /** Every VIP change each node's host went through, in order ("d0 web +", "d0 web -"). */
  readonly vipLog: string[] = [];

  stop(name: string): void {
    this.feed(this.node(name), { kind: 'shutdown', now: this.now });
  }

  command(name: string, command: OperatorCommand): string {
    const n = this.node(name);
    const r = this.feed(n, { kind: 'command', now: this.now, command })?.reply;
    return r ? `${r.ok ? 'ok' : 'refused'}: ${r.message}` : 'no reply';
  }

  partition(a: string, b: string): void {
    this.cut.add(`${a}|${b}`).add(`${b}|${a}`);
  }

  heal(): void {
    this.cut.clear();
  }

  node(name: string): SimNode {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`no node ${name}`);
    return n;
  }

  run(ms: number): void {
    const end = this.now + ms;
    let guard = 0;
    while (this.q.length > 0 && guard++ < 1_000_000) {
      this.q.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const ev = this.q[0]!;
      if (ev.at > end) break;
      this.q.shift();
      this.now = ev.at;
      ev.fn();
    }
    this.now = end;
  }

  private at(delay: number, fn: () => void): void {
    this.q.push({ at: this.now + delay, seq: this.seqNo++, fn });
  }

  private line(s: string): void {
    this.transcript.push(`${String(this.now).padStart(6)} ${s}`);
  }

  /** Nodes whose agent thinks it is active for the group. */
  actives(groupName: string): string[] {
    return [...this.nodes.values()].filter((n) => n.running && n.core.group(groupName)?.state === 'active').map((n) => n.name);
  }

  /** Nodes whose host holds the VIP. */
  holders(groupName: string): string[] {
    return [...this.nodes.values()].filter((n) => n.hostUp && n.vip.get(groupName)).map((n) => n.name);
  }

  /** The client reaches the VIP iff the router's entry names a node whose host holds it. */
  serving(groupName: string): string | null {
    const r = this.router.get(groupName) ?? null;
    return r !== null && this.node(r).hostUp && this.node(r).vip.get(groupName) ? r : null;
  }

  private feed(n: SimNode, input: Input): StepResult | null {
    if (!n.running) return null;
    const r = n.core.step(input);
    for (const t of r.transitions) this.line(`${n.name} ${t.group} ${t.from} -> ${t.to} (${t.reason})`);
    for (const a of r.actions) this.exec(n, a);
    const token = ++n.tickToken;
    if (r.wakeAt !== null) this.at(Math.max(0, r.wakeAt - this.now), () => token === n.tickToken && this.feed(n, { kind: 'tick', now: this.now }));
    return r;
  }

  private exec(n: SimNode, a: Action): void {
    switch (a.kind) {
      case 'send': {
        n.seq++;
        const msg: Message = { type: a.type, cluster: 'sim', node: n.name, bootId: n.bootId, seq: n.seq, intervalMs: this.o.interval, groups: a.groups };
        for (const m of this.nodes.values()) {
          if (m === n || this.cut.has(`${n.name}|${m.name}`) || this.random() * 100 < this.o.lossPct) continue;
          this.at(this.o.latencyMs, () => {
            if (m.running) this.feed(m, { kind: 'message', now: this.now, msg, address: n.name, port: 694 });
            else if (m.hostUp && !this.cut.has(`${n.name}|${m.name}`)) this.at(this.o.latencyMs, () => this.feed(n, { kind: 'unreachable', now: this.now, address: m.name }));
          });
        }
        return;
      }
      case 'ensureVip':
        this.at(this.o.vipMs, () => {
          if (!n.running) return;
          if ((n.vip.get(a.group) ?? false) !== a.present) this.vipLog.push(`${n.name} ${a.group} ${a.present ? '+' : '-'}`);
          n.vip.set(a.group, a.present);
          this.feed(n, { kind: 'vipResult', now: this.now, group: a.group, gid: a.gid, present: a.present, ok: true });
        });
        return;
      case 'announce':
        this.at(this.o.garpMs, () => {
          if (n.vip.get(a.group)) {
            if (this.router.get(a.group) !== n.name) this.line(`router: ${a.group} -> ${n.name}`);
            this.router.set(a.group, n.name);
          }
          this.feed(n, { kind: 'announceResult', now: this.now, group: a.group, gid: a.gid, sent: 1, errors: [] });
        });
        return;
      case 'exit':
        n.exited = true;
        n.running = false;
        this.line(`${n.name} exited`);
        return;
    }
  }
}

/** Samples `serving` every `stepMs` over `ms` and returns the longest gap (ms) with nobody serving. */
export function measureOutage(sim: Sim, groupName: string, ms: number, stepMs = 1): { outage: number; dualMs: number } {
  let gap = 0;
  let worst = 0;
  let dual = 0;
  for (let t = 0; t < ms; t += stepMs) {
    sim.run(stepMs);
    if (sim.serving(groupName) === null) worst = Math.max(worst, (gap += stepMs));
    else gap = 0;
    if (sim.actives(groupName).length > 1) dual += stepMs;
  }
  return { outage: worst, dualMs: dual };
}
