/**
 * The bench's CLI (dist/test/bench/bench.js) run as a child, for the smoke tests.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './lab.js';

export const BENCH = join(REPO_ROOT, 'dist', 'test', 'bench', 'bench.js');

/** Runs bench.js to completion (bounded: SIGKILL by PID after timeoutMs). */
export function runBench(args: string[], timeoutMs: number): Promise<{ code: number | null; out: string; pid: number }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BENCH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, pid: child.pid ?? -1 });
    });
  });
}
