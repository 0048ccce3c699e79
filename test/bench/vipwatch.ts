/**
 * Who holds the VIP, as a timeline: `ip -ts monitor address` in each director namespace, each
 * add/delete of the VIP stamped by ip itself when it read the event from the kernel.
 * Event-driven, so watching costs nothing between changes (polling `ip addr` every few ms on
 * every director would cost a spawn each time). The pure part (intervals, overlap, moves) is
 * in timeline.ts.
 *
 * A stamp is only as prompt as ip's wake-up. The monitors run under `chrt -f 50`
 * (SCHED_FIFO), yet on this kernel (no kernel preemption, 2 vCPUs) one of them was still
 * read 10-18 ms late now and then while the others were not. So each director gets several
 * monitors: every one receives the same netlink messages in the same order, the n-th VIP line
 * of each is the same kernel event, and the earliest stamp is the least late (a monitor
 * cannot see an event before it happened). The spread between the stamps is kept: it says
 * how far a single monitor could have been off.
 */
import { monitorTime } from '../netns/analyze.js';
import { epochNow, run, sleep } from '../netns/exec.js';
import { VIP, type Lab, type LabHost, type LabProcess } from '../netns/lab.js';
import { holdersAt, MonitorMerge, type VipEvent } from './timeline.js';

/** The monitors' SCHED_FIFO priority: above every normal process and above the agents' own real-time settings (haagent's loop: SCHED_RR 10). */
const MONITOR_PRIO = '50';
/** Monitors per director, by default: three made a late stamp rare in the runs here. */
export const MONITORS = 3;

/**
 * Parses one `ip [-ts] monitor address` line; null when it is not about the VIP. `at` is ip's
 * own stamp (epoch ms) when the line has one.
 */
export function parseMonitorLine(line: string, vip = VIP): { present: boolean; at: number | null } | null {
  const m = /\binet (\d+\.\d+\.\d+\.\d+)\/\d+/.exec(line);
  if (!m || m[1] !== vip) return null;
  const body = line.replace(/^\s*\[[^\]]*\]\s*/, '');
  return { present: !body.trimStart().startsWith('Deleted'), at: monitorTime(line.trimStart()) };
}

let rtCheck: Promise<boolean> | null = null;

/** Whether this host lets us run a process under SCHED_FIFO (checked once). */
export function realtimeAvailable(): Promise<boolean> {
  rtCheck ??= run(['chrt', '-f', MONITOR_PRIO, 'true']).then((r) => r.code === 0);
  return rtCheck;
}

export class VipWatch {
  private readonly merge = new MonitorMerge();
  private readonly procs: LabProcess[] = [];

  private constructor(private readonly lab: Lab) {}

  /** The timeline so far (one event per kernel event, whatever the number of monitors). */
  get events(): VipEvent[] {
    return this.merge.events;
  }

  /** Monitors left out because they disagreed with the others (should stay 0). */
  get dropped(): number {
    return this.merge.dropped;
  }

  /** Starts `copies` monitors per director, then records who holds the VIP right now as the initial state. */
  static async start(lab: Lab, copies = MONITORS): Promise<VipWatch> {
    const w = new VipWatch(lab);
    const rt = await realtimeAvailable();
    for (const d of lab.directors) for (let m = 0; m < copies; m++) w.procs.push(w.monitor(d, m, rt));
    // ip monitor prints no "ready": give it a moment to subscribe before reading the state.
    await sleep(100);
    const at = epochNow();
    for (const d of lab.directors) w.events.push({ at, host: d.name, present: await lab.hasAddress(d) });
    return w;
  }

  private monitor(d: LabHost, m: number, rt: boolean): LabProcess {
    const ip = ['ip', '-ts', 'monitor', 'address'];
    return this.lab.spawn(d, rt ? ['chrt', '-f', MONITOR_PRIO, ...ip] : ip, {
      onLine: (line, stream) => {
        if (stream !== 'stdout') return;
        const p = parseMonitorLine(line);
        if (p) this.merge.add(d.name, m, p.present, p.at, epochNow());
      },
    });
  }

  /** Directors holding the VIP now, as far as the monitors have reported (every event so far counts). */
  holders(): string[] {
    return holdersAt(this.events, Infinity);
  }

  stop(): void {
    for (const p of this.procs) p.kill('SIGTERM');
  }
}
