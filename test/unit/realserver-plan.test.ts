// Pure planning of the real-server role (src/realserver/plan.ts): table tests for up, down and
// check. The recipe: VIP /32 on lo,
// arp_ignore=1 and arp_announce=2 on conf/all and the interface.
import t from 'tap';
import type { Vip } from '../../src/config/types.js';
import {
  assess, describeChange, planDown, planUp, wantedSysctls, ALL_ONLY_NOTE, IPV6_NOTE,
  type ArpKey, type HostView, type SysctlReading, type UpRecord,
} from '../../src/realserver/plan.js';
import { parseRealServerVip } from '../../src/realserver/vip.js';

const V4: Vip = { address: '198.51.100.100', prefix: 32, family: 4 };
const V4B: Vip = { address: '198.51.100.101', prefix: 32, family: 4 };
const V6: Vip = { address: '2001:db8::100', prefix: 128, family: 6 };
const LOOP: Vip = { address: '127.0.0.1', prefix: 8, family: 4 };

/** Readings for conf/all and conf/eth0: [all.arp_ignore, all.arp_announce, eth0.arp_ignore, eth0.arp_announce]. */
function sysctls(values: [number, number, number, number]): SysctlReading[] {
  const keys: [string, ArpKey][] = [['all', 'arp_ignore'], ['all', 'arp_announce'], ['eth0', 'arp_ignore'], ['eth0', 'arp_announce']];
  return keys.map(([iface, key], i) => ({ iface, key, value: values[i] }));
}

function view(lo: Vip[], values: [number, number, number, number], iface: Vip[] = []): HostView {
  return { lo: [LOOP, ...lo], iface, sysctls: sysctls(values) };
}

const lines = (changes: Parameters<typeof describeChange>[0][]): string[] => changes.map((c) => describeChange(c));

t.test('planUp', async (t) => {
  const cases: { name: string; vips: Vip[]; iface: string | null; view: HostView; want: string[]; present?: Vip[] }[] = [
    {
      name: 'fresh host: four sysctls, then the VIP',
      vips: [V4], iface: 'eth0', view: view([], [0, 0, 0, 0]),
      want: [
        'set net.ipv4.conf.all.arp_ignore 0 -> 1', 'set net.ipv4.conf.all.arp_announce 0 -> 2',
        'set net.ipv4.conf.eth0.arp_ignore 0 -> 1', 'set net.ipv4.conf.eth0.arp_announce 0 -> 2',
        'added 198.51.100.100/32 to lo',
      ],
    },
    { name: 'already applied: nothing', vips: [V4], iface: 'eth0', view: view([V4], [1, 2, 1, 2]), want: [], present: [V4] },
    {
      name: 'partially applied: only the missing parts',
      vips: [V4, V4B], iface: 'eth0', view: view([V4], [1, 0, 0, 2]),
      want: ['set net.ipv4.conf.all.arp_announce 0 -> 2', 'set net.ipv4.conf.eth0.arp_ignore 0 -> 1', 'added 198.51.100.101/32 to lo'],
      present: [V4],
    },
    { name: 'stricter arp_ignore (2, 8) is left alone', vips: [V4], iface: 'eth0', view: view([V4], [2, 2, 8, 2]), want: [], present: [V4] },
    {
      name: 'arp_ignore 3 is not safe (a VIP on lo is scope global), arp_announce 1 neither',
      vips: [V4], iface: 'eth0', view: view([V4], [3, 1, 1, 2]),
      want: ['set net.ipv4.conf.all.arp_ignore 3 -> 1', 'set net.ipv4.conf.all.arp_announce 1 -> 2'], present: [V4],
    },
    {
      name: 'no interface: conf/all only',
      vips: [V4], iface: null, view: view([], [0, 0, 0, 0]),
      want: ['set net.ipv4.conf.all.arp_ignore 0 -> 1', 'set net.ipv4.conf.all.arp_announce 0 -> 2', 'added 198.51.100.100/32 to lo'],
    },
    { name: 'IPv6 only: /128 on lo, no sysctl', vips: [V6], iface: 'eth0', view: view([], [0, 0, 0, 0]), want: ['added 2001:db8::100/128 to lo'] },
    {
      name: 'a VIP on lo with another prefix is not ours: add the /32',
      vips: [V4], iface: 'eth0', view: view([{ ...V4, prefix: 24 }], [1, 2, 1, 2]), want: ['added 198.51.100.100/32 to lo'],
    },
    { name: 'the same VIP twice is one VIP', vips: [V4, { ...V4 }], iface: 'eth0', view: view([], [1, 2, 1, 2]), want: ['added 198.51.100.100/32 to lo'] },
  ];
  for (const c of cases) {
    const plan = planUp({ vips: c.vips, iface: c.iface }, c.view);
    t.same(lines(plan.changes), c.want, c.name);
    t.same(plan.present, c.present ?? [], `${c.name}: present`);
  }
});

t.test('planUp orders every sysctl before every VIP (no window where lo holds the VIP and ARP answers)', async (t) => {
  const plan = planUp({ vips: [V4, V6, V4B], iface: 'eth0' }, view([], [0, 0, 0, 0]));
  const kinds = plan.changes.map((c) => c.kind);
  t.equal(kinds.lastIndexOf('set-sysctl') < kinds.indexOf('add-vip'), true, kinds.join(','));
});

