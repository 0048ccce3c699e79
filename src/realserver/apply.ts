/**
 * The effects of the real-server role: read the host, let plan.ts decide, apply the changes
 * through ports, keep the state file. No decisions about what is safe live here.
 *
 * Failure rules (both keep the "VIP on lo while ARP is still answered" window closed):
 * - `up` adds no VIP unless every sysctl change succeeded;
 * - `down` restores no sysctl unless every VIP it owns was removed.
 * The record is written before the changes (so a crash mid-way still lets `down` undo them)
 * and rewritten afterwards with only what really happened.
 */
import type { Vip } from '../config/types.js';
import type { IfaceAddress } from '../adapters/ip-json.js';
import type { EnsureOutcome } from '../ports/index.js';
import { describeChange, planDown, planUp, assess, wantedSysctls, type Change, type HostView, type SysctlRef, type Wanted } from './plan.js';
import {
  emptyState, isEmptyState, readStateFile, recordDown, recordUp, removeStateFile, writeStateFile, type RealServerState,
} from './state.js';
import { vipCidr } from '../config/vip.js';

/** Ipv4ConfSysctl fits. */
export interface SysctlAccess {
  read(iface: string, key: string): Promise<number>;
  write(iface: string, key: string, value: number): Promise<void>;
}

/** IpVipHost fits (listAddresses + the two ensure verbs of VipHost). */
export interface LoAddressHost {
  listAddresses(iface: string): Promise<IfaceAddress[]>;
  ensurePresent(vip: Vip, iface: string): Promise<EnsureOutcome>;
  ensureAbsent(vip: Vip, iface: string): Promise<EnsureOutcome>;
}

export interface RealServerDeps {
  host: LoAddressHost;
  sysctl: SysctlAccess;
  stateFile: string;
  bootId(): Promise<string | null>;
}

export interface RunReport {
  /** one line per change made, in order. */
  done: string[];
  notes: string[];
  warnings: string[];
  /** non-empty = exit 1. */
  errors: string[];
}

function report(): RunReport {
  return { done: [], notes: [], warnings: [], errors: [] };
}

