/**
 * What the layers above may read of the core (status, metrics, LevIP):
 * the same object, typed so that nothing outside src/core can change it. Every change goes
 * through Core.step.
 */
import type { WireGroup } from '../wire/types.js';
import type { GroupRt } from './group.js';
import type { LevipReader } from './levip/mode.js';
import type { Peer, PeerPath } from './peer-types.js';
import type { Candidate } from './rank.js';
import type { CoreOptions, Millis } from './types.js';

export interface PeerReader {
  all(): readonly Peer[];
  alive(now: Millis): readonly Peer[];
  isAlive(p: Peer, now: Millis): boolean;
  pathAlive(p: Peer, path: PeerPath, now: Millis): boolean;
}

export interface CoreView {
  readonly opts: Readonly<CoreOptions>;
  readonly groups: readonly Readonly<GroupRt>[];
  /** groups a reload removed, until their VIP is confirmed gone. */
  readonly retired: readonly Readonly<GroupRt>[];
  group(name: string): Readonly<GroupRt> | undefined;
  readonly peers: PeerReader;
  readonly startedAt: Millis | null;
  readonly maintenance: boolean;
  readonly shuttingDown: boolean;
  /** what this node advertises for `g`, as its next heartbeat would say it. */
  advertised(g: GroupRt): WireGroup;
  selfCandidate(g: GroupRt): Candidate;
  /** the LevIP groups' rotations: members, counters, the answering switch. */
  readonly levip: LevipReader;
}
