/**
 * How late a peer's datagrams have been recently, as we saw them: the gap between two
 * consecutive ones (no datagram lost between them) past the sender's interval. It sizes the
 * margin before an overdue peer is probed and the time a peer gets to answer a probe after an
 * ICMP hint (peers.ts). The maximum over the current and the last window: a slow peer is
 * given the time it has been needing for the last 5 to 10 seconds.
 */
import { DEFAULTS } from '../config/defaults.js';
import type { Millis } from './types.js';

/** Lateness is remembered over one to two windows of this length. */
const WINDOW: Millis = DEFAULTS.election.latenessWindow;

/** The worst recent lateness of a peer's datagrams: max over the current and the last window. */
export class Lateness {
  private cur = 0;
  private prev = 0;
  private start: Millis;

  constructor(now: Millis) {
    this.start = now;
  }

  add(lateMs: Millis, now: Millis): void {
    this.roll(now);
    if (lateMs > this.cur) this.cur = lateMs;
  }

  max(now: Millis): Millis {
    this.roll(now);
    return Math.max(this.cur, this.prev);
  }

  private roll(now: Millis): void {
    const age = now - this.start;
    if (age < WINDOW) return;
    this.prev = age < 2 * WINDOW ? this.cur : 0;
    this.cur = 0;
    this.start = now;
  }
}
