/**
 * The real-server role run as a service: the compiled agent (`npm run build` first; `npm test`
 * does) started as `haagent run --config F` inside real server r0 of the lab (lab.ts), with a
 * configuration that has only a realserver section. Nothing touches the root namespace; the
 * lab is destroyed in `finally`, even on failure. Needs root; skipped otherwise.
 *
 * The story: after start the VIP is on lo and the ARP sysctls are set; a sysctl undone by hand
 * and the VIP removed by hand come back within a few recheck intervals, with a warning naming
 * the drift; SIGTERM restores the sysctls to what the role found, removes the VIP, exit 0.
 */
import t, { type Test } from 'tap';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { epochNow, waitFor, within } from './exec.js';
import { drillSkipReason, Lab, REPO_ROOT, VIP, VIP_CIDR, type LabHost, type LabProcess } from './lab.js';

const MAIN = join(REPO_ROOT, 'dist', 'src', 'main.js');
const SYSCTLS = ['all/arp_ignore', 'all/arp_announce', 'eth0/arp_ignore', 'eth0/arp_announce'];
const RECHECK_MS = 500;

const skip = drillSkipReason(['cli/run', 'cli/run-role', 'realserver/role', 'realserver/apply', 'config/realserver', 'config/schema']);
if (skip !== null) t.plan(0, skip);

interface LogLine {
  level: number;
  msg: string;
  drift?: string[];
}

async function sysctls(lab: Lab, host: LabHost): Promise<number[]> {
  const r = await lab.exec(host, ['cat', ...SYSCTLS.map((s) => `/proc/sys/net/ipv4/conf/${s}`)]);
  if (r.code !== 0) throw new Error(`cat sysctls in ${host.ns}: ${r.stderr}`);
  return r.stdout.trim().split('\n').map(Number);
}

async function must(lab: Lab, host: LabHost, argv: string[]): Promise<void> {
  const r = await lab.exec(host, argv);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} in ${host.ns}: exit ${r.code}: ${r.stderr}`);
}

const setSysctl = (lab: Lab, host: LabHost, name: string, v: number) => must(lab, host, ['sh', '-c', `echo ${v} > /proc/sys/net/ipv4/conf/${name}`]);

t.test('haagent run with only a realserver section: apply, keep applied, undo on SIGTERM', async (t) => {
  const lab = await Lab.create({ directors: 2, realServers: 1 });
  try {
    await story(t, lab);
  } finally {
    const left = await lab.destroy();
    t.same(left, { leftNamespaces: [], leftPids: [] }, 'lab destroyed: no namespace, no process left');
  }
});

async function story(t: Test, lab: Lab): Promise<void> {
  const [r0] = lab.realServers;
  const stateDir = join(lab.dir, 'r0-state');
  const config = join(lab.dir, 'r0.yaml');
  writeFileSync(config, [
    'node: r0',
    `stateDir: ${stateDir}`,
    'logLevel: debug',
    'realserver:',
    `  vips: [${VIP}]`,
    '  interface: eth0',
    `  recheck: ${RECHECK_MS}ms`,
    '',
  ].join('\n'));
  // A non-default value found at start must come back at stop (not the kernel default).
  await setSysctl(lab, r0, 'all/arp_announce', 1);
  const original = await sysctls(lab, r0);

  const logs: LogLine[] = [];
  const other: string[] = [];
  const proc: LabProcess = lab.spawn(r0, [process.execPath, MAIN, 'run', '--config', config], {
    onLine: (line) => {
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        other.push(line);
      }
    },
  });
  const has = (re: RegExp, level?: number) => logs.find((l) => re.test(l.msg) && (level === undefined || l.level === level));
  const running = await waitFor(() => has(/^real-server role running/) ?? (!proc.alive() && 'exited'), 10_000);
  if (running === undefined || running === 'exited') {
    t.fail(`the role did not start: ${JSON.stringify(logs.map((l) => l.msg))} ${other.join(' | ')}`);
    return;
  }
  t.ok(await lab.hasAddress(r0, VIP_CIDR, 'lo'), 'VIP on lo after start');
  t.same(await sysctls(lab, r0), [1, 2, 1, 2], 'sysctls set after start');
  t.ok(has(/^set net\.ipv4\.conf\.all\.arp_announce 1 -> 2$/, 30), 'each change logged');
  t.ok(has(new RegExp(`^added ${VIP_CIDR.replace(/\./g, '\\.')} to lo$`), 30), 'the VIP addition logged');
  t.ok(existsSync(join(stateDir, 'realserver.json')), 'state file under stateDir');
  const check = await lab.exec(r0, [process.execPath, MAIN, 'realserver', 'check', '--config', config], 15_000);
  t.equal(check.code, 0, `realserver check takes the VIPs and interface from --config: ${check.stdout.trim()}`);
  t.match(check.stdout, /^safe: /m);

  await t.test('a sysctl undone by hand is re-applied', async (t) => {
    await setSysctl(lab, r0, 'eth0/arp_ignore', 0);
    const from = epochNow();
    const back = await waitFor(async () => (await sysctls(lab, r0))[2] === 1, 3 * RECHECK_MS + 1000, 25);
    t.comment(`re-applied after ${Math.round(epochNow() - from)} ms (recheck ${RECHECK_MS} ms)`);
    t.ok(back, `net.ipv4.conf.eth0.arp_ignore back to 1 within a few recheck intervals`);
    const warn = await waitFor(() => has(/^real-server role drifted, re-applying: /, 40), 1000);
    t.match(warn?.drift, ['net.ipv4.conf.eth0.arp_ignore is 0, want 1 or 2 or 8'], 'the warning names what drifted');
    t.ok(await waitFor(() => has(/^set net\.ipv4\.conf\.eth0\.arp_ignore 0 -> 1$/), 1000), 'the re-apply logged');
  });

  await t.test('the VIP removed from lo comes back', async (t) => {
    await must(lab, r0, ['ip', 'addr', 'del', VIP_CIDR, 'dev', 'lo']);
    t.ok(await waitFor(() => lab.hasAddress(r0, VIP_CIDR, 'lo'), 3 * RECHECK_MS + 1000, 25), 'VIP back on lo');
    t.ok(has(/is not on lo/, 40), 'warned');
  });

  proc.kill('SIGTERM');
  const exit = await within(proc.exited, 10_000, null);
  t.same(exit, { code: 0, signal: null }, 'SIGTERM: exit 0');
  t.same(await sysctls(lab, r0), original, 'sysctls back to what the role found');
  t.equal(await lab.hasAddress(r0, VIP_CIDR, 'lo'), false, 'VIP removed from lo');
  t.equal(existsSync(join(stateDir, 'realserver.json')), false, 'nothing left to undo: state file removed');
  t.ok(has(/^restored net\.ipv4\.conf\.all\.arp_announce 2 -> 1$/, 30), 'each restoration logged');
  t.ok(has(/^real-server role stopped and undone$/), 'the stop logged');
  t.same(other, [], 'nothing but JSON log lines');
}
