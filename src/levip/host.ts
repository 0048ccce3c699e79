/**
 * The host side of LevIP: the ARP sysctls of the front interface (docs/levip.md "Keeping the
 * levelers quiet"). Every member holds the shared IP on `lo`; on the interface it sets
 *
 *   arp_announce=2  never the shared IP as the source of its own ARP requests, which would
 *                   move neighbours' entries out of turn;
 *   arp_ignore=1    answer ARP only for addresses on the interface the request came in on, so
 *                   the IP on lo is not answered; except that the owner of the current slot
 *                   sets arp_ignore=0 (`answer(iface, true)`) for its slot, so a Linux router's
 *                   unicast probes of the entry are answered by the owner it points at instead
 *                   of failing into INCOMPLETE (docs/levip.md, router section).
 *
 * Only the interface is written, never conf/all: the kernel uses max(all, iface), so a
 * conf/all of 0 (the default) lets the owner's 0 take effect, and a conf/all above 0 keeps
 * suppression on but makes the owner mute (a warning says so). The values found are recorded
 * in a state file BEFORE anything changes (realserver/state.ts format, atomic, mode 0600), so
 * `restore()` gives them back after a stop, and `haagent release` after a crash, even when the
 * agent died mid-slot with arp_ignore=0. A record from an earlier kernel boot is ignored: the
 * sysctls were reset by the reboot.
 *
 * Every operation runs strictly after the previous one: the state file is never written by
 * two of them at once, and an answer-on/answer-off pair is applied in order.
 */
import { join } from 'node:path';
import { ipv4ConfName } from '../config/sysctl-name.js';
import type { ArpKey } from '../realserver/plan.js';
import type { SysctlAccess } from '../realserver/apply.js';
import { emptyState, readBootId, readStateFile, removeStateFile, writeStateFile, type RealServerState } from '../realserver/state.js';

export type { SysctlAccess };

/** File name of the record inside the agent's stateDir. */
export const LEVIP_STATE_FILE = 'levip.json';

/** The values every member keeps while in the mode. */
export const SUPPRESS: Readonly<Record<ArpKey, number>> = { arp_ignore: 1, arp_announce: 2 };
/** arp_ignore of the slot owner: answer for any local address, the shared IP on lo included. */
export const ANSWER_ARP_IGNORE = 0;
const KEYS: readonly ArpKey[] = ['arp_announce', 'arp_ignore'];

export interface LevipHostDeps {
  sysctl: SysctlAccess;
  /** path of the record, normally join(stateDir, LEVIP_STATE_FILE). */
  stateFile: string;
  /** the kernel boot id (readBootId), null where unknown. */
  bootId(): Promise<string | null>;
}

export interface HostReport {
  /** one line per sysctl written. */
  done: string[];
  /** what the operator should know (owner cannot answer, a value changed behind our back). */
  warnings: string[];
  /** what could not be done; restore() keeps those in the record for the next attempt. */
  errors: string[];
}

