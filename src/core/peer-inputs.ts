/**
 * The inputs that only tell the core about its peers: a message, an ICMP port unreachable,
 * and how late a tick came (our own stall). They update the peer table and the step's
 * context; the groups are evaluated afterwards, from scratch (election.ts).
 */
import { DEFAULTS } from '../config/defaults.js';
import type { BeatSchedule } from './beat.js';
import type { PeerTable } from './peers.js';
import { fmtMs } from './schedule.js';
import type { StepCtx } from './step.js';
import type { Input, Millis } from './types.js';

type PeerInput = Extract<Input, { kind: 'message' | 'unreachable' | 'tick' }>;

export function applyPeerInput(peers: PeerTable, beat: BeatSchedule, deadTime: Millis, input: PeerInput, ctx: StepCtx): void {
  switch (input.kind) {
    case 'tick':
      if (input.late !== undefined && input.late >= DEFAULTS.election.stallMin) {
        peers.stalled(input.late, input.now);
        ctx.notes.push({ level: input.late >= deadTime / 2 ? 'warn' : 'debug', msg: `our loop stalled ${fmtMs(input.late)} ms: peers' silence meanwhile does not count` });
      }
      return;
    case 'message':
      return message(peers, beat, input, ctx);
    case 'unreachable': {
      // Verified (it quoted our own datagram): dead. Otherwise a hint: the peer is probed and
      // dies only if it does not answer (peers.ts).
      const verified = input.verified === true;
      const { hinted, ignored } = peers.markUnreachable(input.address, input.now, verified);
      if (!verified) for (const node of hinted) ctx.notes.push({ level: 'info', peer: node, msg: `peer ${node}: ICMP port unreachable from ${input.address}; probing it` });
      for (const node of ignored) ctx.notes.push({ level: 'debug', peer: node, msg: `peer ${node}: ICMP port unreachable from ${input.address} ignored (a recent one was refuted)` });
      return;
    }
  }
}

function message(peers: PeerTable, beat: BeatSchedule, input: Extract<Input, { kind: 'message' }>, ctx: StepCtx): void {
  const { msg } = input;
  const before = peers.get(msg.node)?.groups;
  const { kind, refuted } = peers.record(msg, input.address, input.port, input.now);
  ctx.heard = msg.type === 'heartbeat';
  if (refuted) {
    ctx.notes.push({ level: 'warn', peer: msg.node, msg: `peer ${msg.node} answered after an ICMP port unreachable for ${input.address}: not gone (a forged ICMP error?); such errors on that path are ignored for ${DEFAULTS.election.hintHold / 1000} s` });
  }
  for (let i = 0; i < msg.groups.length; i++) {
    const wg = msg.groups[i]!;
    if (before?.get(wg.name)?.state === 'active' && wg.state !== 'active') (ctx.peerYielded ??= new Set()).add(wg.name);
  }
  if (kind !== 'known') {
    ctx.peerReturned = true;
    // It has not heard us for a while (or ever): tell it where we stand now, so a dual
    // active after a healed partition resolves within a round trip, not a heartbeat.
    ctx.sendNow = true;
    ctx.notes.push({ level: 'info', peer: msg.node, msg: `peer ${msg.node} ${kind === 'new' ? 'heard' : kind}` });
  }
  if (msg.type === 'resign') ctx.notes.push({ level: 'info', peer: msg.node, msg: `peer ${msg.node} resigned` });
  // A probing peer missed our heartbeats or is confirming an ICMP error: answer now.
  if (msg.type === 'probe' && beat.answerProbe(input.now)) ctx.sendNow = true;
}
