/**
 * Gratuitous ARP for IPv4 VIPs sent in-process through an AF_PACKET socket (the native
 * addon, src/adapters/native.ts), arping kept as the fallback.
 *
 * Why: arping is a fork+exec per frame, ~3 ms idle and 10-30 ms under load before its
 * frame is on the wire; the router keeps sending to the old owner until it is. Here the
 * first step's frames are written synchronously inside announce(), so they leave in the
 * same event-loop turn as the action that asked for them, a fraction of a millisecond
 * after the call. The frames are byte for byte arping's (src/adapters/arp-frame.ts).
 *
 * Fallback: without the addon, or when opening or sending fails (EPERM without
 * CAP_NET_RAW, an interface that is gone, a full queue), the rest of that burst is
 * handed to the fallback announcer (arping) from the frame that failed on, and
 * onFallback(reason) is told. A permission-class open failure is remembered, so later
 * bursts go to the fallback at once instead of failing the same way every time.
 *
 * Release safety: the caller's abort signal (the VIP is being given up) and close() are
 * checked immediately before every single frame: a node giving a VIP up must never
 * announce it, not even the reply half of a request+reply step.
 *
 * Cold start: the first call of this path in a process costs ~1.5 ms (V8 compiles each
 * function on its first call, Node's Buffer internals too, and opening the socket adds
 * ~0.2 ms), and a standby's first announce is exactly its takeover. So the first
 * constructor runs a few bursts through a sink that sends nothing (compiling the path),
 * and prepare(iface, addresses) opens the socket and builds the frames ahead; then the
 * first frame leaves ~0.1-0.2 ms after the call (test/netns/packet.test.ts prints it).
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { GarpConfig, GarpForm, Millis, Vip } from '../config/types.js';
import type { AnnounceOutcome, Announcer } from '../ports/index.js';
import { garpFrame, type GarpFrameForm } from './arp-frame.js';
import { errnoCode, type Native, type PacketSocket } from './native.js';

/** The part of the addon this announcer uses (a Native fits). */
export type PacketNative = Pick<Native, 'packetOpen' | 'packetSend' | 'packetClose'>;

export interface PacketAnnouncerDeps {
  /** the loaded addon, or null when it is missing (everything goes to the fallback). */
  native: PacketNative | null;
  /** announcer for what the packet socket cannot send (ArpingAnnouncer). */
  fallback: Announcer;
  /** waits between the steps of a burst; injected so tests never sleep. */
  sleep?: (ms: Millis) => Promise<void>;
  /** told each time (part of) a burst goes to the fallback, with why. */
  onFallback?: (reason: string) => void;
}

/** The frames of one step, in arping's order: -U then -A for 'both'. */
const STEP_FORMS: Record<GarpForm, readonly GarpFrameForm[]> = {
  request: ['request'],
  reply: ['reply'],
  both: ['request', 'reply'],
};

/** The interface went away or was re-created (new ifindex): a fresh socket may work. */
const REOPEN_ON = new Set(['ENODEV', 'ENXIO', 'ENETDOWN']);
/** Failures of socket() that no retry fixes while the process lives (capabilities, seccomp, systemd's RestrictAddressFamilies). */
const PERMANENT_OPEN_FAILURE = new Set(['EPERM', 'EACCES', 'EAFNOSUPPORT']);

export const NO_NATIVE_ADDON = 'native addon not loaded: gratuitous ARP through arping';

export class PacketAnnouncer implements Announcer {
  private readonly native: PacketNative | null;
  private readonly fallback: Announcer;
  private readonly sleep: (ms: Millis) => Promise<void>;
  private readonly onFallback: (reason: string) => void;
  private readonly sockets = new Map<string, OpenSocket>();
  /** set once packet sockets cannot work in this process; every burst then uses the fallback. */
  private disabled: string | null;
  private closed = false;