const report = (): HostReport => ({ done: [], warnings: [], errors: [] });
const text = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export class LevipHost {
  private record: RealServerState | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  /** per prepared interface: whether arp_ignore is at the owner's 0 right now. */
  private readonly answering = new Map<string, boolean>();

  constructor(private readonly deps: LevipHostDeps) {}

  /** Records the values found on iface, then sets the suppressing ones. Idempotent. */
  prepare(iface: string): Promise<HostReport> {
    return this.serial(async () => {
      const out = report();
      const rec = await this.load();
      for (const key of KEYS) {
        const now = await this.deps.sysctl.read(iface, key);
        if (!rec.sysctls.some((s) => s.iface === iface && s.key === key)) {
          // Record first: a crash right after the write still leaves what to restore.
          rec.sysctls.push({ iface, key, found: now, set: SUPPRESS[key] });
          await writeStateFile(this.deps.stateFile, rec);
        }
        if (now !== SUPPRESS[key]) {
          await this.deps.sysctl.write(iface, key, SUPPRESS[key]);
          out.done.push(`set ${ipv4ConfName(iface, key)} ${now} -> ${SUPPRESS[key]}`);
        }
      }
      this.answering.set(iface, false);
      const all = await this.deps.sysctl.read('all', 'arp_ignore');
      if (all > ANSWER_ARP_IGNORE) {
        out.warnings.push(
          `${ipv4ConfName('all', 'arp_ignore')} is ${all}: the kernel uses the larger of all and ${iface}, so the slot owner cannot answer ARP probes for the shared IP (a Linux router's entry will stall when one owner keeps a long run); set it to 0 to let the owner answer`,
        );
      }
      return out;
    });
  }

  /**
   * The owner's switch: arp_ignore 0 (on) or 1 (off) on a prepared interface. Writes only on a
   * change; refuses an interface prepare() did not record, whose value could not be restored.
   */
  answer(iface: string, on: boolean): Promise<void> {
    return this.serial(async () => {
      const cur = this.answering.get(iface);
      if (cur === undefined) throw new Error(`levip: ${iface} was not prepared; refusing to change its arp_ignore`);
      if (cur === on) return;
      await this.deps.sysctl.write(iface, 'arp_ignore', on ? ANSWER_ARP_IGNORE : SUPPRESS.arp_ignore);
      this.answering.set(iface, on);
    });
  }

  /**
   * Gives back every recorded value that still is one of ours (the suppressing value, or the
   * owner's 0 for arp_ignore); a value someone else changed since is left alone with a warning.
   * Call it after the shared IP left lo. The record keeps only what failed.
   */
  restore(): Promise<HostReport> {
    return this.serial(async () => {
      const out = report();
      const rec = await this.load();
      const failed: RealServerState['sysctls'] = [];
      for (const s of rec.sysctls) {
        const name = ipv4ConfName(s.iface, s.key);
        try {
          const now = await this.deps.sysctl.read(s.iface, s.key);
          const ours = now === s.set || (s.key === 'arp_ignore' && now === ANSWER_ARP_IGNORE);
          if (now === s.found) continue;
          if (!ours) {
            out.warnings.push(`${name} was changed to ${now} while in levip mode: left alone (found ${s.found})`);
            continue;
          }
          await this.deps.sysctl.write(s.iface, s.key, s.found);
          out.done.push(`restored ${name} ${now} -> ${s.found}`);
        } catch (e) {
          // ENOENT: the interface is gone, and with it the value; nothing left to restore.
          if ((e as { code?: unknown }).code === 'ENOENT') out.warnings.push(`${name}: ${text(e)}`);
          else {
            failed.push(s);
            out.errors.push(`${name}: ${text(e)}`);
          }
        }
      }
      rec.sysctls = failed;
      if (failed.length === 0) await removeStateFile(this.deps.stateFile);
      else await writeStateFile(this.deps.stateFile, rec);
      this.answering.clear();
      return out;
    });
  }

  private async load(): Promise<RealServerState> {
    if (this.record) return this.record;
    const bootId = await this.deps.bootId();
    const r = await readStateFile(this.deps.stateFile);
    if (r.kind === 'invalid') throw new Error(`levip: cannot use the record of changed sysctls: ${r.error}`);
    // Sysctls do not survive a reboot: a record from another boot describes nothing here.
    const current = r.kind === 'ok' && (r.state.bootId === null || bootId === null || r.state.bootId === bootId);
    this.record = current ? r.state : emptyState(bootId);
    return this.record;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

/** The real host for an agent or `haagent release` with this stateDir. */
export function levipHostFor(stateDir: string, sysctl: SysctlAccess): LevipHost {
  return new LevipHost({ sysctl, stateFile: join(stateDir, LEVIP_STATE_FILE), bootId: () => readBootId() });
}
