/**
 * VIP conflict watch and announcement check. The watch picks the groups to examine (active
 * with the VIP in place, IPv4, not LevIP) and reports what it finds; what a conflict calls
 * for (log, count, re-announce) is decided by the core.
 *
 * While a group is active with its VIP in place, run duplicate address detection on the
 * segment (`arping -D`: a request from 0.0.0.0 asking who has the VIP). Our own kernel does
 * not answer its own broadcast, so any reply is another host claiming the address: a rogue
 * host, an old owner that did not release, or a split brain. Each such answer becomes a
 * `conflict` input, which logs it loudly, counts it and re-announces in both ARP forms.
 *
 * Right after a takeover the detections run back to back (the announcement check: the old owner
 * must stop answering, or we keep announcing, bounded by `fastDetections`); then every `interval`.
 */
import { DEFAULTS } from '../config/defaults.js';
import type { Millis } from '../config/types.js';
import { parseArpingReplies } from '../realserver/arp-check.js';
import type { CommandRunner } from '../ports/index.js';
import type { Driver } from './driver.js';

export interface ConflictWatchOptions {
  /** spacing of the steady detections while active. */
  interval: Millis;
  /** detections back to back after a takeover. */
  fastDetections: number;
  /** the gap between those. */
  fastGap: Millis;
  /** the first round after start(). */
  firstRound: Millis;
  /** bound of one arping run. */
  runTimeout: Millis;
  arpingPath: string;
}

export class ConflictWatch {
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** per group: the active-since time we last saw, to restart the fast detections on a new term. */
  private readonly terms = new Map<string, { since: number; fastLeft: number }>();

  constructor(
    private readonly driver: Driver,
    private readonly runner: CommandRunner,
    private readonly opts: ConflictWatchOptions = DEFAULTS.conflict,
  ) {}

  start(): void {
    this.schedule(this.opts.firstRound);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(ms: Millis): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.round(), ms);
    this.timer.unref();
  }

  /** One round: a detection for every active group whose turn it is, then sleep. Never overlaps itself. */
  private async round(): Promise<void> {
    let fast = false;
    for (const g of this.driver.view().groups) {
      if (this.stopped) return;
      if (g.state !== 'active' || !g.vipReady || g.cfg.mode === 'levip' || g.cfg.vip.family !== 4) {
        this.terms.delete(g.name);
        continue;
      }
      let term = this.terms.get(g.name);
      if (!term || term.since !== g.since) {
        term = { since: g.since, fastLeft: this.opts.fastDetections };
        this.terms.set(g.name, term);
      }
      if (term.fastLeft > 0) term.fastLeft--;
      fast ||= term.fastLeft > 0;
      const macs = await this.detect(g.cfg.interface, g.cfg.vip.address);
      if (macs.length > 0) this.driver.feed({ kind: 'conflict', now: this.driver.now(), group: g.name, macs });
    }
    this.schedule(fast ? this.opts.fastGap : this.opts.interval);
  }

  private async detect(iface: string, vip: string): Promise<string[]> {
    const r = await this.runner.run([this.opts.arpingPath, '-D', '-c', '1', '-w', '1', '-I', iface, vip], this.opts.runTimeout);
    // -D exits 1 when somebody answered; 0 when nobody did; anything else is not evidence.
    if (r.code !== 1) return [];
    return [...new Set(parseArpingReplies(r.stdout).map((x) => x.mac))];
  }
}
