/**
 * The scenario simulator: the real agent parts of several nodes on one virtual clock and a
 * seeded, lossy virtual network, deterministic for a seed.
 *
 * Each node runs the real `Driver` (src/daemon/driver.ts) with its real Core (LevIP included),
 * keys, MAC and replay guard, beside the real HealthMonitor (links), on fake ports: a
 * simulated network as its HeartbeatTransport (sim-net.ts), a fake VipHost and Announcer
 * (sim-host.ts), a monotonic clock and timers on one discrete-event queue shared by all
 * nodes (sim-clock.ts). Timing: VIP changes take `vipMs`, a gratuitous ARP frame reaches the
 * router `garpMs` after it left, datagrams take `latencyMs`, a link change reaches the agent
 * after `linkMs`. The router's ARP entry (per group: the node its last frame came from, if that
 * host held the VIP) is what decides who serves clients.
 *
 * What tests read:
 *   - `transcript`: transitions, router changes, releases and exits, one line each;
 *   - `vipLog`: every VIP change each host went through ("d0 web +");
 *   - `actives`, `holders`, `serving`, `node(n).core` for the state now (a group's VIPs after
 *     the first are held and served under vipKey(), "GROUP ADDRESS");
 *   - with `record: true`, `golden`: the full transcript of every driver step (transcript.ts).
 *
 * Golden transcripts. test/scenarios/golden.test.ts runs the classic scenarios with `record`
 * and compares `golden.text()` with test/scenarios/golden/NAME.txt. A line is
 * `TIME NODE INPUT => TRANSITIONS; ACTIONS`, `TIME -- EVENT` for the world, or a `quiet until`
 * count of steady-state steps (transcript.ts says exactly what is compressed). A behaviour
 * change shows as a diff of those files: read it as "this node now does that at this time".
 * When the change is meant, rewrite them with
 *   HAAGENT_UPDATE_GOLDEN=1 npx tap test/scenarios/golden.test.ts
 * and review the diff of test/scenarios/golden/ like code.
 */
import type { GroupConfig } from '../../src/config/types.js';
import type { Input, OperatorCommand, StepResult } from '../../src/core/types.js';
import { createLogger } from '../../src/log.js';
import { EventQueue, Rng } from './sim-clock.js';
import type { HostEvents } from './sim-host.js';
import { SimNet } from './sim-net.js';
import { NIC, SimNode, type NodeEnv, type NodeExtra } from './sim-node.js';
import { Transcript } from './transcript.js';

export { SimNode } from './sim-node.js';

export interface SimOptions {
  interval?: number;
  deadTime?: number;
  initDead?: number;
  latencyMs?: number;
  vipMs?: number;
  garpMs?: number;
  linkMs?: number;
  lossPct?: number;
  seed?: number;
  /** keep the golden transcript of every step (`golden`). */
  record?: boolean;
}

export function group(name: string, priority: number, extra: Partial<GroupConfig> = {}): GroupConfig {
  return {
    name,
    vip: { address: '198.51.100.100', prefix: 32, family: 4 },
    interface: NIC,
    priority,
    preempt: true,
    preemptDelay: 0,
    garp: { count: 3, spacing: 20, form: 'both', refresh: 0 },
    ...extra,
  };
}

const silent = createLogger('silent', 'sim');

/**
 * What the simulator tracks an address under (holders, router, vipLog): a group's first VIP
 * under the group's name, a further one under "GROUP ADDRESS" (serving('nat 203.0.113.1')).
 */
export function vipKey(group: string, index: number, address: string): string {
  return index === 0 ? group : `${group} ${address}`;
}

export class Sim {
  readonly nodes = new Map<string, SimNode>();
  readonly transcript: string[] = [];
  /** Every VIP change each node's host went through, in order ("d0 web +", "d0 web -"). */
  readonly vipLog: string[] = [];
  /** Every ARP frame that reached the router ("d0 web burst", "l1 lev levip"). */
  readonly arpLog: string[] = [];
  /** per group: which node the router's ARP entry names. */
  readonly router = new Map<string, string | null>();
  readonly golden: Transcript | null;
  readonly o: Required<Omit<SimOptions, 'record'>>;
  private readonly q = new EventQueue();
  private readonly net: SimNet;
  /** VIP address -> group, learned from the drivers' actions (a host knows only addresses). */
  private readonly groupOf = new Map<string, string>();

  constructor(opts: SimOptions = {}) {
    const { record, ...o } = opts;
    this.o = { interval: 50, deadTime: 150, initDead: 300, latencyMs: 1, vipMs: 4, garpMs: 4, linkMs: 2, lossPct: 0, seed: 1, ...o };
    this.net = new SimNet(this.q, new Rng(this.o.seed), this.o);
    this.golden = record ? new Transcript(() => this.q.now, (a) => this.nameOf(a)) : null;
  }

  get now(): number {
    return this.q.now;
  }

  /** cut pairs ("a|b", both ways). */
  get cut(): Set<string> {
    return this.net.cut;
  }

  add(name: string, groups: GroupConfig[], extra: NodeExtra = {}): SimNode {
    const n = new SimNode(name, `198.51.100.${11 + this.nodes.size}`, groups, extra);
    this.nodes.set(name, n);
    this.net.attach(n);
    return n;
  }

  /** Starts (or restarts) the agent on a node; every other node is a configured peer. */
  start(name: string): void {
    const n = this.node(name);
    this.golden?.world(`start ${name}`);
    n.start(this.env(n), this.peersOf(n));
  }

