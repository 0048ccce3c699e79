/**
 * The shared heartbeat key: reading it safely and writing a new one.
 *
 * File format: one line of hexadecimal digits (case-insensitive), surrounding whitespace and
 * the trailing newline ignored. Text, so it survives copy-paste and `scp` between directors
 * unchanged and `haagent keygen` output can be compared by eye (by length, not by printing it);
 * hex rather than base64 because it has a single spelling. keygen writes 32 random bytes
 * (64 digits): the full HMAC-SHA256 block of entropy. At least 16 bytes are required.
 *
 * The key never appears in an error, a log line or the effective configuration; keyId()
 * (src/wire/keyring.ts) is the name status, check-config and the log show for it.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync, constants as fsConstants, fchmodSync, fstatSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, renameSync, unlinkSync, writeSync,
  type Stats,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { HeartbeatKeys } from '../wire/keyring.js';

export type { HeartbeatKeys };

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

/** The euid whose files the agent trusts besides root's: its own (for check-config, the caller's). */
export function agentUid(): number {
  return process.geteuid?.() ?? 0;
}

/** The user the shipped units run the agent as (`User=` in systemd/haagent.service). */
export const SERVICE_USER = 'haagent';

/**
 * The uid check-config judges the key files for: the caller's, except that root checks them as
 * the service user would read them when that user exists (the installation gives the key to
 * it, mode 0600, so that the agent can read it; root's own agentUid() would refuse that file).
 * The user is looked up in `passwd` text (/etc/passwd: Debian creates system users there).
 */
export function checkUid(euid: number = agentUid(), passwd: () => string = readPasswd): number {
  if (euid !== 0) return euid;
  const line = passwd().split('\n').find((l) => l.startsWith(`${SERVICE_USER}:`));
  const uid = Number(line?.split(':')[2]);
  return Number.isInteger(uid) && uid > 0 ? uid : 0;
}

function readPasswd(): string {
  try {
    return readFileSync('/etc/passwd', 'utf8');
  } catch {
    return '';
  }
}

/**
 * Opens without following a symbolic link in the last component (O_NOFOLLOW: ELOOP) and
 * without waiting for a writer (O_NONBLOCK: a FIFO opens at once and fstat then refuses it),
 * and never makes a terminal the controlling one (O_NOCTTY).
 */
const OPEN_FLAGS = fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK | fsConstants.O_NOCTTY;

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

/**
 * Reads a key file, refusing what another user could have written or what could hang or
 * redirect the read: a symbolic link (the path must name the file itself), anything but a
 * regular file (a FIFO, a device), a file owned by someone other than root or `uid` (the
 * agent's euid: a key written by another user is that user's key), or one group or others
 * can read or write. Every check is on the open descriptor (fstat), so the file checked is
 * the file read. Errors name the file, what is wrong and the fix; never the key.
 */
export function loadKey(path: string, uid: number = agentUid(), what = 'key file'): KeyResult {
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (err) {
    const code = errCode(err);
    const hint =
      code === 'ENOENT'
        ? `missing; create it with: haagent keygen --out ${path}`
        : code === 'ELOOP'
          ? `is a symbolic link (refused: another user could point it elsewhere); set the path of the file itself (readlink -f ${path})`
          : `cannot be opened (${code})`;
    return { ok: false, error: `${what} ${path}: ${hint}` };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { ok: false, error: `${what} ${path}: ${kindOf(st)}, not a regular file; haagent keygen --out FILE writes one` };
    if (st.uid !== 0 && st.uid !== uid) {
      const who = uid === 0 ? 'root' : `root or uid ${uid} (the user haagent runs as)`;
      return { ok: false, error: `${what} ${path}: owned by uid ${st.uid}, must be owned by ${who}: another user could replace the key; run: chown ${uid === 0 ? 'root' : uid} ${path}` };
    }
    if ((st.mode & 0o077) !== 0) {
      const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
      return { ok: false, error: `${what} ${path}: mode ${mode} lets group or others access it; run: chmod 600 ${path}` };
    }
    if (st.size > MAX_FILE_BYTES) return { ok: false, error: `${what} ${path}: ${st.size} bytes, too big for a key` };
    const text = readAll(fd);
    if (text === null) return { ok: false, error: `${what} ${path}: grew past ${MAX_FILE_BYTES} bytes while read, too big for a key` };
    const r = decodeKey(text);
    return r.ok ? r : { ok: false, error: `${what} ${path}: ${r.error}` };
  } catch (err) {
    return { ok: false, error: `${what} ${path}: cannot be read (${errCode(err)})` };
  } finally {
    closeSync(fd);
  }
}

/** The file's text up to end of file; null past MAX_FILE_BYTES (it grew since fstat). */
function readAll(fd: number): string | null {
  const buf = Buffer.alloc(MAX_FILE_BYTES + 1);
  let n = 0;
  for (;;) {
    const got = readSync(fd, buf, n, buf.length - n, n);
    if (got === 0) break;
    n += got;
    if (n > MAX_FILE_BYTES) return null;
  }
  return buf.subarray(0, n).toString('utf8');
}

export type KeysResult = { ok: true; keys: HeartbeatKeys } | { ok: false; errors: string[] };

/** Loads heartbeat.keyFile and heartbeat.acceptKeyFile (when set); every problem of both. */
export function loadKeys(hb: { keyFile: string; acceptKeyFile: string | null }, uid: number = agentUid()): KeysResult {
  const send = loadKey(hb.keyFile, uid);
  const accept = hb.acceptKeyFile === null ? { ok: true as const, key: null } : loadKey(hb.acceptKeyFile, uid, 'accept key file');
  if (send.ok && accept.ok) return { ok: true, keys: { send: send.key, accept: accept.key } };
  return { ok: false, errors: [send, accept].flatMap((r) => (r.ok ? [] : [r.error])) };
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
