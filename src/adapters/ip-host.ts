/**
 * VipHost over iproute2's `ip`, with idempotent ensure verbs that act first: the add or the
 * delete runs at once (one spawn on a takeover, not a read and then a write), and only when
 * the kernel objects is the interface read to see whether it already is as wanted (see
 * ensure()). Through a running `ip -batch` (ip-batch.ts) the state afterwards is read in the
 * same batch and decides. listAddresses reads an interface for the real-server role. No
 * decisions here: a failure is reported with the command line and stderr.
 */
import { vipCidr } from '../config/vip.js';
import { DEFAULTS } from '../config/defaults.js';
import type { Millis, Vip } from '../config/types.js';
import type { CommandRunner, EnsureOutcome, VipHost, VipPlacement } from '../ports/index.js';
import { parseIpAddrJson, type IfaceAddress } from './ip-json.js';
import { describeResult } from './runner.js';
import { errorText } from './bounded-buffer.js';
import type { IpBatch } from './ip-batch.js';

export interface IpVipHostOptions {
  ipPath?: string;
  timeoutMs?: Millis;
  /** a running `ip -batch` for add/del (src/adapters/ip-batch.ts); spawns when absent or down. */
  batch?: IpBatch;
}

/** Raised by listAddresses when `ip` fails or talks nonsense. */
export class IpCommandError extends Error {
  override name = 'IpCommandError';
}

type ReadResult = { ok: true; addrs: IfaceAddress[] } | { ok: false; error: string };

export class IpVipHost implements VipHost {
  private readonly ipPath: string;
  private readonly timeoutMs: Millis;
  private readonly batch: IpBatch | null;

  constructor(
    private readonly runner: CommandRunner,
    opts: IpVipHostOptions = {},
  ) {
    this.ipPath = opts.ipPath ?? 'ip';
    this.timeoutMs = opts.timeoutMs ?? DEFAULTS.commands.ipTimeout;
    this.batch = opts.batch ?? null;
  }

  async listAddresses(iface: string): Promise<IfaceAddress[]> {
    const r = await this.read(iface);
    if (!r.ok) throw new IpCommandError(r.error);
    return r.addrs;
  }

  ensurePresent(vip: Vip, iface: string): Promise<EnsureOutcome> {
    return this.ensure(vip, iface, true);
  }

  ensureAbsent(vip: Vip, iface: string): Promise<EnsureOutcome> {
    return this.ensure(vip, iface, false);
  }

  /**
   * A group's VIPs: through a running `ip -batch`, all of them in one request that lists the
   * interfaces before and after (what each change did is read there, not guessed from
   * stderr, which the request shares); otherwise one ensure per VIP.
   */
  async ensureAll(placements: readonly VipPlacement[], present: boolean): Promise<EnsureOutcome[]> {
    const argvs = placements.map((p) => (present ? this.addArgv(p.vip, p.iface) : this.delArgv(p.vip, p.iface)));
    const b = this.batch ? await this.batch.runAll(argvs.map((a) => a.slice(1)), placements.map((p) => p.iface)) : null;
    if (!b) return Promise.all(placements.map((p) => this.ensure(p.vip, p.iface, present)));
    return placements.map((p, i): EnsureOutcome => {
      const after = b.after.get(p.iface) ?? [];
      if (holds(after, p.vip) === present) return { ok: true, changed: holds(b.before.get(p.iface) ?? [], p.vip) !== present };
      return { ok: false, error: `${argvs[i]!.join(' ')} (ip -batch): ${b.stderr || notAsWanted(present)}` };
    });
  }

  /**
   * Act first, then verify only when the kernel objects: the common case (a takeover adding
   * an absent VIP) costs one `ip` spawn instead of two, which is most of the takeover time.
   * Exit 2 means "already there" on add and "not there" on del (measured on Debian 12 bookworm); the message
   * text differs between kernels, so re-read the state instead of matching it.
   */
  private async ensure(vip: Vip, iface: string, want: boolean): Promise<EnsureOutcome> {
    const argv = want ? this.addArgv(vip, iface) : this.delArgv(vip, iface);
    if (this.batch) {
      // The state afterwards decides, read in the same batch; stderr only explains.
      const b = await this.batch.run(argv.slice(1), iface);
      if (b) {
        if (holds(b.addrs ?? [], vip) === want) return { ok: true, changed: !b.stderr.includes('Command failed') };
        return { ok: false, error: `${argv.join(' ')} (ip -batch): ${b.stderr || notAsWanted(want)}` };
      }
    }
    const r = await this.runner.run(argv, this.timeoutMs);
    if (r.code === 0) return { ok: true, changed: true };
    if (r.code === 2 && !r.timedOut) {
      const after = await this.read(iface);
      if (after.ok && holds(after.addrs, vip) === want) return { ok: true, changed: false };
    }
    return { ok: false, error: describeResult(argv, r) };
  }

  private async read(iface: string): Promise<ReadResult> {
    const argv = [this.ipPath, '-json', 'addr', 'show', 'dev', iface];
    const r = await this.runner.run(argv, this.timeoutMs);
    if (r.code !== 0) return { ok: false, error: describeResult(argv, r) };
    try {
      return { ok: true, addrs: parseIpAddrJson(r.stdout) };
    } catch (err) {
      return { ok: false, error: `${argv.join(' ')}: ${errorText(err)}` };
    }
  }

  private addArgv(vip: Vip, iface: string): string[] {
    const argv = [this.ipPath, 'addr', 'add', vipCidr(vip), 'dev', iface];
    // With DAD on, a VIP the old holder still answers for ends up permanently dadfailed
    // (measured on Debian 12 bookworm); the takeover announcement is our job, not the kernel's.
    if (vip.family === 6) argv.push('nodad');
    return argv;
  }

  private delArgv(vip: Vip, iface: string): string[] {
    // Always the exact prefix: without it ip warns and removes the first matching address.
    return [this.ipPath, 'addr', 'del', vipCidr(vip), 'dev', iface];
  }
}

/** Why a batch whose stderr says nothing still failed. */
function notAsWanted(want: boolean): string {
  return want ? 'the address is not on the interface afterwards' : 'the address is still on the interface afterwards';
}

/**
 * Address and prefix must both match: the delete names the exact prefix, so a VIP found
 * with another prefix is not the one this agent manages.
 */
function holds(addrs: readonly IfaceAddress[], vip: Vip): boolean {
  const want = vip.address.toLowerCase();
  return addrs.some((a) => a.family === vip.family && a.prefixlen === vip.prefix && a.local.toLowerCase() === want);
}
