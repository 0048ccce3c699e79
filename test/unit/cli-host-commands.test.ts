// The commands that change the host (release, realserver up/down/check) run through the real
// parser on fake ports: an in-memory host and /proc/sys (test/unit/realserver-fakes.ts), a
// fake command runner for arping. Nothing here touches this machine's addresses or sysctls.
// Then what `haagent run` refuses before it starts anything, and the real-server role's
// start-or-undo.
import t, { type Test } from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ipv4ConfSysctl } from '../../src/adapters/sysctl.js';
import { EXIT } from '../../src/cli/exit.js';
import { realserverCommandOn, type RealServerPorts } from '../../src/cli/realserver.js';
import { releaseCommandOn } from '../../src/cli/release.js';
import { realServerRoleFor, runRealServerOnly, startOrUndo } from '../../src/cli/run-role.js';
import { runCommand } from '../../src/cli/run.js';
import type { Config } from '../../src/config/types.js';
import { LEVIP_STATE_FILE } from '../../src/levip/host.js';
import { createLogger } from '../../src/log.js';
import type { CommandResult } from '../../src/ports/index.js';
import type { RealServerRole } from '../../src/realserver/role.js';
import { configFile, fakeAgent, runCli, tempDir } from './cli-fakes.js';
import { addr, FakeHost, MemFs, ROOT } from './realserver-fakes.js';
import { parse, withLines } from './config-harness.js';

const silent = createLogger('silent', 'd0');

/** /proc/sys in memory with conf/all and conf/eth0 at the kernel's defaults (0). */
function memSysctl(): MemFs {
  const fs = new MemFs();
  for (const iface of ['all', 'eth0']) for (const key of ['arp_ignore', 'arp_announce']) fs.files.set(`${ROOT}/${iface}/${key}`, '0\n');
  return fs;
}

t.test('release: every VIP of the config removed (or already absent), exit 0', async (t) => {
  const dir = tempDir(t);
  const host = new FakeHost();
  host.addrs.get('eth0')!.push(addr('198.51.100.100', 32));
  const release = [releaseCommandOn(() => ({ vips: host, sysctl: new Ipv4ConfSysctl(memSysctl()) }))];
  const config = configFile(dir, join(dir, 'control.sock'));
  const first = await runCli(['release', '--config', config], release);
  t.same(first, { stdout: 'web: 198.51.100.100/32 removed from eth0\n', stderr: '', code: EXIT.OK });
  t.notOk(host.has({ address: '198.51.100.100', prefix: 32, family: 4 }, 'eth0'));
  const again = await runCli(['release', '--config', config], release);
  t.same(again, { stdout: 'web: 198.51.100.100/32 was not on eth0\n', stderr: '', code: EXIT.OK });
  host.failDel = true;
  const failed = await runCli(['release', '--config', config], release);
  t.equal(failed.code, EXIT.FAILURE);
  t.equal(failed.stderr, 'web: cannot remove 198.51.100.100/32 from eth0: ip addr del 198.51.100.100: exit 1\n');
});

t.test('release: LevIP sysctls a killed agent recorded are given back', async (t) => {
  const dir = tempDir(t);
  const fs = memSysctl();
  fs.set('eth0/arp_ignore', 8);
  writeFileSync(join(dir, LEVIP_STATE_FILE), JSON.stringify({ version: 1, bootId: null, added: [], present: [], sysctls: [{ iface: 'eth0', key: 'arp_ignore', found: 0, set: 8 }] }));
  const release = [releaseCommandOn(() => ({ vips: new FakeHost(), sysctl: new Ipv4ConfSysctl(fs) }))];
  const r = await runCli(['release', '--config', configFile(dir, join(dir, 'control.sock'))], release);
  t.equal(r.code, EXIT.OK, r.stderr);
  t.match(r.stdout, /^levip: /m);
  t.equal(fs.value('eth0', 'arp_ignore'), 0, 'arp_ignore back to what it was');
});

