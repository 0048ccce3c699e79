/**
 * The real-server state file: what `up` changed, so that `down` undoes exactly that and
 * nothing else. Default /var/lib/haagent/realserver.json, JSON, mode 0600, replaced atomically
 * (write a fresh O_EXCL temp file next to it, fsync, rename), so a crash mid-write leaves the
 * old record or the new one, never half of each.
 *
 * Addresses on lo and sysctls do not survive a reboot but /var/lib does: the record carries the
 * kernel boot id, and a record from an earlier boot describes nothing on this host any more.
 */
import { DEFAULTS } from '../config/defaults.js';
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import type { Vip } from '../config/types.js';
import type { Change } from './plan.js';
import { sameVip } from '../config/vip.js';

/** Where `haagent realserver` keeps its record when no configuration names one. */
export const DEFAULT_STATE_FILE = `${DEFAULTS.stateDir}/${DEFAULTS.realserver.stateFileName}`;
export const BOOT_ID_FILE = '/proc/sys/kernel/random/boot_id';

const vipSchema = z.object({
  address: z.string().min(1),
  prefix: z.number().int().min(0).max(128),
  family: z.union([z.literal(4), z.literal(6)]),
});

const sysctlSchema = z.object({
  iface: z.string().min(1),
  key: z.enum(['arp_ignore', 'arp_announce']),
  found: z.number().int(),
  set: z.number().int(),
});

const stateSchema = z.object({
  version: z.literal(1),
  bootId: z.string().nullable(),
  added: z.array(vipSchema),
  present: z.array(vipSchema),
  sysctls: z.array(sysctlSchema),
});

export type RealServerState = z.infer<typeof stateSchema>;

export function emptyState(bootId: string | null): RealServerState {
  return { version: 1, bootId, added: [], present: [], sysctls: [] };
}

export function isEmptyState(s: RealServerState): boolean {
  return s.added.length === 0 && s.sysctls.length === 0;
}

/**
 * The record after `up` made `done` and found `present` already on lo. A sysctl changed by an
 * earlier `up` keeps the value that first `up` found: that is what the host had before the
 * role, and what `down` must give back. A VIP added by an earlier `up` stays ours even though
 * this run found it present.
 */
export function recordUp(prev: RealServerState, done: readonly Change[], present: readonly Vip[]): RealServerState {
  const next: RealServerState = {
    ...prev,
    added: [...prev.added],
    present: [...prev.present],
    sysctls: prev.sysctls.map((s) => ({ ...s })),
  };
  for (const c of done) {
    if (c.kind === 'set-sysctl') {
      const old = next.sysctls.find((s) => s.iface === c.iface && s.key === c.key);
      if (old) old.set = c.to;
      else next.sysctls.push({ iface: c.iface, key: c.key, found: c.from, set: c.to });
    } else if (c.kind === 'add-vip') {
      if (!next.added.some((v) => sameVip(v, c.vip))) next.added.push(c.vip);
      next.present = next.present.filter((v) => !sameVip(v, c.vip));
    }
  }
  for (const v of present) {
    if (!next.added.some((a) => sameVip(a, v)) && !next.present.some((p) => sameVip(p, v))) next.present.push(v);
  }
  return next;
}

/** The record after `down`: only what it failed to undo remains (empty = remove the file). */
export function recordDown(prev: RealServerState, failed: readonly Change[]): RealServerState {
  const added = prev.added.filter((v) => failed.some((c) => c.kind === 'remove-vip' && sameVip(c.vip, v)));
  const sysctls = prev.sysctls.filter((s) => failed.some((c) => c.kind === 'set-sysctl' && c.iface === s.iface && c.key === s.key));
  return { ...prev, added, sysctls };
}

export type StateRead = { kind: 'none' } | { kind: 'ok'; state: RealServerState } | { kind: 'invalid'; error: string };

export async function readStateFile(path: string): Promise<StateRead> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'none' };
    return { kind: 'invalid', error: `${path}: ${(err as Error).message}` };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return { kind: 'invalid', error: `${path}: not JSON: ${(err as Error).message}` };
  }
  const parsed = stateSchema.safeParse(doc);
  if (!parsed.success) return { kind: 'invalid', error: `${path}: ${z.prettifyError(parsed.error).replaceAll('\n', '; ')}` };
  return { kind: 'ok', state: parsed.data };
}

/** Atomic replace with mode 0600; the temp name is unpredictable and opened O_EXCL. */
export async function writeStateFile(path: string, state: RealServerState): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(JSON.stringify(state, null, 2) + '\n');
    await fh.sync();
  } catch (err) {
    await fh.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export async function removeStateFile(path: string): Promise<void> {
  await rm(path, { force: true });
}

/** The kernel's boot id, or null where /proc does not offer it. */
export async function readBootId(file = BOOT_ID_FILE): Promise<string | null> {
  try {
    return (await readFile(file, 'utf8')).trim() || null;
  } catch {
    return null;
  }
}
