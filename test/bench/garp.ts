/**
 * The first-GARP figures of a round, pure: the client's ARP capture (kernel capture stamps)
 * and the VIP timeline (ip's own stamps) in, two delays out. Both clocks are the wall clock
 * (epoch ms, microseconds kept).
 */
import { firstGarp, type ArpFrame } from '../netns/analyze.js';
import { firstAcquisition, type VipEvent } from './timeline.js';

export interface GarpFigures {
  /** event -> the taker's first gratuitous ARP for the VIP seen at the client, ms; null: none. */
  garpMs: number | null;
  /** the VIP added on the taker (ip's stamp) -> the taker's first GARP at/after it, ms; null: either is unknown. */
  vipToGarpMs: number | null;
  /** how much later than the stamp used the other monitors stamped the VIP's arrival, ms. */
  vipStampSpreadMs: number | null;
  /**
   * a GARP from the taker came after the event but before the VIP-added stamp: that stamp was
   * late (by more than the spread shows), or the taker announced a VIP it did not hold yet
   * (a delayed announcement of an earlier round). null: no stamp to compare with.
   */
  garpBeforeVip: boolean | null;
}

export interface GarpQuery {
  vip: string;
  /** the taker's MAC and director name. */
  mac: string;
  host: string;
  /** the event (fault, restart), epoch ms. */
  from: number;
}

/**
 * (a) is what a client sees: the taker's first GARP after the event, whatever it held then.
 * (b) counts from ip's stamp of the VIP's arrival on the taker (the first acquisition after
 * the event) to the taker's first GARP at/after it. A stamp by the harness's own arrival time
 * does not count: it can be late under load and would flatter the figure.
 */
export function garpFigures(frames: readonly ArpFrame[], events: readonly VipEvent[], q: GarpQuery): GarpFigures {
  const first = firstGarp(frames, q.vip, q.mac, q.from);
  const added = firstAcquisition(events, q.host, q.from);
  const stamp = added?.ipStamp ? added.at : null;
  const after = stamp === null ? null : firstGarp(frames, q.vip, q.mac, stamp);
  return {
    garpMs: first ? first.at - q.from : null,
    vipToGarpMs: after && stamp !== null ? after.at - stamp : null,
    vipStampSpreadMs: stamp === null ? null : added?.spreadMs ?? 0,
    garpBeforeVip: stamp === null ? null : first !== null && first.at < stamp,
  };
}
