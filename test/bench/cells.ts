/**
 * The bench's cells: one agent with one set of settings each. Every setting is written out
 * here and printed with the results (docs/benchmarks.md copies them).
 *
 * lane 'fast' cells (dead time well under a second) take turns in one lane, A B A B, one
 * repetition of every scenario at a time; each 'slow' cell (dead time in seconds, or
 * script-driven transitions) gets a lane of its own running at the same time, because its
 * rounds are mostly waiting on its timers and scripts. That keeps the bench under 15 minutes
 * on 2 cores; the price is some load on the fast lane, which the report states.
 */
import type { AgentCluster } from '../netns/agents/common.js';
import { HEARTBEAT_BIN, HeartbeatCluster } from '../netns/agents/heartbeat.js';
import { KeepalivedCluster } from '../netns/agents/keepalived.js';
import { UcarpCluster } from '../netns/agents/ucarp.js';
import type { Lab } from '../netns/lab.js';
import { HaagentAgentCluster } from './haagent-cell.js';
import type { Scenario } from './rounds.js';

export interface CellSpec {
  id: string;
  agent: AgentCluster['kind'];
  /** binary that must be installed (scripts/bench-setup.sh). */
  needs: string | null;
  lane: 'fast' | 'slow';
  /** peers: by director index, the heartbeat targets when not each other (the loss row's relay). */
  make(lab: Lab, peers?: string[][]): AgentCluster;
  /** rows this cell runs, when not all (the reason is printed). */
  only?: { scenarios: Scenario[]; reps: number; why: string };
  /** UDP probe interval: 2 ms resolves a 30 ms outage; seconds-long ones need less. */
  probeMs: number;
}

export const CELLS: CellSpec[] = [
  {
    id: 'haagent-default', agent: 'haagent', needs: null, lane: 'fast', probeMs: 2,
    make: (lab, peers) => new HaagentAgentCluster(lab, { interval: '100ms', deadTime: '300ms', initDead: '600ms', peers }),
  },
  {
    // 10 ms / 30 ms moved the VIP by itself 129 times in 60 s under load here; 50 ms fewer
    // (24 in the full run): see docs/benchmarks.md before trusting 10 ms anywhere.
    id: 'haagent-fast', agent: 'haagent', needs: null, lane: 'fast', probeMs: 2,
    make: (lab) => new HaagentAgentCluster(lab, { interval: '10ms', deadTime: '50ms', initDead: '100ms' }),
  },
  {
    // keepalived's fastest: advert_int 0.01, Master_Down_Interval 3 x 10 + (256-100) x 10/256 = 36 ms.
    id: 'haagent-at-ka-rate', agent: 'haagent', needs: null, lane: 'fast', probeMs: 2,
    make: (lab) => new HaagentAgentCluster(lab, { interval: '10ms', deadTime: '36ms', initDead: '72ms' }),
  },
  {
    id: 'keepalived-fast', agent: 'keepalived', needs: 'keepalived', lane: 'fast', probeMs: 2,
    make: (lab) => new KeepalivedCluster(lab, { advertInt: 0.01, version: 3 }),
  },
  {
    // The fastest Heartbeat that stayed put: keepalive 10 ms / deadtime 50 ms split the pair
    // while idle (both held the VIP) and 20 ms / 100 ms moved it once in 60 s under load.
    // Its own lane: every transition runs shell resource scripts (hundreds of ms), so the
    // other lanes' load is noise here, and its rounds would stretch the shared lane.
    id: 'heartbeat-fast', agent: 'heartbeat', needs: HEARTBEAT_BIN, lane: 'slow', probeMs: 5,
    make: (lab, peers) => new HeartbeatCluster(lab, { keepalive: '50ms', deadtime: '250ms', warntime: '150ms', initdead: '1000ms', deadMs: 250, peers }),
  },
  {
    id: 'keepalived-default', agent: 'keepalived', needs: 'keepalived', lane: 'slow', probeMs: 10,
    make: (lab) => new KeepalivedCluster(lab, { advertInt: 1, version: 2 }),
  },
  {
    id: 'ucarp-default', agent: 'ucarp', needs: 'ucarp', lane: 'slow', probeMs: 10,
    make: (lab) => new UcarpCluster(lab, { advbase: 1, deadratio: 3 }),
  },
  {
    id: 'heartbeat-default', agent: 'heartbeat', needs: HEARTBEAT_BIN, lane: 'slow', probeMs: 10,
    // Compiled-in defaults: keepalive 1 s, deadtime 30 s (and initdead = deadtime).
    make: (lab) => new HeartbeatCluster(lab, { keepalive: '1', deadtime: '30', deadMs: 30000 }),
    only: { scenarios: ['crash', 'planned'], reps: 3, why: 'a 30 s deadtime makes each detection round ~35 s' },
  },
];

/** The cells `--quick` runs (and the smoke test's subset is chosen from). */
export const QUICK_CELLS = ['haagent-default', 'haagent-fast', 'keepalived-fast', 'heartbeat-fast'];

/** haagent/other pairs whose median outage ratio is printed per scenario. */
export const RATIO_PAIRS: [string, string][] = [
  ['haagent-default', 'keepalived-default'],
  ['haagent-at-ka-rate', 'keepalived-fast'],
  ['haagent-fast', 'keepalived-fast'],
  ['haagent-default', 'ucarp-default'],
  ['haagent-fast', 'heartbeat-fast'],
];
