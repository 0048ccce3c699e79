/**
 * Boot generation of this node. Peers' replay guards refuse a bootId lower than one they have
 * seen ('old-boot'), so it must grow on every start even if the wall clock stepped back since
 * the last one (NTP correction, a dead RTC battery). The previous value is persisted and the
 * new one is max(previous + 1, wall clock in ms): the clock keeps it unique on a fresh disk,
 * the file keeps it monotonic across clock steps.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { closeQuietly, errCode, errText, tempPathBeside } from '../adapters/fs-util.js';
import { U64_MAX } from './layout.js';

/** Pure: the bootId that follows `prev` at wall time `wallMs`. */
export function nextBootId(prev: bigint | null, wallMs: number): bigint {
  const wall = Number.isFinite(wallMs) && wallMs > 0 ? BigInt(Math.floor(wallMs)) : 0n;
  if (prev === null) return wall;
  if (prev < 0n || prev >= U64_MAX) throw new RangeError(`previous bootId ${prev} out of range`);
  return prev + 1n > wall ? prev + 1n : wall;
}

export interface BootIdResult {
  bootId: bigint;
  /** Set when monotonicity across restarts could not be guaranteed; log it at warn level. */
  warning?: string;
}

/**
 * Reads the previous bootId from `stateFile`, computes the next and persists it atomically
 * (unpredictable temp name created with O_EXCL and mode 0600 in the same directory, fsync,
 * rename), so a crash mid-write leaves either the old or the new value, never a torn one.
 * Never throws: when the file cannot be read or written it still returns a usable bootId
 * (the wall clock, or previous + 1 if that is larger) together with a warning.
 */
export function loadAndBumpBootId(stateFile: string, wallMs: number): BootIdResult {
  const warnings: string[] = [];
  const prev = readPrevious(stateFile, warnings);
  const bootId = nextBootId(prev, wallMs);
  const writeError = persist(stateFile, bootId);
  if (writeError !== null) {
    warnings.push(
      `cannot persist bootId to ${stateFile} (${writeError}); using ${bootId} unpersisted: ` +
        'the next start may repeat it or, if the clock stepped back, be refused as an old boot',
    );
  }
  return warnings.length > 0 ? { bootId, warning: warnings.join('; ') } : { bootId };
}

/** Strict parse: decimal digits (trailing newline allowed), below 2^64-1 so +1 still fits. */
export function parseBootId(text: string): bigint | null {
  const m = /^(\d{1,20})\n?$/.exec(text);
  if (m === null) return null;
  const v = BigInt(m[1] as string);
  return v < U64_MAX ? v : null;
}

function readPrevious(stateFile: string, warnings: string[]): bigint | null {
  let text: string;
  try {
    text = readFileSync(stateFile, 'utf8');
  } catch (err) {
    // A missing file is the first start ever, not a problem.
    if (errCode(err) !== 'ENOENT') warnings.push(`cannot read ${stateFile}: ${errText(err)}`);
    return null;
  }
  const prev = parseBootId(text);
  if (prev === null) warnings.push(`ignoring corrupt bootId file ${stateFile}`);
  return prev;
}

/** Writes atomically; returns the error text, or null on success. */
function persist(stateFile: string, bootId: bigint): string | null {
  const dir = dirname(stateFile);
  // Random suffix + O_EXCL ('wx'): no predictable temp path, never follows a planted symlink.
  const tmp = tempPathBeside(stateFile);
  let fd: number | null = null;
  try {
    fd = openSync(tmp, 'wx', 0o600);
    writeSync(fd, `${bootId}\n`);
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    renameSync(tmp, stateFile);
  } catch (err) {
    if (fd !== null) closeQuietly(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // Usually ENOENT: the temp file was never created.
    }
    return errText(err);
  }
  syncDir(dir);
  return null;
}

/** Makes the rename itself durable; best effort, some filesystems refuse fsync on a directory. */
function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // The value is written; only its durability across a power cut is weaker.
  }
}
