/**
 * Processes started inside a namespace with `ip netns exec NS argv...`. ip execs the
 * command after entering the namespace, so the child keeps the PID we spawned and can be
 * signalled, stopped and killed by that PID.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { within } from './exec.js';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface LabProcess {
  readonly pid: number;
  readonly ns: string;
  readonly argv: readonly string[];
  /** Sends sig by PID; false when the process already exited. */
  kill(sig?: NodeJS.Signals): boolean;
  alive(): boolean;
  readonly exited: Promise<Exit>;
}

export interface SpawnOptions {
  /** append stdout and stderr to this file. */
  logFile?: string;
  /** receive each output line (pipes instead of a file). */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** added to (or, with undefined, removed from) the inherited environment. */
  env?: Record<string, string | undefined>;
}

export function spawnInNs(ns: string, argv: readonly string[], opts: SpawnOptions = {}): LabProcess {
  const fd = opts.logFile ? openSync(opts.logFile, 'a', 0o600) : null;
  const out = fd ?? (opts.onLine ? 'pipe' : 'ignore');
  const env = opts.env ? { ...process.env, ...opts.env } : process.env;
  const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', out, out], env });
  if (fd !== null) closeSync(fd);
  if (opts.onLine && fd === null) {
    const onLine = opts.onLine;
    if (child.stdout) createInterface({ input: child.stdout }).on('line', (l) => onLine(l, 'stdout'));
    if (child.stderr) createInterface({ input: child.stderr }).on('line', (l) => onLine(l, 'stderr'));
  }
  let done: Exit | null = null;
  const exited = new Promise<Exit>((resolve) => {
    child.on('exit', (code, signal) => resolve((done = { code, signal })));
    child.on('error', () => resolve((done = { code: -1, signal: null })));
  });
  const pid = child.pid ?? -1;
  return {
    pid,
    ns,
    argv,
    exited,
    alive: () => done === null && pid > 0,
    kill(sig: NodeJS.Signals = 'SIGTERM'): boolean {
      if (done !== null || pid <= 0) return false;
      try {
        process.kill(pid, sig);
        return true;
      } catch {
        return false;
      }
    },
  };
}

/**
 * Spawns argv in ns and resolves once it prints a line equal to `ready`. Throws (after
 * killing it by PID) when it exits first or stays silent for timeoutMs.
 */
export async function spawnReady(
  ns: string,
  argv: readonly string[],
  timeoutMs: number,
  track: (p: LabProcess) => void,
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void,
): Promise<LabProcess> {
  const seen: string[] = [];
  let signalReady: () => void = () => undefined;
  const ready = new Promise<'ready'>((resolve) => (signalReady = () => resolve('ready')));
  const p = spawnInNs(ns, argv, {
    onLine: (line, stream) => {
      if (line.trim() === 'ready') signalReady();
      else if (seen.length < 20) seen.push(line);
      onLine?.(line, stream);
    },
  });
  track(p);
  const outcome = await within(Promise.race([ready, p.exited.then(() => 'exited' as const)]), timeoutMs, 'timeout');
  if (outcome === 'ready') return p;
  p.kill('SIGKILL');
  await within(p.exited, 2000, { code: null, signal: null });
  throw new Error(`${argv.join(' ')} in ${ns}: ${outcome} before ready: ${seen.join(' | ')}`);
}

/**
 * A harness script that writes its result as JSON to `out` when it gets SIGTERM (probe,
 * relay): signal it, wait (bounded, SIGKILL by PID after 5 s), parse the file.
 */
export async function stopForJson<T>(p: LabProcess, out: string, what: string): Promise<T> {
  p.kill('SIGTERM');
  const exit = await within(p.exited, 5000, null);
  if (!exit) p.kill('SIGKILL');
  if (!existsSync(out)) throw new Error(`${what} wrote no result (exit ${JSON.stringify(exit)})`);
  return JSON.parse(readFileSync(out, 'utf8')) as T;
}
