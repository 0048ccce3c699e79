/** Live reload inside the core: groups diffed by name. */
import { GroupRt } from './group.js';
import type { PeerTable } from './peers.js';
import { sameVipPlacement, type StepCtx } from './step.js';
import { ensureVip } from './transitions.js';
import type { CoreOptions, Input, Millis } from './types.js';

/** What a reload reads and changes of the core (the Core class; an interface, so no import cycle). */
interface ReloadCore {
  readonly opts: CoreOptions;
  readonly peers: PeerTable;
  groups: GroupRt[];
  retired: GroupRt[];
  nextGid: number;
  changeInterval(ms: Millis): void;
  group(name: string): GroupRt | undefined;
}

/**
 * Applies a new configuration. A group whose VIPs and interfaces are unchanged keeps its
 * state and VIPs (only its settings change, so no flap); a group whose VIP list or interface
 * changed is replaced (every old VIP released, the new group starts in init); removed groups
 * release their VIPs; new groups start in init and listen for the init-dead time.
 */
export function reconfigure(core: ReloadCore, o: Omit<CoreOptions, 'node' | 'maintenance'>, ctx: StepCtx): void {
  Object.assign(core.opts, { interval: o.interval, deadTime: o.deadTime, initDead: o.initDead, expectedPeers: o.expectedPeers, groups: o.groups });
  core.peers.setDeadTime(o.deadTime);
  core.changeInterval(o.interval);
  const next: GroupRt[] = [];
  for (const cfg of o.groups) {
    const cur = core.group(cfg.name);
    if (cur && sameVipPlacement(cur.cfg, cfg)) {
      cur.cfg = cfg;
      next.push(cur);
      continue;
    }
    const g = new GroupRt(cfg, ctx.now, core.nextGid++);
    g.initUntil = ctx.now + o.initDead;
    next.push(g);
    ctx.notes.push({ level: 'info', group: cfg.name, msg: cur ? 'group VIPs or interface changed: replacing it' : 'group added' });
    ensureVip(g, false, ctx);
  }
  for (const g of core.groups) {
    if (next.includes(g)) continue;
    ctx.notes.push({ level: 'info', group: g.name, msg: 'group removed: releasing its VIP' });
    retire(core, g, ctx);
  }
  core.groups = next;
  ctx.sendNow = true;
}

function retire(core: ReloadCore, g: GroupRt, ctx: StepCtx): void {
  core.retired.push(g);
  g.vipWant = null; // force the removal even if we believe it absent
  ensureVip(g, false, ctx);
}

/** A VIP result for a group a reload removed: forget the group once its VIP is gone. */
export function retiredResult(core: ReloadCore, g: GroupRt, r: Extract<Input, { kind: 'vipResult' }>, ctx: StepCtx): void {
  g.vipPending = Math.max(0, g.vipPending - 1);
  if (r.ok && !r.present) {
    if (g.vipPending === 0) core.retired = core.retired.filter((x) => x !== g);
    return;
  }
  if (r.ok) {
    // A change that was in flight when the reload removed the group (one at a time per
    // group) has finished: now the removal.
    g.vipWant = null;
    ensureVip(g, false, ctx);
    return;
  }
  ctx.notes.push({ level: 'error', group: g.name, msg: `cannot release the VIP of a removed group: ${r.error ?? 'unknown error'}` });
}

