// keepalived.conf files of several shapes (test/fixtures/keepalived/) converted to haagent.yaml:
// every result loads with haagent's own loader, the values are keepalived's (dead time by
// keepalived's rule, seconds kept as seconds), and the not-carried-over list names the right
// lines (found in the fixture by their text, not by number).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { parseConfigText } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import { vipCidr } from '../../src/config/vip.js';
import { groupVips } from '../../src/config/vip-device.js';
import { convertKeepalived } from '../../src/migrate/keepalived.js';
import type { Note } from '../../src/migrate/report.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/keepalived/${name}`, import.meta.url), 'utf8');

/** 1-based line of the first line of `text` containing `needle` (fails the test when none does). */
function lineOf(text: string, needle: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(needle));
  if (i < 0) throw new Error(`no line contains ${needle}`);
  return i + 1;
}

/** The fixture converted and loaded back with haagent's loader. */
function convert(name: string, node?: string): { text: string; config: Config; notes: Note[]; yaml: string } {
  const text = fixture(name);
  const r = convertKeepalived(text, { source: name, ...(node ? { node } : {}) });
  if (!r.ok) throw new Error(`${name}: ${JSON.stringify(r.errors)}`);
  const loaded = parseConfigText(r.yaml, `${name}.yaml`, { hostname: 'test-host' });
  if (!loaded.ok) throw new Error(`${name}: the converted file does not load: ${JSON.stringify(loaded.issues)}\n${r.yaml}`);
  return { text, config: loaded.config, notes: r.notes, yaml: r.yaml };
}

/** The lines of the notes of one kind, each with its subject, for comparing with the fixture. */
const lines = (notes: Note[], kind: Note['kind']) => notes.filter((n) => n.kind === kind).map((n) => n.line);

/** keepalived's master-down interval: 3 adverts plus a skew of (256 - priority)/256 s (v2) or adverts (v3). */
const masterDown = (advertMs: number, priority: number, v3: boolean) => Math.round(3 * advertMs + ((256 - priority) * (v3 ? advertMs : 1000)) / 256);

t.test('a MASTER/BACKUP pair: one group each, same cluster, priorities and dead times by keepalived\'s rule', async (t) => {
  const a = convert('pair-master.conf');
  const b = convert('pair-backup.conf');
  for (const [c, node, priority] of [[a, 'lb1', 150], [b, 'lb2', 100]] as const) {
    t.equal(c.config.node, node, 'router_id is the node name');
    t.equal(c.config.groups.length, 1);
    const g = c.config.groups[0]!;
    t.match(g, { name: 'VI_1', vip: { address: '192.168.200.16', prefix: 24 }, interface: 'eth0', priority, preempt: true, preemptDelay: 0 });
    t.equal(c.config.heartbeat.interval, 1000, 'advert_int 1 is one second');
    t.equal(c.config.heartbeat.deadTime, masterDown(1000, priority, false));
    t.equal(c.config.heartbeat.multicast, '239.255.6.94', 'no unicast_peer: heartbeats by multicast');
    t.same(lines(c.notes, 'dropped'), [lineOf(c.text, 'authentication {')], 'only the password is left out');
    t.match(c.notes.find((n) => n.kind === 'dropped')?.text, /haagent keygen --out \/etc\/haagent\/key/, 'with the keygen step');
    t.same(lines(c.notes, 'differs'), [lineOf(c.text, 'vrrp_instance VI_1')], 'the multicast difference, at the instance');
  }
  t.equal(a.config.cluster, b.config.cluster, 'both directors convert to the same cluster');
  t.ok(b.config.heartbeat.deadTime > a.config.heartbeat.deadTime, 'the lower priority waits longer, as in VRRP');
  t.equal(convert('pair-master.conf', 'd0').config.node, 'd0', '--node wins over router_id');
});

