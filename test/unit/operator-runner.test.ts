// OperatorRunner (hooks, exec checks) against real commands: the timeout and killAll take the
// whole process group (a `sleep` under `sh` included), the environment is exactly the documented
// one, and a program others can change is refused without running. No test sleeps on a guess:
// each waits for the runner, or polls a condition with a bound in count and time.
import t from 'tap';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OPERATOR_ENV, OperatorRunner } from '../../src/adapters/operator-runner.js';
import { SpawnRunner } from '../../src/adapters/runner.js';
import { createChecker } from '../../src/health/index.js';
import { createLogger } from '../../src/log.js';
import { Notifier } from '../../src/daemon/notify.js';

const dir = mkdtempSync(join(tmpdir(), 'haop-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/** Dead, or a zombie its new parent has not reaped yet: either way not running. */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw e;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Processes of group `pgid` that are not zombies, from /proc (a zombie is still a member). */
function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // ended meanwhile
    }
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z') out.push(Number(name));
  }
  return out;
}

/** Polls `cond` every 20 ms, at most 100 times (2 s). */
async function waitFor(cond: () => boolean): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}

/** sh writes its own PID (the group's ID) and two background sleeps' PIDs to `file`, then waits. */
const forker = (file: string) => ['/bin/sh', '-c', `echo $$ > ${file}; sleep 30 & echo $! >> ${file}; sleep 30 & echo $! >> ${file}; wait`];
const pidsIn = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map(Number) : []);

t.test('at the timeout the whole process group is killed, grandchildren included', async (t) => {
  const file = join(dir, 'pids-timeout');
  const r = await new OperatorRunner().run(forker(file), 300);
  t.match(r, { timedOut: true, signal: 'SIGKILL' });
  const pids = pidsIn(file);
  t.equal(pids.length, 3, 'sh and both sleeps had started');
  t.ok(await waitFor(() => pids.every((p) => !running(p))), `none of ${pids.join(', ')} is running`);
  t.same(groupMembers(pids[0]!), [], 'no process of the group is left');
});

t.test('without a process group a grandchild outlives the timeout (what the group kill fixes)', async (t) => {
  const file = join(dir, 'pids-plain');
  const r = await new SpawnRunner().run(forker(file), 300);
  t.match(r, { timedOut: true });
  const pids = pidsIn(file);
  t.equal(pids.length, 3);
  t.ok(pids.slice(1).some(running), 'a background sleep still runs');
  for (const p of pids.slice(1)) if (running(p)) process.kill(p, 'SIGKILL'); // the PIDs this test started
  t.ok(await waitFor(() => pids.every((p) => !running(p))), 'cleaned up');
});

t.test('killAll (agent stop) kills a running program with its group', async (t) => {
  const file = join(dir, 'pids-stop');
  const op = new OperatorRunner();
  const pending = op.run(forker(file), 30_000);
  t.ok(await waitFor(() => pidsIn(file).length === 3), 'the program and its two sleeps started');
  op.killAll();
  const r = await pending;
  t.match(r, { timedOut: false, signal: 'SIGKILL' });
  const pids = pidsIn(file);
  t.ok(await waitFor(() => pids.every((p) => !running(p))), 'nothing of the group is running');
  t.same(groupMembers(pids[0]!), []);
});

