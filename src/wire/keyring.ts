/**
 * The heartbeat keys a running agent holds: the send key (every datagram is sealed with it,
 * and it is the first tried on receipt) and, during a key rotation, an accept key (tried only
 * when the send key does not authenticate a datagram, never used to seal). A reload swaps
 * them (`set`) without a restart. Each key counts the datagrams it authenticated, so an
 * operator can see when the accept key is no longer needed (docs/operations.md, "Rotating the
 * key").
 *
 * Cost: a datagram under the send key costs one MAC check; one under the accept key
 * costs two, and only while a rotation is in progress; a forgery costs two instead of one.
 */
import { createHash } from 'node:crypto';
import type { DatagramMac } from './mac.js';

/** The keys a director runs with: `send` seals and verifies, `accept` only verifies. */
export interface HeartbeatKeys {
  send: Buffer;
  accept: Buffer | null;
}

export type KeyUse = 'send' | 'accept';

/** One held key, as status shows it (never its bytes). */
export interface KeyView {
  id: string;
  use: KeyUse;
  /** datagrams whose MAC this key verified (whatever the later checks said of them). */
  authenticated: number;
  /** clock time of the last one; null: none yet. */
  lastAt: number | null;
}

/** A key with its MAC object (for the addon: the pads absorbed once) and its counters. */
export interface HeldKey {
  readonly key: Buffer;
  readonly mac: DatagramMac;
  readonly id: string;
  authenticated: number;
  lastAt: number | null;
}

/**
 * A short public name for a key, to compare keys across nodes without showing them: the
 * first 4 bytes of SHA-256 over a fixed label and the key, as 8 hex digits. It tells nothing
 * usable about a key of 16 or more random bytes (every heartbeat's MAC is a far richer
 * function of the key), and the label keeps it apart from any other hash of the key.
 */
export function keyId(key: Buffer): string {
  return createHash('sha256').update('haagent key id\0').update(key).digest().subarray(0, 4).toString('hex');
}

export class KeyRing {
  private sendKey: HeldKey;
  private acceptKey: HeldKey | null;

  constructor(
    keys: HeartbeatKeys,
    private readonly macFor: (key: Buffer) => DatagramMac,
    private readonly now: () => number,
  ) {
    this.sendKey = this.hold(keys.send, []);
    this.acceptKey = null;
    this.set(keys);
  }

  /** The key to seal with; the same object as long as the send key's bytes do not change. */
  get send(): HeldKey {
    return this.sendKey;
  }

  /**
   * Replaces the keys (a reload). A key kept, in either role, keeps its MAC object and its
   * counters; a key dropped is forgotten at once: from here on nothing it sealed is accepted.
   */
  set(keys: HeartbeatKeys): void {
    const held = [this.sendKey, ...(this.acceptKey ? [this.acceptKey] : [])];
    const send = this.hold(keys.send, held);
    this.acceptKey = keys.accept === null || keys.accept.equals(keys.send) ? null : this.hold(keys.accept, held);
    this.sendKey = send;
  }

  /** Whether a held key authenticates the datagram (MAC in its last bytes); the send key is tried first. */
  check(datagram: Buffer): boolean {
    const s = this.sendKey;
    if (s.mac.check(datagram)) return this.count(s);
    const a = this.acceptKey;
    return a !== null && a.mac.check(datagram) && this.count(a);
  }

  /** The held keys, send key first. */
  views(): KeyView[] {
    const view = (k: HeldKey, use: KeyUse): KeyView => ({ id: k.id, use, authenticated: k.authenticated, lastAt: k.lastAt });
    return [view(this.sendKey, 'send'), ...(this.acceptKey ? [view(this.acceptKey, 'accept')] : [])];
  }

  private count(k: HeldKey): true {
    k.authenticated++;
    k.lastAt = this.now();
    return true;
  }

  private hold(key: Buffer, held: readonly HeldKey[]): HeldKey {
    const same = held.find((k) => k.key.equals(key));
    if (same) return same;
    return { key: Buffer.from(key), mac: this.macFor(key), id: keyId(key), authenticated: 0, lastAt: null };
  }
}
