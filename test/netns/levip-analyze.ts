/**
 * Pure analysis for the LevIP drill (levip-drill.ts): shares of the answers per leveler over
 * a window, how closely the client's ARP entry followed the planned rotation, windows of
 * whole rotation cycles, and the members an agent's log says it has. No clock, no I/O.
 */
import { firstAnswers, summarize, type ArpChange, type ProbeResult, type Summary } from './analyze.js';

export interface Share {
  node: string;
  answers: number;
  /** percent of the answered requests. */
  pct: number;
  expectedPct: number;
}

export interface ShareWindow {
  from: number;
  to: number;
  answered: number;
  unanswered: number;
  shares: Share[];
  /** largest |pct - expectedPct|. */
  worstPp: number;
}

/** How closely the client's ARP entry followed the rotation over [from, to). */
export interface RotationFit {
  slots: number;
  /** time the entry named another MAC than the slot owner's, in percent of the window. */
  offOwnerPct: number;
  /** per slot whose owner differs from the previous one: ms from its start to the switch. */
  switchLate: Summary;
}

/** Pure: integrates the client's ARP entry (probe.arp) against the planned owner of each slot. */
export function rotationFit(arp: readonly ArpChange[], from: number, to: number, periodMs: number, ownerMac: (slot: number) => string | null): RotationFit {
  const changes = [...arp].sort((a, b) => a.at - b.at);
  let i = 0;
  let mac: string | null = null;
  const advance = (t: number): void => {
    while (i < changes.length && changes[i].at <= t) mac = changes[i++].mac;
  };
  let off = 0;
  const late: number[] = [];
  const first = Math.ceil(from / periodMs);
  const last = Math.floor(to / periodMs);
  for (let k = first; k < last; k++) {
    const start = k * periodMs;
    const end = start + periodMs;
    const owner = ownerMac(k);
    advance(start);
    let t = start;
    let switched: number | null = mac === owner ? start : null;
    while (i < changes.length && changes[i].at < end) {
      if (mac !== owner) off += changes[i].at - t;
      t = changes[i].at;
      mac = changes[i++].mac;
      if (switched === null && mac === owner) switched = t;
    }
    if (mac !== owner) off += end - t;
    if (ownerMac(k - 1) !== owner) late.push(switched === null ? Infinity : switched - start);
  }
  const slots = Math.max(0, last - first);
  return { slots, offOwnerPct: slots === 0 ? 0 : (100 * off) / (slots * periodMs), switchLate: summarize(late) };
}

/** Answers per leveler for requests sent in [from, to). Pure. */
export function shareWindow(probe: ProbeResult, from: number, to: number, weights: ReadonlyMap<string, number>): ShareWindow {
  const answers = firstAnswers(probe.replies);
  const counts = new Map<string, number>([...weights.keys()].map((n) => [n, 0]));
  let answered = 0;
  let unanswered = 0;
  probe.sentAt.forEach((at, seq) => {
    if (at < from || at >= to) return;
    const a = answers.get(seq);
    if (!a) return void unanswered++;
    answered++;
    counts.set(a.by, (counts.get(a.by) ?? 0) + 1);
  });
  const total = [...weights.values()].reduce((s, w) => s + w, 0);
  const shares = [...counts].map(([node, n]) => ({
    node,
    answers: n,
    pct: answered === 0 ? 0 : (100 * n) / answered,
    expectedPct: (100 * (weights.get(node) ?? 0)) / total,
  }));
  return { from, to, answered, unanswered, shares, worstPp: Math.max(...shares.map((s) => Math.abs(s.pct - s.expectedPct))) };
}

/** A window of whole rotation cycles starting at the next cycle boundary after `after`. */
export function cycleWindow(after: number, lengthMs: number, weights: ReadonlyMap<string, number>, periodMs: number): { from: number; to: number } {
  const cycle = [...weights.values()].reduce((s, w) => s + w, 0) * periodMs;
  const from = Math.ceil(after / cycle) * cycle;
  return { from, to: from + Math.max(1, Math.floor(lengthMs / cycle)) * cycle };
}

/**
 * The members a leveler's log says it has now, with their join slots: the runner logs every
 * join ("levip: d1 joins the rotation from slot N", key `since`) and leave. Reading the log
 * costs nothing, where polling `haagent status` in three namespaces would load the machine
 * whose timing the drill measures.
 */
export function membersFromLog(text: string): Map<string, number> {
  const members = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.includes('levip: ')) continue;
    let rec: { msg?: string; peer?: string; since?: number };
    try {
      rec = JSON.parse(line) as typeof rec;
    } catch {
      continue;
    }
    if (rec.peer === undefined || rec.msg === undefined) continue;
    if (rec.msg.includes('joins the rotation') && rec.since !== undefined) members.set(rec.peer, rec.since);
    else if (rec.msg.includes('leaves the rotation')) members.delete(rec.peer);
  }
  return members;
}
