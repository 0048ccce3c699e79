// The agent's LevIP host side (src/levip/service.ts): the interface sysctls set up before the
// election (a failure refuses the start), an interface the core asks to switch before it was set
// up (a group added by a reload) set up first, a failed set-up tried again at the next request,
// the sysctls given back at close, and status read off the core.
import t from 'tap';
import { createLogger } from '../../src/log.js';
import type { HostReport } from '../../src/levip/host.js';
import { LevipService, type LevipHostPort } from '../../src/levip/service.js';
import { group } from '../scenarios/sim.js';
import { cfg, LevRig, T0 } from './levip-rig.js';

class FakeHost implements LevipHostPort {
  calls: string[] = [];
  failPrepare = false;
  async prepare(iface: string): Promise<{ done: string[]; warnings: string[] }> {
    this.calls.push(`prepare ${iface}`);
    if (this.failPrepare) throw new Error('EACCES');
    return { done: [`set ${iface}`], warnings: [] };
  }
  async answer(iface: string, on: boolean): Promise<void> {
    this.calls.push(`answer ${iface} ${on ? 'on' : 'off'}`);
  }
  async restore(): Promise<HostReport> {
    this.calls.push('restore');
    return { done: ['restored'], warnings: [], errors: [] };
  }
}

const log = createLogger('silent', 'test');

t.test('prepare: the LevIP interfaces once each, before anything; a failure rejects', async (t) => {
  const host = new FakeHost();
  const s = new LevipService({ stateDir: '/nonexistent', log, host });
  await s.prepare([cfg('web', 'eth0'), cfg('api', 'eth0'), cfg('x', 'eth1'), group('plain', 100, { interface: 'eth2' })]);
  t.same(host.calls, ['prepare eth0', 'prepare eth1'], 'failover groups are not touched');
  await s.answer('eth0', true);
  t.same(host.calls.slice(2), ['answer eth0 on'], 'a prepared interface is switched at once');
  const bad = new FakeHost();
  bad.failPrepare = true;
  await t.rejects(new LevipService({ stateDir: '/nonexistent', log, host: bad }).prepare([cfg()]), /EACCES/);
});

t.test("an interface the core switches before it was set up is set up first; a failed set-up is tried again", async (t) => {
  const host = new FakeHost();
  const s = new LevipService({ stateDir: '/nonexistent', log, host });
  host.failPrepare = true;
  await t.rejects(s.answer('eth3', false), /EACCES/, 'the failure reaches the driver, which feeds it to the core');
  t.same(host.calls, ['prepare eth3'], 'never switched while not set up');
  host.failPrepare = false;
  await s.answer('eth3', false);
  await s.answer('eth3', true);
  t.same(host.calls, ['prepare eth3', 'prepare eth3', 'answer eth3 off', 'answer eth3 on'], 'set up once it works, then only switched');
  const r = await s.close();
  t.same(r.done, ['restored']);
  t.equal(host.calls.at(-1), 'restore');
});

t.test('status: read off the core at the given wall time', async (t) => {
  const rig = new LevRig('b');
  rig.start(T0);
  const s = new LevipService({ stateDir: '/nonexistent', log, host: new FakeHost(), wallClock: () => T0 + 1250 });
  const st = s.status(rig.core);
  t.equal(st.length, 1);
  t.match(st[0], { group: 'web', member: true, slot: Math.floor((T0 + 1250) / 500), next: [{ inMs: -250 }] });
});