t.test('release: refused while an agent answers, unless --force', async (t) => {
  const dir = tempDir(t);
  const { socket } = await fakeAgent(t, () => ({ ok: true }));
  const host = new FakeHost();
  const release = [releaseCommandOn(() => ({ vips: host, sysctl: new Ipv4ConfSysctl(memSysctl()) }))];
  const config = configFile(dir, socket);
  const r = await runCli(['release', '--config', config], release);
  t.same(r, { stdout: '', stderr: `haagent: an agent is running (${socket}); stop it first or use --force\n`, code: EXIT.FAILURE });
  const forced = await runCli(['release', '--force', '--config', config], release);
  t.equal(forced.code, EXIT.OK);
  const invalid = await runCli(['release', '--force', '--config', join(dir, 'absent.yaml')], release);
  t.equal(invalid.code, EXIT.CONFIG, 'no file: nothing to release, reported as exit 78');
  t.match(invalid.stderr, /warning: releasing what the invalid file still names/);
});

t.test('release: a half-edited file still releases every VIP it names (ExecStopPost after a crash)', async (t) => {
  const dir = tempDir(t);
  const host = new FakeHost();
  host.addrs.get('eth0')!.push(addr('198.51.100.100', 32));
  const release = [releaseCommandOn(() => ({ vips: host, sysctl: new Ipv4ConfSysctl(memSysctl()) }))];
  // priority out of range, and a second group with no usable vip: invalid as a whole.
  const config = configFile(dir, join(dir, 'control.sock'), '    priority: 999\n  - name: db\n    vip: not-an-ip\n    interface: eth0\n');
  const r = await runCli(['release', '--config', config], release);
  t.notOk(host.has({ address: '198.51.100.100', prefix: 32, family: 4 }, 'eth0'), 'the VIP is gone');
  t.match(r.stdout, /^web: 198\.51\.100\.100\/32 removed from eth0\n$/);
  t.match(r.stderr, /priority[\s\S]*warning: releasing what the invalid file still names\ndb: vip unreadable: not released\n/);
  t.equal(r.code, EXIT.FAILURE, 'a group it could not read: exit 1');
  const torn = join(dir, 'torn.yaml');
  writeFileSync(torn, `control:\n  socket: ${join(dir, 'control.sock')}\nstateDir: ${dir}\ngroups:\n  - name: web\n    vip: 198.51.100.100\n    interface: eth0\n  - {\n`);
  host.addrs.get('eth0')!.push(addr('198.51.100.100', 32));
  const t2 = await runCli(['release', '--config', torn], release);
  t.notOk(host.has({ address: '198.51.100.100', prefix: 32, family: 4 }, 'eth0'), 'YAML that breaks off: what parsed is released');
  t.ok(t2.code !== EXIT.OK, `reported (exit ${t2.code})`);
});

/** A config file whose group `nat` holds two VIPs, the second on eth1 (`tail` appended). */
function natFile(dir: string, tail = ''): string {
  const path = join(dir, 'nat.yaml');
  writeFileSync(
    path,
    `node: d0\ncluster: lb1\nheartbeat:\n  peers: [198.51.100.11]\n  keyFile: ${join(dir, 'key')}\ncontrol:\n  socket: ${join(dir, 'control.sock')}\n` +
      `stateDir: ${dir}\ngroups:\n  - name: nat\n    vips: [198.51.100.100, { address: 203.0.113.1/24, interface: eth1 }]\n    interface: eth0\n${tail}`,
  );
  return path;
}

t.test('release: every VIP of a group of several, each from its own interface', async (t) => {
  const dir = tempDir(t);
  const host = new FakeHost();
  host.addrs.set('eth1', [addr('203.0.113.2', 24), addr('203.0.113.1', 24)]);
  host.addrs.get('eth0')!.push(addr('198.51.100.100', 32));
  const release = [releaseCommandOn(() => ({ vips: host, sysctl: new Ipv4ConfSysctl(memSysctl()) }))];
  const r = await runCli(['release', '--config', natFile(dir)], release);
  t.same(r, { stdout: 'nat: 198.51.100.100/32 removed from eth0\nnat: 203.0.113.1/24 removed from eth1\n', stderr: '', code: EXIT.OK });
  t.notOk(host.has({ address: '203.0.113.1', prefix: 24, family: 4 }, 'eth1'));
  t.ok(host.has({ address: '203.0.113.2', prefix: 24, family: 4 }, 'eth1'), 'the interface\'s own address stays');
});

