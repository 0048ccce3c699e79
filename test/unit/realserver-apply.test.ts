// up / down / check of the real-server role (src/realserver/apply.ts) against fakes: an
// in-memory host (addresses per interface), the real sysctl adapter over an in-memory file
// system, and a real state file in a temp directory. The stories: up is idempotent, down
// undoes exactly what up changed, and a failure never leaves the VIP on lo with ARP answered.
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Vip } from '../../src/config/types.js';
import { Ipv4ConfSysctl } from '../../src/adapters/sysctl.js';
import { realServerCheck, realServerDown, realServerUp, type RealServerDeps } from '../../src/realserver/apply.js';
import { readStateFile } from '../../src/realserver/state.js';
import { addr, FakeHost, MemFs, ROOT } from './realserver-fakes.js';

const V4: Vip = { address: '198.51.100.100', prefix: 32, family: 4 };
const V4B: Vip = { address: '198.51.100.101', prefix: 32, family: 4 };




interface Rig {
  deps: RealServerDeps;
  host: FakeHost;
  fs: MemFs;
  boot: { id: string };
}

function rig(t: Test, initial: Record<string, number> = {}): Rig {
  const dir = mkdtempSync(join(tmpdir(), 'haagent-rs-apply-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const fs = new MemFs();
  for (const iface of ['all', 'eth0']) {
    for (const key of ['arp_ignore', 'arp_announce']) fs.files.set(`${ROOT}/${iface}/${key}`, `${initial[`${iface}.${key}`] ?? 0}\n`);
  }
  const host = new FakeHost();
  const boot = { id: 'boot-1' };
  const deps: RealServerDeps = { host, sysctl: new Ipv4ConfSysctl(fs), stateFile: join(dir, 'realserver.json'), bootId: async () => boot.id };
  return { deps, host, fs, boot };
}

const W = { vips: [V4], iface: 'eth0' };

t.test('up, up again, down: the host ends where it started', async (t) => {
  const { deps, host, fs } = rig(t, { 'all.arp_announce': 1 });
  const up = await realServerUp(deps, W);
  t.same(up.errors, []);
  t.same(up.done, [
    'set net.ipv4.conf.all.arp_ignore 0 -> 1',
    'set net.ipv4.conf.all.arp_announce 1 -> 2',
    'set net.ipv4.conf.eth0.arp_ignore 0 -> 1',
    'set net.ipv4.conf.eth0.arp_announce 0 -> 2',
    'added 198.51.100.100/32 to lo',
  ]);
  t.same((await realServerCheck(deps, W)).problems, [], 'check: safe after up');
  const stateAfterUp = await readStateFile(deps.stateFile);
  const again = await realServerUp(deps, W);
  t.same(again.done, [], 'second up changes nothing');
  t.same(await readStateFile(deps.stateFile), stateAfterUp, 'and keeps the record');
  const down = await realServerDown(deps);
  t.same(down.errors, []);
  t.same(down.done, [
    'removed 198.51.100.100/32 from lo',
    'restored net.ipv4.conf.all.arp_ignore 1 -> 0',
    'restored net.ipv4.conf.all.arp_announce 2 -> 1',
    'restored net.ipv4.conf.eth0.arp_ignore 1 -> 0',
    'restored net.ipv4.conf.eth0.arp_announce 2 -> 0',
  ]);
  t.equal(host.has(V4), false);
  t.equal(fs.value('all', 'arp_announce'), 1, 'restored to what up found, not to the kernel default');
  t.same(await readStateFile(deps.stateFile), { kind: 'none' }, 'state file removed');
  t.same((await realServerDown(deps)).done, [], 'a second down does nothing');
});

t.test('down leaves alone what was there before up', async (t) => {
  const { deps, host, fs } = rig(t, { 'all.arp_ignore': 2, 'eth0.arp_announce': 2 });
  await host.ensurePresent(V4, 'lo');
  const up = await realServerUp(deps, { vips: [V4, V4B], iface: 'eth0' });
  t.same(up.done, ['set net.ipv4.conf.all.arp_announce 0 -> 2', 'set net.ipv4.conf.eth0.arp_ignore 0 -> 1', 'added 198.51.100.101/32 to lo']);
  const down = await realServerDown(deps);
  t.same(down.done, ['removed 198.51.100.101/32 from lo', 'restored net.ipv4.conf.all.arp_announce 2 -> 0', 'restored net.ipv4.conf.eth0.arp_ignore 1 -> 0']);
  t.same(down.notes, ['left 198.51.100.100/32 on lo: it was there before up']);
  t.equal(host.has(V4), true, 'the VIP that was already on lo stays');
  t.equal(fs.value('all', 'arp_ignore'), 2, 'a sysctl up did not change stays');
});

t.test('a failed sysctl write: no VIP is added, and down undoes what was changed', async (t) => {
  const { deps, host, fs } = rig(t);
  fs.denied.add(`${ROOT}/eth0/arp_ignore`);
  const up = await realServerUp(deps, W);
  t.same(up.done, ['set net.ipv4.conf.all.arp_ignore 0 -> 1', 'set net.ipv4.conf.all.arp_announce 0 -> 2', 'set net.ipv4.conf.eth0.arp_announce 0 -> 2']);
  t.equal(up.errors.length, 2);
  t.match(up.errors[0], /cannot write net\.ipv4\.conf\.eth0\.arp_ignore: EACCES/);
  t.match(up.errors[1], /did not add 198\.51\.100\.100\/32 to lo/);
  t.equal(host.has(V4), false);
  const rec = await readStateFile(deps.stateFile);
  t.equal(rec.kind === 'ok' && rec.state.sysctls.length, 3, 'the record lists only what happened');
  fs.denied.clear();
  const down = await realServerDown(deps);
  t.equal(down.done.length, 3);
  t.same([fs.value('all', 'arp_ignore'), fs.value('all', 'arp_announce'), fs.value('eth0', 'arp_announce')], [0, 0, 0]);
});

t.test('a failed VIP removal: sysctls are not restored, the record keeps everything', async (t) => {
  const { deps, host, fs } = rig(t);
  await realServerUp(deps, W);
  host.failDel = true;
  const down = await realServerDown(deps);
  t.same(down.done, []);
  t.equal(down.errors.length, 1);
  t.equal(fs.value('all', 'arp_ignore'), 1, 'ARP stays off while the VIP is still on lo');
  const rec = await readStateFile(deps.stateFile);
  t.same(rec.kind === 'ok' && [rec.state.added.length, rec.state.sysctls.length], [1, 4]);
  host.failDel = false;
  t.equal((await realServerDown(deps)).done.length, 5, 'a later down finishes the job');
});

t.test('a record from an earlier boot is ignored', async (t) => {
  const { deps, host, boot } = rig(t);
  await realServerUp(deps, W);
  boot.id = 'boot-2';
  // After a reboot lo and the sysctls are back to defaults; here only the VIP is cleared.
  await host.ensureAbsent(V4, 'lo');
  const down = await realServerDown(deps);
  t.same(down.done, [], 'nothing undone: the record describes the previous boot');
  t.match(down.notes.join('\n'), /earlier boot/);
  t.same(await readStateFile(deps.stateFile), { kind: 'none' });
});

t.test('a damaged state file stops up before it changes anything', async (t) => {
  const { deps, fs } = rig(t);
  writeFileSync(deps.stateFile, '{"version":1');
  const up = await realServerUp(deps, W);
  t.equal(up.errors.length, 1);
  t.same(up.done, []);
  t.equal(fs.value('all', 'arp_ignore'), 0);
});

t.test('check reports each problem; a missing interface is a problem, not a crash', async (t) => {
  const { deps, host } = rig(t);
  t.equal((await realServerCheck(deps, W)).problems.length, 5, 'VIP + four sysctls');
  host.addrs.get('eth0')?.push(addr('198.51.100.100', 32));
  t.match((await realServerCheck(deps, W)).problems.join('\n'), /also on eth0/);
  const gone = await realServerCheck(deps, { vips: [V4], iface: 'eth9' });
  t.match(gone.problems, [/eth9/]);
});
