// `haagent release` for a bgp group: its VIPs come off bgp.device; a device that does not
// exist (the agent never claimed) holds nothing, so that is a success, while a failure on a
// device that exists stays a failure. A file that does not validate still names the device.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ipv4ConfSysctl } from '../../src/adapters/sysctl.js';
import { EXIT } from '../../src/cli/exit.js';
import { releaseCommandOn } from '../../src/cli/release.js';
import { planFromText } from '../../src/cli/release-plan.js';
import type { EnsureOutcome } from '../../src/ports/index.js';
import type { Vip } from '../../src/config/types.js';
import { runCli, tempDir } from './cli-fakes.js';
import { MemFs } from './realserver-fakes.js';

const BGP_GROUP = '  - name: svc\n    mode: bgp\n    vip: 203.0.113.100/32\n    interface: eth0\n    bgp: { style: ecmp, device: vip0 }\n';

function bgpConfig(dir: string): string {
  const path = join(dir, 'haagent.yaml');
  writeFileSync(path, `node: d0\ncluster: lb1\nheartbeat:\n  peers: [198.51.100.11]\n  keyFile: ${join(dir, 'key')}\ncontrol:\n  socket: ${join(dir, 'control.sock')}\nstateDir: ${dir}\ngroups:\n${BGP_GROUP}`);
  return path;
}

function ports(outcome: EnsureOutcome, exists: boolean) {
  const calls: string[] = [];
  const vips = { ensureAbsent: (vip: Vip, iface: string) => (calls.push(`${vip.address} ${iface}`), Promise.resolve(outcome)) };
  return { calls, make: () => ({ vips, sysctl: new Ipv4ConfSysctl(new MemFs()), links: { exists: () => Promise.resolve(exists) } }) };
}

t.test('release: the VIP comes off the bgp device', async (t) => {
  const dir = tempDir(t);
  const p = ports({ ok: true, changed: true }, true);
  const r = await runCli(['release', '--config', bgpConfig(dir)], [releaseCommandOn(p.make)]);
  t.same(r, { stdout: 'svc: 203.0.113.100/32 removed from vip0\n', stderr: '', code: EXIT.OK });
  t.same(p.calls, ['203.0.113.100 vip0']);
});

t.test('release: a missing bgp device holds nothing; a failure on an existing one is reported', async (t) => {
  const dir = tempDir(t);
  const missing = ports({ ok: false, error: 'ip addr del 203.0.113.100/32 dev vip0: exit 1: Cannot find device "vip0"' }, false);
  t.same(await runCli(['release', '--config', bgpConfig(dir)], [releaseCommandOn(missing.make)]), { stdout: 'svc: 203.0.113.100/32 was not on vip0\n', stderr: '', code: EXIT.OK });
  const there = ports({ ok: false, error: 'exit 2: Operation not permitted' }, true);
  const r = await runCli(['release', '--config', bgpConfig(dir)], [releaseCommandOn(there.make)]);
  t.equal(r.code, EXIT.FAILURE);
  t.equal(r.stderr, 'svc: cannot remove 203.0.113.100/32 from vip0: exit 2: Operation not permitted\n');
});

t.test('a broken file: the bgp group\'s VIPs are still released from its device (default haagent0)', async (t) => {
  const plan = planFromText(`groups:\n${BGP_GROUP}  - name: other\n    mode: bgp\n    vips: [203.0.113.101, { address: 203.0.113.102, interface: eth9 }]\n    priority: lots\n`);
  t.same(plan.groups.map((g) => `${g.name} ${g.vip.address} ${g.dev} ${String(g.bgp)}`), ['svc 203.0.113.100 vip0 true', 'other 203.0.113.101 haagent0 true', 'other 203.0.113.102 haagent0 true']);
});
