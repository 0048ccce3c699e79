/**
 * Wire message model. The codec (codec.ts) turns these into authenticated datagrams and
 * back; nothing here touches a socket. See docs/protocol.md for the byte layout.
 */
export type GroupState = 'init' | 'standby' | 'active' | 'fault';

/**
 * heartbeat: state, every interval. resign: the sender leaves (planned stop). probe: a
 * heartbeat that also asks its receivers to send theirs now: sent while a peer has been
 * silent for two of its intervals, so a loss burst must take several round trips, not a few
 * one-way datagrams, before the dead time passes (docs/protocol.md).
 */
export type MessageType = 'heartbeat' | 'resign' | 'probe';

export interface WireGroup {
  /** group name, 1..63 bytes of UTF-8. */
  name: string;
  state: GroupState;
  /** effective priority 0..255; 0 means "not a candidate". */
  priority: number;
  /** how many of the group's ping nodes the sender reaches (0..255). */
  reach: number;
}

export interface Message {
  type: MessageType;
  cluster: string;
  node: string;
  /** increases on every start of the sender (persisted counter / wall clock). */
  bootId: bigint;
  /** increases by one per datagram within a boot; starts at 1. */
  seq: bigint;
  /** sender's heartbeat interval in ms, informational. */
  intervalMs: number;
  groups: WireGroup[];
}

/** Every reason a datagram is dropped; each has a counter. */
export const DROP_REASONS = [
  'truncated',
  'oversized',
  'bad-magic',
  'bad-version',
  'bad-type',
  'malformed',
  'wrong-cluster',
  'bad-mac',
  'replay',
  'old-boot',
  'own-node',
  'unknown-peer',
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export type DecodeResult = { ok: true; msg: Message } | { ok: false; reason: DropReason };