  constructor(deps: PacketAnnouncerDeps) {
    this.native = deps.native;
    this.fallback = deps.fallback;
    this.sleep = deps.sleep ?? ((ms) => delay(ms));
    this.onFallback = deps.onFallback ?? (() => undefined);
    this.disabled = deps.native === null ? NO_NATIVE_ADDON : null;
    if (deps.native !== null) warmUp();
  }

  /**
   * Opens iface's socket and builds the frames of `addresses` (IPv4 VIPs on iface) now, at
   * start-up, so the first takeover pays for neither. Never throws: null when ready, else
   * why not (bursts on iface will then try again, or use the fallback).
   */
  prepare(iface: string, addresses: readonly string[] = []): string | null {
    if (this.closed) return 'PacketAnnouncer is closed';
    if (this.disabled !== null || this.native === null) return this.disabled ?? NO_NATIVE_ADDON;
    const sock = this.openOrWhy(this.native, iface);
    if (typeof sock === 'string') return sock;
    try {
      for (const address of addresses) for (const form of STEP_FORMS.both) frameOf(sock, form, address);
    } catch (e) {
      return `prepare ${iface}: ${(e as Error).message}`;
    }
    return null;
  }

  /**
   * The burst. Deliberately no await before the first step's frames: an async function
   * runs synchronously up to its first await, so they are on the wire when this returns.
   */
  async announce(vip: Vip, iface: string, garp: GarpConfig, signal?: AbortSignal): Promise<AnnounceOutcome> {
    const outcome: AnnounceOutcome = { sent: 0, errors: [] };
    if (vip.family !== 4) {
      outcome.errors.push(`PacketAnnouncer: ${vip.address} is IPv6 (NdiscAnnouncer announces it)`);
      return outcome;
    }
    const forms = STEP_FORMS[garp.form];
    for (let step = 0; step < garp.count; step++) {
      if (step > 0) await this.sleep(garp.spacing);
      for (let i = 0; i < forms.length; i++) {
        if (this.stopped(signal)) return outcome;
        const disabled = this.disabled;
        const failure = disabled ?? this.sendFrame(vip.address, iface, forms[i]!);
        if (failure === null) {
          outcome.sent++;
          continue;
        }
        // A known, lasting condition is not an error of this burst; a new failure is (once).
        if (disabled === null) outcome.errors.push(`${failure} (the fallback sends the rest of the burst)`);
        await this.handOver(vip, iface, garp, signal, { step, frame: i, reason: failure }, outcome);
        return outcome;
      }
    }
    return outcome;
  }

  /** Shutdown: stops every burst (before its next frame), closes the sockets and the fallback. */
  close(): void {
    this.closed = true;
    for (const iface of [...this.sockets.keys()]) this.drop(iface);
    this.fallback.close();
  }

  private stopped(signal: AbortSignal | undefined): boolean {
    return this.closed || signal?.aborted === true;
  }

  /** One frame through the packet socket: null when the kernel took it, else why not. */
  private sendFrame(address: string, iface: string, form: GarpFrameForm): string | null {
    const first = this.trySend(address, iface, form);
    if (first.ok) return null;
    if (!first.reopen) return first.reason;
    // The interface was re-created (or went away): one fresh socket, then give up.
    this.drop(iface);
    const again = this.trySend(address, iface, form);
    if (again.ok) return null;
    if (again.reopen) this.drop(iface);
    return `${first.reason}; after reopening: ${again.reason}`;
  }

  private trySend(address: string, iface: string, form: GarpFrameForm): { ok: true } | { ok: false; reason: string; reopen: boolean } {
    const native = this.native;
    if (native === null) return { ok: false, reason: NO_NATIVE_ADDON, reopen: false };
    const sock = this.openOrWhy(native, iface);
    if (typeof sock === 'string') return { ok: false, reason: sock, reopen: false };
    try {
      native.packetSend(sock.fd, sock.ifindex, frameOf(sock, form, address));
      return { ok: true };
    } catch (e) {
      const reason = `gratuitous ARP ${form} for ${address} on ${iface}: ${(e as Error).message}`;
      return { ok: false, reason, reopen: REOPEN_ON.has(errnoCode(e) ?? '') };
    }
  }