t.test('the runner passes exactly OPERATOR_ENV, or the env it is given, never the agent\'s', async (t) => {
  const seen: (NodeJS.ProcessEnv | undefined)[] = [];
  const fake = { run: async (_argv: readonly string[], _ms: number, o?: { env?: NodeJS.ProcessEnv }) => (seen.push(o?.env), { code: 0, signal: null, stdout: '', stderr: '', timedOut: false }), killAll: () => {} };
  const op = new OperatorRunner({ runner: fake, check: () => null });
  await op.run(['/usr/local/bin/check'], 1000);
  await op.run(['/usr/local/bin/hook'], 1000, { env: { ...OPERATOR_ENV, HAAGENT_TO: 'active' } });
  t.same(seen, [
    { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' },
    { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', HAAGENT_TO: 'active' },
  ]);
});

/**
 * The environment a real child prints. tap's process-info hook adds its own _TAPJS_PROCESSINFO_*
 * variables and a NODE_OPTIONS loading it to every spawn of a test process; the child drops
 * those (and only those: a NODE_OPTIONS with anything else in it stays and fails the test).
 */
function childEnv(stdout: string): Record<string, string> {
  return JSON.parse(stdout) as Record<string, string>;
}

t.test('a real hook and check see exactly the documented environment', async (t) => {
  const added = { NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '1000000', HAAGENT_RELAUNCHED: '1', HAAGENT_TEST_SECRET: 'x' };
  Object.assign(process.env, added);
  t.teardown(() => {
    for (const k of Object.keys(added)) delete process.env[k];
  });
  // tap's variables are dropped by the child itself: with them the line can outgrow what the
  // notifier logs of a hook's output (its stdout is cut, the JSON with it).
  const strip = `const e = { ...process.env }; for (const k of Object.keys(e)) if (k.startsWith('_TAPJS_PROCESSINFO_')) delete e[k];
    if (e.NODE_OPTIONS !== undefined && e.NODE_OPTIONS.replace(/"?--import=\\S*@tapjs\\/processinfo\\S*/g, '').trim() === '') delete e.NODE_OPTIONS;
    process.stdout.write(JSON.stringify(e));`;
  const dump = [process.execPath, '-e', strip];
  const r = await new OperatorRunner().run(dump, 10_000);
  t.equal(r.code, 0, r.stderr);
  t.same(childEnv(r.stdout), { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' });

  const lines: { stdout?: string }[] = [];
  const log = createLogger('info', 'd0', { write: (s: string) => void lines.push(JSON.parse(s) as { stdout?: string }) });
  const n = new Notifier({ runner: new OperatorRunner(), log, global: [dump], groups: new Map(), timeoutMs: 10_000 });
  n.notify({ node: 'd0', group: 'web', from: 'standby', to: 'active', reason: 'peer d1 dead', vip: '198.51.100.100/32' });
  await n.idle();
  // notify.test.ts pins the HAAGENT_* values; here: these and OPERATOR_ENV are all there is.
  const env = childEnv(lines[0]?.stdout ?? '{}');
  const names = ['HAAGENT_FROM', 'HAAGENT_GROUP', 'HAAGENT_NODE', 'HAAGENT_REASON', 'HAAGENT_TO', 'HAAGENT_VIP', 'LANG', 'PATH'];
  t.same(Object.keys(env).sort(), names, 'a hook gets OPERATOR_ENV and its HAAGENT_* variables, nothing else');
  t.match(env, { ...OPERATOR_ENV, HAAGENT_REASON: 'peer d1 dead', HAAGENT_VIP: '198.51.100.100/32' });
});

t.test('a program others can change is refused and never runs', async (t) => {
  const open = join(dir, 'open');
  mkdirSync(open);
  chmodSync(open, 0o777);
  const marker = join(dir, 'ran');
  const prog = join(open, 'check');
  writeFileSync(prog, `#!/bin/sh\ntouch ${marker}\n`, { mode: 0o755 });
  const r = await new OperatorRunner().run([prog], 5000);
  t.match(r, { code: -1, signal: null, timedOut: false });
  t.equal(r.stderr, `refused by script security: directory ${open} is writable by others (mode 0777 and no sticky bit)`);
  t.notOk(existsSync(marker), 'the program did not run');
  const checker = createChecker(new SpawnRunner(), new OperatorRunner());
  const res = await checker({ name: 'app', type: 'exec', command: [prog], timeout: 5000, interval: 1000, rise: 1, fall: 1, weight: 'fault', holdDown: 0 }, new AbortController().signal);
  t.match(res, { ok: false, detail: /could not start: refused by script security: directory .* writable by others/ });
  chmodSync(open, 0o755);
  t.match(await new OperatorRunner().run([prog], 5000), { code: 0 }, 'once the directory is fixed it runs');
  t.ok(existsSync(marker));
});
