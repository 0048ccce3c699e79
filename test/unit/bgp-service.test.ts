/**
 * The bgp readback service: polls each bgp group that names a daemon every bgp.poll, one
 * read at a time; a group without a daemon shows `unknown`; what the daemon says joins what
 * the core installed in status; a change is logged; reload restarts the polls, close stops them.
 */
import t from 'tap';
import { BgpReadbackService, formatBgpStatus } from '../../src/bgp/service.js';
import type { RouteReadback, VipAnnouncement } from '../../src/bgp/readback.js';
import { Core } from '../../src/core/election.js';
import type { GroupConfig, Vip } from '../../src/config/types.js';
import { createLogger } from '../../src/log.js';
import { group } from '../scenarios/sim.js';
import { FakeTime, deferred } from './health-fakes.js';

const VIP: Vip = { address: '203.0.113.100', prefix: 32, family: 4 };
const BIRD = { kind: 'bird' as const, birdc: '/usr/sbin/birdc', socket: '/tmp/b.ctl', protocol: 'upstream' };

function bgpGroup(name: string, daemon: typeof BIRD | null): GroupConfig {
  return group(name, 100, { mode: 'bgp', vip: VIP, vips: [{ vip: VIP, iface: 'eth0' }], bgp: { style: 'ecmp', device: 'haagent0', daemon, poll: 2000 } });
}

class FakeReadback implements RouteReadback {
  reads = 0;
  inFlight = 0;
  maxInFlight = 0;
  answer: VipAnnouncement = { announced: 'yes', detail: 'exported to upstream' };
  gate: ReturnType<typeof deferred<void>> | null = null;
  async read(vips: readonly Vip[]): Promise<Map<string, VipAnnouncement>> {
    this.reads++;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    if (this.gate) await this.gate.promise;
    this.inFlight--;
    return new Map(vips.map((v) => [`${v.address}/${v.prefix}`, this.answer]));
  }
}

function rig(groups: GroupConfig[]) {
  const time = new FakeTime();
  const rb = new FakeReadback();
  const lines: string[] = [];
  const log = createLogger('info', 'd0', { write: (s: string) => void lines.push(s) });
  const svc = new BgpReadbackService({ runner: { run: () => Promise.reject(new Error('unused')) }, timers: time, clock: time, log, readbackFor: () => rb });
  const core = new Core({ node: 'd0', interval: 50, deadTime: 150, initDead: 300, expectedPeers: 0, groups });
  return { time, rb, svc, core, lines };
}

t.test('status before the first read, after it, and for a group without a daemon', async (t) => {
  const { time, rb, svc, core } = rig([bgpGroup('svc', BIRD), bgpGroup('other', null)]);
  core.groups[1]!.cfg = { ...core.groups[1]!.cfg, vips: [{ vip: { ...VIP, address: '203.0.113.101' }, iface: 'eth0' }], vip: { ...VIP, address: '203.0.113.101' } };
  svc.configure(core.groups.map((g) => g.cfg));
  t.match(svc.status(core), [{ group: 'svc', vips: [{ announced: 'unknown', detail: 'not read yet', installed: null, checkedMsAgo: null }] }, { group: 'other', daemon: null, vips: [{ announced: 'unknown', detail: /no daemon configured/ }] }]);
  await time.advance(0);
  t.equal(rb.reads, 1, 'read at once, and only for the group with a daemon');
  core.groups[0]!.vipHave = true;
  await time.advance(500);
  t.match(svc.status(core)[0], { group: 'svc', style: 'ecmp', device: 'haagent0', daemon: 'bird', vips: [{ vip: '203.0.113.100/32', installed: true, announced: 'yes', detail: 'exported to upstream', checkedMsAgo: 500 }] });
  t.match(formatBgpStatus(svc.status(core)).join('\n'), /svc\s+ecmp\s+haagent0\s+203\.0\.113\.100\/32\s+yes\s+yes\s+exported to upstream/);
});

t.test('one read at a time, every poll period; a change is logged once', async (t) => {
  const { time, rb, svc, core, lines } = rig([bgpGroup('svc', BIRD)]);
  rb.gate = deferred<void>();
  svc.configure(core.groups.map((g) => g.cfg));
  await time.advance(10_000);
  t.equal(rb.reads, 1, 'a slow daemon: no second read while the first is out');
  rb.gate.resolve();
  rb.gate = null;
  await time.advance(0);
  await time.advance(2000);
  t.equal(rb.reads, 2);
  t.equal(rb.maxInFlight, 1);
  rb.answer = { announced: 'no', detail: 'session upstream start Active' };
  await time.advance(2000);
  await time.advance(2000);
  const said = lines.filter((l) => l.includes('bgp readback'));
  t.equal(said.length, 2, 'announced, then withdrawn: two lines for four reads');
  t.match(said[1], /203\.0\.113\.100\/32 not announced \(session upstream start Active\)/);
});

t.test('close stops polling; configure after a reload starts over', async (t) => {
  const { time, rb, svc, core } = rig([bgpGroup('svc', BIRD)]);
  svc.configure(core.groups.map((g) => g.cfg));
  await time.advance(0);
  svc.configure([bgpGroup('svc', null)]);
  await time.advance(10_000);
  t.equal(rb.reads, 1, 'the reloaded group names no daemon: no more reads');
  svc.configure([bgpGroup('svc', BIRD)]);
  await time.advance(0);
  svc.close();
  await time.advance(10_000);
  t.equal(rb.reads, 2);
  t.equal(time.pending(), 0);
});