  /** The cached socket of iface, opened if needed; else why it cannot be. */
  private openOrWhy(native: PacketNative, iface: string): OpenSocket | string {
    const cached = this.sockets.get(iface);
    if (cached !== undefined) return cached;
    try {
      const sock = { ...native.packetOpen(iface), frames: new Map<string, Buffer>() };
      this.sockets.set(iface, sock);
      return sock;
    } catch (e) {
      const reason = `packet socket on ${iface}: ${(e as Error).message}`;
      if (PERMANENT_OPEN_FAILURE.has(errnoCode(e) ?? '')) this.disabled = reason;
      return reason;
    }
  }

  private drop(iface: string): void {
    const sock = this.sockets.get(iface);
    if (sock === undefined) return;
    this.sockets.delete(iface);
    try {
      this.native?.packetClose(sock.fd);
    } catch {
      // already gone with its interface: nothing left to release
    }
  }

  /**
   * The rest of the burst from the frame that failed: with 'both' failing on the reply,
   * that reply alone first, then the remaining whole steps (spacing kept between steps).
   */
  private async handOver(
    vip: Vip,
    iface: string,
    garp: GarpConfig,
    signal: AbortSignal | undefined,
    at: { step: number; frame: number; reason: string },
    outcome: AnnounceOutcome,
  ): Promise<void> {
    this.onFallback(at.reason);
    const add = (o: AnnounceOutcome): void => {
      outcome.sent += o.sent;
      outcome.errors.push(...o.errors);
    };
    let steps = garp.count - at.step;
    if (at.frame > 0) {
      // Only 'both' has a second frame per step, so what is left of this step is its reply.
      add(await this.fallback.announce(vip, iface, { ...garp, form: STEP_FORMS[garp.form][at.frame]!, count: 1 }, signal));
      steps--;
      if (steps === 0) return;
      await this.sleep(garp.spacing);
      if (this.stopped(signal)) return;
    }
    add(await this.fallback.announce(vip, iface, { ...garp, count: steps }, signal));
  }
}

/** A socket with the frames built for it (they carry its MAC, so they go when it goes). */
interface OpenSocket extends PacketSocket {
  frames: Map<string, Buffer>;
}

/** More VIPs than any group set has: past it the cache starts over rather than grow. */
const MAX_FRAMES = 64;

/** The frame of `form` for `address` from sock's MAC, built once. */
function frameOf(sock: OpenSocket, form: GarpFrameForm, address: string): Buffer {
  const key = `${form} ${address}`;
  let frame = sock.frames.get(key);
  if (frame === undefined) {
    if (sock.frames.size >= MAX_FRAMES) sock.frames.clear();
    frame = garpFrame(form, sock.mac, address);
    sock.frames.set(key, frame);
  }
  return frame;
}

/** Takes every frame, sends nothing: the warm-up's addon. */
const DRY_SINK: PacketNative = {
  packetOpen: () => ({ fd: -1, ifindex: 1, mac: Buffer.alloc(6) }),
  packetSend: (_fd, _ifindex, frame) => frame.length,
  packetClose: () => undefined,
};
const NO_FALLBACK: Announcer = { announce: async () => ({ sent: 0, errors: [] }), close: () => undefined };
let warmed = false;

/** Calls per function after which V8 has its feedback in place (measured: 4-8 is best). */
const WARM_BURSTS = 4;

/**
 * Once per process: request+reply bursts through DRY_SINK (each with a new address, so the
 * frame builder runs too), so the real first burst runs warm code. Synchronous (count 1
 * has no sleep); the nested constructor finds `warmed` set.
 */
function warmUp(): void {
  if (warmed) return;
  warmed = true;
  const dry = new PacketAnnouncer({ native: DRY_SINK, fallback: NO_FALLBACK });
  for (let i = 1; i <= WARM_BURSTS; i++) {
    void dry.announce({ address: `198.51.100.${i}`, prefix: 32, family: 4 }, 'dry0', { form: 'both', count: 1, spacing: 0, refresh: 0 });
  }
  dry.close();
}
