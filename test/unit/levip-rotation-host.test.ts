// The LevIP host side (src/levip/host.ts): arp_ignore=1 / arp_announce=2 on the group's
// interface while in the mode, the owner's arp_ignore=0 switch, and a record that gives the
// values found back after a stop, after a crash mid-slot, and never from another boot.
// The real sysctl adapter runs over an in-memory /proc; the record is a real file in a temp dir.
import t, { type Test } from 'tap';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ipv4ConfSysctl, type SysctlFs } from '../../src/adapters/sysctl.js';
import { LEVIP_STATE_FILE, LevipHost, levipHostFor } from '../../src/levip/host.js';

const ROOT = '/proc/sys/net/ipv4/conf';

class MemFs implements SysctlFs {
  readonly files = new Map<string, string>();
  readonly denied = new Set<string>();
  writes: string[] = [];
  async readFile(path: string): Promise<string> {
    const v = this.files.get(path);
    if (v === undefined) throw Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
    return v;
  }
  async writeFile(path: string, data: string): Promise<void> {
    if (this.denied.has(path)) throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    if (!this.files.has(path)) throw Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
    this.writes.push(`${path.slice(ROOT.length + 1)}=${data.trim()}`);
    this.files.set(path, data);
  }
  value(iface: string, key: string): number {
    return Number(this.files.get(`${ROOT}/${iface}/${key}`));
  }
  set(iface: string, key: string, v: number): void {
    this.files.set(`${ROOT}/${iface}/${key}`, `${v}\n`);
  }
}

interface Rig {
  fs: MemFs;
  file: string;
  boot: { id: string };
  host(): LevipHost;
}