t.test('release: a broken file still releases every VIP its vips list names, and reports the unreadable one', async (t) => {
  const dir = tempDir(t);
  const host = new FakeHost();
  host.addrs.set('eth1', [addr('203.0.113.1', 24)]);
  host.addrs.get('eth0')!.push(addr('198.51.100.100', 32));
  const release = [releaseCommandOn(() => ({ vips: host, sysctl: new Ipv4ConfSysctl(memSysctl()) }))];
  // priority out of range makes the file invalid; a second group's vips has an entry that is no VIP.
  const broken = natFile(dir, '    priority: 999\n  - name: db\n    vips: [not-an-ip, 198.51.100.101]\n    interface: eth0\n');
  host.addrs.get('eth0')!.push(addr('198.51.100.101', 32));
  const r = await runCli(['release', '--config', broken], release);
  t.equal(r.stdout, 'nat: 198.51.100.100/32 removed from eth0\nnat: 203.0.113.1/24 removed from eth1\ndb: 198.51.100.101/32 removed from eth0\n');
  t.match(r.stderr, /warning: releasing what the invalid file still names\ndb: vips\[0\] unreadable: not released\n/);
  t.equal(r.code, EXIT.FAILURE, 'an entry it could not read: exit 1');
  t.notOk(host.has({ address: '203.0.113.1', prefix: 24, family: 4 }, 'eth1'), 'the gateway VIP is gone from eth1');
});

/** The realserver command on a fake host and /proc/sys, its state file in a temp directory. */
function realserverRig(t: Test, runs: CommandResult[] = []) {
  const dir = tempDir(t);
  const host = new FakeHost();
  const fs = memSysctl();
  const ran: string[][] = [];
  const runner = {
    run: async (argv: readonly string[]): Promise<CommandResult> => {
      ran.push([...argv]);
      return runs.shift() ?? { code: -1, signal: null, stdout: '', stderr: 'not started', timedOut: false };
    },
  };
  const ports: RealServerPorts = {
    deps: (stateFile) => ({ host, sysctl: new Ipv4ConfSysctl(fs), stateFile, bootId: async () => 'boot-1' }),
    director: () => ({ runner, host }),
  };
  const state = join(dir, 'realserver.json');
  const cli = (...args: string[]) => runCli(['realserver', ...args, '--config', join(dir, 'none.yaml')], [realserverCommandOn(ports)]);
  return { dir, host, fs, ran, state, cli };
}

t.test('realserver up, check, down on the fake host', async (t) => {
  const { host, fs, state, cli } = realserverRig(t);
  const notSafe = await cli('check', '--vip', '198.51.100.100');
  t.equal(notSafe.code, EXIT.FAILURE);
  t.match(notSafe.stdout, /problem: [\s\S]*NOT SAFE\n$/);
  const up = await cli('up', '--vip', '198.51.100.100', '-i', 'eth0', '--state-file', state);
  t.equal(up.code, EXIT.OK, up.stderr);
  t.match(up.stdout, /^set net\.ipv4\.conf\.all\.arp_ignore 0 -> 1\n[\s\S]*added 198\.51\.100\.100\/32 to lo\n$/);
  t.ok(host.has({ address: '198.51.100.100', prefix: 32, family: 4 }));
  const again = await cli('up', '--vip', '198.51.100.100', '-i', 'eth0', '--state-file', state);
  t.same(again, { stdout: 'nothing to change\n', stderr: '', code: EXIT.OK });
  const safe = await cli('check', '--vip', '198.51.100.100', '-i', 'eth0');
  t.same(safe, { stdout: 'safe: this host holds the VIPs on lo and does not answer ARP for them\n', stderr: '', code: EXIT.OK });
  // The arguments up took are accepted by down (they used to be a usage error, exit 64).
  const down = await cli('down', '--vip', '198.51.100.100', '--interface', 'eth0', '--state-file', state);
  t.equal(down.code, EXIT.OK, down.stderr);
  t.match(down.stdout, /removed 198\.51\.100\.100\/32 from lo/);
  t.match(down.stdout, /note: down undoes what up recorded in .*; --vip and --interface are not needed\n/);
  t.equal(fs.value('all', 'arp_ignore'), 0, 'sysctls restored');
  const idle = await cli('down', '--state-file', state);
  t.match(idle.stdout, /^note: no state file .*\nnothing to undo\n$|^nothing to undo\n/);
});

