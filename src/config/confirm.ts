/**
 * The announcement check's cross-field rules (the keys are in schema.ts, the behaviour in
 * src/core/confirm.ts): it asks an IPv4 gateway over ARP, so the gateway is IPv4, the group
 * has an IPv4 VIP to ask from, and it is a failover group (LevIP members never announce on
 * their own: the rotation does; a bgp group's VIPs are routed, never announced over ARP).
 */
import { parseIp } from './fields.js';
import { rawGroupVips, type VipsIssue } from './group-vips.js';

type Obj = Record<string, unknown>;

/** `confirm`: the group's mapping (a non-mapping is the schema's to report). */
export function checkConfirm(g: Obj, i: number, confirm: Obj | undefined, out: VipsIssue[]): void {
  if (!confirm) return;
  if (g.mode === 'levip') {
    out.push({ path: ['groups', i, 'confirm'], expected: 'no confirm mapping in a levip group (the rotation announces, not a takeover)' });
    return;
  }
  if (g.mode === 'bgp') {
    out.push({ path: ['groups', i, 'confirm'], expected: 'no confirm mapping in a bgp group (its VIPs are routed, not announced over ARP)' });
    return;
  }
  const gw = parseIp(confirm.gateway);
  // An invalid address is the schema's to report.
  if (gw.ok && gw.value.family !== 4) out.push({ path: ['groups', i, 'confirm', 'gateway'], expected: 'an IPv4 address (the check speaks ARP; IPv6 VIPs are announced but not confirmed)' });
  const vips = rawGroupVips(g, i);
  if (vips.length > 0 && !vips.some((v) => v.vip.family === 4)) {
    out.push({ path: ['groups', i, 'confirm'], expected: 'no confirm mapping in a group without an IPv4 VIP (the check asks from an IPv4 VIP over ARP)', showValue: false });
  }
}
