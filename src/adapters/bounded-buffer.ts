/**
 * Collects a child's output up to a byte limit. A runaway child (or a kernel with a thousand
 * addresses on one interface) must not grow the daemon's heap without bound; what is dropped
 * is counted so the truncation is visible in the text.
 */
export class BoundedBuffer {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private dropped = 0;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    const room = this.limit - this.size;
    if (room <= 0) {
      this.dropped += chunk.length;
      return;
    }
    const kept = chunk.length <= room ? chunk : chunk.subarray(0, room);
    this.chunks.push(kept);
    this.size += kept.length;
    this.dropped += chunk.length - kept.length;
  }

  text(): string {
    const body = Buffer.concat(this.chunks, this.size).toString('utf8');
    return this.dropped > 0 ? `${body}\n[${this.dropped} bytes dropped]` : body;
  }
}

/** Error text of anything thrown, for result records that must not carry Error objects. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
