/**
 * Which groups are LevIP groups and where their shared IP lives. Pure, so the core, the
 * agent and the `release` command all agree on the device without importing any effect.
 *
 * A LevIP member holds the IP as /32 on `lo`, never on the front interface: with `arp_ignore=1`
 * on that interface the kernel then answers ARP for it nowhere, and only the slot owner's
 * unsolicited replies (and, during its slot, its answers) tell the router where it is
 * (docs/levip.md "Keeping the levelers quiet").
 */
import type { GroupConfig, LevipConfig } from './types.js';

/** The device a LevIP group's shared IP is added to. */
export const LEVIP_VIP_DEVICE = 'lo';

export type LevipGroupConfig = GroupConfig & { mode: 'levip'; levip: LevipConfig };

export function isLevipGroup(g: GroupConfig): g is LevipGroupConfig {
  return g.mode === 'levip' && g.levip !== undefined;
}

/** Where the group's VIP is added and removed: `lo` for LevIP, the group's interface otherwise. */
export function vipDevice(g: GroupConfig): string {
  return isLevipGroup(g) ? LEVIP_VIP_DEVICE : g.interface;
}
