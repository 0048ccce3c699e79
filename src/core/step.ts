/**
 * Shared pieces of one election step: the step context, the action order, and questions
 * about a group (its mode; does a reload keep its VIP where it is).
 */
import type { GroupConfig, VipPlacement } from '../config/types.js';
import { isBgpGroup, isLevipGroup, isSharedGroup, vipDevice, vipPlacements } from '../config/vip-device.js';
import { sameVip } from '../config/vip.js';
import type { GroupRt } from './group.js';
import type { Action, Millis, Note, Transition } from './types.js';

export interface StepCtx {
  now: Millis;
  actions: Action[];
  transitions: Transition[];
  notes: Note[];
  sendNow: boolean;
  /** ask peers to answer at once (a probe): we need their state now (start, back from fault). */
  solicit: boolean;
  /** a peer's heartbeat arrived in this step (a follower may send with it: beat.ts). */
  heard: boolean;
  /** a peer appeared or came back: whoever is active re-announces (it may have held the VIP). */
  peerReturned: boolean;
  /** groups a peer just stopped advertising as active: a late GARP of its may point the router at it. */
  peerYielded: Set<string> | null;
}

export function isLevip(g: GroupRt): boolean {
  return isLevipGroup(g.cfg);
}

/** A bgp group: its VIPs are announced by the routing daemon, never by ARP. */
export function isBgp(g: GroupRt): boolean {
  return isBgpGroup(g.cfg);
}

/** Every eligible member is active (LevIP, ecmp bgp): nobody competes, no dual-active rule. */
export function isShared(g: GroupRt): boolean {
  return isSharedGroup(g.cfg);
}

/**
 * The group's VIPs stay where they are: the same set of VIPs (in any order), each on the same
 * interface and device, and the same group interface. A reload keeps such a group (and its
 * state); anything else (a VIP added, removed or moved) is a new group. vipDevice: a switch
 * between failover and levip moves the VIP (interface <-> lo).
 */
export function sameVipPlacement(a: GroupConfig, b: GroupConfig): boolean {
  const pa = vipPlacements(a);
  const pb = vipPlacements(b);
  const within = (x: VipPlacement[], y: VipPlacement[]) => x.every((p) => y.some((q) => sameVip(p.vip, q.vip) && p.iface === q.iface));
  return pa.length === pb.length && within(pa, pb) && within(pb, pa) && a.interface === b.interface && vipDevice(a) === vipDevice(b);
}

/** Release before claim, claim before announce, announce before telling peers, probes after, exit last. */
export function order(actions: Action[]): Action[] {
  if (actions.length < 2) return actions;
  const rank = (a: Action): number => {
    switch (a.kind) {
      case 'ensureVip':
        return a.present ? 1 : 0;
      case 'announce':
      case 'levipAnswer':
        return 2;
      case 'send':
        return 3;
      case 'detect':
      case 'confirm':
        return 4;
      case 'exit':
        return 5;
    }
  };
  return actions.map((a, i) => [a, i] as const).sort((x, y) => rank(x[0]) - rank(y[0]) || x[1] - y[1]).map(([a]) => a);
}
