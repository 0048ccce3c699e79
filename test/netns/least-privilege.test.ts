/**
 * Least privilege (systemd/haagent.service runs the agent as user haagent with four ambient
 * capabilities): the failover drill of failover.test.ts with both agents, and their
 * `haagent release`, running as uid 65534 (nobody) through setpriv with exactly the unit's
 * credentials: no supplementary groups, no_new_privs, and CAP_NET_ADMIN, CAP_NET_RAW,
 * CAP_NET_BIND_SERVICE and CAP_SYS_NICE as the ambient, inheritable and bounding sets. The
 * lab's key, configs and state directories are owned by that user, as /etc/haagent/key and
 * /var/lib/haagent are by haagent. Shown with the real agent in namespaces:
 *
 *   - the VIP moves on a crash, on a planned stop and on node loss exactly as with root, and
 *     `release` as the user removes the VIP a killed agent left (the unit's ExecStopPost);
 *   - /proc/PID/status of each agent: a non-zero uid, CapEff (and CapPrm, CapAmb, CapBnd)
 *     exactly the four, no_new_privs; its event loop on SCHED_RR (CAP_SYS_NICE); d1 started
 *     as plain `node main.js run`, which relaunches itself by execve, keeps them all;
 *   - with those credentials (a process whose status lines equal the agent's) a write to a
 *     kernel.* sysctl fails with EACCES while a net.* sysctl write in the namespace works:
 *     the kernel gives a holder of CAP_NET_ADMIN in the namespace's user namespace root's
 *     access to /proc/sys/net (net/sysctl_net.c, net_ctl_permissions), /proc/sys/kernel
 *     stays root's; `ip addr add/del` and `arping` work as the user (ambient capabilities
 *     reach exec'd children); a notify hook runs as the agent's user with the same four;
 *   - the real-server role (`haagent realserver up/down`) as the user with CAP_NET_ADMIN
 *     only, as systemd/haagent-realserver.service runs it: VIP on lo, ARP sysctls set and
 *     restored; and a LevIP agent as the user sets and restores its front interface's
 *     arp_announce.
 *
 * Needs root (to build the namespaces and to become the user) and `npm run build`.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { parse, stringify } from 'yaml';
import { chownTree, HAAGENT_MAIN, HaagentCluster, haagentAvailable, setprivPrefix, type HaagentNode, type RunAs } from './agents/haagent.js';
import { waitFor } from './exec.js';
import { Lab, VIP_CIDR, type LabHost } from './lab.js';
import { twoDirectorDrill } from './round.js';

const skip = process.getuid?.() !== 0 ? 'network namespaces and setpriv to another user need root' : !(await haagentAvailable()) ? 'dist/src/main.js is not available: run `npm run build`' : false;

/** nobody/nogroup: present on every Debian system; the unit's own user is haagent. */
const USER: RunAs = { uid: 65534, gid: 65534 };
const CAP_NET_BIND_SERVICE = 10n;
const CAP_NET_ADMIN = 12n;
const CAP_NET_RAW = 13n;
const CAP_SYS_NICE = 23n;
const bit = (n: bigint) => 1n << n;
/** The unit's four: 0x803400. */
const FOUR = bit(CAP_NET_BIND_SERVICE) | bit(CAP_NET_ADMIN) | bit(CAP_NET_RAW) | bit(CAP_SYS_NICE);

/** The credential lines of a /proc/PID/status text, in order. */
const CRED_KEYS = ['Uid', 'Gid', 'Groups', 'CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb', 'NoNewPrivs'];
function credLines(status: string): string[] {
  return status.split('\n').filter((l) => CRED_KEYS.includes(l.split(':')[0]!)).map((l) => l.replace(/\s+/g, ' ').trim());
}
function field(lines: readonly string[], key: string): string {
  return lines.find((l) => l.startsWith(`${key}:`))?.slice(key.length + 1).trim() ?? '';
}
const capsOf = (lines: readonly string[], key: string) => BigInt(`0x${field(lines, key) || '0'}`);
const hex = (v: bigint) => `0x${v.toString(16)}`;

