/**
 * haagent's own native addon (src/native/*.c, built by node-gyp at `npm ci` into
 * build/Release/haagent_native.node): raw Ethernet frames through AF_PACKET, the scheduler
 * calls Node has no binding for, and the VIP's add and delete through rtnetlink. Everything
 * that uses it has a fallback, so loading never throws: a missing or broken build is a
 * reason string, not a crash.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** An open AF_PACKET socket on one interface (ifindex and MAC read when it was opened). */
export interface PacketSocket {
  fd: number;
  ifindex: number;
  /** the interface's hardware address, 6 bytes. */
  mac: Buffer;
}

/** The policies setScheduler accepts. */
export type SchedPolicy = 'other' | 'rr' | 'fifo';

export interface SchedInfo {
  /** 'other' | 'rr' | 'fifo' | 'batch' | 'idle', or `policy-N` for one the addon has no name for. */
  policy: SchedPolicy | 'batch' | 'idle' | (string & Record<never, never>);
  priority: number;
  resetOnFork: boolean;
}

/**
 * The addon's exports. Wrong argument types throw TypeError; failing system calls throw an
 * Error whose `code` is the errno name (EPERM, ENODEV, EAGAIN, ...) and whose message names the call.
 */
export interface Native {
  /** socket(AF_PACKET, SOCK_RAW, 0) (receives nothing) plus the interface's index and MAC. */
  packetOpen(ifname: string): PacketSocket;
  /** One sendto of a whole Ethernet frame; returns the bytes sent. EAGAIN throws too. */
  packetSend(fd: number, ifindex: number, frame: Buffer): number;
  /** Closes a socket packetOpen returned (refuses any other kind of fd). */
  packetClose(fd: number): void;
  /** sched_setscheduler for one thread (tid 0 = the calling thread), optionally SCHED_RESET_ON_FORK. */
  setScheduler(tid: number, policy: SchedPolicy, priority: number, resetOnFork: boolean): void;
  getScheduler(tid: number): SchedInfo;
  /** The calling thread's id (the main thread's is process.pid). */
  gettid(): number;
  /** if_nametoindex; throws an Error with code ENODEV when there is no such interface. */
  ifIndex(name: string): number;
  /**
   * `ip addr add` in process: one RTM_NEWADDR (create, exclusive) on the addon's NETLINK_ROUTE
   * socket, with the kernel's ACK awaited before it returns. `address` is 4 bytes (family 4)
   * or 16 (family 6); `nodad` (IPv6 only) sets IFA_F_NODAD. Returns the kernel's answer as a
   * positive errno, 0 = added (EEXIST: already there); throws only for local failures
   * (the socket, sendto/recv, a malformed answer, no ACK within 1 s).
   */
  addrAdd(ifindex: number, family: 4 | 6, address: Buffer, prefix: number, nodad: boolean): number;
  /** `ip addr del` in process, as addrAdd: 0 = removed, EADDRNOTAVAIL = it was not there. */
  addrDel(ifindex: number, family: 4 | 6, address: Buffer, prefix: number): number;
  /**
   * A libuv timer calling `callback` when it expires (src/native/timer.c). Unlike setTimeout,
   * re-arming it for a later time leaves no stale wake-up behind. It keeps the loop alive
   * while armed; an exception its callback throws reaches 'uncaughtException'.
   */
  timerNew(callback: () => void): NativeTimer;
  /** (Re-)arms the timer `ms` from now (rounded up to whole ms), replacing any due time. */
  timerStart(timer: NativeTimer, ms: number): void;
  timerStop(timer: NativeTimer): void;
  /** The heartbeat MAC's key, its pads absorbed (src/native/mac.c); the key bytes are not kept. */
  macKey(key: Buffer): NativeMacKey;
  /** Writes HMAC-SHA256/128 of every byte before the last 16 into those 16. */
  macSeal(key: NativeMacKey, datagram: Buffer): void;
  /** Whether the last 16 bytes are that MAC of the rest (constant-time compare). */
  macCheck(key: NativeMacKey, datagram: Buffer): boolean;
  /**
   * A UDP socket bound to (address, port) with SO_REUSEADDR and the kernel's error queue on
   * (IP_RECVERR / IPV6_RECVERR), for node:dgram to adopt (socket.bind({ fd })).
   */
  udpSocket(family: 4 | 6, address: string, port: number): number;
  /** Drains the socket's error queue: each ICMP error with the datagram it quoted. */
  udpErrors(fd: number): QueuedError[];
  /**
   * execve(2): replaces this process with `path` (same PID). Returns only by throwing: the
   * errno's Error (ENOENT, EACCES, ...), or a TypeError for a bad argument.
   */
  execve(path: string, argv: readonly string[], env: readonly string[]): never;
  /**
   * getsockopt(SO_PEERCRED) on a connected Unix socket: the peer's pid, uid and gid as of its
   * connect(). Optional: a build older than this export keeps everything else working, only
   * the control socket's log loses the caller's uid.
   */
  peerCred?(fd: number): PeerCred;
}