  /** SIGKILL of the agent; the VIP stays on the host (like every real agent) unless released. */
  kill(name: string): void {
    this.golden?.world(`kill ${name}`);
    this.node(name).kill();
  }

  /** What `haagent release` (systemd ExecStopPost) does after a crash. */
  release(name: string): void {
    const n = this.node(name);
    for (const address of n.addrs.clear()) this.hostChanged(n, address, false);
    this.line(`${name} released its VIPs`);
  }

  /** A reload with a new group list (same timing). */
  reconfigure(name: string, groups: GroupConfig[]): void {
    const n = this.node(name);
    this.golden?.world(`reload ${name}`);
    n.reconfigure(this.env(n), groups, this.peersOf(n));
  }

  /** A planned stop (SIGTERM): the agent hands over, releases and exits. */
  stop(name: string): void {
    this.golden?.world(`stop ${name}`);
    this.node(name).driver?.shutdown();
  }

  command(name: string, command: OperatorCommand): string {
    const n = this.node(name);
    if (!n.running || n.driver === null) return 'no agent';
    const r = n.driver.command(command);
    const reply = `${r.ok ? 'ok' : 'refused'}: ${r.message}`;
    this.golden?.world(`${name} replies ${reply}`);
    return reply;
  }

  partition(a: string, b: string): void {
    this.golden?.world(`partition ${a} | ${b}`);
    this.net.cut.add(`${a}|${b}`).add(`${b}|${a}`);
  }

  heal(): void {
    this.golden?.world('heal');
    this.net.cut.clear();
  }

  /** The host itself goes off (no agent, no ICMP, nothing on the wire) or comes back. */
  power(name: string, on: boolean): void {
    this.golden?.world(`host ${name} ${on ? 'on' : 'off'}`);
    this.node(name).hostUp = on;
  }

  /** The node's interface goes down: no heartbeats in or out, no frames, its groups fault. */
  linkDown(name: string, iface = NIC): void {
    this.golden?.world(`link ${name} ${iface} down`);
    this.node(name).setLink(iface, false, this.o.linkMs);
  }

  linkUp(name: string, iface = NIC): void {
    this.golden?.world(`link ${name} ${iface} up`);
    this.node(name).setLink(iface, true, this.o.linkMs);
  }

  node(name: string): SimNode {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`no node ${name}`);
    return n;
  }

  run(ms: number): void {
    this.q.runUntil(this.q.now + ms);
  }

  /** Nodes whose agent thinks it is active for the group. */
  actives(groupName: string): string[] {
    return [...this.nodes.values()].filter((n) => n.running && n.core.group(groupName)?.state === 'active').map((n) => n.name);
  }

  /** Nodes whose host holds the VIP. */
  holders(groupName: string): string[] {
    return [...this.nodes.values()].filter((n) => n.hostUp && n.vip.get(groupName)).map((n) => n.name);
  }

  /** The client reaches the VIP iff the router's entry names a reachable node whose host holds it. */
  serving(groupName: string): string | null {
    const r = this.router.get(groupName) ?? null;
    if (r === null) return null;
    const n = this.node(r);
    return n.hostUp && n.linkUp && n.vip.get(groupName) ? r : null;
  }

  private line(s: string): void {
    this.transcript.push(`${String(this.q.now).padStart(6)} ${s}`);
    this.golden?.world(s);
  }

  private peersOf(n: SimNode): SimNode[] {
    return [...this.nodes.values()].filter((m) => m !== n);
  }

  private nameOf(address: string): string {
    return [...this.nodes.values()].find((n) => n.address === address)?.name ?? address;
  }

  private env(n: SimNode): NodeEnv {
    const events: HostEvents = {
      vip: (address, present) => this.hostChanged(n, address, present),
      frame: (address, from) => this.arpFrame(n, address, from),
      answering: (iface, on) => this.golden?.world(`${n.name} levip answers ARP on ${iface}: ${on ? 'on' : 'off'}`),
    };
    const onStep = (r: StepResult, input: Input): void => {
      for (const a of r.actions) if (a.kind === 'ensureVip') a.vips.forEach((p, i) => this.groupOf.set(p.vip.address, vipKey(a.group, i, p.vip.address)));
      this.golden?.step(n.name, r, input);
      for (const t of r.transitions) this.transcript.push(`${String(this.q.now).padStart(6)} ${n.name} ${t.group} ${t.from} -> ${t.to} (${t.reason})`);
      if (r.actions.some((a) => a.kind === 'exit')) this.line(`${n.name} exited`);
    };
    return { q: this.q, net: this.net, timing: this.o, log: silent, events, onStep };
  }

  private hostChanged(n: SimNode, address: string, present: boolean): void {
    const g = this.groupOf.get(address) ?? address;
    if ((n.vip.get(g) ?? false) !== present) this.vipLog.push(`${n.name} ${g} ${present ? '+' : '-'}`);
    n.vip.set(g, present);
    this.golden?.world(`${n.name} host ${present ? 'adds' : 'removes'} ${address} (${g})`);
  }

  private arpFrame(n: SimNode, address: string, from: 'burst' | 'levip'): void {
    const g = this.groupOf.get(address) ?? address;
    this.arpLog.push(`${n.name} ${g} ${from}`);
    // A takeover burst shows as the driver's announce and its result; LevIP replies only here.
    if (from === 'levip') this.golden?.world(`${n.name} levip reply for ${g} reaches the router`);
    if (!n.hostUp || !n.linkUp || !n.addrs.has(address)) return;
    if (this.router.get(g) !== n.name) this.line(`router: ${g} -> ${n.name}`);
    this.router.set(g, n.name);
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
