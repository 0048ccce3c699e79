/**
 * `haagent status --check`: the verdict on a status record (pure), and the command's one
 * line and exit code against a fake agent, UNKNOWN when none answers.
 */
import t from 'tap';
import { join } from 'node:path';
import { CHECK_EXIT, checkVerdict } from '../../src/daemon/status-check.js';
import { fakeAgent, runCli, tempDir } from './cli-fakes.js';
import { peer, record, web } from './status-fixtures.js';

t.test('a standby node with its peer holding the group: OK, with a summary', async (t) => {
  const v = checkVerdict(record());
  t.same(v, { level: 'OK', code: 0, line: 'HAAGENT OK - d0: 0/1 groups active here, 1/1 peers alive' });
});

t.test('CRITICAL: fault, two holders, nobody holding, no peer alive', async (t) => {
  const fault = checkVerdict(record({ groups: [web({ state: 'fault', faultReason: 'link eth0 down' })] }));
  t.equal(fault.code, CHECK_EXIT.CRITICAL);
  t.match(fault.line, /^HAAGENT CRITICAL - group web in fault \(link eth0 down\); d0: /);
  const split = checkVerdict(record({ groups: [web({ state: 'active', activeNode: 'd0' })] }));
  t.match(split, { level: 'CRITICAL', line: /group web active here and on d1/ });
  const active = checkVerdict(record({ groups: [web({ state: 'active', activeNode: 'd0' })], peers: [peer({ groups: [{ name: 'web', state: 'standby', priority: 100, reach: 0 }] })] }));
  t.equal(active.level, 'OK', 'active here, standby on the peer');
  const orphan = checkVerdict(record({ groups: [web({ activeNode: null })], peers: [peer({ groups: [{ name: 'web', state: 'standby', priority: 100, reach: 0 }] })] }));
  t.match(orphan, { level: 'CRITICAL', line: /group web held by no node/ });
  t.match(checkVerdict(record({ peers: [] })), { level: 'CRITICAL', line: /no peer heard/ });
  const dead = checkVerdict(record({ peers: [peer({ alive: false })] }));
  t.match(dead, { level: 'CRITICAL', line: /no peer alive \(d1 dead\)/ });
  t.notMatch(dead.line, /active here and on/, 'a dead peer\'s last word does not count');
});

t.test('WARNING: a peer or a path missing, a recent conflict, a failing check, maintenance, init', async (t) => {
  const two = [peer(), peer({ node: 'd2', alive: false })];
  t.match(checkVerdict(record({ peers: two })), { level: 'WARNING', code: 1, line: /^HAAGENT WARNING - peer d2 dead; d0: 0\/1 groups active here, 1\/2 peers alive$/ });
  const path = peer({ paths: [{ address: '198.51.100.11', lastHeardMsAgo: 40, alive: true }, { address: '203.0.113.11', lastHeardMsAgo: 900, alive: false }] });
  t.match(checkVerdict(record({ peers: [path] })), { level: 'WARNING', line: /peer d1 path 203\.0\.113\.11 silent/ });
  const conflict = (msAgo: number) => record({ groups: [web({ conflicts: 1, lastConflict: { macs: ['02:00:00:00:00:09'], msAgo } })] });
  t.match(checkVerdict(conflict(30_000)), { level: 'WARNING', line: /group web VIP conflict 30s ago \(02:00:00:00:00:09\)/ });
  t.equal(checkVerdict(conflict(11 * 60_000)).level, 'OK', 'older than the window (10 min by default)');
  t.equal(checkVerdict(conflict(30_000), { conflictWindowMs: 10_000 }).level, 'OK', 'the window is an option');
  const failing = web({ checks: [{ name: 'http', type: 'http', state: 'failing', effect: '-50', lastResult: 'HTTP 503', lastMs: 3 }] });
  t.match(checkVerdict(record({ groups: [failing] })), { level: 'WARNING', line: /group web check http failing/ });
  t.match(checkVerdict(record({ maintenance: true })), { level: 'WARNING', line: /maintenance/ });
  t.match(checkVerdict(record({ groups: [web({ state: 'init', activeNode: null })] })), { level: 'WARNING', line: /group web starting \(init\)/ });
});

t.test('the worst first; names from the network are escaped', async (t) => {
  const v = checkVerdict(record({ maintenance: true, groups: [web({ name: 'w\u001b[2J', state: 'fault' })] }));
  t.match(v.line, /^HAAGENT CRITICAL - group w\\x1b\[2J in fault; maintenance; /);
  t.equal(v.line.includes('\n'), false);
});

t.test('the command: one line on stdout and the plugin exit code; UNKNOWN without an agent', async (t) => {
  const { socket } = await fakeAgent(t, () => ({ ok: true, status: record({ peers: [peer({ alive: false })] }) }));
  const crit = await runCli(['status', '--check', '--socket', socket]);
  t.equal(crit.code, 2);
  t.match(crit.stdout, /^HAAGENT CRITICAL - no peer alive \(d1 dead\); d0: 0\/1 groups active here, 0\/1 peers alive\n$/);
  t.equal(crit.stderr, '');
  const gone = join(tempDir(t), 'none.sock');
  const unknown = await runCli(['status', '--check', '--socket', gone]);
  t.equal(unknown.code, 3);
  t.equal(unknown.stdout, `HAAGENT UNKNOWN - no agent on the control socket ${gone} (ENOENT)\n`);
  const both = await runCli(['status', '--check', '--json', '--socket', gone]);
  t.equal(both.code, 64, '--check and --json exclude each other');
  const { socket: refusing } = await fakeAgent(t, () => ({ ok: false, message: 'shutting down' }));
  const refused = await runCli(['status', '--check', '--socket', refusing]);
  t.same([refused.code, refused.stdout], [3, 'HAAGENT UNKNOWN - agent refused status: shutting down\n']);
});
