/**
 * A simulated host's addresses and the fake ports an agent process on it uses: the VipHost
 * (`ip addr`: the change lands and is answered `vipMs` after the call), the Announcer of the
 * driver's takeover bursts (frames at the configured spacing, the abort checked before each
 * one, as src/adapters/packet-announcer.ts does; each frame reaches the router `garpMs` after
 * it left; a LevIP group's unsolicited replies go out the same way, told apart by their VIP) and
 * LevIP's ARP answering switch.
 * They report what happened to the simulator through HostEvents; none decides anything.
 */
import type { GarpConfig, Vip } from '../../src/config/types.js';
import type { AnnounceOutcome, Announcer, ArpAnswering, EnsureOutcome, VipHost } from '../../src/ports/index.js';
import type { EventQueue, ProcTimers } from './sim-clock.js';

/** What the simulator hears from a host. */
export interface HostEvents {
  /** the host's address set changed. */
  vip(address: string, present: boolean): void;
  /** an ARP frame for `address` from this host reached the router. */
  frame(address: string, from: 'burst' | 'levip'): void;
  /** the core's LevIP mode switched ARP answering on an interface. */
  answering(iface: string, on: boolean): void;
}

export interface HostTiming {
  vipMs: number;
  garpMs: number;
}

/** The addresses configured on one host; they outlive the agent (a killed agent leaves them). */
export class HostAddrs {
  private readonly held = new Map<string, string>();

  has(address: string): boolean {
    return [...this.held.values()].includes(address);
  }

  /** Adds or removes; true when that changed something. */
  set(vip: Vip, iface: string, present: boolean): boolean {
    const key = `${iface} ${vip.address}/${vip.prefix}`;
    if (this.held.has(key) === present) return false;
    if (present) this.held.set(key, vip.address);
    else this.held.delete(key);
    return true;
  }

  /** `haagent release`: every address goes; returns those that went. */
  clear(): string[] {
    const gone = [...this.held.values()];
    this.held.clear();
    return gone;
  }
}

export interface FakePorts {
  vipHost: VipHost;
  announcer: Announcer;
  arpAnswering: ArpAnswering;
}

/** The ports of one agent process on a host; answers die with the process (ProcTimers). */
export function fakePorts(q: EventQueue, proc: ProcTimers, t: HostTiming, addrs: HostAddrs, ev: HostEvents, levipVip: (address: string) => boolean): FakePorts {
  const ensure = (vip: Vip, iface: string, present: boolean): Promise<EnsureOutcome> =>
    proc.answer(t.vipMs, () => {
      const changed = addrs.set(vip, iface, present);
      if (changed) ev.vip(vip.address, present);
      return { ok: true, changed };
    });
  const burst = (vip: Vip, _iface: string, garp: GarpConfig, signal?: AbortSignal): Promise<AnnounceOutcome> => {
    const out: AnnounceOutcome = { sent: 0, errors: [] };
    const from = levipVip(vip.address) ? 'levip' : 'burst';
    const done = proc.deferred<AnnounceOutcome>();
    const step = (i: number): void => {
      // Checked before every step: a burst aborted (the VIP is being released) ends there.
      if (signal?.aborted) return done.resolve(out);
      out.sent += garp.form === 'both' ? 2 : 1;
      q.at(t.garpMs, () => ev.frame(vip.address, from));
      if (i + 1 < garp.count) proc.setTimeout(() => step(i + 1), garp.spacing);
      else done.resolve(out);
    };
    step(0); // the first step leaves inside the call
    return done.promise;
  };
  return {
    vipHost: {
      ensurePresent: (vip, iface) => ensure(vip, iface, true),
      ensureAbsent: (vip, iface) => ensure(vip, iface, false),
    },
    announcer: { announce: burst, close: () => undefined },
    // The sysctl write, applied right after the step that asked for it; its result is fed back.
    arpAnswering: { answer: (iface, on) => proc.answer(0, () => ev.answering(iface, on)) },
  };
}
