/**
 * The bench's cells: one agent with one set of settings each. Every setting is written out
 * here and printed with the results (docs/benchmarks.md copies them).
 *
 * Cells with sub-second timers share a lane per comparison pair (fast-a: haagent-10-30 and
 * keepalived-fast; fast-b: haagent-50-150, keepalived-50 and haagent-default) and take turns
 * in it, A B A B, one repetition of every row at a time, so a drift of the machine touches the
 * two sides of a ratio alike. Each 'slow' cell (dead time in seconds, or script-driven
 * transitions) gets a lane of its own, because its rounds are mostly waiting on its timers and
 * scripts. All lanes run at once. That keeps the default run near 15 minutes on 2 cores; the
 * price is load on the fast lanes, which the report states, and fewer repetitions of the
 * cells whose figures are seconds long (`limit` below).
 */
import type { AgentCluster } from '../netns/agents/common.js';
import { HEARTBEAT_BIN, HeartbeatCluster } from '../netns/agents/heartbeat.js';
import { KeepalivedCluster } from '../netns/agents/keepalived.js';
import { UcarpCluster } from '../netns/agents/ucarp.js';
import type { Lab } from '../netns/lab.js';
import type { PeerEntry } from '../netns/agents/haagent.js';
import { HaagentAgentCluster } from './haagent-cell.js';
import type { Scenario } from './rounds.js';

export interface CellSpec {
  id: string;
  agent: AgentCluster['kind'];
  /** binary that must be installed (scripts/bench-setup.sh). */
  needs: string | null;
  /** cells with the same lane name take turns in one lane; 'slow': a lane of its own. */
  lane: 'fast-a' | 'fast-b' | 'slow';
  /** peers: by director index, the heartbeat targets when not each other (the loss row's relay). */
  make(lab: Lab, peers?: string[][]): AgentCluster;
  /** fewer rows (scenarios) or repetitions (reps, at most) than the run asks for; the reason is printed. */
  limit?: { scenarios?: Scenario[]; reps?: number; why: string };
  /** UDP probe interval: 2 ms resolves a 30 ms outage; seconds-long ones need less. */
  probeMs: number;
  /** the lab gives the directors a second link between them (LabOptions.backbone). */
  backbone?: boolean;
}

/**
 * Director i's heartbeat peers over both links: the other director on the service segment
 * and on the backbone, the backbone path sent from i's own backbone address.
 */
function twoPaths(lab: Lab): PeerEntry[][] {
  return lab.directors.map((me) => lab.directors.filter((d) => d !== me).flatMap((d) => [
    { node: d.name, address: d.ip },
    { node: d.name, address: d.backboneIp!, bind: me.backboneIp! },
  ]));
}

/** Cells whose rounds wait on seconds-long timers: their figures vary little, the run's length a lot. */
const SECONDS_LONG = { reps: 6, why: 'its figures are seconds long and vary little; 6 repetitions keep the run near 15 minutes' };

