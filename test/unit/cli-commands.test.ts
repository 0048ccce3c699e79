// The commands that talk to a running agent (status, reload, events, takeover, standby,
// maintenance) and the parser's usage errors, run in-process through the real parser against
// a fake agent on a Unix socket: what each prints and the exit code it leaves.
import t, { type Test } from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT } from '../../src/cli/exit.js';
import type { ControlRequest } from '../../src/daemon/control.js';
import { formatStatus, type StatusRecord } from '../../src/daemon/status-view.js';
import { record, web } from './status-fixtures.js';
import { configFile, fakeAgent, runCli, tempDir, type Answer } from './cli-fakes.js';

/** A fake agent that answers status with `status()` and every other request with `other`. */
const agentWith = (t: Test, status: () => StatusRecord, other: (req: ControlRequest) => Answer = () => ({ ok: false, message: 'unexpected' })) =>
  fakeAgent(t, (req) => (req.cmd === 'status' ? { ok: true, status: status() } : other(req)));

const missing = (t: Test) => join(tempDir(t), 'none.sock');

t.test('usage errors: exit 64 with the reason and a pointer to --help', async (t) => {
  const none = await runCli([]);
  t.equal(none.code, EXIT.USAGE);
  t.match(none.stderr, /^haagent: name a command\n\(see haagent --help\)\n$/);
  const unknown = await runCli(['status', '--bogus']);
  t.equal(unknown.code, EXIT.USAGE);
  t.match(unknown.stderr, /Unknown argument: bogus/);
  const mode = await runCli(['maintenance', 'maybe', '--socket', missing(t)]);
  t.equal(mode.code, EXIT.USAGE);
  t.match(mode.stderr, /Invalid values:[\s\S]*maybe/);
  t.equal(`${none.stdout}${unknown.stdout}${mode.stdout}`, '', 'nothing on stdout');
});

t.test('status: the agent\'s record, as the table or as JSON', async (t) => {
  const s = record();
  const { socket } = await agentWith(t, () => s);
  const human = await runCli(['status', '--socket', socket]);
  t.equal(human.code, EXIT.OK);
  t.equal(human.stdout, formatStatus(s));
  t.match(human.stdout, /^node d0 {2}cluster lb1 {2}pid 4321 {2}up 5\.0s\n/);
  t.match(human.stdout, /\nweb +STANDBY +198\.51\.100\.100\/32 +eth0 +150 +d1 /);
  const json = await runCli(['status', '--json', '--socket', socket]);
  t.equal(json.code, EXIT.OK);
  t.same(JSON.parse(json.stdout), s);
  t.equal(human.stderr + json.stderr, '');
});

t.test('status: the socket of the config; an invalid or unreadable config still asks the agent', async (t) => {
  const dir = tempDir(t);
  const { socket, asked } = await agentWith(t, () => record());
  const ok = await runCli(['status', '--config', configFile(dir, socket)]);
  t.equal(ok.code, EXIT.OK);
  t.same(asked, [{ cmd: 'status' }]);
  const bad = await runCli(['status', '--config', configFile(dir, socket, '    priority: 999\n')]);
  t.equal(bad.code, EXIT.OK, 'a half-edited file: the running agent still answers');
  t.match(bad.stderr, /^haagent: warning: .*haagent\.yaml is not a valid configuration \(1 problem\(s\); run haagent check-config\); asking the agent at /);
  t.equal(bad.stdout, formatStatus(record()));
  t.equal(asked.length, 2, 'asked both times');
  const torn = join(dir, 'torn.yaml');
  writeFileSync(torn, `control:\n  socket: ${socket}\ngroups: [\n`);
  const unparsable = await runCli(['status', '--config', torn]);
  t.equal(unparsable.code, EXIT.OK, 'YAML that does not parse: the socket is still read where it can be');
  const none = await runCli(['status', '--config', join(dir, 'absent.yaml')]);
  t.match(none.stderr, /warning: .*absent\.yaml is not a valid configuration \(a readable configuration file/);
  t.match(none.stderr, /asking the agent at \/run\/haagent\/haagent\.sock/, 'no file: the default socket');
  t.equal(none.code, EXIT.NOT_RUNNING, 'no file and no agent: exit 3, not 78');
});

t.test('status: a group in fault is exit 1 (a monitoring check), the record printed all the same', async (t) => {
  const s = record({ groups: [web({ state: 'fault', faultReason: 'cannot add VIP: RTNETLINK answers: Operation not permitted' })] });
  const { socket } = await agentWith(t, () => s);
  const r = await runCli(['status', '--socket', socket]);
  t.equal(r.code, EXIT.FAILURE);
  t.equal(r.stdout, formatStatus(s));
  const json = await runCli(['status', '--json', '--socket', socket]);
  t.equal(json.code, EXIT.FAILURE);
});

t.test('status: refused is exit 1, no agent is exit 3', async (t) => {
  const { socket } = await fakeAgent(t, () => ({ ok: false, message: 'shutting down' }));
  const refused = await runCli(['status', '--socket', socket]);
  t.equal(refused.code, EXIT.FAILURE);
  t.equal(refused.stderr, 'haagent: shutting down\n');
  const path = missing(t);
  const gone = await runCli(['status', '--socket', path]);
  t.equal(gone.code, EXIT.NOT_RUNNING);
  t.equal(gone.stderr, `haagent: no agent running (control socket ${path}: ENOENT)\n`);
});

t.test('reload: the agent\'s answer on stdout (exit 0) or stderr (exit 78)', async (t) => {
  let accept = true;
  const { socket } = await fakeAgent(t, () => (accept ? { ok: true, message: 'reloaded /etc/haagent/haagent.yaml: groups web' } : { ok: false, message: 'reload refused, still running the previous config' }));
  const ok = await runCli(['reload', '--socket', socket]);
  t.same(ok, { stdout: 'reloaded /etc/haagent/haagent.yaml: groups web\n', stderr: '', code: EXIT.OK });
  accept = false;
  const refused = await runCli(['reload', '--socket', socket]);
  t.same(refused, { stdout: '', stderr: 'reload refused, still running the previous config\n', code: EXIT.CONFIG });
  const gone = await runCli(['reload', '--socket', missing(t)]);
  t.equal(gone.code, EXIT.NOT_RUNNING);
});

t.test('events: every line after the acknowledgement, as it came', async (t) => {
  const events = [
    { time: '2024-01-01T00:00:00.000Z', node: 'd0', event: 'transition', group: 'web', from: 'standby', to: 'active' },
    { time: '2024-01-01T00:00:01.000Z', node: 'd0', event: 'reload', groups: ['web'] },
    { time: '2024-01-01T00:00:02.000Z', node: 'd0', event: 'peer-down', peer: 'd1' },
    { time: '2024-01-01T00:00:03.000Z', node: 'd0', event: 'check', group: 'web', check: 'http', from: 'passing', to: 'failing', detail: 'HTTP 503' },
  ];
  const { socket } = await fakeAgent(t, () => [{ ok: true, message: 'following events' }, ...events]);
  const r = await runCli(['events', '--socket', socket]);
  t.equal(r.code, EXIT.OK);
  t.same(r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as object), events);
  const gone = await runCli(['events', '--socket', missing(t)]);
  t.equal(gone.code, EXIT.NOT_RUNNING);
  t.match(gone.stderr, /no agent running/);
});

