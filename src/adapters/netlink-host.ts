/**
 * VipHost over rtnetlink, in process (the native addon's addrAdd/addrDel), with IpVipHost
 * (`ip -batch`, a spawn per call) as the fallback.
 *
 * Why: through `ip -batch` a takeover's gratuitous ARP waited for the ip child to run the
 * add, list the interface and answer, and on a saturated host for that child to be
 * scheduled at all. Here the request and the kernel's ACK happen inside ensurePresent(),
 * synchronously, and the returned promise is already settled: the driver's continuation
 * (and with it the first gratuitous ARP) runs in the same event-loop turn, with no other
 * process in between.
 *
 * Outcomes: the kernel's answer decides. 0 = changed; EEXIST on add and EADDRNOTAVAIL on
 * del = already so (the request names the exact prefix, as IpVipHost's does, so "not
 * there" means this VIP/prefix); any other answer (ENODEV, EPERM without CAP_NET_ADMIN,
 * EINVAL, ...) is a failure saying what was asked and what the kernel said: `ip` in the
 * same process would get the same answer, so it is not retried there.
 *
 * Fallback: what fails on our side (no addon, no netlink socket, a timeout, a malformed
 * answer, any exception) goes to the fallback for that call and onFallback(reason) is told.
 * A failure no retry fixes while the process lives (no addon, socket() refused by
 * capabilities, seccomp or systemd's RestrictAddressFamilies) is remembered, so later calls
 * go straight to the fallback.
 */
import { vipCidr } from '../config/vip.js';
import { getSystemErrorMap } from 'node:util';
import { constants } from 'node:os';
import type { Vip } from '../config/types.js';
import type { EnsureOutcome, VipHost, VipPlacement } from '../ports/index.js';
import { ensureVips } from '../ports/vip-set.js';
import { ipv4Bytes } from './arp-frame.js';
import { errorText } from './bounded-buffer.js';
import type { Logger } from '../log.js';
import { errnoCode, type Native, type NativeLoad } from './native.js';
import { ipv6Bytes } from './ndisc.js';

/** The part of the addon this host uses (a Native fits). */
export type NetlinkNative = Pick<Native, 'ifIndex' | 'addrAdd' | 'addrDel'>;

export interface NetlinkVipHostDeps {
  /** the loaded addon, or null when it is missing (every call goes to the fallback). */
  native: NetlinkNative | null;
  /** what does the change when netlink cannot (IpVipHost). */
  fallback: VipHost;
  /** told each time a call goes to the fallback, with why. */
  onFallback?: (reason: string) => void;
}

export const NO_NETLINK_ADDON = 'native addon not loaded: VIP changes through ip';

/** Thrown codes that mean this process cannot use netlink at all (see the header). */
const PERMANENT = new Set(['EPERM', 'EACCES', 'EAFNOSUPPORT', 'EPROTONOSUPPORT']);
/** Kernel answers that mean "already so" (the numbers are the platform's, from libuv). */
const ALREADY = { add: constants.errno.EEXIST, del: constants.errno.EADDRNOTAVAIL } as const;

type Op = keyof typeof ALREADY;
type Attempt = EnsureOutcome | { fallback: string };

export class NetlinkVipHost implements VipHost {
  private readonly native: NetlinkNative | null;
  private readonly fallback: VipHost;
  private readonly onFallback: (reason: string) => void;
  /** set once netlink cannot work in this process; every call then uses the fallback. */
  private disabled: string | null;

  constructor(deps: NetlinkVipHostDeps) {
    this.native = deps.native;
    this.fallback = deps.fallback;
    this.onFallback = deps.onFallback ?? (() => undefined);
    this.disabled = deps.native === null ? NO_NETLINK_ADDON : null;
    if (deps.native !== null) warmUp(deps.native);
  }

  /** Settled when returned unless it went to the fallback (see the header). */
  ensurePresent(vip: Vip, iface: string): Promise<EnsureOutcome> {
    return this.change('add', vip, iface);
  }

  ensureAbsent(vip: Vip, iface: string): Promise<EnsureOutcome> {
    return this.change('del', vip, iface);
  }

  /**
   * A group's VIPs: each through netlink, synchronously as above (settled when returned if
   * none went to the fallback); those that could not go through netlink go to the fallback
   * together, in one exchange when it has ensureAll.
   */
  ensureAll(placements: readonly VipPlacement[], present: boolean): Promise<EnsureOutcome[]> {
    const op: Op = present ? 'add' : 'del';
    const tried = placements.map((p) => this.attempt(op, p.vip, p.iface));
    const rest = placements.filter((_, i) => 'fallback' in tried[i]!);
    if (rest.length === 0) return Promise.resolve(tried as EnsureOutcome[]);
    for (const r of new Set(tried.flatMap((t) => ('fallback' in t ? [t.fallback] : [])))) this.onFallback(r);
    return ensureVips(this.fallback, rest, present).then((done) => {
      let k = 0;
      return tried.map((t) => ('fallback' in t ? done[k++]! : t));
    });
  }