t.test('unicast peers, track_script and notify scripts', async (t) => {
  const { text, config, notes } = convert('unicast-scripts.conf');
  const hb = config.heartbeat;
  t.equal(hb.bind, '10.0.0.11', 'unicast_src_ip is heartbeat.bind');
  t.same(hb.peers.map((p) => p.address), ['10.0.0.12'], 'unicast_peer is heartbeat.peers');
  t.equal(hb.multicast, null);
  const g = config.groups[0]!;
  t.equal(g.name, 'web');
  t.same(g.vip, { address: '203.0.113.10', prefix: 24, family: 4 }, 'the first VIP');
  t.equal(g.interface, 'eth1', 'the VIPs\' common dev is the group\'s interface');
  t.same(groupVips(g).map((v) => [vipCidr(v.vip), v.iface]), [['203.0.113.10/24', 'eth1'], ['203.0.113.11/24', 'eth1']], 'both VIPs, in one group');
  t.same(g.trackInterfaces, ['eth0'], 'the instance\'s own interface stays tracked; eth1 is the VIP\'s interface');
  t.equal(g.preempt, false, 'nopreempt');
  t.equal(g.garp.refresh, 60_000, 'garp_master_refresh 60 is seconds');
  t.equal(g.priority, 120 + 10, 'the positive weight is added to the base priority');
  const checks = Object.fromEntries((g.checks ?? []).map((c) => [c.name, c]));
  t.match(checks.chk_haproxy, { type: 'exec', command: ['/usr/bin/killall', '-0', 'haproxy'], interval: 2000, timeout: 2000, rise: 2, fall: 2, weight: 20, holdDown: 0 });
  t.match(checks.chk_http, { command: ['/usr/local/bin/check-http', '--port', '80'], interval: 1500, timeout: 3000, rise: 1, fall: 1, weight: 10 });
  t.match(checks.chk_port, { command: ['/bin/sh', '-c', '</dev/tcp/127.0.0.1/443'], interval: 1000, timeout: 1000, weight: 'fault' }, 'keepalived\'s defaults: 1 s, timeout = interval, weight 0 = fault');
  t.equal(g.notify?.length, 4, 'notify_master, notify_backup, notify_fault, notify');
  t.ok(g.notify?.every((h) => h[0] === '/bin/sh' && h[1] === '-c'));
  t.same(lines(notes, 'dropped'), [
    lineOf(text, 'script_user root'),
    lineOf(text, 'authentication {'),
    lineOf(text, '203.0.113.10/24 dev eth1 label'),
    lineOf(text, 'eth2 weight -10'),
    lineOf(text, 'garp_master_delay'),
    lineOf(text, 'notify_fault'),
    lineOf(text, 'smtp_alert'),
  ]);
  t.match(notes.find((n) => n.line === lineOf(text, '203.0.113.10/24 dev eth1 label'))?.text, /other ip-address options are not applied/);
  t.same(lines(notes, 'differs'), [
    lineOf(text, 'killall -0 haproxy'),
    lineOf(text, '</dev/tcp'),
    lineOf(text, '10.0.0.12'),
    lineOf(text, '        chk_http'),
    lineOf(text, 'notify_master'),
    lineOf(text, 'notify_backup'),
    lineOf(text, 'notify_fault'),
    lineOf(text, 'notify /etc'),
  ]);
});

