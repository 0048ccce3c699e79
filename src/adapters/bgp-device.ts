/**
 * The device a bgp group's VIPs go on (bgp.device, src/config/bgp.ts): a `dummy` link the
 * director's routing daemon exports connected host routes from (an `ifb` link where the kernel
 * has no dummy driver). BgpDeviceHost wraps the
 * agent's VipHost: before the first add on such a device it makes sure the link exists and is
 * up (creating it when missing), and a remove from a device that is not there counts as done
 * (nothing is on a missing link, so nothing is announced). VIPs on other interfaces pass
 * straight through, untouched and unslowed. No decision here: the core says what to add.
 */
import { DEFAULTS } from '../config/defaults.js';
import type { Millis, Vip } from '../config/types.js';
import type { CommandRunner, EnsureOutcome, VipHost, VipPlacement } from '../ports/index.js';
import { ensureVips } from '../ports/vip-set.js';
import { describeResult } from './runner.js';

/** What the wrapper needs of the host's links. */
export interface LinkOps {
  /** true: the link exists; false: it does not; a string: the error that kept us from knowing. */
  exists(dev: string): Promise<boolean | string>;
  /** Creates the dummy link (unless it exists) and brings it up; null on success, else the error. */
  createUp(dev: string): Promise<string | null>;
}

/** LinkOps over `ip link` (one spawn to look, two to create). */
export class IpLinkOps implements LinkOps {
  constructor(
    private readonly runner: CommandRunner,
    private readonly ipPath = 'ip',
    private readonly timeoutMs: Millis = DEFAULTS.commands.ipTimeout,
  ) {}

  async exists(dev: string): Promise<boolean | string> {
    const argv = [this.ipPath, '-o', 'link', 'show', 'dev', dev];
    const r = await this.runner.run(argv, this.timeoutMs);
    if (r.code === 0) return true;
    // iproute2: 'Device "X" does not exist.' (exit 1); anything else is an error.
    if (r.code === 1 && /does not exist/i.test(r.stderr)) return false;
    return describeResult(argv, r);
  }

  async createUp(dev: string): Promise<string | null> {
    const add = [this.ipPath, 'link', 'add', dev, 'type', 'dummy'];
    let r = await this.runner.run(add, this.timeoutMs);
    if (r.code !== 0 && /unknown device type/i.test(r.stderr)) {
      // A kernel without the dummy driver: an ifb link holds addresses the same way (up,
      // carrier on, never sends). An operator may also create the device beforehand.
      const ifb = [this.ipPath, 'link', 'add', dev, 'type', 'ifb'];
      const f = await this.runner.run(ifb, this.timeoutMs);
      if (f.code !== 0 && !(f.code === 2 && /exists/i.test(f.stderr))) return `${describeResult(add, r)}; ${describeResult(ifb, f)}`;
      r = f;
    }
    // Exit 2 "File exists": created meanwhile (another group, an operator); bring it up anyway.
    if (r.code !== 0 && !(r.code === 2 && /exists/i.test(r.stderr))) return describeResult(add, r);
    const up = [this.ipPath, 'link', 'set', 'dev', dev, 'up'];
    const u = await this.runner.run(up, this.timeoutMs);
    return u.code === 0 ? null : describeResult(up, u);
  }
}

export class BgpDeviceHost implements VipHost {
  /** devices known to exist and be up since the last failure on them. */
  private readonly ready = new Set<string>();

  constructor(
    private readonly inner: VipHost,
    /** the bgp devices of the configuration in force (a reload may change them). */
    private readonly devices: () => readonly string[],
    private readonly links: LinkOps,
  ) {}

  ensurePresent(vip: Vip, iface: string): Promise<EnsureOutcome> {
    if (!this.isDevice(iface)) return this.inner.ensurePresent(vip, iface);
    return this.withDevice(iface, () => this.inner.ensurePresent(vip, iface));
  }

  ensureAbsent(vip: Vip, iface: string): Promise<EnsureOutcome> {
    if (!this.isDevice(iface)) return this.inner.ensureAbsent(vip, iface);
    return this.inner.ensureAbsent(vip, iface).then((o) => this.absentOutcome(iface, o));
  }

  ensureAll(placements: readonly VipPlacement[], present: boolean): Promise<EnsureOutcome[]> {
    const devs = [...new Set(placements.filter((p) => this.isDevice(p.iface)).map((p) => p.iface))];
    if (devs.length === 0) return ensureVips(this.inner, placements, present);
    return present ? this.addOnDevices(placements, devs) : this.removeOnDevices(placements);
  }

  private async addOnDevices(placements: readonly VipPlacement[], devs: readonly string[]): Promise<EnsureOutcome[]> {
    const errs = await Promise.all(devs.map((d) => this.prepare(d)));
    const failed = new Map(devs.map((d, i) => [d, errs[i]] as const).filter((e): e is [string, string] => e[1] !== null));
    if (failed.size > 0) return placements.map((p): EnsureOutcome => ({ ok: false, error: failed.get(p.iface) ?? `not tried: ${[...failed.values()].join('; ')}` }));
    const outs = await ensureVips(this.inner, placements, true);
    outs.forEach((o, i) => this.forgetOnFailure(placements[i]!.iface, o));
    return outs;
  }

  private async removeOnDevices(placements: readonly VipPlacement[]): Promise<EnsureOutcome[]> {
    const outs = await ensureVips(this.inner, placements, false);
    return Promise.all(outs.map((o, i) => {
      const iface = placements[i]!.iface;
      return this.isDevice(iface) ? this.absentOutcome(iface, o) : o;
    }));
  }

  private isDevice(iface: string): boolean {
    return this.devices().includes(iface);
  }

  private async withDevice(dev: string, add: () => Promise<EnsureOutcome>): Promise<EnsureOutcome> {
    const err = await this.prepare(dev);
    if (err !== null) return { ok: false, error: err };
    const o = await add();
    this.forgetOnFailure(dev, o);
    return o;
  }

  /** A failed add: the link may have been deleted under us; look again before the next one. */
  private forgetOnFailure(dev: string, o: EnsureOutcome): void {
    if (!o.ok) this.ready.delete(dev);
  }

  /** The device exists and is up (created when missing): null, or why not. */
  private async prepare(dev: string): Promise<string | null> {
    if (this.ready.has(dev)) return null;
    // Created, or brought up when it was there (an operator may have left it down).
    const err = await this.links.createUp(dev);
    if (err !== null) return `bgp device ${dev}: ${err}`;
    this.ready.add(dev);
    return null;
  }

  /** A failed remove from a device that does not exist is a VIP that is not there. */
  private async absentOutcome(dev: string, o: EnsureOutcome): Promise<EnsureOutcome> {
    if (o.ok) return o;
    this.ready.delete(dev);
    const there = await this.links.exists(dev);
    return there === false ? { ok: true, changed: false } : o;
  }
}