  private change(op: Op, vip: Vip, iface: string): Promise<EnsureOutcome> {
    const r = this.attempt(op, vip, iface);
    if (!('fallback' in r)) return Promise.resolve(r);
    try {
      this.onFallback(r.fallback);
      return op === 'add' ? this.fallback.ensurePresent(vip, iface) : this.fallback.ensureAbsent(vip, iface);
    } catch (e) {
      // A VipHost rejects rather than throws; a throwing one must not throw out of ours.
      return Promise.resolve({ ok: false, error: errorText(e) });
    }
  }

  /** The whole netlink exchange, synchronous; never throws. */
  private attempt(op: Op, vip: Vip, iface: string): Attempt {
    const native = this.native;
    if (this.disabled !== null || native === null) return { fallback: this.disabled ?? NO_NETLINK_ADDON };
    const what = `netlink: ${op} ${vipCidr(vip)} dev ${iface}`;
    let errno: number;
    try {
      // Per call: an interface deleted and created again has a new index.
      const ifindex = native.ifIndex(iface);
      const address = vip.family === 4 ? ipv4Bytes(vip.address) : ipv6Bytes(vip.address);
      errno =
        op === 'add'
          ? native.addrAdd(ifindex, vip.family, address, vip.prefix, vip.family === 6)
          : native.addrDel(ifindex, vip.family, address, vip.prefix);
    } catch (e) {
      const code = errnoCode(e);
      // No such interface: `ip` could not do better, so it is an answer, not a fallback.
      if (code === 'ENODEV') return { ok: false, error: `${what}: ${describeErrno(constants.errno.ENODEV)}` };
      const reason = `${what}: ${errorText(e)}`;
      if (PERMANENT.has(code ?? '')) this.disabled = reason;
      return { fallback: reason };
    }
    if (errno === 0) return { ok: true, changed: true };
    if (errno === ALREADY[op]) return { ok: true, changed: false };
    return { ok: false, error: `${what}: ${describeErrno(errno)}` };
  }
}

/** Answers 0 to everything, changes nothing: the warm-up's addon. */
const DRY: NetlinkNative = { ifIndex: () => 1, addrAdd: () => 0, addrDel: () => 0 };
const NO_FALLBACK: VipHost = {
  ensurePresent: () => Promise.resolve({ ok: true, changed: false }),
  ensureAbsent: () => Promise.resolve({ ok: true, changed: false }),
};
let warmed = false;

/** An interface index no host has (the largest the addon accepts). */
const NO_SUCH_INDEX = 2 ** 31 - 1;

/**
 * Once per process, at start-up: a standby's first VIP change is its takeover, and that first
 * call would otherwise compile this path (and node:net's address patterns: ~10 ms for the
 * IPv6 one, measured), open the netlink socket and bind the addon's library calls (~0.2 ms,
 * measured). So a few changes go through DRY, one of each family; then one real ifIndex (lo
 * is in every namespace) and one real del on an interface index no host has, which the kernel
 * refuses (ENODEV) before it looks at anything else: nothing can change.
 */
function warmUp(native: NetlinkNative): void {
  if (warmed) return;
  warmed = true;
  const dry = new NetlinkVipHost({ native: DRY, fallback: NO_FALLBACK });
  for (let i = 1; i <= 4; i++) {
    for (const vip of [{ address: `198.51.100.${i}`, prefix: 32, family: 4 }, { address: `2001:db8::${i}`, prefix: 128, family: 6 }] as const) {
      void dry.ensurePresent(vip, 'dry0');
      void dry.ensureAbsent(vip, 'dry0');
    }
  }
  // Only a warm-up: a real call reports whatever fails here.
  try {
    native.ifIndex('lo');
  } catch {
    /* see above */
  }
  try {
    native.addrDel(NO_SUCH_INDEX, 4, Buffer.from([198, 51, 100, 1]), 32);
  } catch {
    /* see above */
  }
}

let errorMap: Map<number, [string, string]> | null = null;

/** "no such device (ENODEV)" for 19: libuv's text and name (the error path only). */
export function describeErrno(errno: number): string {
  errorMap ??= getSystemErrorMap();
  const known = errorMap.get(-errno);
  return known ? `${known[1]} (${known[0]})` : `error ${errno}`;
}

/**
 * The agent's VipHost: netlink when the addon loaded, `fallback` (IpVipHost) for what
 * netlink cannot do. Each fallback reason is logged at warn once, then at debug: a lasting
 * condition would otherwise repeat at every VIP change.
 */
export function agentVipHost(load: NativeLoad, fallback: VipHost, log: Logger): NetlinkVipHost {
  const warned = new Set<string>();
  return new NetlinkVipHost({
    native: load.ok ? load.native : null,
    fallback,
    onFallback: (reason) => {
      log[warned.has(reason) ? 'debug' : 'warn']({ reason }, 'VIP change falls back to ip');
      warned.add(reason);
    },
  });
}
