/**
 * Small helpers shared by the files the agent keeps in its state directory (the boot counter,
 * the replay marks): error text without a stack, a close that cannot mask the first error, and
 * an unpredictable temporary name beside a file (created with O_EXCL, it never follows a
 * planted symlink and never reuses a file).
 */
import { closeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

export function tempPathBeside(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(8).toString('hex')}.tmp`);
}

export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already failing; the original error is the one worth reporting.
  }
}

export function errCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : undefined;
}

export function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
