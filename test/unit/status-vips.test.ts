/**
 * What names a group's VIPs, for a group of several: the status record (`vip` stays the first,
 * `vips` lists all with their interfaces), the text of `haagent status`, the service status
 * line, the metrics' info series, and the one word hooks and events get.
 */
import t from 'tap';
import { Core } from '../../src/core/election.js';
import type { VipPlacement } from '../../src/config/types.js';
import { groupVipsText } from '../../src/config/vip-device.js';
import { formatStatus, serviceStatusLine, statusView } from '../../src/daemon/status-view.js';
import type { DriverStats } from '../../src/daemon/driver.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { group } from '../scenarios/sim.js';

const NAT: VipPlacement[] = [
  { vip: { address: '198.51.100.100', prefix: 32, family: 4 }, iface: 'eth0' },
  { vip: { address: '203.0.113.1', prefix: 24, family: 4 }, iface: 'eth1' },
];
const nat = group('nat', 150, { vip: NAT[0]!.vip, vips: NAT });
const stats: DriverStats = { sent: 0, probesSent: 0, sendErrors: 0, received: 0, receivedByPeer: new Map(), vipFailures: 0, transitions: 0 };

function record() {
  const core = new Core({ node: 'd0', interval: 50, deadTime: 150, initDead: 300, expectedPeers: 0, groups: [nat, group('web', 100, { vip: { address: '198.51.100.101', prefix: 32, family: 4 } })] });
  core.step({ kind: 'start', now: 0 });
  return statusView(core, stats, {}, { cluster: 'lb1', pid: 1, now: 10 });
}

t.test('status record: vip is the first VIP, vips all of them with their interfaces', async (t) => {
  const s = record();
  t.match(s.groups[0], { vip: '198.51.100.100/32', interface: 'eth0', vips: [{ vip: '198.51.100.100/32', interface: 'eth0' }, { vip: '203.0.113.1/24', interface: 'eth1' }] });
  t.same(s.groups[1]!.vips, [{ vip: '198.51.100.101/32', interface: 'eth0' }], 'a group of one VIP lists it too');
});

t.test('status text: every VIP, those on another interface with it; a record without vips shows its vip', async (t) => {
  const s = record();
  const text = formatStatus(s);
  t.match(text, /\nnat +INIT +198\.51\.100\.100\/32, 203\.0\.113\.1\/24 on eth1 +eth0 /);
  t.match(text, /\nweb +INIT +198\.51\.100\.101\/32 +eth0 /);
  const old = { ...s, groups: s.groups.map(({ vips: _vips, ...g }) => g) };
  t.match(formatStatus(old), /\nnat +INIT +198\.51\.100\.100\/32 +eth0 /, "an older agent's record");
});

t.test('hooks, events and the service line get the VIPs comma-separated, first first', async (t) => {
  t.equal(groupVipsText(nat), '198.51.100.100/32,203.0.113.1/24');
  t.equal(groupVipsText(group('web', 100)), '198.51.100.100/32', 'one VIP: as before');
  t.equal(serviceStatusLine([{ name: 'nat', state: 'active', vip: groupVipsText(nat), activeNode: 'd0' }], 'd0'), 'nat active 198.51.100.100/32,203.0.113.1/24');
});

t.test('metrics: one haagent_group_vip_info series per VIP', async (t) => {
  const text = await new Metrics(() => record(), { defaultMetrics: false }).text();
  const series = text.split('\n').filter((l) => l.startsWith('haagent_group_vip_info{'));
  t.same(series.sort(), [
    'haagent_group_vip_info{group="nat",vip="198.51.100.100/32",interface="eth0"} 1',
    'haagent_group_vip_info{group="nat",vip="203.0.113.1/24",interface="eth1"} 1',
    'haagent_group_vip_info{group="web",vip="198.51.100.101/32",interface="eth0"} 1',
  ]);
});