t.test('takeover GROUP: the reply, then the outcome once the status shows it', async (t) => {
  let s = record();
  const { socket, asked } = await agentWith(
    t,
    () => s,
    () => {
      s = record({ groups: [web({ state: 'active', activeNode: 'd0', vipPresent: true, operator: 'takeover' })] });
      return { ok: true, message: 'web: taking over' };
    },
  );
  const r = await runCli(['takeover', 'web', '--socket', socket]);
  t.equal(r.code, EXIT.OK);
  t.match(r.stdout, /^web: taking over\nweb: active \(active node: d0\)\ndone in \d+ ms\n$/);
  t.same(asked[0], { cmd: 'takeover', group: 'web' });
});

t.test('standby: done once a peer holds every group', async (t) => {
  let s = record({ groups: [web({ state: 'active', activeNode: 'd0', vipPresent: true })] });
  const { socket, asked } = await agentWith(
    t,
    () => s,
    () => {
      s = record({ groups: [web({ state: 'standby', activeNode: 'd1', operator: 'standby' })] });
      return { ok: true, message: 'web: handing over to the best peer' };
    },
  );
  const r = await runCli(['standby', '--socket', socket]);
  t.equal(r.code, EXIT.OK);
  t.match(r.stdout, /^web: handing over to the best peer\nweb: standby \(active node: d1\)\ndone in \d+ ms\n$/);
  t.same(asked[0], { cmd: 'standby' }, 'no group: every group');
});

t.test('maintenance on and off: done when the flag and the groups show it', async (t) => {
  let s = record({ groups: [web({ state: 'active', activeNode: 'd0', vipPresent: true })] });
  const { socket, asked } = await agentWith(
    t,
    () => s,
    (req) => {
      const on = req.cmd === 'maintenance' && req.on;
      s = record({ maintenance: on, groups: [web({ state: 'standby', activeNode: 'd1' })] });
      return { ok: true, message: on ? 'maintenance on: leaving every election' : 'maintenance off: back in the elections' };
    },
  );
  const on = await runCli(['maintenance', 'on', '--socket', socket]);
  t.equal(on.code, EXIT.OK);
  t.match(on.stdout, /^maintenance on: leaving every election\nweb: standby \(active node: d1\)\ndone in \d+ ms\n$/);
  const off = await runCli(['maintenance', 'off', '--socket', socket]);
  t.equal(off.code, EXIT.OK);
  t.match(off.stdout, /^maintenance off: back in the elections\n/);
  t.same(asked.filter((q) => q.cmd === 'maintenance'), [{ cmd: 'maintenance', on: true }, { cmd: 'maintenance', on: false }]);
});

t.test('operator commands: refused is exit 1 with the reason; an outcome that never comes is exit 1 after --wait', async (t) => {
  let accept = false;
  const { socket, asked } = await agentWith(
    t,
    () => record(),
    () => (accept ? { ok: true, message: 'web: taking over' } : { ok: false, message: 'takeover refused: this node is in maintenance' }),
  );
  const refused = await runCli(['takeover', '--socket', socket]);
  t.same(refused, { stdout: 'takeover refused: this node is in maintenance\n', stderr: '', code: EXIT.FAILURE });
  t.same(asked.map((q) => q.cmd), ['takeover'], 'no status followed');
  accept = true;
  const stuck = await runCli(['takeover', '--socket', socket, '--wait', '100']);
  t.equal(stuck.code, EXIT.FAILURE);
  t.match(stuck.stdout, /^web: taking over\nweb: standby \(active node: d1\)\nnot done after 100 ms\n$/);
  const gone = await runCli(['standby', '--socket', missing(t)]);
  t.equal(gone.code, EXIT.NOT_RUNNING);
  const dir = tempDir(t);
  const bad = await runCli(['standby', '--config', join(dir, 'absent.yaml')]);
  t.equal(bad.code, EXIT.NOT_RUNNING, 'no --socket and no config: the default socket, nobody there: exit 3');
});
