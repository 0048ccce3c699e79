/**
 * One simulated node: a host (its addresses, its interfaces, its heartbeat socket) and, while
 * an agent runs there, that agent's parts on fake ports, wired as src/daemon/agent.ts wires
 * them: the real Driver (real keys, encode, MAC and replay guard), the real HealthMonitor for
 * the tracked links (checks and ping nodes are not simulated; the link state arrives `linkMs`
 * after it changed, as `ip monitor` reports it). LevIP is the core's (its replies and answering
 * switch are the driver's actions).
 */
import { createHash } from 'node:crypto';
import type { Config, GroupConfig } from '../../src/config/types.js';
import type { CoreView } from '../../src/core/read-view.js';
import type { Input, StepResult } from '../../src/core/types.js';
import { healthSpecs } from '../../src/daemon/agent-health.js';
import { Driver } from '../../src/daemon/driver.js';
import { HealthMonitor, type GroupHealthSpec } from '../../src/health/index.js';
import { isLevipGroup } from '../../src/config/vip-device.js';
import type { Logger } from '../../src/log.js';
import { nextBootId } from '../../src/wire/boot-id.js';
import type { MarkStore, NodeMarks } from '../../src/wire/replay.js';
import { ProcTimers, type EventQueue } from './sim-clock.js';
import { fakePorts, HostAddrs, type HostEvents, type HostTiming } from './sim-host.js';
import { HEARTBEAT_PORT, SimSocket, type NetHost, type SimNet } from './sim-net.js';

export const CLUSTER = 'sim';
/** Wall-clock ms at simulated time 0 (bootIds, LevIP slots): a multiple of any LevIP period used here. */
export const EPOCH = 1_700_000_000_000;
/** The heartbeats' key: a real 32-byte key, sealed and checked by the real MAC. */
export const SIM_KEY = createHash('sha256').update('haagent simulator').digest();
/** The interface heartbeats and VIPs use: its link down cuts the node off and faults its groups. */
export const NIC = 'eth0';

/** Per-node settings beyond the groups. */
export interface NodeExtra {
  /** heartbeat probes (default on). */
  probes?: boolean;
  /** start in maintenance. */
  maintenance?: boolean;
  /** claim only with a majority of the configured nodes. */
  quorum?: boolean;
}

export interface NodeTiming extends HostTiming {
  interval: number;
  deadTime: number;
  initDead: number;
  linkMs: number;
}

/** What a node's agent needs from the simulator. */
export interface NodeEnv {
  q: EventQueue;
  net: SimNet;
  timing: NodeTiming;
  log: Logger;
  events: HostEvents;
  onStep(r: StepResult, input: Input): void;
}

/** The replay marks the agent keeps in its state directory: they survive its restarts. */
class MemoryMarks implements MarkStore {
  private readonly marks = new Map<string, NodeMarks>();
  load(): ReadonlyMap<string, NodeMarks> {
    return this.marks;
  }
  save(node: string, m: NodeMarks): void {
    this.marks.set(node, { main: m.main, ahead: m.ahead });
  }
}

interface Agent {
  proc: ProcTimers;
  driver: Driver;
  health: HealthMonitor;
  specs: GroupHealthSpec[];
}

export class SimNode implements NetHost {
  /** the host exists (a killed agent on a live host answers ICMP unreachable). */
  hostUp = true;
  socket: SimSocket | null = null;
  running = false;
  exited = false;
  /** per group: whether the host holds its VIP (kept by the simulator from HostEvents). */
  readonly vip = new Map<string, boolean>();
  readonly addrs = new HostAddrs();
  /** interfaces whose link is down. */
  readonly down = new Set<string>();
  /** the last agent's driver (kept after it died, for its core). */
  driver: Driver | null = null;
  private bootId: bigint | null = null;
  private readonly marks = new MemoryMarks();
  private agent: Agent | null = null;

  constructor(
    readonly name: string,
    readonly address: string,
    public groups: GroupConfig[],
    readonly extra: NodeExtra,
  ) {}

  get linkUp(): boolean {
    return !this.down.has(NIC);
  }

  /** The election core of the agent running there (or of the last one). */
  get core(): CoreView {
    if (this.driver === null) throw new Error(`${this.name} never started`);
    return this.driver.view();
  }

