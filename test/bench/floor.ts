/**
 * The Node floor beside the agents in the steady window: two floor-peer processes (see
 * floor-peer.ts) exchanging HMAC'd datagrams at the fastest heartbeat rate, in a lab of their
 * own, started with the agent's node flags. Their CPU over the same window says how much of
 * haagent's cost is the runtime's and how much its own.
 */
import { join } from 'node:path';
import { HAAGENT_NODE_FLAGS } from '../netns/agents/haagent.js';
import { within } from '../netns/exec.js';
import { Lab, REPO_ROOT } from '../netns/lab.js';
import { spawnReady, type LabProcess } from '../netns/proc.js';
import { sampleAll, type ProcSample } from './procstat.js';

export const FLOOR_CELL = 'node-floor';

export interface FloorRun {
  intervalMs: number;
  /** one sample per peer (d0's, d1's). */
  sample(): ProcSample[];
  stop(): Promise<void>;
}

export async function startFloor(intervalMs: number): Promise<FloorRun> {
  const lab = await Lab.create({ directors: 2 });
  const procs: LabProcess[] = [];
  const script = join(REPO_ROOT, 'dist', 'test', 'bench', 'floor-peer.js');
  const stop = async () => {
    for (const p of procs) p.kill('SIGTERM');
    await Promise.all(procs.map((p) => within(p.exited, 3000, null)));
    for (const p of procs) if (p.alive()) p.kill('SIGKILL');
    await lab.destroy();
  };
  try {
    const [d0, d1] = lab.directors as [(typeof lab.directors)[0], (typeof lab.directors)[0]];
    for (const [me, peer] of [[d0, d1], [d1, d0]] as const) {
      const argv = [process.execPath, ...HAAGENT_NODE_FLAGS, script, '--bind', me.ip, '--peer', peer.ip, '--interval', String(intervalMs)];
      await spawnReady(me.ns, argv, 5000, (p) => procs.push(p));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { intervalMs, sample: () => procs.map((p) => sampleAll([p.pid])), stop };
}
