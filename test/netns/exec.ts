/**
 * Lab plumbing shared by the harness files: run a command to completion (never throws),
 * epoch timestamps that compare across processes, and bounded waiting.
 */
import { spawn } from 'node:child_process';
import type { CommandResult } from '../../src/ports/index.js';

export type { CommandResult };

/** Epoch milliseconds with sub-ms resolution; comparable between processes on one host. */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Runs argv (no shell) and resolves with its outcome. A spawn error is code -1 with the text
 * in stderr; past timeoutMs the child gets SIGKILL by PID and timedOut is set.
 */
export function run(argv: readonly string[], timeoutMs = 5000): Promise<CommandResult> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let settled = false;
    const finish = (r: CommandResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', (err) => finish({ code: -1, signal: null, stdout, stderr: stderr + err.message, timedOut }));
    child.on('close', (code, signal) => finish({ code: code ?? -1, signal, stdout, stderr, timedOut }));
  });
}

/** Like run, but throws with the command and its stderr when it does not exit 0 (lab set-up steps). */
export async function must(argv: readonly string[], timeoutMs = 5000): Promise<string> {
  const r = await run(argv, timeoutMs);
  if (r.code !== 0) {
    const why = r.timedOut ? `timed out after ${timeoutMs} ms` : `exit ${r.code}`;
    throw new Error(`${argv.join(' ')}: ${why}: ${r.stderr.trim()}`);
  }
  return r.stdout;
}

/**
 * Polls predicate every stepMs until it returns a truthy value or timeoutMs passes.
 * Resolves with that value, or with undefined on timeout: callers decide what a timeout means.
 */
export async function waitFor<T>(
  predicate: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs: number,
  stepMs = 20,
): Promise<T | undefined> {
  const deadline = epochNow() + timeoutMs;
  const maxSteps = Math.ceil(timeoutMs / Math.max(1, stepMs)) + 1;
  for (let i = 0; i <= maxSteps; i++) {
    const v = await predicate();
    if (v) return v;
    if (epochNow() >= deadline) break;
    await sleep(stepMs);
  }
  return undefined;
}

/** Resolves with p's value, or with onTimeout after ms (p keeps running). */
export function within<T>(p: Promise<T>, ms: number, onTimeout: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(onTimeout), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/**
 * Calls send(now) once per due slot of intervalMs (checked every millisecond): a stalled event
 * loop skips slots rather than bursting, and the caller records the real send times, so an
 * analysis never assumes a perfect cadence. Returns the stop function.
 */
export function paced(intervalMs: number, send: (now: number) => void): () => void {
  let nextDue = epochNow();
  const timer = setInterval(() => {
    const now = epochNow();
    if (now < nextDue) return;
    send(now);
    nextDue = Math.max(nextDue + intervalMs, now + intervalMs / 2);
  }, 1);
  return () => clearInterval(timer);
}
