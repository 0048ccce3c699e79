/**
 * Which peer addresses a send skips: a path whose host refused our datagram (a verified
 * ICMP port unreachable: nothing listens there any more) gets one datagram every
 * refusedResend (DEFAULTS.election) instead of every heartbeat until its peer speaks again.
 *
 * Why: the peer host's kernel answers each datagram with a port unreachable, and Linux
 * rate-limits those per destination (net.ipv4.icmp_ratelimit: one a second, a burst of 6).
 * Heartbeats every interval to a dead agent drained that budget, so when the agent came back
 * and died again within about a second there was no error left to send: we waited out the
 * dead time (measured: 3 of 8 crashes at 10 ms heartbeats, restarted ~0.6 s before). One
 * datagram every 2 s spends half the refill. A restarted peer sends its own heartbeats and
 * is answered at once (a new boot id is a new peer, its paths unrefused).
 */
import { DEFAULTS } from '../config/defaults.js';
import type { Peer } from './peer-types.js';
import type { Millis } from './types.js';


/** The addresses this send skips; records the send on each refused path it does not skip. */
export function skipRefused(peers: readonly Peer[], now: Millis): string[] | undefined {
  let out: string[] | undefined;
  for (let i = 0; i < peers.length; i++) {
    const paths = peers[i]!.paths;
    for (let j = 0; j < paths.length; j++) {
      const path = paths[j]!;
      if (path.refusedAt === null) continue;
      if (path.refusedSentAt === null || now - path.refusedSentAt >= DEFAULTS.election.refusedResend) path.refusedSentAt = now;
      else (out ??= []).push(path.address);
    }
  }
  return out;
}