t.test('a sync group becomes a sync unit of its instances\' groups, heartbeat merged', async (t) => {
  const { text, config, notes } = convert('sync-group.conf');
  t.same(config.groups.map((g) => [g.name, g.sync]), [['VI_OUT', 'VG_1'], ['VI_IN', 'VG_1']], 'one group per instance, both in unit VG_1');
  t.equal(config.heartbeat.interval, 500, 'the smallest advert_int');
  t.equal(config.heartbeat.deadTime, Math.min(masterDown(1000, 200, false), masterDown(500, 200, true)), 'the shortest master-down interval');
  t.ok(config.groups.every((g) => g.garp.spacing === 10), 'vrrp_garp_interval applies to every group');
  t.same(config.groups[0]!.checks?.map((c) => [c.name, c.weight]), [['chk_uplink', 'fault']], 'the weighted tracker keepalived ignored in a sync group is left out');
  t.notOk(notes.some((n) => n.line === lineOf(text, 'vrrp_sync_group VG_1')), 'the sync group itself is carried over');
  t.match(notes.find((n) => n.line === lineOf(text, 'vg-master.sh')), { kind: 'dropped', text: /each member group's own hooks/ });
  t.same(lines(notes, 'dropped'), [lineOf(text, 'vg-master.sh'), lineOf(text, '        chk_load')]);
  t.same(lines(notes, 'differs'), [lineOf(text, 'vrrp_skip_check_adv_addr'), lineOf(text, 'vrrp_instance VI_OUT'), lineOf(text, 'advert_int 1')]);
  t.match(notes.find((n) => n.line === lineOf(text, 'advert_int 1')), { kind: 'differs', text: /smallest advert_int, 500ms/ });
});

t.test('an LVS-NAT instance: every VIP in one group, each on its dev; a sync unit left with one member is taken off', async (t) => {
  const { text, config, notes, yaml } = convert('nat-director.conf');
  t.same(config.groups.map((g) => g.name), ['VI_NAT'], 'the instance without a VIP is not a group');
  const g = config.groups[0]!;
  t.equal(g.interface, 'eth0', 'the instance\'s interface, where the VIPs without a dev go');
  t.same(groupVips(g).map((v) => [vipCidr(v.vip), v.iface]), [['198.51.100.100/32', 'eth0'], ['203.0.113.1/24', 'eth1'], ['198.51.100.101/32', 'eth0']], 'virtual_ipaddress and virtual_ipaddress_excluded, in order');
  t.equal(g.sync, undefined, 'no sync unit of one group');
  t.match(yaml, /interface: eth1/, 'the inside VIP names its interface');
  t.match(notes.find((n) => n.line === lineOf(text, 'vrrp_sync_group VG_NAT')), { kind: 'dropped', text: /1 of its instances became a group/ });
  t.match(notes.find((n) => n.line === lineOf(text, 'vrrp_instance VI_GONE')), { kind: 'dropped', text: /no virtual_ipaddress/ });
});

t.test('LVS-DR: the VRRP part converts, every virtual_server is listed once', async (t) => {
  const { text, config, notes } = convert('lvs-dr.conf');
  t.equal(config.node, 'LVS_DEVEL');
  t.same(config.groups[0]!.vip, { address: '192.168.200.100', prefix: 32, family: 4 }, 'no mask is a host address, as in keepalived');
  const dropped = notes.filter((n) => n.kind === 'dropped');
  t.same(dropped.map((n) => n.line), [
    lineOf(text, 'notification_email {'),
    lineOf(text, 'notification_email_from'),
    lineOf(text, 'smtp_server'),
    lineOf(text, 'smtp_connect_timeout'),
    lineOf(text, 'virtual_server 192.168.200.100 80'),
    lineOf(text, 'virtual_server 192.168.200.100 443'),
  ], 'no line of a real_server or checker inside is listed on its own');
  t.match(dropped.at(-1), { subject: 'virtual_server 192.168.200.100 443', text: /does not manage IPVS/ });
});

t.test('an IPv6 instance: VRRPv3 dead time, IPv6 heartbeat, include listed as not followed', async (t) => {
  const { text, config, notes } = convert('ipv6.conf');
  t.same(config.groups[0]!.vip, { address: '2001:db8:10::100', prefix: 64, family: 6 });
  t.equal(config.heartbeat.bind, '2001:db8:10::1');
  t.same(config.heartbeat.peers.map((p) => [p.address, p.port]), [['2001:db8:10::2', 694]]);
  t.equal(config.heartbeat.interval, 500);
  t.equal(config.heartbeat.deadTime, masterDown(500, 200, true), 'IPv6 is always VRRPv3: the skew scales with the advert interval');
  t.equal(config.groups[0]!.preemptDelay, 2500, 'preempt_delay 2.5 is seconds');
  t.same(lines(notes, 'dropped'), [lineOf(text, 'include ')]);
  t.match(notes[0], { subject: 'include /etc/keepalived/conf.d/*.conf', text: /not followed/ });
});

t.test('preempt_delay is written in seconds with its unit, never a bare number', async (t) => {
  const r = convertKeepalived('vrrp_instance A {\n interface eth0\n state BACKUP\n priority 90\n preempt_delay 300\n virtual_ipaddress {\n  192.0.2.1\n }\n unicast_peer {\n  192.0.2.12\n }\n}\n', { source: 'x' });
  t.ok(r.ok);
  if (!r.ok) return;
  t.match(r.yaml, /\n {4}preemptDelay: 300s\n/);
  const loaded = parseConfigText(r.yaml, 'x', { hostname: 'h' });
  t.equal(loaded.ok && loaded.config.groups[0]!.preemptDelay, 300_000);
  t.same(r.notes.map((n) => n.kind), ['differs'], 'only the unnamed peers');
});

t.test('syntax errors: nothing converted, each error at its line', async (t) => {
  const text = fixture('syntax-error.conf');
  const r = convertKeepalived(text, { source: 'syntax-error.conf' });
  t.notOk(r.ok);
  if (r.ok) return;
  t.same(r.errors.map((e) => e.line), [lineOf(text, 'vrrp_instance VI_1'), lineOf(text, 'notify_master')]);
  t.match(r.errors[1]!.expected, /closing "/);
});

t.test('values that cannot be read are errors too, at their lines', async (t) => {
  const text = ['vrrp_instance A {', ' interface eth0', ' priority 300', ' advert_int fast', ' state ACTIVE', ' virtual_ipaddress {', '  192.168.200.300/24', ' }', '}'].join('\n');
  const r = convertKeepalived(text, { source: 'x' });
  t.notOk(r.ok);
  if (r.ok) return;
  t.same(r.errors.map((e) => e.line), [3, 4, 5, 7]);
  t.match(r.errors.map((e) => e.expected), [/priority: got "300", expected an integer 1\.\.255/, /advert_int: got "fast"/, /MASTER or BACKUP/, /virtual_ipaddress: got "192\.168\.200\.300\/24"/]);
  const empty = convertKeepalived('global_defs {\n router_id x\n}\n', { source: 'x' });
  t.match(empty, { ok: false, errors: [{ expected: /nothing for haagent to run/ }] }, 'no instance: nothing to write');
});
