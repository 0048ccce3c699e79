/**
 * Run prefixes, creator markers and the sweep of stale lab namespaces.
 *
 * Every lab names its namespaces `hat<creator pid, base36><4 random>-<host>`, and records
 * its creator in /run/haagent-lab/<prefix>.json (pid + the process start time, so a
 * recycled pid is not mistaken for a live creator). A namespace is stale when its creator
 * is gone. Only names matching that pattern are ever touched.
 *
 * CLI: `node dist/test/netns/sweep.js [--dry-run]` cleans up after crashed runs.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { must, run, sleep } from './exec.js';

export const MARKER_DIR = '/run/haagent-lab';
/** prefix, then the host part: sw, sw1 (an internal segment), c, d<i>, r<i>, n<i>. */
const NS_RE = /^(hat([0-9a-z]+)[0-9a-z]{4}-)(sw\d*|c|d\d+|r\d+|n\d+)$/;

export function makePrefix(pid = process.pid): string {
  const rand = randomBytes(4).toString('hex').slice(0, 4);
  return `hat${pid.toString(36)}${rand}-`;
}

/** Splits a namespace name into its run prefix and creator pid, or null when it is not ours. */
export function parseNsName(name: string): { prefix: string; pid: number; host: string } | null {
  const m = NS_RE.exec(name);
  if (!m) return null;
  return { prefix: m[1], pid: parseInt(m[2], 36), host: m[3] };
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks), or null when the pid is gone. */
function startTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may hold spaces and parens: count fields after its closing paren.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[22 - 3] ?? null;
  } catch {
    return null;
  }
}

export function writeMarker(prefix: string): void {
  mkdirSync(MARKER_DIR, { recursive: true, mode: 0o700 });
  const body = { pid: process.pid, start: startTime(process.pid), created: new Date().toISOString() };
  writeFileSync(`${MARKER_DIR}/${prefix}.json`, JSON.stringify(body) + '\n', { mode: 0o600, flag: 'wx' });
}

export function removeMarker(prefix: string): void {
  rmSync(`${MARKER_DIR}/${prefix}.json`, { force: true });
}

function creatorAlive(prefix: string, pid: number): boolean {
  const now = startTime(pid);
  if (now === null) return false;
  try {
    const marker = JSON.parse(readFileSync(`${MARKER_DIR}/${prefix}.json`, 'utf8')) as { start?: string | null };
    return marker.start == null || marker.start === now;
  } catch {
    // No marker but the pid lives: assume it is still creating its lab (conservative).
    return true;
  }
}

export async function listNamespaces(): Promise<string[]> {
  const r = await run(['ip', 'netns', 'list'], 5000);
  if (r.code !== 0) return [];
  return r.stdout.split('\n').map((l) => l.trim().split(/\s+/)[0]).filter((n) => n);
}

export interface SweepReport {
  deleted: string[];
  kept: string[];
  /** processes of crashed runs that were still inside a stale namespace, killed by pid. */
  killed: number[];
}

/** Deletes the namespaces (and the processes left in them) of lab runs whose creator died. */
export async function sweep(opts: { dryRun?: boolean } = {}): Promise<SweepReport> {
  const report: SweepReport = { deleted: [], kept: [], killed: [] };
  const stalePrefixes = new Set<string>();
  for (const ns of await listNamespaces()) {
    const p = parseNsName(ns);
    if (!p) continue;
    if (creatorAlive(p.prefix, p.pid)) {
      report.kept.push(ns);
      continue;
    }
    stalePrefixes.add(p.prefix);
    report.deleted.push(ns);
    if (opts.dryRun) continue;
    report.killed.push(...(await killInside(ns)));
    await run(['ip', 'netns', 'del', ns], 5000);
  }
  if (!opts.dryRun) for (const prefix of stalePrefixes) removeLeftovers(prefix);
  return report;
}

/** The marker and the lab's scratch directory (/tmp/hatlab-<prefix>XXXXXX) of a dead run. */
function removeLeftovers(prefix: string): void {
  removeMarker(prefix);
  for (const name of readdirSync(tmpdir())) {
    if (name.startsWith(`hatlab-${prefix}`)) rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}

/** SIGKILLs, by pid, whatever a crashed run left running in one of its namespaces. */
async function killInside(ns: string): Promise<number[]> {
  const r = await run(['ip', 'netns', 'pids', ns], 5000);
  const pids = r.stdout.split('\n').map((s) => parseInt(s, 10)).filter((n) => Number.isInteger(n) && n > 1);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  // Bounded wait so the namespace is really free when we delete it.
  for (let i = 0; i < 50 && pids.some((pid) => startTime(pid) !== null); i++) await sleep(20);
  return pids;
}

/** Deletes the given namespaces of this run (used by Lab.destroy); returns those still present. */
export async function deleteNamespaces(names: readonly string[]): Promise<string[]> {
  for (const ns of names) await run(['ip', 'netns', 'del', ns], 5000);
  const left = new Set(await listNamespaces());
  return names.filter((n) => left.has(n));
}

async function cli(argv: string[]): Promise<void> {
  await must(['ip', 'netns', 'list']);
  const r = await sweep({ dryRun: argv.includes('--dry-run') });
  const verb = argv.includes('--dry-run') ? 'would delete' : 'deleted';
  process.stdout.write(`${verb} ${r.deleted.length} stale namespace(s)${r.deleted.length ? ': ' + r.deleted.join(' ') : ''}\n`);
  if (r.killed.length) process.stdout.write(`killed leftover pids: ${r.killed.join(' ')}\n`);
  if (r.kept.length) process.stdout.write(`kept ${r.kept.length} namespace(s) of live runs\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  cli(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`sweep: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
