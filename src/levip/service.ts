/**
 * LevIP in the agent: the host side only. Every decision of the mode (members, slots, when to
 * announce, when to answer ARP) is the core's (src/core/levip/mode.ts); its replies go out
 * through the driver's announcer like any gratuitous ARP. What is left here: the interface
 * sysctls (host.ts), set up before the election starts and restored after the shared IPs
 * left lo, the ARP answering switch the driver performs for the core (the ArpAnswering port),
 * and the status section read off the core's view.
 */
import { Ipv4ConfSysctl } from '../adapters/sysctl.js';
import type { GroupConfig, Millis } from '../config/types.js';
import type { CoreView } from '../core/read-view.js';
import type { Logger } from '../log.js';
import type { ArpAnswering } from '../ports/index.js';
import { levipHostFor, type HostReport } from './host.js';
import { isLevipGroup } from '../config/vip-device.js';
import { levipStatus, type LevipGroupStatus } from './status.js';

export type { LevipGroupStatus, LevipSlotStatus } from './status.js';

/** The interface sysctls (host.ts LevipHost fits): suppress once, then the owner's switch. */
export interface LevipHostPort {
  prepare(iface: string): Promise<{ done: string[]; warnings: string[] }>;
  answer(iface: string, on: boolean): Promise<void>;
  restore(): Promise<HostReport>;
}

export interface LevipServiceOptions {
  stateDir: string;
  log: Logger;
  /** default: the real sysctls under /proc with a record in stateDir. */
  host?: LevipHostPort;
  /** wall-clock ms for status (default Date.now): slots are on the wall clock. */
  wallClock?: () => Millis;
}

export class LevipService implements ArpAnswering {
  private readonly host: LevipHostPort;
  /** interfaces whose sysctls were (or are being) set up, with the outcome. */
  private readonly prepared = new Map<string, Promise<void>>();

  constructor(private readonly opts: LevipServiceOptions) {
    this.host = opts.host ?? levipHostFor(opts.stateDir, new Ipv4ConfSysctl());
  }

  /**
   * Suppresses ARP on every LevIP group's interface. Await it before the election starts: the
   * shared IP must never be on lo while the interface still answers ARP for it. Rejects when
   * an interface cannot be set up (the agent must not run the group then).
   */
  async prepare(groups: readonly GroupConfig[]): Promise<void> {
    await Promise.all(groups.filter(isLevipGroup).map((g) => this.prepareIface(g.interface)));
  }

  /**
   * The core's switch. An interface not set up yet (a group added by a reload) is set up first:
   * the core asks `off` at the first step that sees the group, long before its init-dead time
   * lets it claim, and the host applies requests in order. A failure rejects: the driver
   * feeds it back to the core, which asks again (src/core/levip/answering.ts).
   */
  async answer(iface: string, on: boolean): Promise<void> {
    await this.prepareIface(iface);
    await this.host.answer(iface, on);
  }

  status(core: CoreView): LevipGroupStatus[] {
    return levipStatus(core, (this.opts.wallClock ?? Date.now)());
  }

  /** Gives back the interface sysctls (call once the shared IPs left lo). */
  async close(): Promise<HostReport> {
    let r: HostReport;
    try {
      r = await this.host.restore();
    } catch (e) {
      // An unreadable record: say so; `haagent release` can retry once it is fixed.
      r = { done: [], warnings: [], errors: [String(e)] };
    }
    for (const d of r.done) this.opts.log.info({}, `levip: ${d}`);
    for (const w of r.warnings) this.opts.log.warn({}, `levip: ${w}`);
    for (const e of r.errors) this.opts.log.error({}, `levip: cannot restore ${e}`);
    return r;
  }

  private prepareIface(iface: string): Promise<void> {
    let p = this.prepared.get(iface);
    if (p) return p;
    p = this.host.prepare(iface).then((r) => {
      for (const d of r.done) this.opts.log.info({ iface }, `levip: ${d}`);
      for (const w of r.warnings) this.opts.log.warn({ iface }, `levip: ${w}`);
    });
    // A failed set-up is tried again at the next request rather than remembered forever.
    p.catch(() => this.prepared.delete(iface));
    this.prepared.set(iface, p);
    return p;
  }
}
