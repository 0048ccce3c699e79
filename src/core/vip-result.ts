/**
 * A VIP change's result for a live group (vipResult input; a retired group's result goes to
 * reconfigure.ts): what the group has now, the takeover's announcement once the VIPs are on,
 * and a failed change escalated to fault.
 */
import { vipPlacements } from '../config/vip-device.js';
import type { GroupRt } from './group.js';
import { isBgp, isLevip, type StepCtx } from './step.js';
import { announce, ensureVip, toFault } from './transitions.js';
import type { Input } from './types.js';

export function liveVipResult(g: GroupRt, r: Extract<Input, { kind: 'vipResult' }>, ctx: StepCtx): void {
  g.vipPending = Math.max(0, g.vipPending - 1);
  if (r.ok) {
    g.vipHave = r.present;
    g.vipError = null;
    if (r.present) g.retryBackoff = 0; // healthy again only once a claim succeeded
    if (r.present && g.state === 'active' && g.vipWant === true) {
      // LevIP members never announce on their own: the rotation does (levip/mode.ts); a
      // bgp group's route is announced by the routing daemon once the VIP is on its device.
      const arp = !isLevip(g) && !isBgp(g);
      if (arp) announce(g, 'took over', ctx);
      ctx.sendNow = true;
      if (arp && g.cfg.garp.refresh > 0) g.refreshAt = ctx.now + g.cfg.garp.refresh;
    }
    // What we want may have changed while this change ran (a flap): follow the latest want.
    if (g.vipWant !== null && g.vipWant !== r.present) ensureVip(g, g.vipWant, ctx);
    return;
  }
  g.vipError = r.error ?? 'unknown error';
  const what = r.present ? 'add' : 'remove';
  ctx.notes.push({ level: 'error', group: g.name, msg: `cannot ${what} VIP: ${g.vipError}` });
  // Unknown: evalFault keeps trying to remove it. After a failed add too when the group has
  // several VIPs: those that went on are still there, and the whole group must come off.
  if (!r.present || vipPlacements(g.cfg).length > 1) g.vipHave = null;
  // After a failed add, clear the VIPs at once (never a half-claimed group); after a failed
  // remove, wait for the retry deadline instead of spinning on a command that just failed.
  toFault(g, `cannot ${what} VIP: ${g.vipError}`, ctx, r.present);
}