/** /proc/PID/stat: scheduling policy (1 FIFO, 2 RR) and realtime priority. */
function schedOf(pid: number): { policy: number; rtPriority: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // from field 3 (state) on
  return { policy: Number(rest[41 - 3]), rtPriority: Number(rest[40 - 3]) };
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** The agent's credentials as /proc shows them, asserted to be the unit's. */
function checkAgentCreds(t: Test, node: HaagentNode): string[] {
  const pid = node.proc!.pid;
  const lines = credLines(readFileSync(`/proc/${pid}/status`, 'utf8'));
  t.comment(`${node.name} (pid ${pid}): ${lines.join('; ')}`);
  const uids = field(lines, 'Uid').split(' ').map(Number);
  t.same(uids, [USER.uid, USER.uid, USER.uid, USER.uid], `${node.name}: real, effective, saved and fs uid ${USER.uid}`);
  t.same(field(lines, 'Gid').split(' ').map(Number), [USER.gid, USER.gid, USER.gid, USER.gid], `${node.name}: gid ${USER.gid}`);
  t.equal(field(lines, 'Groups'), '', `${node.name}: no supplementary groups`);
  for (const set of ['CapEff', 'CapPrm', 'CapAmb', 'CapBnd', 'CapInh']) {
    t.equal(hex(capsOf(lines, set)), hex(FOUR), `${node.name}: ${set} is exactly NET_ADMIN, NET_RAW, NET_BIND_SERVICE, SYS_NICE`);
  }
  t.equal(field(lines, 'NoNewPrivs'), '1', `${node.name}: no_new_privs`);
  const sched = schedOf(pid);
  t.same(sched, { policy: 2, rtPriority: 10 }, `${node.name}: its event loop runs SCHED_RR priority 10 (CAP_SYS_NICE, config realtime)`);
  return lines;
}

/**
 * Opens the sysctl file with 'r+' (no O_CREAT, as src/adapters/sysctl.ts writes) and writes
 * `value` (its current value when omitted), inside host's namespace, with prefix's credentials.
 * Prints the credential lines of the writing process, then `ok` or the errno code.
 */
const SYSCTL_WRITE = `
const fs = require('fs');
const [path, value] = process.argv.slice(1);
const creds = fs.readFileSync('/proc/self/status', 'utf8').split('\\n').filter((l) => /^(${CRED_KEYS.join('|')}):/.test(l));
let result;
try {
  fs.writeFileSync(path, (value ?? fs.readFileSync(path, 'utf8').trim()) + '\\n', { flag: 'r+' });
  result = 'ok';
} catch (e) {
  result = e.code;
}
console.log(JSON.stringify({ creds, result }));
`;
async function sysctlWrite(lab: Lab, host: LabHost, prefix: readonly string[], name: string, value?: number): Promise<{ creds: string[]; result: string }> {
  const path = `/proc/sys/${name.replaceAll('.', '/')}`;
  const r = await lab.exec(host, [...prefix, process.execPath, '-e', SYSCTL_WRITE, path, ...(value === undefined ? [] : [String(value)])], 10_000);
  if (r.code !== 0) throw new Error(`sysctl write probe: exit ${r.code}: ${r.stderr}`);
  const out = JSON.parse(r.stdout) as { creds: string[]; result: string };
  return { creds: out.creds.map((l) => l.replace(/\s+/g, ' ').trim()), result: out.result };
}

async function readSysctl(lab: Lab, host: LabHost, name: string): Promise<string> {
  const r = await lab.exec(host, ['cat', `/proc/sys/${name.replaceAll('.', '/')}`]);
  if (r.code !== 0) throw new Error(`cat ${name}: ${r.stderr}`);
  return r.stdout.trim();
}

const HOOK = `#!/bin/sh
# notify hook: records the credentials a hook runs with (the last run wins)
grep -E '^(${CRED_KEYS.join('|')}):' /proc/self/status > "$1.tmp" && mv "$1.tmp" "$1"
`;

t.test('2 directors as an unprivileged user with four capabilities: crash, release, preempt back, planned stop, node loss', { skip }, async (t) => {
  const lab = await Lab.create({ directors: 2 });
  const cluster = new HaagentCluster(lab, { runAs: USER });
  const prefix = setprivPrefix(USER);
  const cleanups: (() => void)[] = [];
  try {
    // A notify hook on both, installed as the docs say: root's, in a directory only root can
    // write (a hook owned by the agent's user would pass the agent's script security, but
    // root's `haagent status` checks it against uid 0 and refuses the configuration).
    const hookDir = mkdtempSync(join(tmpdir(), 'hatlphook-'));
    chmodSync(hookDir, 0o755);
    const hook = join(hookDir, 'creds.sh');
    writeFileSync(hook, HOOK, { mode: 0o755 });
    cleanups.push(() => rmSync(hookDir, { recursive: true, force: true }));
    const hookOut = (n: HaagentNode) => join(n.dir, 'hook-creds');
    for (const n of cluster.nodes) {
      const cfg = parse(readFileSync(n.configPath, 'utf8')) as Record<string, unknown>;
      cfg.notify = [[hook, hookOut(n)]];
      writeFileSync(n.configPath, stringify(cfg));
    }
    const [, d1] = cluster.nodes as [HaagentNode, HaagentNode];
    // d1 as plain `node main.js run`: it relaunches itself with the node flags by execve.
    d1.nodeFlags = false;

    await twoDirectorDrill(t, lab, cluster, async (d0, d1) => {
      // d1 relaunches itself first (a second node start): wait until it serves.
      t.ok(await d1.waitState('standby', 10_000), 'd1 standby', { log: d1.logTail() });
      const d0creds = checkAgentCreds(t, d0);
      checkAgentCreds(t, d1);
      const argv = readFileSync(`/proc/${d1.proc!.pid}/cmdline`, 'utf8').split('\0');
      t.ok(argv.includes('--max-semi-space-size=1'), 'd1 relaunched itself with the node flags (same PID), and kept its credentials', { argv });
      // Its children: `ip` (the -batch helper) inherits the four as ambient capabilities;
      // a program with file capabilities (Debian's arping: cap_net_raw=ep) gets those instead,
      // its ambient set cleared by the kernel. None can hold more than the four.
      for (const child of childrenOf(d0.proc!.pid)) {
        const comm = readFileSync(`/proc/${child}/comm`, 'utf8').trim();
        const eff = capsOf(credLines(readFileSync(`/proc/${child}/status`, 'utf8')), 'CapEff');
        if (comm === 'ip') t.equal(hex(eff), hex(FOUR), `d0's child ip (pid ${child}) holds the four`);
        else t.equal(hex(eff & ~FOUR), '0x0', `d0's child ${comm} (pid ${child}) holds nothing beyond the four (CapEff ${hex(eff)})`);
      }

      // sysctls, with exactly the agent's credentials
      const kernel = 'kernel.printk_ratelimit';
      const before = await readSysctl(lab, d0.host, kernel);
      const k = await sysctlWrite(lab, d0.host, prefix, kernel);
      t.same(k.creds, d0creds, 'the probe process has exactly d0\'s credentials');
      t.equal(k.result, 'EACCES', `${kernel}: the write (of its own value) is refused with EACCES`);
      t.equal(await readSysctl(lab, d0.host, kernel), before, `${kernel} unchanged`);
      const net = 'net.ipv4.conf.eth0.arp_announce';
      const old = await readSysctl(lab, d0.host, net);
      const want = old === '2' ? 1 : 2;
      const n = await sysctlWrite(lab, d0.host, prefix, net, want);
      t.equal(n.result, 'ok', `${net}: the write as the user succeeds`);
      t.equal(await readSysctl(lab, d0.host, net), String(want), `${net} is now ${want} in d0's namespace`);
      await lab.exec(d0.host, ['sh', '-c', `echo ${old} > /proc/sys/net/ipv4/conf/eth0/arp_announce`]);
      const none = await sysctlWrite(lab, d0.host, setprivPrefix({ ...USER, caps: [] }), net, want);
      t.equal(none.result, 'EACCES', `${net}: the same user without CAP_NET_ADMIN is refused (the capability is what opens /proc/sys/net)`);

      // children: ip and arping get the ambient capabilities
      const add = await lab.exec(d1.host, [...prefix, 'ip', 'addr', 'add', '203.0.113.77/32', 'dev', 'lo'], 10_000);
      t.equal(add.code, 0, `ip addr add as the user: exit 0 ${add.stderr.trim()}`);
      const del = await lab.exec(d1.host, [...prefix, 'ip', 'addr', 'del', '203.0.113.77/32', 'dev', 'lo'], 10_000);
      t.equal(del.code, 0, `ip addr del as the user: exit 0 ${del.stderr.trim()}`);
      const arping = await lab.exec(d1.host, [...prefix, 'arping', '-U', '-c', '1', '-I', 'eth0', d1.host.ip], 10_000);
      t.equal(arping.code, 0, `arping -U as the user: exit 0 ${arping.stderr.trim()}`);

      // hooks run as the agent's user, with its capabilities
      const text = await waitFor(() => existsSync(hookOut(d0)) && readFileSync(hookOut(d0), 'utf8'), 5000, 50);
      t.ok(text, 'd0 ran its notify hook');
      const hookLines = credLines(text || '');
      t.equal(field(hookLines, 'Uid').split(' ')[1], String(USER.uid), 'the hook ran as the agent\'s user');
      t.equal(hex(capsOf(hookLines, 'CapEff')), hex(FOUR), 'the hook holds the agent\'s four capabilities (ambient: inherited across exec)');
      t.equal(statSync(join(d0.dir, 'state')).uid, USER.uid, 'the state directory is the user\'s');
    });
  } finally {
    await cluster.stopAll();
    t.same(await lab.destroy(), { leftNamespaces: [], leftPids: [] }, 'lab torn down');
    cluster.cleanup();
    for (const c of cleanups) c();
  }
});

const ARP = ['all/arp_ignore', 'all/arp_announce', 'eth0/arp_ignore', 'eth0/arp_announce'];
async function arpSysctls(lab: Lab, host: LabHost): Promise<number[]> {
  return Promise.all(ARP.map(async (s) => Number(await readSysctl(lab, host, `net/ipv4/conf/${s}`))));
}

t.test('the real-server role and LevIP write their net sysctls as the user', { skip }, async (t) => {
  const lab = await Lab.create({ directors: 2, realServers: 1 });
  const cluster = new HaagentCluster(lab, { runAs: USER, levip: { period: '500ms', guard: '125ms', repeat: '125ms' } });
  try {
    // haagent-realserver.service: user haagent, CAP_NET_ADMIN only.
    const [r0] = lab.realServers as [LabHost];
    const rsDir = join(cluster.dir, 'r0');
    mkdirSync(rsDir, { mode: 0o700 });
    chownTree(rsDir, USER.uid, USER.gid);
    const rs = setprivPrefix({ ...USER, caps: ['net_admin'] });
    const state = join(rsDir, 'realserver.json');
    const before = await arpSysctls(lab, r0);
    const up = await lab.exec(r0, [...rs, process.execPath, HAAGENT_MAIN, 'realserver', 'up', '--vip', VIP_CIDR.split('/')[0]!, '--interface', 'eth0', '--state-file', state], 15_000);
    t.equal(up.code, 0, `realserver up as the user with CAP_NET_ADMIN only: exit 0`, { stdout: up.stdout, stderr: up.stderr });
    const [allIgnore, allAnnounce, ethIgnore, ethAnnounce] = await arpSysctls(lab, r0);
    t.equal(Math.max(allIgnore!, ethIgnore!), 1, 'eth0 arp_ignore in effect: 1');
    t.equal(Math.max(allAnnounce!, ethAnnounce!), 2, 'eth0 arp_announce in effect: 2');
    t.ok(await lab.hasAddress(r0, VIP_CIDR, 'lo'), 'the VIP is on lo');
    t.equal(statSync(state).uid, USER.uid, 'the state file is the user\'s');
    const down = await lab.exec(r0, [...rs, process.execPath, HAAGENT_MAIN, 'realserver', 'down', '--state-file', state], 15_000);
    t.equal(down.code, 0, 'realserver down as the user: exit 0', { stdout: down.stdout, stderr: down.stderr });
    t.same(await arpSysctls(lab, r0), before, 'down restored the sysctls it found');
    t.notOk(await lab.hasAddress(r0, VIP_CIDR, 'lo'), 'and removed the VIP from lo');

    // A LevIP member (inside haagent.service): the agent itself writes arp_announce on eth0.
    const [d0] = cluster.nodes as [HaagentNode];
    const announce = () => readSysctl(lab, d0.host, 'net/ipv4/conf/eth0/arp_announce');
    const found = await announce();
    d0.start();
    const set = await waitFor(async () => (await announce()) === '2' && (await d0.vipPresent('lo')), 10_000, 50);
    t.ok(set, `LevIP agent as the user: the shared IP on lo, eth0 arp_announce 2 (was ${found})`, { log: set ? undefined : d0.logTail() });
    t.equal(hex(capsOf(credLines(readFileSync(`/proc/${d0.proc!.pid}/status`, 'utf8')), 'CapEff')), hex(FOUR), 'the LevIP agent holds the four capabilities');
    t.same(await d0.stop(), { code: 0, signal: null }, 'SIGTERM: exit 0');
    t.equal(await announce(), found, 'the stop restored arp_announce');
    t.notOk(await d0.vipPresent('lo'), 'and removed the shared IP from lo');
  } finally {
    await cluster.stopAll();
    t.same(await lab.destroy(), { leftNamespaces: [], leftPids: [] }, 'lab torn down');
    cluster.cleanup();
  }
});
