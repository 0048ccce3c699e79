/**
 * When this node sends, and what: the heartbeat schedule, probes and probe answers. Pure
 * deadline maths over `now`, like the rest of the core.
 *
 * - Heartbeats keep an absolute schedule (next = previous due time + interval), so a timer
 *   that fires late does not push every later heartbeat back: the peer sees one interval
 *   between heartbeats on average, not one interval plus the loop's lateness each time
 *   (a 10 ms schedule that slips 0.5 ms per beat gives 31.5 ms between three beats, over a
 *   30 ms dead time).
 * - While a peer is overdue (peer-probing.ts) every datagram is a probe and they go every
 *   `probeEvery` ms (a fifth of the interval); a probe asks its receivers to answer at once.
 * - An ICMP hint (peers.ts) is confirmed by a probe sent at once, at most one per
 *   confirmProbeGap ms (DEFAULTS.election, like the other figures named here).
 * - Every probe received is answered at once, at most one answer per answerGap ms: the
 *   prober's confirmation waits for exactly that answer.
 * - A node that holds a VIP follows: when a peer's heartbeat arrives and its own is due
 *   within followWindow of an interval, it sends at once, in the same wake-up, and sets its
 *   own timer followSlack later than an interval, so the next peer heartbeat comes first
 *   again. The active node then wakes once per interval (receive and send together) instead
 *   of twice, and the standby keeps the cadence on its timer. Wake-ups, not the work done in
 *   them, are most of a Node agent's CPU at 10 ms heartbeats. If the peer falls silent, the
 *   follower's timer takes over the cadence followSlack of an interval later, once.
 */
import { DEFAULTS } from '../config/defaults.js';
import type { MessageType } from '../wire/types.js';
import type { Millis } from './types.js';

const { confirmProbeGap, answerGap, followWindow, followSlack } = DEFAULTS.election;

export interface SendWants {
  now: Millis;
  /** something changed that peers must hear now (a transition, a command, a probe to answer). */
  sendNow: boolean;
  shuttingDown: boolean;
  /** a live peer's heartbeat is overdue: probe it. */
  suspect: boolean;
  /** how often to probe while suspect (default: half the interval). */
  probeEvery?: Millis;
  /** an ICMP hint waits for its confirmation probe. */
  confirm: boolean;
  /** we need every peer's state now (start, back from fault): ask them to answer. */
  solicit?: boolean;
  /** we hold a VIP: our heartbeats follow the peers' cadence (see above). */
  follower?: boolean;
  /** a peer's heartbeat arrived in this step. */
  heard?: boolean;
}

export class BeatSchedule {
  private nextAt: Millis;
  private lastProbeAt: Millis = Number.NEGATIVE_INFINITY;
  private lastAnswerAt: Millis = Number.NEGATIVE_INFINITY;

  constructor(
    private interval: Millis,
    start: Millis,
  ) {
    this.nextAt = start;
  }

  changeInterval(ms: Millis): void {
    this.interval = ms;
  }

  /** A probe arrived: whether to answer it now (rate limited). */
  answerProbe(now: Millis): boolean {
    if (now - this.lastAnswerAt < answerGap) return false;
    this.lastAnswerAt = now;
    return true;
  }

  /** What to send at this step, or null; records the send. */
  decide(w: SendWants): MessageType | null {
    const live = !w.shuttingDown;
    const confirmNow = live && w.confirm && w.now - this.lastProbeAt >= confirmProbeGap;
    const probeNow = live && w.suspect && w.now - this.lastProbeAt >= this.probeEvery(w);
    const followNow = live && w.follower === true && w.heard === true && w.now >= this.nextAt - followWindow * this.interval;
    const triggered = w.sendNow || w.solicit === true || confirmNow || probeNow || followNow;
    if (!triggered && w.now < this.nextAt) return null;
    const type: MessageType = !live ? 'resign' : w.suspect || w.confirm || w.solicit ? 'probe' : 'heartbeat';
    if (triggered) {
      // Any datagram carries our state: the next heartbeat is an interval after it (a
      // follower's a little more, so the peer's next heartbeat comes first).
      this.nextAt = w.now + this.interval * (w.follower === true && live ? 1 + followSlack : 1);
    } else {
      // On schedule: keep the phase, unless we fell a whole interval behind (no catch-up burst).
      this.nextAt += this.interval;
      if (this.nextAt <= w.now) this.nextAt = w.now + this.interval;
    }
    if (type === 'probe') this.lastProbeAt = w.now;
    return type;
  }

  /** The next time decide() wants to run: the heartbeat, or a probe held back by its spacing. */
  wakeAt(w: Pick<SendWants, 'suspect' | 'confirm' | 'probeEvery' | 'shuttingDown'>): Millis {
    let at = this.nextAt;
    if (!w.shuttingDown && w.confirm) at = Math.min(at, this.lastProbeAt + confirmProbeGap);
    if (!w.shuttingDown && w.suspect) at = Math.min(at, this.lastProbeAt + this.probeEvery(w));
    return at;
  }

  private probeEvery(w: Pick<SendWants, 'probeEvery'>): Millis {
    return w.probeEvery ?? this.interval / 2;
  }
}
