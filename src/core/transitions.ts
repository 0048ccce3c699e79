/**
 * The core's state changes of one group, each a function of the group and the step: a
 * state, the VIP wanted, the announcements. Core's evaluation (election.ts) decides when.
 */
import { DEFAULTS } from '../config/defaults.js';
import { groupVips, vipPlacements } from '../config/vip-device.js';
import type { GroupRt } from './group.js';
import type { StepCtx } from './step.js';
import type { Millis } from './types.js';

export function becomeActive(g: GroupRt, reason: string, ctx: StepCtx): void {
  g.become('active', ctx.now, reason, ctx.transitions);
  ensureVip(g, true, ctx);
  // The triggered heartbeat goes out when the VIP is confirmed (onVipResult).
}

export function becomeStandby(g: GroupRt, reason: string, ctx: StepCtx): void {
  g.become('standby', ctx.now, reason, ctx.transitions);
  ensureVip(g, false, ctx);
  ctx.sendNow = true;
}

export function toFault(g: GroupRt, reason: string, ctx: StepCtx, removeNow: boolean): void {
  if (g.state !== 'fault') g.become('fault', ctx.now, reason, ctx.transitions);
  g.faultReason = reason;
  g.retryAt = ctx.now + nextBackoff(g);
  if (removeNow) ensureVip(g, false, ctx);
  ctx.sendNow = true;
}

/**
 * A fault the health monitor reports: no retry timer, since the monitor says when it is
 * over (its rise/fall and hold-down damp flapping). The group leaves fault as soon as its
 * VIP is gone and the check passes, not a backoff later.
 */
export function toHealthFault(g: GroupRt, reason: string, ctx: StepCtx): void {
  toFault(g, reason, ctx, true);
  g.retryAt = null;
}

export function nextBackoff(g: GroupRt): Millis {
  g.retryBackoff = g.retryBackoff === 0 ? DEFAULTS.election.faultRetryMin : Math.min(DEFAULTS.election.faultRetryMax, g.retryBackoff * 2);
  return g.retryBackoff;
}

export function ensureVip(g: GroupRt, present: boolean, ctx: StepCtx): void {
  const settled = g.vipWant === present && g.vipHave === present;
  g.vipWant = present;
  // One change in flight per group: a flapping node must not queue add, remove, add... and
  // re-add a VIP it has lost meanwhile. The result handler follows the latest want.
  if (g.vipPending > 0 || settled) return;
  g.vipPending++;
  ctx.actions.push({ kind: 'ensureVip', group: g.name, gid: g.id, present, vips: vipPlacements(g.cfg) }); // lo for LevIP
}

/** One request and one reply: the router already knows us; this only wins back a late race. */
export function reannounce(g: GroupRt, reason: string, ctx: StepCtx): void {
  ctx.actions.push({ kind: 'announce', group: g.name, gid: g.id, reason, vips: [...groupVips(g.cfg)], garp: { ...g.cfg.garp, count: 1, form: 'both' } });
}

export function announce(g: GroupRt, reason: string, ctx: StepCtx): void {
  ctx.actions.push({ kind: 'announce', group: g.name, gid: g.id, reason, vips: [...groupVips(g.cfg)], garp: g.cfg.garp });
}