t.test('realserver: a failed change is exit 1 with the error on stderr', async (t) => {
  const { host, state, cli } = realserverRig(t);
  host.failAdd = true;
  const r = await cli('up', '--vip', '198.51.100.100', '--state-file', state);
  t.equal(r.code, EXIT.FAILURE);
  t.match(r.stderr, /^error: .*ip addr add 198\.51\.100\.100: exit 1/m);
});

t.test('realserver: usage errors are exit 64 and change nothing', async (t) => {
  const { host, ran, cli } = realserverRig(t);
  const before = JSON.stringify([...host.addrs]);
  const cases: [string[], RegExp][] = [
    [['up'], /name at least one --vip, or list them in the realserver section of /],
    [['up', '--vip', '198.51.100.0/24'], /\/32/],
    [['up', '--vip', '198.51.100.100', '-i', 'lo'], /--interface is the interface the VIP traffic arrives on, not lo\n$/],
    [['up', '--vip', '198.51.100.100', '-i', 'bad/name'], /interface name "bad\/name" contains '\/'/],
    [['check', '--vip', '198.51.100.100', '--from-director'], /--from-director needs --interface\n$/],
  ];
  for (const [args, why] of cases) {
    const r = await cli(...args);
    t.equal(r.code, EXIT.USAGE, args.join(' '));
    t.match(r.stderr, /^haagent realserver: /, args.join(' '));
    t.match(r.stderr, why, args.join(' '));
  }
  const none = await runCli(['realserver']);
  t.equal(none.code, EXIT.USAGE);
  t.match(none.stderr, /name an action: up, down or check/);
  t.equal(JSON.stringify([...host.addrs]), before, 'no address changed');
  t.same(ran, [], 'nothing run');
});

t.test('realserver: VIPs, interface and state file from the config; an invalid config is exit 78', async (t) => {
  const { host, dir } = realserverRig(t);
  const ports: RealServerPorts = {
    deps: (stateFile) => ({ host, sysctl: new Ipv4ConfSysctl(memSysctl()), stateFile, bootId: async () => 'boot-1' }),
    director: () => {
      throw new Error('not a director check');
    },
  };
  const file = join(dir, 'rs.yaml');
  const state = join(dir, 'from-config.json');
  writeFileSync(file, `realserver:\n  vips: [198.51.100.100]\n  interface: eth0\n  stateFile: ${state}\n`);
  const up = await runCli(['realserver', 'up', '--config', file], [realserverCommandOn(ports)]);
  t.equal(up.code, EXIT.OK, up.stderr);
  t.match(up.stdout, /set net\.ipv4\.conf\.eth0\.arp_ignore 0 -> 1/, 'the interface of the config');
  t.match(up.stdout, /added 198\.51\.100\.100\/32 to lo/, 'the VIP of the config');
  const down = await runCli(['realserver', 'down', '--config', file], [realserverCommandOn(ports)]);
  t.match(down.stdout, /removed 198\.51\.100\.100\/32 from lo/, 'the state file of the config');
  writeFileSync(file, 'realserver:\n  vips: [198.51.100.0/24]\n');
  const bad = await runCli(['realserver', 'up', '--config', file], [realserverCommandOn(ports)]);
  t.equal(bad.code, EXIT.CONFIG);
  t.match(bad.stderr, /is not valid \(give --vip and --state-file to do without it\)\n$/);
});