t.test('planUp notes and warnings', async (t) => {
  t.same(planUp({ vips: [V6], iface: 'eth0' }, view([], [0, 0, 0, 0])).notes, [IPV6_NOTE]);
  t.same(planUp({ vips: [V4], iface: null }, view([], [0, 0, 0, 0])).notes, [ALL_ONLY_NOTE]);
  const onEth = planUp({ vips: [V4], iface: 'eth0' }, view([], [1, 2, 1, 2], [V4]));
  t.equal(onEth.warnings.length, 1);
  t.match(onEth.warnings[0], /198\.51\.100\.100 is also on eth0/);
  t.throws(() => planUp({ vips: [V4], iface: 'eth1' }, view([], [0, 0, 0, 0])), /no reading for net\.ipv4\.conf\.eth1\.arp_ignore/);
});

t.test('wantedSysctls', async (t) => {
  t.same(wantedSysctls({ vips: [V6], iface: 'eth0' }), [], 'IPv6 only: none');
  t.same(wantedSysctls({ vips: [V4], iface: 'all' }).map((r) => r.iface), ['all', 'all'], 'all named explicitly is not doubled');
});

t.test('planDown restores only what up changed', async (t) => {
  const rec: UpRecord = {
    added: [V4B],
    sysctls: [
      { iface: 'all', key: 'arp_ignore', found: 0, set: 1 },
      { iface: 'all', key: 'arp_announce', found: 1, set: 2 },
      { iface: 'eth0', key: 'arp_ignore', found: 0, set: 1 },
    ],
  };
  // V4 was on lo before up (not in rec.added); eth0.arp_announce was already 2 (not in rec.sysctls).
  const plan = planDown(rec, view([V4, V4B], [1, 2, 1, 2]));
  t.same(lines(plan.changes), [
    'removed 198.51.100.101/32 from lo',
    'set net.ipv4.conf.all.arp_ignore 1 -> 0',
    'set net.ipv4.conf.all.arp_announce 2 -> 1',
    'set net.ipv4.conf.eth0.arp_ignore 1 -> 0',
  ]);
  t.same(plan.notes, []);
  t.equal(describeChange(plan.changes[1], 'restored'), 'restored net.ipv4.conf.all.arp_ignore 1 -> 0');
});

t.test('planDown leaves alone what changed since up', async (t) => {
  const rec: UpRecord = {
    added: [V4],
    sysctls: [
      { iface: 'all', key: 'arp_ignore', found: 0, set: 1 },
      { iface: 'all', key: 'arp_announce', found: 0, set: 2 },
      { iface: 'eth1', key: 'arp_ignore', found: 0, set: 1 },
    ],
  };
  // Someone set all.arp_ignore to 2 after up and removed the VIP; all.arp_announce is back at 0; eth1 is gone.
  const plan = planDown(rec, { lo: [LOOP], iface: [], sysctls: sysctls([2, 0, 1, 2]) });
  t.same(plan.changes, []);
  t.same(plan.notes, [
    '198.51.100.100/32 is no longer on lo',
    'net.ipv4.conf.all.arp_ignore was changed to 2 since up: left alone (up found 0)',
    'net.ipv4.conf.eth1.arp_ignore is gone (interface removed?): nothing to restore',
  ]);
});

t.test('assess (check)', async (t) => {
  t.same(assess({ vips: [V4], iface: 'eth0' }, view([V4], [1, 2, 1, 2])).problems, [], 'applied host is safe');
  t.same(assess({ vips: [V4], iface: 'eth0' }, view([], [0, 2, 1, 2])).problems, [
    '198.51.100.100/32 is not on lo: packets for the VIP would be dropped',
    'net.ipv4.conf.all.arp_ignore is 0, want 1 or 2 or 8',
  ]);
  const onEth = assess({ vips: [V4], iface: 'eth0' }, view([V4], [1, 2, 1, 2], [{ ...V4, prefix: 24 }]));
  t.equal(onEth.problems.length, 1, 'the VIP on the Ethernet interface is a problem whatever its prefix');
  const v6 = assess({ vips: [V6], iface: 'eth0' }, view([V6], [0, 0, 0, 0]));
  t.same(v6, { problems: [], notes: [IPV6_NOTE] }, 'IPv6: default sysctls are fine');
});

t.test('parseRealServerVip', async (t) => {
  const good: [string, Vip][] = [
    ['198.51.100.100', V4],
    ['198.51.100.100/32', V4],
    ['2001:DB8:0:0::100', V6],
    ['2001:db8::100/128', V6],
  ];
  for (const [text, vip] of good) t.same(parseRealServerVip(text), { ok: true, vip }, text);
  for (const text of ['198.51.100.100/24', '2001:db8::100/64', '198.51.100.300', 'eth0', '198.51.100.1/32/1', '']) {
    t.equal(parseRealServerVip(text).ok, false, `refused: ${JSON.stringify(text)}`);
  }
});