/** The process at the other end of a Unix socket (struct ucred). */
export interface PeerCred {
  pid: number;
  uid: number;
  gid: number;
}

/** An error the kernel queued for a socket (linux/errqueue.h sock_extended_err). */
export interface QueuedError {
  errno: number;
  /** 2 = ICMP, 3 = ICMPv6 (the kernel's SO_EE_ORIGIN_*). */
  origin: number;
  type: number;
  code: number;
  /** the datagram the ICMP error quoted (empty when cut short). */
  quoted: Buffer;
}

/** An opaque handle from macKey. */
export interface NativeMacKey {
  readonly __nativeMacKey?: never;
}

/** An opaque handle from timerNew. */
export interface NativeTimer {
  readonly __nativeTimer?: never;
}

export type NativeLoad = { ok: true; native: Native } | { ok: false; reason: string };

const EXPORTS = ['packetOpen', 'packetSend', 'packetClose', 'setScheduler', 'getScheduler', 'gettid', 'ifIndex', 'addrAdd', 'addrDel', 'timerNew', 'timerStart', 'timerStop', 'macKey', 'macSeal', 'macCheck', 'udpSocket', 'udpErrors', 'execve'] as const;

/**
 * The directory holding package.json, whether this file runs from src/adapters (tap's TS
 * loader) or dist/src/adapters (the build); null when none is found within a few levels.
 */
export function packageRoot(from: string = dirname(fileURLToPath(import.meta.url))): string | null {
  let dir = from;
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return null;
}

/** Where node-gyp puts the addon, or null when the package root cannot be found. */
export function nativeAddonPath(): string | null {
  const root = packageRoot();
  return root === null ? null : join(root, 'build', 'Release', 'haagent_native.node');
}

let cached: NativeLoad | null = null;

/** Loads the addon once; every later call returns the same outcome. Never throws. */
export function loadNative(): NativeLoad {
  cached ??= tryLoad();
  return cached;
}

function tryLoad(): NativeLoad {
  const path = nativeAddonPath();
  if (path === null) return { ok: false, reason: 'native addon: no package.json above this module' };
  if (!existsSync(path)) return { ok: false, reason: `native addon not built (${path} missing): run \`npx node-gyp rebuild\`` };
  try {
    const mod = createRequire(import.meta.url)(path) as Partial<Record<(typeof EXPORTS)[number], unknown>>;
    const missing = EXPORTS.filter((name) => typeof mod[name] !== 'function');
    // A stale build from an older source would fail later in a worse place.
    if (missing.length > 0) return { ok: false, reason: `native addon ${path} lacks ${missing.join(', ')}: rebuild it` };
    return { ok: true, native: mod as unknown as Native };
  } catch (e) {
    return { ok: false, reason: `native addon ${path} failed to load: ${(e as Error).message}` };
  }
}

/** The errno name a failing addon call threw with (EPERM, ENODEV, ...), if any. */
export function errnoCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