t.test('realserver check --from-director: each MAC that answered, judged', async (t) => {
  const link = { code: 0, signal: null, stdout: JSON.stringify([{ address: '02:00:00:00:00:01' }]), stderr: '', timedOut: false };
  const arping = (lines: string[], code = 0) => ({ code, signal: null, stdout: lines.join('\n'), stderr: '', timedOut: false });
  const reply = (mac: string) => `Unicast reply from 198.51.100.100 [${mac}]  0.700ms`;
  const one = realserverRig(t, [link, arping([reply('02:00:00:00:00:aa'), reply('02:00:00:00:00:aa')])]);
  const ok = await one.cli('check', '--from-director', '-i', 'eth0', '--vip', '198.51.100.100', '--director-mac', '02:00:00:00:00:aa');
  t.equal(ok.code, EXIT.OK, ok.stdout);
  t.match(ok.stdout, /^198\.51\.100\.100: arping -w 2 -s 198\.51\.100\.20 -I eth0 198\.51\.100\.100 \(this host does not hold it; own MAC 02:00:00:00:00:01\)\n {2}02:00:00:00:00:aa answered 2 time\(s\) \[director\]\n$/);
  t.equal(one.ran[1]?.[0], 'arping');
  const two = realserverRig(t, [link, arping([reply('02:00:00:00:00:aa'), reply('02:00:00:00:00:bb')])]);
  const leak = await two.cli('check', '--from-director', '-i', 'eth0', '--vip', '198.51.100.100');
  t.equal(leak.code, EXIT.FAILURE);
  t.match(leak.stdout, / {2}problem: /);
  const silent = realserverRig(t, [link, arping([], 1)]);
  const nobody = await silent.cli('check', '--from-director', '-i', 'eth0', '--vip', '198.51.100.100');
  t.equal(nobody.code, EXIT.FAILURE);
  t.match(nobody.stdout, / {2}no MAC answered\n/);
  const missing = realserverRig(t, [link]);
  const gone = await missing.cli('check', '--from-director', '-i', 'eth0', '--vip', '198.51.100.100');
  t.equal(gone.code, EXIT.UNAVAILABLE, 'arping not started: exit 69');
  t.match(gone.stderr, /^error: 198\.51\.100\.100: /);
});

t.test('run: an invalid config or a key file it cannot use is exit 78 before anything starts', async (t) => {
  const dir = tempDir(t);
  const invalid = await runCli(['run', '--config', join(dir, 'absent.yaml')], [runCommand]);
  t.equal(invalid.code, EXIT.CONFIG);
  t.match(invalid.stderr, /absent\.yaml/);
  const nokey = await runCli(['run', '--config', configFile(dir, join(dir, 'control.sock'))], [runCommand]);
  t.equal(nokey.code, EXIT.CONFIG);
  t.match(nokey.stderr, /^haagent: .*key/m);
});

t.test('the real-server role of run: none without the section; a failed start is undone', async (t) => {
  const director = parse(withLines());
  t.equal(realServerRoleFor(director, silent), null);
  await t.rejects(runRealServerOnly(director, silent), /no realserver section/);
  const withRole: Config = { ...director, realserver: parse(withLines('realserver:', '  vips: [198.51.100.200]')).realserver };
  t.ok(realServerRoleFor(withRole, silent), 'a role for the section (nothing applied before start)');
  const calls: string[] = [];
  const role = (errors: string[]) =>
    ({
      start: async () => (calls.push('start'), { done: [], notes: [], warnings: [], errors }),
      stop: async () => (calls.push('stop'), null),
    }) as unknown as RealServerRole;
  t.equal(await startOrUndo(role([]), silent), true);
  t.same(calls, ['start']);
  calls.length = 0;
  t.equal(await startOrUndo(role(['cannot write arp_ignore']), silent), false);
  t.same(calls, ['start', 'stop'], 'a failed start is undone');
});