function text(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function toVips(addrs: readonly IfaceAddress[]): Vip[] {
  return addrs.map((a) => ({ address: a.local, prefix: a.prefixlen, family: a.family }));
}

/** Reads lo, the interface and the sysctls; a sysctl whose file is gone is left out when `missingOk`. */
async function readView(
  deps: Pick<RealServerDeps, 'host' | 'sysctl'>, iface: string | null, refs: readonly SysctlRef[], missingOk = false,
): Promise<HostView> {
  const lo = toVips(await deps.host.listAddresses('lo'));
  const onIface = iface === null ? [] : toVips(await deps.host.listAddresses(iface));
  const sysctls = [];
  for (const ref of refs) {
    try {
      sysctls.push({ ...ref, value: await deps.sysctl.read(ref.iface, ref.key) });
    } catch (err) {
      if (!(missingOk && (err as { code?: unknown }).code === 'ENOENT')) throw err;
    }
  }
  return { lo, iface: onIface, sysctls };
}

/** Applies one change; an error string when it failed. */
async function applyChange(deps: RealServerDeps, c: Change): Promise<string | null> {
  try {
    if (c.kind === 'set-sysctl') {
      await deps.sysctl.write(c.iface, c.key, c.to);
      return null;
    }
    const r = c.kind === 'add-vip' ? await deps.host.ensurePresent(c.vip, 'lo') : await deps.host.ensureAbsent(c.vip, 'lo');
    return r.ok ? null : r.error;
  } catch (err) {
    return text(err);
  }
}

/** The previous record of this boot, a fresh one, or an error for a file `down` could not use. */
async function previousState(deps: RealServerDeps, bootId: string | null, out: RunReport): Promise<RealServerState | null> {
  const r = await readStateFile(deps.stateFile);
  if (r.kind === 'invalid') {
    out.errors.push(`${r.error} (fix or remove it; it records what \`down\` must undo)`);
    return null;
  }
  if (r.kind === 'none') return emptyState(bootId);
  if (r.state.bootId !== bootId) {
    out.notes.push(`${deps.stateFile} is from an earlier boot: its changes did not survive the reboot, ignored`);
    return emptyState(bootId);
  }
  return r.state;
}

export async function realServerUp(deps: RealServerDeps, w: Wanted): Promise<RunReport> {
  const out = report();
  const bootId = await deps.bootId();
  const prev = await previousState(deps, bootId, out);
  if (prev === null) return out;
  let plan;
  try {
    plan = planUp(w, await readView(deps, w.iface, wantedSysctls(w)));
  } catch (err) {
    out.errors.push(text(err));
    return out;
  }
  out.notes.push(...plan.notes);
  out.warnings.push(...plan.warnings);
  if (plan.changes.length === 0) {
    await saveOrReport(deps, recordUp(prev, [], plan.present), out);
    return out;
  }
  // Write-ahead: if we die between a change and the final write, `down` still knows it.
  if (!(await saveOrReport(deps, recordUp(prev, plan.changes, plan.present), out))) return out;
  const done = await applyUpChanges(deps, plan.changes, out);
  if (done.length !== plan.changes.length) await saveOrReport(deps, recordUp(prev, done, plan.present), out);
  return out;
}

/** Applies the changes in plan order; returns the ones that were made. */
async function applyUpChanges(deps: RealServerDeps, changes: readonly Change[], out: RunReport): Promise<Change[]> {
  const done: Change[] = [];
  let sysctlFailed = false;
  for (const c of changes) {
    if (c.kind === 'add-vip' && sysctlFailed) {
      out.errors.push(`did not add ${vipCidr(c.vip)} to lo: with a sysctl unchanged this host would answer ARP for it`);
      continue;
    }
    const err = await applyChange(deps, c);
    if (err === null) {
      done.push(c);
      out.done.push(describeChange(c));
    } else {
      out.errors.push(err);
      if (c.kind === 'set-sysctl') sysctlFailed = true;
    }
  }
  return done;
}

async function saveOrReport(deps: RealServerDeps, state: RealServerState, out: RunReport): Promise<boolean> {
  try {
    if (isEmptyState(state) && state.present.length === 0) await removeStateFile(deps.stateFile);
    else await writeStateFile(deps.stateFile, state);
    return true;
  } catch (err) {
    out.errors.push(`cannot write ${deps.stateFile}: ${text(err)}`);
    return false;
  }
}

export async function realServerDown(deps: RealServerDeps): Promise<RunReport> {
  const out = report();
  const r = await readStateFile(deps.stateFile);
  if (r.kind === 'invalid') {
    out.errors.push(r.error);
    return out;
  }
  if (r.kind === 'none') {
    out.notes.push(`no state file ${deps.stateFile} (up never ran, or down already undid it)`);
    return out;
  }
  const bootId = await deps.bootId();
  if (r.state.bootId !== bootId) {
    out.notes.push(`${deps.stateFile} is from an earlier boot: nothing it records survived the reboot`);
    await saveOrReport(deps, emptyState(bootId), out);
    return out;
  }
  await undo(deps, r.state, out);
  return out;
}

async function undo(deps: RealServerDeps, state: RealServerState, out: RunReport): Promise<void> {
  let plan;
  try {
    plan = planDown(state, await readView(deps, null, state.sysctls, true));
  } catch (err) {
    out.errors.push(text(err));
    return;
  }
  out.notes.push(...plan.notes);
  for (const v of state.present) out.notes.push(`left ${vipCidr(v)} on lo: it was there before up`);
  const failed: Change[] = [];
  for (const c of plan.changes) {
    if (c.kind === 'set-sysctl' && failed.some((f) => f.kind === 'remove-vip')) {
      // Restoring ARP answers while our VIP is still on lo would make this host steal it.
      failed.push(c);
      continue;
    }
    const err = await applyChange(deps, c);
    if (err === null) out.done.push(describeChange(c, 'restored'));
    else {
      failed.push(c);
      out.errors.push(err);
    }
  }
  await saveOrReport(deps, recordDown(state, failed), out);
}

export interface CheckReport {
  problems: string[];
  notes: string[];
}

/** Local check on a real server: VIPs on lo, sysctls safe, VIP not on the Ethernet interface. */
export async function realServerCheck(deps: Pick<RealServerDeps, 'host' | 'sysctl'>, w: Wanted): Promise<CheckReport> {
  try {
    const view = await readView(deps, w.iface, wantedSysctls(w));
    return assess(w, view);
  } catch (err) {
    return { problems: [text(err)], notes: [] };
  }
}
