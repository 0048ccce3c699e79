// `run` relaunches itself with the binary's node flags when started without them
// (src/cli/relaunch.ts): the plan is pure and checked case by case; the addon's execve is
// checked in a child process (its success replaces the child, its failure must throw).
import { spawnSync } from 'node:child_process';
import t from 'tap';
import { errnoCode, loadNative } from '../../src/adapters/native.js';
import { commandOf, NODE_FLAGS, planRelaunch, relaunchWithNodeFlags, RELAUNCH_GUARD, type ProcessView } from '../../src/cli/relaunch.js';

const view = (over: Partial<ProcessView> = {}): ProcessView => ({
  execPath: '/usr/bin/node',
  execArgv: [],
  argv: ['/usr/bin/node', '/opt/haagent/dist/src/main.js', 'run', '--config', '/etc/h.yaml'],
  env: { PATH: '/usr/bin', NOTIFY_SOCKET: '/run/n' },
  ...over,
});

t.test('commandOf skips options and the config value', async (t) => {
  t.equal(commandOf(['run']), 'run');
  t.equal(commandOf(['--config', 'run', 'status']), 'status', 'the value of --config is not the command');
  t.equal(commandOf(['-c', '/x', 'run']), 'run');
  t.equal(commandOf(['--config=/x', 'run']), 'run');
  t.equal(commandOf(['--help']), undefined);
  t.equal(commandOf(['--', 'run']), 'run');
  t.equal(commandOf([]), undefined);
});

t.test('run without the flags: relaunch with them after the caller\'s own, same script and arguments', async (t) => {
  const p = planRelaunch(view({ execArgv: ['--inspect=0', '--max-semi-space-size=16'] }));
  t.ok(p.relaunch);
  if (!p.relaunch) return;
  t.same(p.argv, ['/usr/bin/node', '--inspect=0', '--max-semi-space-size=16', ...NODE_FLAGS, '/opt/haagent/dist/src/main.js', 'run', '--config', '/etc/h.yaml']);
  t.same(p.missing, NODE_FLAGS);
  t.same(p.env, ['PATH=/usr/bin', 'NOTIFY_SOCKET=/run/n', `${RELAUNCH_GUARD}=1`], 'environment kept, guard added');
});

t.test('only the missing flags are added; none missing, no relaunch', async (t) => {
  const some = planRelaunch(view({ execArgv: [NODE_FLAGS[0]!] }));
  t.ok(some.relaunch);
  t.same(some.missing, NODE_FLAGS.slice(1));
  const all = planRelaunch(view({ execArgv: [...NODE_FLAGS] }));
  t.notOk(all.relaunch);
  t.same(all.missing, []);
  const viaEnv = planRelaunch(view({ env: { NODE_OPTIONS: NODE_FLAGS.join(' ') } }));
  t.notOk(viaEnv.relaunch, 'NODE_OPTIONS counts');
});

t.test('other commands and a relaunched process do not relaunch', async (t) => {
  t.notOk(planRelaunch(view({ argv: ['/usr/bin/node', 'main.js', 'status'] })).relaunch, 'status');
  t.notOk(planRelaunch(view({ argv: ['/usr/bin/node', 'main.js', '--config', 'run', 'status'] })).relaunch, 'a config file named run');
  const again = planRelaunch(view({ env: { [RELAUNCH_GUARD]: '1' } }));
  t.notOk(again.relaunch, 'no loop');
  t.match(again, { why: /already relaunched/ });
});

t.test('relaunchWithNodeFlags: warns when it cannot, removes the guard', async (t) => {
  const lines: string[] = [];
  const relaunched = view({ env: { [RELAUNCH_GUARD]: '1', PATH: '/usr/bin' } });
  relaunchWithNodeFlags(relaunched, (s) => lines.push(s));
  t.notOk(RELAUNCH_GUARD in relaunched.env, 'guard removed once read');
  t.match(lines, [/warning: running without node flags .*already relaunched/], 'flags still missing after a relaunch: said so');
  lines.length = 0;
  relaunchWithNodeFlags(view({ execArgv: [...NODE_FLAGS] }), (s) => lines.push(s));
  relaunchWithNodeFlags(view({ argv: ['/usr/bin/node', 'main.js', 'status'] }), (s) => lines.push(s));
  t.same(lines, [], 'nothing to say with the flags, or for another command');
  // An execve that fails (no such node binary): a warning, and the caller goes on.
  if (loadNative().ok) {
    relaunchWithNodeFlags(view({ execPath: '/nonexistent/node' }), (s) => lines.push(s));
    t.match(lines, [/cannot relaunch .*ENOENT/]);
  }
});

const load = loadNative();
t.test('the addon\'s execve', { skip: load.ok ? false : 'addon not built' }, async (t) => {
  if (!load.ok) return;
  const n = load.native;
  const bad: [string, () => unknown][] = [
    ['no arguments', () => (n.execve as (...a: unknown[]) => unknown)()],
    ['empty path', () => n.execve('', ['x'], [])],
    ['argv not an array', () => n.execve('/bin/true', 'x' as unknown as string[], [])],
    ['empty argv', () => n.execve('/bin/true', [], [])],
    ['argv with a number', () => n.execve('/bin/true', ['x', 5 as unknown as string], [])],
    ['NUL in an argument', () => n.execve('/bin/true', ['x\0y'], [])],
    ['env with a number', () => n.execve('/bin/true', ['x'], [1 as unknown as string])],
  ];
  for (const [what, call] of bad) t.throws(call, TypeError, what);
  try {
    n.execve('/nonexistent/prog', ['prog'], []);
    t.fail('returned');
  } catch (e) {
    t.equal(errnoCode(e), 'ENOENT', 'a failing execve throws with its errno');
  }
  // Success replaces the process: a child that execs `sh -c 'echo $X $0 $1'` prints what it passed.
  const js = `const { loadNative } = await import(${JSON.stringify(new URL('../../src/adapters/native.ts', import.meta.url).href)});
    loadNative().native.execve('/bin/sh', ['sh', '-c', 'echo "$X" "$$" "$0" "$1"', 'zero', 'one'], ['X=passed']);`;
  const r = spawnSync(process.execPath, [...process.execArgv, '--input-type=module', '-e', `console.log(process.pid); ${js}`], { encoding: 'utf8', timeout: 20000 });
  const [pid, line] = r.stdout.trim().split('\n');
  t.equal(r.status, 0, 'the new image exited 0', { stderr: r.stderr });
  t.equal(line, `passed ${pid} zero one`, 'argv and env as given, same PID');
});
