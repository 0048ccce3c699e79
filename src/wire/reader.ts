/**
 * A bounded cursor over an authenticated datagram body. Every read checks the remaining length
 * first and answers `null` instead of throwing, so a length field can never move the cursor
 * past `end` (the lesson of Heartbeat's and corosync's remote crashes: bound every length
 * before trusting it).
 */
import { isUtf8 } from 'node:buffer';
import { MAX_NAME_BYTES } from './layout.js';

export class BoundedReader {
  private pos: number;

  /** Reads buf[start, end); `end` excludes the MAC. */
  constructor(
    private readonly buf: Buffer,
    start: number,
    private readonly end: number,
  ) {
    this.pos = start;
  }

  /** True when every byte up to `end` was consumed: trailing bytes are an inconsistency. */
  atEnd(): boolean {
    return this.pos === this.end;
  }

  u8(): number | null {
    if (!this.has(1)) return null;
    return this.buf[this.pos++] as number;
  }

  u32(): number | null {
    if (!this.has(4)) return null;
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  u64(): bigint | null {
    if (!this.has(8)) return null;
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  /**
   * A u8-length-prefixed UTF-8 name of 1..63 bytes. Rejects (null) a zero or too-long length,
   * a length past the end, and bytes that are not well-formed UTF-8 (overlong forms, encoded
   * surrogates): those would not survive a decode/encode round trip byte for byte.
   */
  name(): string | null {
    const len = this.u8();
    if (len === null || len === 0 || len > MAX_NAME_BYTES || !this.has(len)) return null;
    const bytes = this.buf.subarray(this.pos, this.pos + len);
    if (!isUtf8(bytes)) return null;
    this.pos += len;
    return bytes.toString('utf8');
  }

  private has(n: number): boolean {
    return this.end - this.pos >= n;
  }
}
