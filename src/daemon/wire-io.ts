/**
 * The driver's two ends of the wire, apart from its loop: what comes in (authenticated, from a
 * configured peer, replay-checked, the steady state recognised by its bytes) and what goes out (the steady
 * state re-sealed with a new seq), and whether an ICMP error quotes something we sent.
 */
import { decode, decodeChecked, encode, MAC_LEN, seqOffset, withSeq } from '../wire/codec.js';
import type { HeldKey, KeyRing } from '../wire/keyring.js';
import type { PeerIdentity } from '../wire/identity.js';
import { ReplayGuard, type MarkStore } from '../wire/replay.js';
import type { DropReason, Message } from '../wire/types.js';
import type { Datagram } from '../ports/index.js';

/** Who we are on the wire; `interval` and the keys may change on reload. */
export interface WireSelf {
  /** seals with the send key; authenticates under it or the accept key (a rotation). */
  keys: KeyRing;
  bootId: bigint;
  cluster(): string;
  node(): string;
  interval(): number;
  /** wall-clock ms: a bootId is the sender's wall clock at its start (src/wire/replay.ts). */
  wall(): number;
}

/** The last datagram accepted from an address: the next one that differs only in seq needs no parse. */
interface Accepted {
  data: Buffer;
  seqAt: number;
  msg: Message;
}

/** Addresses remembered for that (only authenticated datagrams get in; a key holder gets no more). */
const MAX_ACCEPTED = 64;

export type Inbound = { ok: true; msg: Message; same: boolean } | { ok: false; reason: DropReason };

/** Incoming datagrams: decode or recognise, then the own-node, identity and replay checks. */
export class Receiver {
  private readonly replay: ReplayGuard;
  private readonly accepted = new Map<string, Accepted>();

  /** The keys held now: one dropped by a reload authenticates nothing, on either path. */
  private readonly authentic = (data: Buffer): boolean => this.self.keys.check(data);

  constructor(
    private readonly self: WireSelf,
    // Peers are fixed for the life of the process (a reload cannot change them).
    private readonly identity: PeerIdentity,
    store?: MarkStore,
  ) {
    this.replay = new ReplayGuard(store === undefined ? {} : { store });
  }

  accept(d: Datagram): Inbound {
    const last = this.sameAsLast(d);
    let msg: Message;
    if (last !== null) {
      // The steady state: the bytes of the last accepted datagram but for seq. The MAC is
      // still checked over all of them; what decode() would parse is known already.
      if (!this.self.keys.check(d.data)) return { ok: false, reason: 'bad-mac' };
      msg = { ...last.msg, seq: d.data.readBigUInt64BE(last.seqAt) };
    } else {
      const r = decodeChecked(d.data, this.authentic, this.self.cluster());
      if (!r.ok) return r;
      msg = r.msg;
    }
    if (msg.node === this.self.node()) return { ok: false, reason: 'own-node' };
    if (!this.identity.admit(msg.node, d.address)) return { ok: false, reason: 'unknown-peer' };
    const verdict = this.replay.check(msg.node, msg.bootId, msg.seq, this.self.wall());
    if (verdict !== 'ok') return { ok: false, reason: verdict };
    if (last === null) {
      if (this.accepted.size >= MAX_ACCEPTED) this.accepted.clear();
      this.accepted.set(d.address, { data: d.data, seqAt: seqOffset(d.data), msg });
    } else {
      last.data = d.data;
    }
    return { ok: true, msg, same: last !== null };
  }

  /** The last datagram accepted from d's address, when d has its bytes everywhere but seq. */
  private sameAsLast(d: Datagram): Accepted | null {
    const a = this.accepted.get(d.address);
    if (a === undefined || a.data.length !== d.data.length) return null;
    const end = d.data.length - MAC_LEN;
    const after = a.seqAt + 8;
    if (after > end || d.data.compare(a.data, 0, a.seqAt, 0, a.seqAt) !== 0 || d.data.compare(a.data, after, end, after, end) !== 0) return null;
    return a;
  }
}

/** An ICMP error quoting one of our last this many datagrams is about now (a few seconds at 10 ms). */
const RECENT_SEQS = 1000n;

/** The last datagram sent and what it said: the next one with the same content only differs in seq. */
interface SentTemplate {
  type: Message['type'];
  groups: Message['groups'];
  data: Buffer;
}

/** Outgoing datagrams, numbered; the steady state re-sealed rather than re-encoded. */
export class Sender {
  private seq = 0n;
  private template: SentTemplate | null = null;
  /** the key the last datagram was sealed with. */
  private sealer: HeldKey | null = null;
  /** the one before, after a reload changed the send key, and the last seq it sealed. */
  private retired: { key: Buffer; upTo: bigint } | null = null;

  constructor(private readonly self: WireSelf) {}

  datagram(type: Message['type'], groups: Message['groups']): Buffer {
    const key = this.self.keys.send;
    if (this.sealer !== key) {
      if (this.sealer !== null) this.retired = { key: this.sealer.key, upTo: this.seq };
      this.sealer = key;
    }
    this.seq++;
    const t = this.template;
    let data: Buffer;
    if (t !== null && t.type === type && sameGroups(t.groups, groups)) {
      data = withSeq(t.data, this.seq, key.mac);
    } else {
      const s = this.self;
      data = encode({ type, cluster: s.cluster(), node: s.node(), bootId: s.bootId, seq: this.seq, intervalMs: s.interval(), groups }, key.key);
    }
    this.template = { type, groups, data };
    return data;
  }

  /** A reload may change the interval, which every datagram carries. */
  forget(): void {
    this.template = null;
  }

  /**
   * Whether a datagram an ICMP error quoted is one we sent lately: our MAC, our node name and
   * boot, a seq among our last ones. Then the error is the peer host's own answer to it (only
   * a host that reads our unicast heartbeats could quote one), not a forgery. Our MAC is that
   * of the key we sealed it with: right after a reload changed the send key, a quote of a
   * datagram sent before is checked with the key it was sealed with, up to the last seq
   * that key sealed.
   */
  ours(quoted: Buffer): boolean {
    if (this.sealer === null) return false;
    let r = decode(quoted, this.sealer.key, this.self.cluster());
    let upTo = this.seq;
    if (!r.ok && r.reason === 'bad-mac' && this.retired !== null) {
      r = decode(quoted, this.retired.key, this.self.cluster());
      upTo = this.retired.upTo;
    }
    if (!r.ok) return false;
    const m = r.msg;
    return m.node === this.self.node() && m.bootId === this.self.bootId && m.seq <= upTo && this.seq - m.seq < RECENT_SEQS;
  }
}

function sameGroups(a: Message['groups'], b: Message['groups']): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.name !== y.name || x.state !== y.state || x.priority !== y.priority || x.reach !== y.reach) return false;
  }
  return true;
}
