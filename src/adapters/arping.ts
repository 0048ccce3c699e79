/**
 * Announcer over iputils `arping` (Debian package iputils-arping, not `arping`). One child per
 * frame: `arping -U` (unsolicited request) and/or `arping -A` (reply), `-c 1` each, spaced
 * `garp.spacing` apart. Bookworm's arping sends its frame ~3 ms after spawn and then lingers
 * ~1 s (measured on Debian 12 bookworm), so a burst never waits for an exit: each child is started, tracked by
 * PID, killed at its life bound, and its exit checked later; a non-zero exit (2 = bad device)
 * goes to `onFailure` so it is logged. announce() resolves once every frame was started.
 */
import { DEFAULTS } from '../config/defaults.js';
import { setTimeout as delay } from 'node:timers/promises';
import type { GarpConfig, GarpForm, Millis, Vip } from '../config/types.js';
import type { AnnounceOutcome, Announcer } from '../ports/index.js';
import type { ChildExit, ChildStarter } from './child-tracker.js';

/** arping speaks ARP only: IPv6 VIPs are announced by NdiscAnnouncer (src/adapters/ndisc.ts). */
export const IPV6_NOT_ARP = 'arping cannot announce an IPv6 address (NdiscAnnouncer does)';

export interface ArpingAnnouncerOptions {
  arpingPath?: string;
  /** waits between the steps of a burst; injected so tests never sleep. */
  sleep?: (ms: Millis) => Promise<void>;
  maxLifeMs?: Millis;
  /** an arping that started but exited non-zero or died of a signal we did not send. */
  onFailure?: (exit: ChildExit) => void;
}

const FLAGS: Record<GarpForm, readonly string[]> = {
  request: ['-U'],
  reply: ['-A'],
  both: ['-U', '-A'],
};

export class ArpingAnnouncer implements Announcer {
  private readonly arpingPath: string;
  private readonly sleep: (ms: Millis) => Promise<void>;
  private readonly maxLifeMs: Millis;
  private readonly onFailure: (exit: ChildExit) => void;
  private closed = false;

  constructor(
    private readonly tracker: ChildStarter,
    opts: ArpingAnnouncerOptions = {},
  ) {
    this.arpingPath = opts.arpingPath ?? 'arping';
    this.sleep = opts.sleep ?? ((ms) => delay(ms));
    this.maxLifeMs = opts.maxLifeMs ?? DEFAULTS.commands.arpingLife;
    const onFailure = opts.onFailure ?? (() => undefined);
    this.onFailure = (exit) => {
      if (failed(exit)) onFailure(exit);
    };
  }

  /** The command line of one frame. */
  argv(flag: string, vip: Vip, iface: string): string[] {
    return [this.arpingPath, flag, '-c', '1', '-I', iface, vip.address];
  }

  async announce(vip: Vip, iface: string, garp: GarpConfig, signal?: AbortSignal): Promise<AnnounceOutcome> {
    const outcome: AnnounceOutcome = { sent: 0, errors: [] };
    if (vip.family === 6) {
      outcome.errors.push(IPV6_NOT_ARP);
      return outcome;
    }
    for (let step = 0; step < garp.count && !this.closed && !signal?.aborted; step++) {
      if (step > 0) await this.sleep(garp.spacing);
      // close() (shutdown) or the caller's abort (the VIP is being released) ends the burst:
      // an announcement for an address we no longer hold would pull the router to us.
      if (this.closed || signal?.aborted) break;
      for (const flag of FLAGS[garp.form]) {
        // Before every frame, the reply half of a request+reply step included: the release
        // may have come while the request's arping was being started.
        if (this.closed || signal?.aborted) break;
        const argv = this.argv(flag, vip, iface);
        const started = await this.tracker.start(argv, this.maxLifeMs, this.onFailure);
        if (started.error !== undefined) outcome.errors.push(`${argv.join(' ')}: ${started.error}`);
        else outcome.sent++;
      }
    }
    return outcome;
  }

  close(): void {
    this.closed = true;
    this.tracker.killAll();
  }
}

/** Killed by our own bound is not a failure: the frame left ~3 ms after spawn. */
function failed(exit: ChildExit): boolean {
  if (exit.killed) return false;
  return exit.code !== 0;
}