  /** Starts an agent: a new process, a new bootId, the configured peers being `peers`. */
  start(env: NodeEnv, peers: readonly NetHost[]): void {
    this.stopAgent(false); // one agent per host: a start over a running one replaces it
    const { q, timing } = env;
    const wall = (): number => EPOCH + q.now;
    this.bootId = nextBootId(this.bootId, wall());
    const proc = new ProcTimers(q);
    const socket = new SimSocket(env.net, this);
    const levipVip = (address: string): boolean => this.groups.some((g) => isLevipGroup(g) && g.vip.address === address);
    const ports = fakePorts(q, proc, timing, this.addrs, env.events, levipVip);
    const config = this.config(timing, peers);
    const driver: Driver = new Driver({
      config,
      key: SIM_KEY,
      bootId: this.bootId,
      clock: { now: () => q.now },
      wall,
      markStore: this.marks,
      log: env.log,
      transport: socket,
      vipHost: ports.vipHost,
      announcer: ports.announcer,
      arpAnswering: ports.arpAnswering,
      timers: proc,
      maintenance: this.extra.maintenance ?? false,
      probes: this.extra.probes ?? true,
      onExit: () => this.stopAgent(true),
      onStep: (r, input) => env.onStep(r, input),
    });
    const specs = healthSpecs(config);
    const health = new HealthMonitor(specs, {
      clock: { now: () => q.now },
      timers: proc,
      checker: () => Promise.reject(new Error('health checks are not simulated')),
      // As src/daemon/agent-health.ts: the penalty is taken off the group's configured priority.
      onChange: (group, sum) => {
        const base = this.agent?.specs.find((s) => s.group === group)?.basePriority ?? sum.priority;
        driver.feed({ kind: 'health', now: q.now, group, penalty: base - sum.priority, fault: sum.fault, pending: sum.pending, reach: sum.pingReachable });
      },
    });
    this.agent = { proc, driver, health, specs };
    this.driver = driver;
    this.socket = socket;
    this.running = true;
    this.exited = false;
    driver.start();
    health.start();
    this.readLinks(timing.linkMs);
  }

  /** SIGKILL: the process and everything it armed are gone; the host keeps its addresses. */
  kill(): void {
    this.stopAgent(false);
  }

  /** A reload with a new group list (same timing and peers). */
  reconfigure(env: NodeEnv, groups: GroupConfig[], peers: readonly NetHost[]): void {
    this.groups = groups;
    const a = this.agent;
    if (a === null) return;
    const config = this.config(env.timing, peers);
    a.driver.reconfigure(config);
    a.specs = healthSpecs(config);
    a.health.update(a.specs);
    this.readLinks(env.timing.linkMs);
  }

  /** An interface went up or down; the agent hears of it `linkMs` later. */
  setLink(iface: string, up: boolean, linkMs: number): void {
    if (up) this.down.delete(iface);
    else this.down.add(iface);
    const a = this.agent;
    a?.proc.setTimeout(() => a.health.setLink(iface, up), linkMs);
  }

  /** The link monitor's read of every tracked interface (at start, and for a reload's new ones). */
  private readLinks(linkMs: number): void {
    const a = this.agent;
    if (a === null) return;
    a.proc.setTimeout(() => {
      for (const iface of new Set(a.specs.flatMap((s) => s.interfaces))) a.health.setLink(iface, !this.down.has(iface));
    }, linkMs);
  }

  private stopAgent(exited: boolean): void {
    const a = this.agent;
    if (a === null) return;
    this.agent = null;
    a.proc.alive = false;
    a.driver.stop();
    a.health.stop();
    this.socket = null;
    this.running = false;
    this.exited = exited;
  }

  private config(t: NodeTiming, peers: readonly NetHost[]): Config {
    return {
      quorum: this.extra.quorum ?? false,
      node: this.name,
      director: true,
      cluster: CLUSTER,
      heartbeat: {
        bind: this.address,
        port: HEARTBEAT_PORT,
        peers: peers.map((p) => ({ address: p.address, port: HEARTBEAT_PORT, node: p.name })),
        multicast: null,
        interval: t.interval,
        deadTime: t.deadTime,
        initDead: t.initDead,
        keyFile: '(simulated)',
        acceptKeyFile: null,
      },
      control: { socket: '(simulated)', mode: 0o660, statusSocket: null, statusMode: 0o666 },
      stateDir: '(simulated)',
      realtime: 0,
      logLevel: 'info',
      logFormat: 'json',
      groups: this.groups,
      notify: [],
      notifyTimeout: 5000,
      metrics: { listen: null },
      realserver: null,
    };
  }
}
