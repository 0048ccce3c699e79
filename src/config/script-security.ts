/**
 * Script security, after keepalived's `script_security`: a program the agent runs (a notify
 * hook, an exec check; usually as root) must not be one that someone else can change. Every
 * path component is walked the way the kernel resolves it, symbolic links followed one hop at
 * a time, and each one met must be:
 *
 * - owned by root or by the agent's own uid (directories, links and the program alike);
 * - a directory for every component but the last, the last a regular file;
 * - for directories and the program: not writable by others, and not writable by the group
 *   unless the group is root (gid 0). A directory with the sticky bit (/tmp) is exempt from
 *   the write rule: nobody else can rename or delete what root put there.
 *
 * The modes of symbolic links mean nothing on Linux; their owner and the directory holding
 * them are what count. A component that does not exist ends the walk without a problem: the
 * configuration may be checked before the program is installed, and running a missing program
 * fails on its own (ENOENT).
 */
import { lstatSync, readlinkSync } from 'node:fs';
import { posix } from 'node:path';
import type { PathKey } from './locate.js';
import type { CrossIssue } from './cross.js';

/** The lstat fields the walk reads. */
export interface NodeStat {
  uid: number;
  gid: number;
  mode: number;
  isDirectory(): boolean;
  isFile(): boolean;
  isSymbolicLink(): boolean;
}

/** The file system the walk asks; the real one unless a test passes another. */
export interface SecurityFs {
  lstat(path: string): NodeStat;
  readlink(path: string): string;
}

export const realSecurityFs: SecurityFs = { lstat: (p) => lstatSync(p), readlink: (p) => readlinkSync(p, 'utf8') };

/** Returns what is wrong with `program`, or null when it is safe to run (or absent). */
export type ProgramCheck = (program: string) => string | null;

/** Like the kernel's ELOOP bound. */
const MAX_LINKS = 40;

const S_ISVTX = 0o1000;
const S_IWGRP = 0o020;
const S_IWOTH = 0o002;

const octal = (mode: number) => (mode & 0o7777).toString(8).padStart(4, '0');

/** Who besides root and the agent can write through this mode, or null. */
function writers(st: NodeStat): string | null {
  if (st.isDirectory() && (st.mode & S_ISVTX) !== 0) return null;
  if ((st.mode & S_IWOTH) !== 0) return 'others';
  if ((st.mode & S_IWGRP) !== 0 && st.gid !== 0) return `group ${st.gid}`;
  return null;
}

function inspect(path: string, st: NodeStat, last: boolean, uid: number): string | null {
  const kind = st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'directory' : 'file';
  if (st.uid !== 0 && st.uid !== uid) return `${kind} ${path} is owned by uid ${st.uid}, neither root nor the agent's uid ${uid}`;
  if (st.isSymbolicLink()) return null;
  if (!last && !st.isDirectory()) return `${path} is not a directory`;
  if (last && !st.isFile()) return `${path} is not a regular file`;
  const w = writers(st);
  if (w === null) return null;
  const sticky = st.isDirectory() ? ' and no sticky bit' : '';
  return `${kind} ${path} is writable by ${w} (mode ${octal(st.mode)}${sticky})`;
}

const errCode = (e: unknown) => (e as NodeJS.ErrnoException).code ?? String(e);

/** The walk; `uid` is the agent's (root or the owner of its files are trusted). */
export function programProblem(program: string, uid: number, fs: SecurityFs = realSecurityFs): string | null {
  if (!program.startsWith('/')) return `${program} is not an absolute path`;
  const todo = program.split('/').filter((s) => s !== '' && s !== '.');
  let cur = '/';
  let links = 0;
  for (let next: string | undefined = '/'; next !== undefined; next = todo.shift()) {
    if (next === '..') {
      cur = posix.dirname(cur);
      continue;
    }
    const path = posix.join(cur, next);
    const last = todo.length === 0;
    let st: NodeStat;
    try {
      st = fs.lstat(path);
    } catch (e) {
      if (errCode(e) === 'ENOENT') return null;
      return `${path} cannot be inspected (${errCode(e)})`;
    }
    const problem = inspect(path, st, last, uid);
    if (problem !== null) return problem;
    if (!st.isSymbolicLink()) {
      cur = path;
      continue;
    }
    if (++links > MAX_LINKS) return `${program}: more than ${MAX_LINKS} symbolic links`;
    let target: string;
    try {
      target = fs.readlink(path);
    } catch (e) {
      return `${path} cannot be read (${errCode(e)})`;
    }
    // The link's directory was checked on the way in; the target is walked from there (or
    // from / for an absolute target, / itself being checked first).
    todo.unshift(...target.split('/').filter((s) => s !== '' && s !== '.'));
    if (target.startsWith('/')) {
      cur = '/';
      todo.unshift('/');
    }
  }
  return null;
}

/** The check for the current process: owned by root or by this process's uid. */
export const checkProgram: ProgramCheck = (program) => programProblem(program, process.getuid?.() ?? 0);

type Obj = Record<string, unknown>;
const asObj = (v: unknown): Obj | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined);

/** Where the programs are written: notify[i][0], groups[i].notify[j][0], groups[i].checks[j].command[0]. */
export function programFields(raw: unknown): { path: PathKey[]; program: string }[] {
  const out: { path: PathKey[]; program: string }[] = [];
  const add = (argv: unknown, path: PathKey[]) => {
    if (Array.isArray(argv) && typeof argv[0] === 'string' && argv[0].startsWith('/')) out.push({ path: [...path, 0], program: argv[0] });
  };
  const hooks = (list: unknown, path: PathKey[]) => {
    if (Array.isArray(list)) list.forEach((h, i) => add(h, [...path, i]));
  };
  const root = asObj(raw);
  hooks(root?.notify, ['notify']);
  const groups = Array.isArray(root?.groups) ? root.groups : [];
  groups.forEach((g, i) => {
    hooks(asObj(g)?.notify, ['groups', i, 'notify']);
    const checks = asObj(g)?.checks;
    if (!Array.isArray(checks)) return;
    checks.forEach((c, j) => {
      if (asObj(c)?.type === 'exec') add(asObj(c)?.command, ['groups', i, 'checks', j, 'command']);
    });
  });
  return out;
}

/** One issue per hook or exec-check program that `check` refuses. */
export function programIssues(raw: unknown, check: ProgramCheck): CrossIssue[] {
  const out: CrossIssue[] = [];
  for (const f of programFields(raw)) {
    const problem = check(f.program);
    if (problem !== null) out.push({ path: f.path, expected: `a program only root or the agent's user can change (script security): ${problem}` });
  }
  return out;
}
