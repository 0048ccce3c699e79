/**
 * Which groups are LevIP groups, and where a group's VIPs live. Pure, so the core, the agent
 * and the `release` command all agree on the devices without importing any effect.
 *
 * A LevIP member holds the IP as /32 on `lo`, never on the front interface: with `arp_ignore=1`
 * on that interface the kernel then answers ARP for it nowhere, and only the slot owner's
 * unsolicited replies (and, during its slot, its answers) tell the router where it is
 * (docs/levip.md "Keeping the levelers quiet").
 */
import type { BgpConfig, GroupConfig, LevipConfig, VipPlacement } from './types.js';
import { vipsCidr } from './vip.js';

/** The device a LevIP group's shared IP is added to. */
export const LEVIP_VIP_DEVICE = 'lo';

export type LevipGroupConfig = GroupConfig & { mode: 'levip'; levip: LevipConfig };

export function isLevipGroup(g: GroupConfig): g is LevipGroupConfig {
  return g.mode === 'levip' && g.levip !== undefined;
}

export type BgpGroupConfig = GroupConfig & { mode: 'bgp'; bgp: BgpConfig };

export function isBgpGroup(g: GroupConfig): g is BgpGroupConfig {
  return g.mode === 'bgp' && g.bgp !== undefined;
}

/** Every eligible member holds the VIPs at once: LevIP, and bgp groups of the ecmp style. */
export function isSharedGroup(g: GroupConfig): boolean {
  return isLevipGroup(g) || (isBgpGroup(g) && g.bgp.style === 'ecmp');
}

/** Where the group's VIP is added and removed: `lo` for LevIP, bgp.device for bgp, the group's interface otherwise. */
export function vipDevice(g: GroupConfig): string {
  if (isBgpGroup(g)) return g.bgp.device;
  return isLevipGroup(g) ? LEVIP_VIP_DEVICE : g.interface;
}

/**
 * Every VIP of the group with the interface it is on and announced on, first VIP first. A
 * group built by hand without `vips` has its one VIP on its interface.
 */
export function groupVips(g: GroupConfig): readonly VipPlacement[] {
  return g.vips ?? [{ vip: g.vip, iface: g.interface }];
}

/**
 * The group's VIPs as one word, first first: what notify hooks get as their VIP argument (and
 * HAAGENT_VIP), the event stream's `vip` and the service status line show.
 */
export function groupVipsText(g: GroupConfig): string {
  return vipsCidr(groupVips(g).map((p) => p.vip));
}

/** Where each VIP of the group is added and removed: `lo` for LevIP (one VIP), bgp.device for bgp, its interface otherwise. */
export function vipPlacements(g: GroupConfig): VipPlacement[] {
  const shared = isLevipGroup(g) || isBgpGroup(g) ? vipDevice(g) : null;
  return groupVips(g).map((p) => ({ vip: p.vip, iface: shared ?? p.iface }));
}
