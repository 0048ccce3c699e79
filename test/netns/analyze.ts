/**
 * Pure analysis of drill records: no clock, no I/O. The probe (probe.ts) produces a
 * ProbeResult; tcpdump lines become ArpFrames through parseTcpdumpArp. Every time is epoch
 * milliseconds (performance.timeOrigin + performance.now() in the producing process).
 */

export interface ProbeReply {
  seq: number;
  sentAt: number;
  recvAt: number;
  /** responder name (d0, d1, ...). */
  by: string;
}

/** The VIP's MAC in the client's neighbour table changed at `at` (null: entry gone). */
export interface ArpChange {
  at: number;
  mac: string | null;
}

export interface TcpAttempt {
  seq: number;
  startAt: number;
  endAt: number;
  ok: boolean;
  by: string | null;
  error?: string;
}

export interface ProbeResult {
  vip: string;
  intervalMs: number;
  startedAt: number;
  stoppedAt: number;
  /** sentAt[seq]: when UDP probe seq left. */
  sentAt: number[];
  replies: ProbeReply[];
  arp: ArpChange[];
  tcp: TcpAttempt[];
  sendErrors: number;
}

export interface Answer {
  seq: number;
  sentAt: number;
  by: string;
}

export interface OutageReport {
  /** (sentAt of first answered probe after the gap) - (sentAt of last answered before it);
   *  0 when no probe went unanswered after the fault; Infinity when answers never resumed. */
  outageMs: number;
  /** unanswered probes in that gap. */
  lost: number;
  lastBefore: Answer | null;
  firstAfter: Answer | null;
}

/** First reply per seq (a probe answered twice counts once, by its first responder). */
export function firstAnswers(replies: readonly ProbeReply[]): Map<number, ProbeReply> {
  const m = new Map<number, ProbeReply>();
  for (const r of replies) {
    const seen = m.get(r.seq);
    if (!seen || r.recvAt < seen.recvAt) m.set(r.seq, r);
  }
  return m;
}

/**
 * The client-visible outage around a fault: the longest run of unanswered probes that
 * starts at/after (faultAt - one interval), measured between the answered probes that
 * frame it. The one-interval slack admits a probe already in flight when the fault hit.
 */
export function outage(sentAt: readonly number[], replies: readonly ProbeReply[], faultAt: number, intervalMs: number): OutageReport {
  const answered = firstAnswers(replies);
  const answer = (seq: number): Answer | null => {
    const r = answered.get(seq);
    return r ? { seq, sentAt: sentAt[seq], by: r.by } : null;
  };
  let best: OutageReport = { outageMs: 0, lost: 0, lastBefore: null, firstAfter: null };
  let seq = 0;
  while (seq < sentAt.length) {
    if (answered.has(seq)) {
      seq++;
      continue;
    }
    const start = seq;
    while (seq < sentAt.length && !answered.has(seq)) seq++;
    if (sentAt[start] < faultAt - intervalMs) continue;
    const before = start > 0 ? answer(start - 1) : null;
    const after = seq < sentAt.length ? answer(seq) : null;
    const from = before ? before.sentAt : sentAt[start];
    const ms = after ? after.sentAt - from : Infinity;
    if (ms > best.outageMs || best.lost === 0) {
      best = { outageMs: ms, lost: seq - start, lastBefore: before, firstAfter: after };
    }
  }
  return best;
}

/** Who answered, as consecutive runs in send order: e.g. d0 x120, then d1 x300. */
export function answerRuns(replies: readonly ProbeReply[]): { by: string; count: number; from: number; to: number }[] {
  const ordered = [...firstAnswers(replies).values()].sort((a, b) => a.seq - b.seq);
  const runs: { by: string; count: number; from: number; to: number }[] = [];
  for (const r of ordered) {
    const last = runs[runs.length - 1];
    if (last && last.by === r.by) {
      last.count++;
      last.to = r.sentAt;
    } else runs.push({ by: r.by, count: 1, from: r.sentAt, to: r.sentAt });
  }
  return runs;
}

/** The first change of the watched ARP entry at/after faultAt (to `mac` when given). */
export function arpChangeAfter(arp: readonly ArpChange[], faultAt: number, mac?: string): ArpChange | null {
  const want = mac?.toLowerCase();
  for (const c of arp) {
    if (c.at < faultAt) continue;
    if (want === undefined || c.mac?.toLowerCase() === want) return c;
  }
  return null;
}

/**
 * Split-brain symptom: the client's requests still reach another responder after they
 * began to reach the new active. Windows of windowMs are laid on the requests' send times,
 * from the send time of the first request the new active answered; a window counts when
 * its requests were answered by two or more responders. Send time, not receive time: a
 * request sent to the old active before the client moved may be answered after the new
 * active's first answer (the old one is busy stopping) and is no symptom, whereas a request
 * sent after the move and answered by another node means the client went back to it.
 */
