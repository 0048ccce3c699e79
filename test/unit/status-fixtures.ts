/** Status records for the tests of what reads them (status, --check, events, metrics): d0 standby for web, d1 active. */
import type { GroupStatus, PeerStatus, StatusRecord } from '../../src/daemon/status-view.js';

export function web(over: Partial<GroupStatus> = {}): GroupStatus {
  return {
    name: 'web', state: 'standby', vip: '198.51.100.100/32', interface: 'eth0', priority: 150, advertisedPriority: 150, preempt: true, vipPresent: false,
    activeNode: 'd1', activeSinceMs: 4000, stateSinceMs: 4000, transitions: 1, announcements: 0, faultReason: null, lastVipError: null, operator: null,
    healthFault: null, healthPending: null, reach: 0, checks: [], conflicts: 0, lastConflict: null, sync: null, ...over,
  };
}

export function peer(over: Partial<PeerStatus> = {}): PeerStatus {
  return { node: 'd1', address: '198.51.100.11', port: 694, alive: true, lastHeardMsAgo: 40, bootId: '7', received: 12, groups: [{ name: 'web', state: 'active', priority: 100, reach: 0 }], paths: [], icmpRefuted: 0, ...over };
}

export function record(over: Partial<StatusRecord> = {}): StatusRecord {
  return {
    node: 'd0', cluster: 'lb1', pid: 4321, uptimeMs: 5000, maintenance: false, shuttingDown: false, groups: [web()],
    peers: [peer()],
    heartbeats: { sent: 10, received: 12, sendErrors: 0 }, dropped: {}, ...over,
  };
}
