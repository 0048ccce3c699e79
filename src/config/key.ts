/**
 * The shared heartbeat key: reading it safely and writing a new one.
 *
 * File format: one line of hexadecimal digits (case-insensitive), surrounding whitespace and
 * the trailing newline ignored. Text, so it survives copy-paste and `scp` between directors
 * unchanged and `haagent keygen` output can be compared by eye (by length, not by printing it);
 * hex rather than base64 because it has a single spelling. keygen writes 32 random bytes
 * (64 digits): the full HMAC-SHA256 block of entropy. At least 16 bytes are required.
 *
 * The key never appears in an error, a log line or the effective configuration.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync, fchmodSync, fstatSync, fsyncSync, mkdirSync, openSync, readSync, renameSync, unlinkSync, writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';

export type KeyResult = { ok: true; key: Buffer } | { ok: false; error: string };
export type WriteResult = { ok: true } | { ok: false; error: string };

/** Bytes keygen draws. */
export const KEY_BYTES = 32;
/** Below 128 bits an HMAC key is guessable offline from captured heartbeats. */
export const MIN_KEY_BYTES = 16;
/** A key file is under a few hundred bytes; reading no more bounds a wrong path (a log file). */
const MAX_FILE_BYTES = 4096;

const errCode = (err: unknown): string =>
  typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : String(err);

/** Decodes the file text; errors say what is wrong with it, never what it contains. */
export function decodeKey(text: string): KeyResult {
  const hex = text.trim();
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(hex)) {
    return { ok: false, error: 'is not one line of hex digits (the format haagent keygen writes)' };
  }
  const key = Buffer.from(hex, 'hex');
  if (key.length < MIN_KEY_BYTES) {
    return { ok: false, error: `holds ${key.length} bytes, at least ${MIN_KEY_BYTES} are needed (haagent keygen writes ${KEY_BYTES})` };
  }
  return { ok: true, key };
}

export function encodeKey(key: Buffer): string {
  return `${key.toString('hex')}\n`;
}

export function generateKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

/** Reads the key, refusing a file that group or others can read or write. */
export function loadKey(path: string): KeyResult {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    const code = errCode(err);
    const hint = code === 'ENOENT' ? `missing; create it with: haagent keygen --out ${path}` : `cannot be opened (${code})`;
    return { ok: false, error: `key file ${path}: ${hint}` };
  }
  try {
    // fstat on the open descriptor: the file checked is the file read, even if renamed meanwhile.
    const st = fstatSync(fd);
    if (!st.isFile()) return { ok: false, error: `key file ${path}: not a regular file` };
    if ((st.mode & 0o077) !== 0) {
      const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
      return { ok: false, error: `key file ${path}: mode ${mode} lets group or others access it; run: chmod 600 ${path}` };
    }
    if (st.size > MAX_FILE_BYTES) return { ok: false, error: `key file ${path}: ${st.size} bytes, too big for a key` };
    const buf = Buffer.alloc(st.size);
    const n = readSync(fd, buf, 0, st.size, 0);
    const r = decodeKey(buf.subarray(0, n).toString('utf8'));
    return r.ok ? r : { ok: false, error: `key file ${path}: ${r.error}` };
  } catch (err) {
    return { ok: false, error: `key file ${path}: cannot be read (${errCode(err)})` };
  } finally {
    closeSync(fd);
  }
}

/** O_CREAT|O_EXCL with mode 0600: never follows a planted symlink, never reuses a file. */
function writeExclusive(path: string, text: string): void {
  const fd = openSync(path, 'wx', 0o600);
  try {
    fchmodSync(fd, 0o600); // a loose umask cannot widen it, a strict one must not lock the owner out
    writeSync(fd, text);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    unlinkSync(path);
    throw err;
  }
  closeSync(fd);
}

/**
 * Writes `key` to `path`. Without `force` an existing file is never touched; with it the new
 * key goes to an unpredictable temporary name in the same directory and is renamed over the
 * old one, so a reader sees either the old key or the new, never half a file.
 */
export function writeKeyFile(path: string, key: Buffer, force: boolean): WriteResult {
  const text = encodeKey(key);
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
    if (!force) {
      writeExclusive(path, text);
      return { ok: true };
    }
    const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(8).toString('hex')}.tmp`);
    writeExclusive(tmp, text);
    try {
      renameSync(tmp, path);
    } catch (err) {
      unlinkSync(tmp);
      throw err;
    }
    return { ok: true };
  } catch (err) {
    const code = errCode(err);
    if (code === 'EEXIST') return { ok: false, error: `${path} already exists; pass --force to replace it (every peer then needs the new key)` };
    return { ok: false, error: `cannot write ${path} (${code})` };
  }
}