export function dualAnswerWindows(replies: readonly ProbeReply[], newActive: string, windowMs = 10): number {
  const mine = replies.filter((r) => r.by === newActive);
  if (mine.length === 0) return 0;
  const t0 = Math.min(...mine.map((r) => r.sentAt));
  const windows = new Map<number, Set<string>>();
  for (const r of replies) {
    if (r.sentAt < t0) continue;
    const w = Math.floor((r.sentAt - t0) / windowMs);
    const names = windows.get(w) ?? new Set<string>();
    names.add(r.by);
    windows.set(w, names);
  }
  let n = 0;
  for (const names of windows.values()) if (names.size >= 2) n++;
  return n;
}

/** Nearest-rank percentile (p in 0..100) of the finite values; NaN when there are none. */
export function percentile(values: readonly number[], p: number): number {
  const xs = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (xs.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * xs.length);
  return xs[Math.min(xs.length - 1, Math.max(0, rank - 1))];
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

export interface Summary {
  n: number;
  median: number;
  p90: number;
  /** Infinity when any sample was Infinity (an outage that never ended). */
  max: number;
}

export function summarize(values: readonly number[]): Summary {
  const finite = values.filter((v) => Number.isFinite(v));
  const max = finite.length === values.length ? (finite.length ? Math.max(...finite) : NaN) : Infinity;
  return { n: values.length, median: median(values), p90: percentile(values, 90), max };
}

/** One ARP frame seen by `tcpdump -tt -n -e -l arp`. */
export interface ArpFrame {
  at: number;
  srcMac: string;
  dstMac: string;
  op: 'request' | 'reply';
  /** request: the address asked for; reply: the address announced. */
  ip: string;
  /** request: the sender address ("tell X"); reply: undefined. */
  senderIp?: string;
  /** reply: the announced MAC ("is-at M"). */
  isAt?: string;
  /** request with sender = target, or reply to broadcast. */
  gratuitous: boolean;
}

const MAC = '([0-9a-f]{2}(?::[0-9a-f]{2}){5})';
const IP = '(\\d+\\.\\d+\\.\\d+\\.\\d+)';
const HEAD = new RegExp(`^(\\d+\\.\\d+) ${MAC} > ${MAC}, ethertype ARP \\(0x0806\\), length \\d+: (.*)$`, 'i');
const REQ = new RegExp(`^Request who-has ${IP}(?: \\([^)]*\\))? tell ${IP}`, 'i');
const REP = new RegExp(`^Reply ${IP} is-at ${MAC}`, 'i');

/** Parses one tcpdump line; null for anything that is not an Ethernet ARP request/reply. */
export function parseTcpdumpArp(line: string): ArpFrame | null {
  const h = HEAD.exec(line.trim());
  if (!h) return null;
  const at = parseFloat(h[1]) * 1000;
  const srcMac = h[2].toLowerCase();
  const dstMac = h[3].toLowerCase();
  const req = REQ.exec(h[4]);
  if (req) return { at, srcMac, dstMac, op: 'request', ip: req[1], senderIp: req[2], gratuitous: req[1] === req[2] };
  const rep = REP.exec(h[4]);
  if (rep) {
    const gratuitous = dstMac === 'ff:ff:ff:ff:ff:ff';
    return { at, srcMac, dstMac, op: 'reply', ip: rep[1], isAt: rep[2].toLowerCase(), gratuitous };
  }
  return null;
}

/** Gratuitous ARPs announcing ip, in capture order. */
export function garpsFor(frames: readonly ArpFrame[], ip: string): ArpFrame[] {
  return frames.filter((f) => f.gratuitous && f.ip === ip);
}

/**
 * The first gratuitous ARP announcing ip (sender address = ip) whose Ethernet source is mac,
 * captured at/after `from` (epoch ms); null when there is none. A taker's first announcement
 * after a fault: what moves every neighbour on the segment.
 */
export function firstGarp(frames: readonly ArpFrame[], ip: string, mac: string, from: number): ArpFrame | null {
  const want = mac.toLowerCase();
  let first: ArpFrame | null = null;
  for (const f of garpsFor(frames, ip)) {
    // Capture order is time order, but pick the earliest anyway: lines may be merged out of order.
    if (f.srcMac === want && f.at >= from && (first === null || f.at < first.at)) first = f;
  }
  return first;
}

/**
 * `ip -ts monitor` prefixes each event with the wall-clock time at which ip read it from the
 * kernel, local and without a zone ("[2026-11-23T13:17:24.410664]"); Date parses that form as
 * local time too. Epoch ms with the microseconds kept; null when the line carries none.
 */
export function monitorTime(line: string): number | null {
  const m = /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?\]/.exec(line);
  if (!m) return null;
  const ms = Date.parse(m[1]);
  return Number.isFinite(ms) ? ms + Number(m[2] ?? '0') * 1000 : null;
}