function rig(t: Test, initial: Record<string, number> = {}): Rig {
  const dir = mkdtempSync(join(tmpdir(), 'haagent-levip-host-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const fs = new MemFs();
  for (const iface of ['all', 'eth0', 'eth1']) {
    for (const key of ['arp_ignore', 'arp_announce']) fs.set(iface, key, initial[`${iface}.${key}`] ?? 0);
  }
  const boot = { id: 'boot-1' };
  const file = join(dir, LEVIP_STATE_FILE);
  return { fs, file, boot, host: () => new LevipHost({ sysctl: new Ipv4ConfSysctl(fs), stateFile: file, bootId: async () => boot.id }) };
}

t.test('prepare records what it found, then suppresses; restore gives it back and removes the record', async (t) => {
  const r = rig(t);
  const h = r.host();
  const rep = await h.prepare('eth0');
  t.same(rep.done, ['set net.ipv4.conf.eth0.arp_announce 0 -> 2', 'set net.ipv4.conf.eth0.arp_ignore 0 -> 1']);
  t.same(rep.warnings, []);
  t.equal(r.fs.value('eth0', 'arp_ignore'), 1);
  t.equal(r.fs.value('eth0', 'arp_announce'), 2);
  t.equal(r.fs.value('all', 'arp_ignore'), 0, 'conf/all is never written');
  const rec = JSON.parse(readFileSync(r.file, 'utf8'));
  t.same(rec.sysctls.map((s: { key: string; found: number }) => [s.key, s.found]), [['arp_announce', 0], ['arp_ignore', 0]]);
  const back = await h.restore();
  t.same(back.done, ['restored net.ipv4.conf.eth0.arp_announce 2 -> 0', 'restored net.ipv4.conf.eth0.arp_ignore 1 -> 0']);
  t.equal(r.fs.value('eth0', 'arp_ignore'), 0);
  t.equal(r.fs.value('eth0', 'arp_announce'), 0);
  t.notOk(existsSync(r.file));
});

t.test('prepare is idempotent: the first value found is the one restored', async (t) => {
  const r = rig(t, { 'eth0.arp_ignore': 2 });
  const h = r.host();
  await h.prepare('eth0');
  const again = await h.prepare('eth0');
  t.same(again.done, [], 'nothing to change the second time');
  await h.restore();
  t.equal(r.fs.value('eth0', 'arp_ignore'), 2);
});

t.test("the owner's switch: 0 while on, 1 while off, a write only on a change", async (t) => {
  const r = rig(t);
  const h = r.host();
  await h.prepare('eth0');
  r.fs.writes = [];
  await h.answer('eth0', false);
  t.same(r.fs.writes, [], 'already off');
  await h.answer('eth0', true);
  t.equal(r.fs.value('eth0', 'arp_ignore'), 0);
  await h.answer('eth0', true);
  // Issued back to back without waiting: applied in order.
  const a = h.answer('eth0', false);
  const b = h.answer('eth0', true);
  const c = h.answer('eth0', false);
  await Promise.all([a, b, c]);
  t.same(r.fs.writes, ['eth0/arp_ignore=0', 'eth0/arp_ignore=1', 'eth0/arp_ignore=0', 'eth0/arp_ignore=1']);
  await t.rejects(h.answer('eth1', true), /eth1 was not prepared/, 'never touches an interface it did not record');
  t.equal(r.fs.value('eth1', 'arp_ignore'), 0);
});

t.test('conf/all/arp_ignore above 0 mutes the owner: a warning says so', async (t) => {
  const r = rig(t, { 'all.arp_ignore': 1 });
  const rep = await r.host().prepare('eth0');
  t.equal(rep.warnings.length, 1);
  t.match(rep.warnings[0], /net\.ipv4\.conf\.all\.arp_ignore is 1: .*cannot answer ARP probes/);
});

t.test('a crash mid-slot (arp_ignore 0): the next run and release restore what the first run found', async (t) => {
  const r = rig(t, { 'eth0.arp_ignore': 0, 'eth0.arp_announce': 1 });
  const first = r.host();
  await first.prepare('eth0');
  await first.answer('eth0', true);
  // SIGKILL: `first` is gone, its record stays. A restarted agent prepares again...
  const second = r.host();
  await second.prepare('eth0');
  t.equal(r.fs.value('eth0', 'arp_ignore'), 1, 'suppressing again');
  r.fs.set('eth0', 'arp_ignore', 0); // ...and crashes mid-slot too
  const release = r.host(); // what `haagent release` builds
  const rep = await release.restore();
  t.same(rep.done, ['restored net.ipv4.conf.eth0.arp_announce 2 -> 1'], 'arp_ignore 0 already equals what was found');
  t.equal(r.fs.value('eth0', 'arp_announce'), 1, 'the value of before the first run');
  t.notOk(existsSync(r.file));
});

t.test('a record from another kernel boot describes nothing: ignored', async (t) => {
  const r = rig(t, { 'eth0.arp_ignore': 0 });
  await r.host().prepare('eth0'); // found 0, recorded under boot-1
  r.boot.id = 'boot-2'; // reboot: sysctls back to the distribution's values, here 2
  r.fs.set('eth0', 'arp_ignore', 2);
  r.fs.set('eth0', 'arp_announce', 0);
  const h = r.host();
  await h.prepare('eth0');
  await h.restore();
  t.equal(r.fs.value('eth0', 'arp_ignore'), 2, 'what this boot had, not the old record');
});

t.test('a value changed by someone else while in the mode is left alone', async (t) => {
  const r = rig(t);
  const h = r.host();
  await h.prepare('eth0');
  r.fs.set('eth0', 'arp_ignore', 8);
  const rep = await h.restore();
  t.match(rep.warnings, [/eth0\.arp_ignore was changed to 8 while in levip mode: left alone \(found 0\)/]);
  t.equal(r.fs.value('eth0', 'arp_ignore'), 8);
});

t.test('a failed restore keeps that entry for the next attempt; a vanished interface does not', async (t) => {
  const r = rig(t);
  const h = r.host();
  await h.prepare('eth0');
  await h.prepare('eth1');
  r.fs.denied.add(`${ROOT}/eth0/arp_announce`);
  r.fs.files.delete(`${ROOT}/eth1/arp_ignore`);
  r.fs.files.delete(`${ROOT}/eth1/arp_announce`);
  const rep = await h.restore();
  t.equal(rep.errors.length, 1);
  t.match(rep.errors[0], /eth0\.arp_announce: .*permission denied/);
  t.equal(rep.warnings.length, 2, 'eth1 is gone: nothing to restore');
  const rec = JSON.parse(readFileSync(r.file, 'utf8'));
  t.same(rec.sysctls.map((s: { iface: string; key: string }) => `${s.iface}.${s.key}`), ['eth0.arp_announce']);
  r.fs.denied.clear();
  const again = await r.host().restore();
  t.same(again.done, ['restored net.ipv4.conf.eth0.arp_announce 2 -> 0']);
  t.notOk(existsSync(r.file));
});

t.test('an unreadable record is refused, not guessed over', async (t) => {
  const r = rig(t);
  writeFileSync(r.file, '{"version": 7}');
  await t.rejects(r.host().prepare('eth0'), /cannot use the record of changed sysctls/);
  t.equal(r.fs.value('eth0', 'arp_ignore'), 0, 'nothing changed');
});

t.test('levipHostFor puts the record in the state directory', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'haagent-levip-for-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const fs = new MemFs();
  fs.set('eth0', 'arp_ignore', 0);
  fs.set('eth0', 'arp_announce', 0);
  fs.set('all', 'arp_ignore', 0);
  await levipHostFor(dir, new Ipv4ConfSysctl(fs)).prepare('eth0');
  t.ok(existsSync(join(dir, LEVIP_STATE_FILE)));
});
