/**
 * The keepalived keywords that have no haagent counterpart, each with the reason it gives
 * the operator, and the gratuitous-ARP keywords that do (count and refresh of the burst,
 * spacing between frames). Pure.
 */
import { LIMITS } from '../config/limits.js';
import type { KaStatement } from './keepalived-parse.js';
import { clamp, formatSeconds, integerArg, secondsArg } from './keepalived-values.js';
import type { Report } from './report.js';

/** A group's `garp` keys, as far as keepalived set them. */
export interface Garp {
  count?: number;
  spacing?: string;
  refresh?: string;
}

const LVS = 'haagent does not manage IPVS: keep the table with ipvsadm (saved and restored at boot), or run keepalived for its checker alone (keepalived --check) next to haagent; real servers can use haagent\'s realserver role';
const MAIL = 'haagent sends no mail: send it from a notify hook';
const NONE = 'no haagent equivalent';
const STATIC = 'haagent moves VIPs only: keep static addresses, routes and rules in the host\'s network configuration';
const AUTH = 'haagent authenticates heartbeats with HMAC-SHA256 under a key file, not a password: run `haagent keygen --out /etc/haagent/key` on one director and copy the file to the other (mode 0600, owner haagent)';
const INCLUDE = 'not followed (this converter reads one file): convert the included file too, or paste it in';

/** Reasons by keyword, wherever it appears. */
const REASONS: Record<string, string> = {
  include: INCLUDE,
  authentication: AUTH,
  auth_hmac: AUTH,
  use_vmac: 'haagent adds the VIP to the interface itself and announces it with that interface\'s MAC (no macvlan or ipvlan)',
  virtual_routes: 'haagent moves the VIP only: add routes and rules from a notify hook',
  track_file: `${NONE}: an exec check can test the same thing`,
  track_process: `${NONE}: a tcp or http check of the service tests more than its process`,
  track_bfd: NONE,
  notify_stop: 'haagent runs hooks on state transitions only (a stopping agent hands over and becomes standby)',
  notify_deleted: 'haagent runs hooks on state transitions only',
  notify_master_rx_lower_pri: 'haagent runs hooks on state transitions only; it re-announces the VIP itself when a dual active ends in its favour',
  smtp_alert: MAIL,
  notification_email: MAIL,
  notification_email_from: MAIL,
  smtp_server: MAIL,
  smtp_connect_timeout: MAIL,
  smtp_helo_name: MAIL,
  script_user: 'hooks and checks run as the agent\'s user (haagent under the shipped unit)',
  vrrp_mcast_group4: 'haagent\'s heartbeats are UDP, to heartbeat.peers or heartbeat.multicast, not VRRP adverts',
  vrrp_mcast_group6: 'haagent\'s heartbeats are UDP, to heartbeat.peers or heartbeat.multicast, not VRRP adverts',
  virtual_server: LVS,
  virtual_server_group: LVS,
  lvs_sync_daemon: LVS,
  lvs_flush: LVS,
  lvs_timeouts: LVS,
  lvs_id: LVS,
  static_ipaddress: STATIC,
  static_routes: STATIC,
  static_rules: STATIC,
  garp_master_delay: 'haagent sends one burst at takeover and no second one after a delay; garp.refresh repeats it periodically if the router needs more',
  garp_master_refresh_repeat: 'haagent\'s refresh sends the same burst as a takeover (garp.count frames per form)',
  garp_lower_prio_delay: 'haagent re-announces when a dual active ends in its favour, at once',
  garp_lower_prio_repeat: 'haagent re-announces when a dual active ends in its favour, at once',
  garp_extra_if: NONE,
};
for (const alias of ['use_vmac_addr', 'vmac_xmit_base', 'use_ipvlan']) REASONS[alias] = REASONS.use_vmac!;
REASONS.virtual_rules = REASONS.virtual_routes!;
REASONS.vrrp_track_process = REASONS.track_process!;
REASONS.vrrp_track_file = REASONS.track_file!;
for (const mail of ['smtp_alert_vrrp', 'smtp_alert_checker', 'no_email_faults']) REASONS[mail] = MAIL;

/**
 * VRRP's own wire settings: haagent's heartbeat protocol replaces VRRP and has none of them,
 * so nothing the operator relied on is lost; they are listed as differences, not omissions.
 */
const PROTOCOL = new Set([
  'vrrp_strict', 'strict_mode', 'vrrp_skip_check_adv_addr', 'skip_check_adv_addr', 'check_unicast_src', 'unicast_ttl', 'mcast_dst_ip',
  'accept', 'no_accept', 'old_unicast_checksum', 'v3_checksum_as_v2', 'vrrp_check_unicast_src', 'lower_prio_no_advert',
  'vrrp_lower_priority_dont_send_advert', 'higher_prio_send_advert', 'vrrp_higher_prio_send_advert', 'unicast_fault_no_peer',
]);

/** Lists `k` as not carried over with its reason, or as a difference for a VRRP wire setting. */
export function dropKey(k: KaStatement, report: Report): void {
  const subject = [k.key, ...k.args].join(' ');
  if (PROTOCOL.has(k.key)) report.differs(k.line, subject, 'it is a VRRP protocol setting: haagent speaks its own authenticated heartbeat protocol, which needs none');
  else report.dropped(k.line, subject, REASONS[k.key] ?? NONE);
}

/**
 * A gratuitous-ARP keyword of an instance, or of global_defs with its `vrrp_` prefix, into
 * `garp`; false when `k` is none. The ones haagent has no equivalent for are listed.
 */
export function garpKey(k: KaStatement, garp: Garp, report: Report): boolean {
  const key = k.key.replace(/^vrrp_/, '');
  if (key === 'garp_master_repeat') {
    const n = integerArg(k, report, 1, 255);
    if (n !== null) garp.count = clamp(n, LIMITS.garpCount);
    if (n !== null && n !== garp.count) report.differs(k.line, k.key, `haagent sends at most ${LIMITS.garpCount.max} per form: ${garp.count} used`);
  } else if (key === 'garp_master_refresh') {
    const ms = secondsArg(k, report, 0);
    if (ms !== null) garp.refresh = formatSeconds(ms === 0 ? 0 : clamp(ms, LIMITS.garpRefresh));
  } else if (key === 'garp_interval' || key === 'gna_interval') {
    // One spacing serves gratuitous ARPs and neighbour advertisements alike.
    const ms = secondsArg(k, report, 0);
    const spacing = ms === null ? null : formatSeconds(Math.min(ms, LIMITS.garpSpacing.max));
    if (spacing !== null && garp.spacing !== undefined && garp.spacing !== spacing) report.differs(k.line, k.key, `haagent spaces ARPs and neighbour advertisements alike: ${garp.spacing} kept`);
    else if (spacing !== null) garp.spacing = spacing;
  } else if (key.startsWith('garp_')) {
    report.dropped(k.line, [k.key, ...k.args].join(' '), REASONS[key] ?? NONE);
  } else return false;
  return true;
}