export const CELLS: CellSpec[] = [
  {
    // The shipped defaults, compared with the slow cells (keepalived-default, ucarp-default): as many repetitions as they get.
    id: 'haagent-default', agent: 'haagent', needs: null, lane: 'fast-b', probeMs: 2,
    make: (lab, peers) => new HaagentAgentCluster(lab, { interval: '100ms', deadTime: '300ms', initDead: '600ms', peers }),
    limit: { reps: 6, why: 'compared with keepalived-default and ucarp-default, which run 6' },
  },
  {
    // The fast setting: 10 ms heartbeats, 30 ms dead time (below keepalived-fast's 36 ms).
    id: 'haagent-10-30', agent: 'haagent', needs: null, lane: 'fast-a', probeMs: 2,
    make: (lab) => new HaagentAgentCluster(lab, { interval: '10ms', deadTime: '30ms', initDead: '100ms' }),
  },
  {
    // The same settings with a second link between the directors (a crossover or backbone):
    // when the active loses the link that carries its VIP, it hands over through the backbone
    // at once instead of being found dead. Only the link-down row differs from haagent-10-30.
    id: 'haagent-10-30-2path', agent: 'haagent', needs: null, lane: 'fast-a', probeMs: 2, backbone: true,
    make: (lab) => new HaagentAgentCluster(lab, { interval: '10ms', deadTime: '30ms', initDead: '100ms', peers: twoPaths(lab) }),
    limit: { scenarios: ['link-down'], why: 'a second heartbeat path changes only what a link down does' },
  },
  {
    id: 'haagent-50-150', agent: 'haagent', needs: null, lane: 'fast-b', probeMs: 2,
    make: (lab) => new HaagentAgentCluster(lab, { interval: '50ms', deadTime: '150ms', initDead: '300ms' }),
  },
  {
    // keepalived's fastest: advert_int 0.01, Master_Down_Interval 3 x 10 + (256-100) x 10/256 = 36 ms.
    id: 'keepalived-fast', agent: 'keepalived', needs: 'keepalived', lane: 'fast-a', probeMs: 2,
    make: (lab) => new KeepalivedCluster(lab, { advertInt: 0.01, version: 3 }),
  },
  {
    // The anchor beside haagent-50-150: master-down 3 x 50 + 156 x 50/256 = 180 ms.
    id: 'keepalived-50', agent: 'keepalived', needs: 'keepalived', lane: 'fast-b', probeMs: 2,
    make: (lab) => new KeepalivedCluster(lab, { advertInt: 0.05, version: 3 }),
  },
  {
    // The fastest Heartbeat that stayed put: keepalive 10 ms / deadtime 50 ms split the pair
    // while idle (both held the VIP) and 20 ms / 100 ms moved it once in 60 s under load.
    // Its own lane: every transition runs shell resource scripts (hundreds of ms), so the
    // other lanes' load is noise here, and its rounds would stretch the shared lane.
    id: 'heartbeat-fast', agent: 'heartbeat', needs: HEARTBEAT_BIN, lane: 'slow', probeMs: 5,
    make: (lab, peers) => new HeartbeatCluster(lab, { keepalive: '50ms', deadtime: '250ms', warntime: '150ms', initdead: '1000ms', deadMs: 250, peers }),
    limit: { reps: 5, why: 'every transition runs shell scripts and many rounds need a repair (a repetition takes 1.5-2.5 min); 5 repetitions keep the run near 15 minutes' },
  },
  {
    id: 'keepalived-default', agent: 'keepalived', needs: 'keepalived', lane: 'slow', probeMs: 10,
    make: (lab) => new KeepalivedCluster(lab, { advertInt: 1, version: 2 }),
    limit: SECONDS_LONG,
  },
  {
    id: 'ucarp-default', agent: 'ucarp', needs: 'ucarp', lane: 'slow', probeMs: 10,
    make: (lab) => new UcarpCluster(lab, { advbase: 1, deadratio: 3 }),
    limit: SECONDS_LONG,
  },
  {
    id: 'heartbeat-default', agent: 'heartbeat', needs: HEARTBEAT_BIN, lane: 'slow', probeMs: 10,
    // Compiled-in defaults: keepalive 1 s, deadtime 30 s (and initdead = deadtime).
    make: (lab) => new HeartbeatCluster(lab, { keepalive: '1', deadtime: '30', deadMs: 30000 }),
    limit: { scenarios: ['crash', 'crash-svc', 'planned'], reps: 3, why: 'a 30 s deadtime makes each detection round ~35 s' },
  },
];

/** The cells `--quick` runs: the two haagent settings the issue targets, each beside its keepalived anchor. */
export const QUICK_CELLS = ['haagent-10-30', 'keepalived-fast', 'haagent-50-150', 'keepalived-50'];

/** haagent/other pairs whose median outage ratio is printed per scenario. */
export const RATIO_PAIRS: [string, string][] = [
  ['haagent-10-30', 'keepalived-fast'],
  ['haagent-10-30-2path', 'keepalived-fast'],
  ['haagent-50-150', 'keepalived-50'],
  ['haagent-default', 'keepalived-default'],
  ['haagent-default', 'ucarp-default'],
  ['haagent-50-150', 'heartbeat-fast'],
];

/** The cells the saturated-host target names: 0 switches and 0 dual-VIP (keepalived beside them, unjudged). */
export const SATURATED_TARGET = ['haagent-10-30', 'haagent-50-150'];
