/**
 * The replay guard's memory across restarts: each peer's newest accepted (bootId, seq), in a
 * file of fixed 128-byte records in the state directory, one record per peer.
 *
 * Written on every accepted datagram with one pwrite of one record, with no fsync: what must
 * survive is the agent's own death (a crash, the watchdog's SIGABRT, a restart for an upgrade),
 * and the page cache outlives the process. A 128-byte record at a multiple of 128 never spans
 * two pages, so one write lands whole or not at all; each record carries a CRC-32 anyway, and a
 * record that fails it (a power cut mid-write) is ignored: that peer is then first seen again.
 * The cost is one system call of a few microseconds per accepted heartbeat.
 *
 * At start the file is read, then rewritten compactly (to a temporary name, renamed over it),
 * so records of peers no longer configured go away and every peer keeps one slot.
 *
 * Record layout (big-endian): 0 version (1; 0 = empty), 1 name length, 2..64 name (UTF-8),
 * 72 flags (bit 0 main set, bit 1 ahead set), 80 main bootId, 88 main seq, 96 ahead bootId,
 * 104 ahead seq, 124 CRC-32 of bytes 0..123.
 */
import { openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import type { MarkStore, NodeMarks, ReplayMark } from '../wire/replay.js';
import { closeQuietly, errCode, errText, tempPathBeside } from './fs-util.js';

export const RECORD_BYTES = 128;
const VERSION = 1;
const MAX_NAME = 63;
const OFF_FLAGS = 72;
const OFF_MAIN = 80;
const OFF_AHEAD = 96;
const OFF_CRC = 124;

/** One record's bytes for `node`, or null when the name does not fit. */
export function encodeRecord(node: string, m: NodeMarks, out: Buffer = Buffer.alloc(RECORD_BYTES)): Buffer | null {
  const name = Buffer.from(node, 'utf8');
  if (name.length < 1 || name.length > MAX_NAME) return null;
  out.fill(0);
  out[0] = VERSION;
  out[1] = name.length;
  name.copy(out, 2);
  out[OFF_FLAGS] = (m.main ? 1 : 0) | (m.ahead ? 2 : 0);
  writeMark(out, OFF_MAIN, m.main);
  writeMark(out, OFF_AHEAD, m.ahead);
  out.writeUInt32BE(crc32(out.subarray(0, OFF_CRC)), OFF_CRC);
  return out;
}

/** The record at `rec`, or null when it is empty, torn or of another version. */
export function decodeRecord(rec: Buffer): { node: string; marks: NodeMarks } | null {
  if (rec.length !== RECORD_BYTES || rec[0] !== VERSION) return null;
  if (rec.readUInt32BE(OFF_CRC) !== crc32(rec.subarray(0, OFF_CRC))) return null;
  const len = rec[1]!;
  if (len < 1 || len > MAX_NAME) return null;
  const flags = rec[OFF_FLAGS]!;
  return {
    node: rec.subarray(2, 2 + len).toString('utf8'),
    marks: { main: flags & 1 ? readMark(rec, OFF_MAIN) : null, ahead: flags & 2 ? readMark(rec, OFF_AHEAD) : null },
  };
}

function writeMark(b: Buffer, off: number, m: ReplayMark | null): void {
  if (m === null) return;
  b.writeBigUInt64BE(m.bootId, off);
  b.writeBigUInt64BE(m.seq, off + 8);
}

function readMark(b: Buffer, off: number): ReplayMark {
  return { bootId: b.readBigUInt64BE(off), seq: b.readBigUInt64BE(off + 8) };
}

export interface ReplayFileOptions {
  path: string;
  /** at most this many records are read or written (the number of configured peers). */
  capacity: number;
  /** only these nodes' records are kept; null keeps any (unnamed peers). */
  nodes: ReadonlySet<string> | null;
  /** told once when the file cannot be read or written; the guard then works from memory. */
  warn: (msg: string) => void;
}

/** A MarkStore on a file; see the header for its format and guarantees. */
export class ReplayFile implements MarkStore {
  private fd: number | null = null;
  private readonly slots = new Map<string, number>();
  private readonly record = Buffer.alloc(RECORD_BYTES);
  private loaded: Map<string, NodeMarks> = new Map();

  constructor(private readonly opts: ReplayFileOptions) {
    this.loaded = this.read();
    this.rewrite();
  }

  load(): ReadonlyMap<string, NodeMarks> {
    return this.loaded;
  }

  save(node: string, marks: NodeMarks): void {
    if (this.fd === null) return;
    let slot = this.slots.get(node);
    if (slot === undefined) {
      if (this.slots.size >= this.opts.capacity) return;
      slot = this.slots.size;
      this.slots.set(node, slot);
    }
    const rec = encodeRecord(node, marks, this.record);
    if (rec === null) return;
    try {
      writeSync(this.fd, rec, 0, RECORD_BYTES, slot * RECORD_BYTES);
    } catch (err) {
      this.fail(`cannot write ${this.opts.path} (${errText(err)})`);
    }
  }

  close(): void {
    if (this.fd !== null) closeQuietly(this.fd);
    this.fd = null;
  }

  private read(): Map<string, NodeMarks> {
    const out = new Map<string, NodeMarks>();
    let buf: Buffer;
    try {
      buf = readFileSync(this.opts.path);
    } catch (err) {
      if (errCode(err) !== 'ENOENT') this.opts.warn(`cannot read ${this.opts.path} (${errText(err)}): peers' replay marks start empty`);
      return out;
    }
    const records = Math.min(Math.floor(buf.length / RECORD_BYTES), this.opts.capacity * 4);
    for (let i = 0; i < records && out.size < this.opts.capacity; i++) {
      const r = decodeRecord(buf.subarray(i * RECORD_BYTES, (i + 1) * RECORD_BYTES));
      if (r === null || out.has(r.node)) continue;
      if (this.opts.nodes !== null && !this.opts.nodes.has(r.node)) continue;
      out.set(r.node, r.marks);
    }
    return out;
  }

  /** Writes the loaded marks compactly under a temporary name, renames it over, keeps it open. */
  private rewrite(): void {
    const path = this.opts.path;
    const tmp = tempPathBeside(path);
    let fd: number | null = null;
    try {
      fd = openSync(tmp, 'wx+', 0o600);
      for (const [node, marks] of this.loaded) {
        const rec = encodeRecord(node, marks, this.record);
        if (rec === null) continue;
        const slot = this.slots.size;
        writeSync(fd, rec, 0, RECORD_BYTES, slot * RECORD_BYTES);
        this.slots.set(node, slot);
      }
      renameSync(tmp, path);
      this.fd = fd;
    } catch (err) {
      if (fd !== null) closeQuietly(fd);
      try {
        unlinkSync(tmp);
      } catch {
        // Usually ENOENT: the temporary file was never created.
      }
      this.slots.clear();
      this.fail(`cannot write ${path} (${errText(err)})`);
    }
  }

  private fail(msg: string): void {
    this.opts.warn(`${msg}: peers' replay marks are kept in memory only, so a restart forgets them`);
    this.close();
  }
}
