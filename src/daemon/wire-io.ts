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

/**
 * The newest datagram accepted from a named node: when it came (wall ms) and the addresses
 * it came from. A node with several paths sends each datagram on every one of them.
 */
interface Newest {
  bootId: bigint;
  seq: bigint;
  at: number;
  from: string[];
}

export type Inbound = { ok: true; msg: Message; same: boolean } | { ok: false; reason: DropReason };

/** Incoming datagrams: decode or recognise, then the own-node, identity and replay checks. */
export class Receiver {
  private readonly replay: ReplayGuard;
  private readonly accepted = new Map<string, Accepted>();
  /** per named node (at most the configured ones: the identity admits no other). */
  private readonly newest = new Map<string, Newest>();
  /** whether the peers are named: unnamed ones may speak from any address, so copies are not counted. */
  private readonly named: boolean;

  /** The keys held now: one dropped by a reload authenticates nothing, on either path. */
  private readonly authentic = (data: Buffer): boolean => this.self.keys.check(data);

  constructor(
    private readonly self: WireSelf,
    // Peers are fixed for the life of the process (a reload cannot change them).
    private readonly identity: PeerIdentity,
    store?: MarkStore,
  ) {
    this.replay = new ReplayGuard(store === undefined ? {} : { store });
    this.named = identity.names() !== null;
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
    const wall = this.self.wall();
    const verdict = this.replay.check(msg.node, msg.bootId, msg.seq, wall);
    if (verdict === 'ok') this.remember(msg, d.address, wall);
    else if (verdict !== 'replay' || !this.copyOnAnotherPath(msg, d.address, wall)) return { ok: false, reason: verdict };
    if (last === null) {
      if (this.accepted.size >= MAX_ACCEPTED) this.accepted.clear();
      this.accepted.set(d.address, { data: d.data, seqAt: seqOffset(d.data), msg });
    } else {
      last.data = d.data;
    }
    return { ok: true, msg, same: last !== null };
  }

  /** Every accepted datagram, a hundred a second at 10 ms heartbeats: no allocation once a node is known. */
  private remember(msg: Message, address: string, wall: number): void {
    if (!this.named) return;
    const n = this.newest.get(msg.node);
    if (n === undefined) {
      this.newest.set(msg.node, { bootId: msg.bootId, seq: msg.seq, at: wall, from: [address] });
      return;
    }
    n.bootId = msg.bootId;
    n.seq = msg.seq;
    n.at = wall;
    n.from.length = 0;
    n.from.push(address);
  }

  /**
   * Whether a datagram the replay guard refused is the copy, on another of the node's paths,
   * of the newest one accepted from it. The sender seals each datagram once and sends it on
   * every path, so without this only the copy that arrives first would ever count: a second
   * path would look silent while it works, and a "path silent" warning would stand for as
   * long as the first path is the faster. The copy goes on to the core (it records which
   * path it came on; what it says was just said) and is otherwise a replay. Bounded: named
   * peers only (their addresses are configured), each path once per datagram, heartbeats
   * and probes only (a resign says nothing more the second time), and only within one of
   * the node's intervals of the first copy: replaying the last datagram of a node that
   * fell silent keeps one of its paths alive for at most that long.
   */
  private copyOnAnotherPath(msg: Message, address: string, wall: number): boolean {
    const n = this.newest.get(msg.node);
    if (n === undefined || n.bootId !== msg.bootId || n.seq !== msg.seq || msg.type === 'resign') return false;
    if (n.from.includes(address) || wall < n.at || wall - n.at > msg.intervalMs) return false;
    n.from.push(address);
    return true;
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
