/**
 * Who holds the VIP, as a timeline: one `ip monitor address` per director namespace, each
 * add/delete of the VIP stamped on arrival. Event-driven, so watching costs nothing between
 * changes (polling `ip addr` every few ms on every director would cost a spawn each time).
 * The pure part (intervals, overlap, moves) is in timeline.ts.
 */
import { epochNow, sleep } from '../netns/exec.js';
import { VIP, type Lab, type LabHost, type LabProcess } from '../netns/lab.js';
import { holdersAt, type VipEvent } from './timeline.js';

/** Parses one `ip monitor address` line; null when it is not about the VIP. */
export function parseMonitorLine(line: string, vip = VIP): { present: boolean } | null {
  const m = /\binet (\d+\.\d+\.\d+\.\d+)\/\d+/.exec(line);
  if (!m || m[1] !== vip) return null;
  return { present: !line.trimStart().startsWith('Deleted') };
}

export class VipWatch {
  readonly events: VipEvent[] = [];
  private readonly procs: LabProcess[] = [];

  private constructor(private readonly lab: Lab) {}

  /** Starts the monitors, then records who holds the VIP right now as the initial state. */
  static async start(lab: Lab): Promise<VipWatch> {
    const w = new VipWatch(lab);
    for (const d of lab.directors) w.procs.push(w.monitor(d));
    // ip monitor prints no "ready": give it a moment to subscribe before reading the state.
    await sleep(100);
    const at = epochNow();
    for (const d of lab.directors) w.events.push({ at, host: d.name, present: await lab.hasAddress(d) });
    return w;
  }

  private monitor(d: LabHost): LabProcess {
    return this.lab.spawn(d, ['ip', 'monitor', 'address'], {
      onLine: (line, stream) => {
        if (stream !== 'stdout') return;
        const p = parseMonitorLine(line);
        if (p) this.events.push({ at: epochNow(), host: d.name, present: p.present });
      },
    });
  }

  /** Directors holding the VIP now, as far as the monitors have reported. */
  holders(): string[] {
    return holdersAt(this.events, epochNow());
  }

  stop(): void {
    for (const p of this.procs) p.kill('SIGTERM');
  }
}
