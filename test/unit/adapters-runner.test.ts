// SpawnRunner and ChildTracker against real, harmless commands (true, false, sleep, ls, head).
// No test sleeps: they wait for the child or for the adapter's own timeout.
import t from 'tap';
import { SpawnRunner, describeResult } from '../../src/adapters/runner.js';
import { ChildTracker, type ChildExit } from '../../src/adapters/child-tracker.js';

t.test('SpawnRunner', async (t) => {
  const runner = new SpawnRunner();
  t.test('true -> code 0', async (t) => {
    t.same(await runner.run(['true'], 2000), { code: 0, signal: null, stdout: '', stderr: '', timedOut: false });
  });
  t.test('false -> code 1', async (t) => {
    t.match(await runner.run(['false'], 2000), { code: 1, timedOut: false });
  });
  t.test('stdout and stderr captured; arguments are never shell-interpreted', async (t) => {
    const r = await runner.run(['echo', 'a;b', '$HOME', '`id`'], 2000);
    t.equal(r.stdout, 'a;b $HOME `id`\n');
    const e = await runner.run(['ls', '/nonexistent-haagent-path'], 2000);
    t.equal(e.code, 2);
    t.match(e.stderr, /nonexistent-haagent-path/);
  });
  t.test('sleep 5 with a 100 ms timeout -> killed, timedOut', async (t) => {
    const started = Date.now();
    const r = await runner.run(['sleep', '5'], 100);
    t.match(r, { timedOut: true, signal: 'SIGKILL' });
    t.ok(Date.now() - started < 4000, 'did not wait for the child to finish');
    t.match(describeResult(['sleep', '5'], r), /^sleep 5: timed out, killed/);
  });
  t.test('missing binary -> code -1 with the spawn error, never a rejection', async (t) => {
    const r = await runner.run(['/nonexistent/haagent-no-such-binary'], 2000);
    t.match(r, { code: -1, signal: null, timedOut: false, stderr: /ENOENT/ });
    t.match(describeResult(['ip'], r), /^ip: could not start: .*ENOENT/);
  });
  t.test('empty argv and argument errors -> code -1', async (t) => {
    t.match(await runner.run([], 2000), { code: -1, stderr: 'empty argv' });
    t.match(await runner.run(['echo', 'nul\0byte'], 2000), { code: -1 });
  });
  t.test('output is bounded per stream and the truncation is visible', async (t) => {
    const small = new SpawnRunner({ maxOutputBytes: 1024 });
    const r = await small.run(['head', '-c', '100000', '/dev/zero'], 5000);
    t.equal(r.code, 0);
    t.ok(r.stdout.startsWith('\0'.repeat(1024) + '\n['), 'kept exactly the limit');
    t.match(r.stdout, /\[98976 bytes dropped\]$/);
  });
  t.test('describeResult for exit codes and signals', async (t) => {
    const base = { stdout: '', timedOut: false };
    t.equal(describeResult(['ip', 'a'], { ...base, code: 2, signal: null, stderr: 'oops\n' }), 'ip a: exit 2: oops');
    t.equal(describeResult(['ip'], { ...base, code: 1, signal: null, stderr: '' }), 'ip: exit 1');
    t.equal(describeResult(['ip'], { ...base, code: -1, signal: 'SIGTERM', stderr: '' }), 'ip: killed by SIGTERM');
  });
});

t.test('ChildTracker', async (t) => {
  /** Collects exits; `until(n)` resolves at the n-th one, rejects after 5 s so nothing hangs. */
  const exited = (tracker: ChildTracker) => {
    const exits: ChildExit[] = [];
    const waiters: [number, () => void][] = [];
    const onExit = (e: ChildExit) => {
      exits.push(e);
      for (const [n, wake] of waiters) if (exits.length >= n) wake();
    };
    const until = (n: number) =>
      new Promise<void>((resolve, reject) => {
        const bound = setTimeout(() => reject(new Error(`only ${exits.length} of ${n} exits`)), 5000);
        const wake = () => (clearTimeout(bound), resolve());
        if (exits.length >= n) wake();
        else waiters.push([n, wake]);
      });
    return { exits, onExit, until, tracker };
  };

  t.test('a clean child: pid at once, reaped, exit 0 reported', async (t) => {
    const { exits, onExit, until, tracker } = exited(new ChildTracker());
    const s = await tracker.start(['true'], 2000, onExit);
    t.type(s.pid, 'number');
    t.equal(s.error, undefined);
    await until(1);
    t.match(exits[0], { argv: ['true'], pid: s.pid, code: 0, signal: null, killed: false });
    t.equal(tracker.running(), 0);
  });
  t.test('a failing child: exit code and stderr reported', async (t) => {
    const { exits, onExit, until, tracker } = exited(new ChildTracker());
    await tracker.start(['ls', '/nonexistent-haagent-path'], 2000, onExit);
    await until(1);
    t.match(exits[0], { code: 2, killed: false, stderr: /nonexistent-haagent-path/ });
  });
  t.test('a child past its life bound is SIGKILLed and marked killed', async (t) => {
    const { exits, onExit, until, tracker } = exited(new ChildTracker());
    await tracker.start(['sleep', '5'], 100, onExit);
    t.equal(tracker.running(), 1);
    await until(1);
    t.match(exits[0], { code: null, signal: 'SIGKILL', killed: true });
    t.equal(tracker.running(), 0);
  });
  t.test('killAll stops every running child', async (t) => {
    const { exits, onExit, until, tracker } = exited(new ChildTracker());
    await tracker.start(['sleep', '5'], 10000, onExit);
    await tracker.start(['sleep', '5'], 10000, onExit);
    t.equal(tracker.running(), 2);
    tracker.killAll();
    await until(2);
    t.same(exits.map((e) => [e.signal, e.killed]), [['SIGKILL', true], ['SIGKILL', true]]);
    t.equal(tracker.running(), 0);
  });
  t.test('missing binary -> error, nothing tracked', async (t) => {
    const tracker = new ChildTracker();
    const s = await tracker.start(['/nonexistent/arping'], 1000);
    t.equal(s.pid, undefined);
    t.match(s.error, /ENOENT/);
    t.equal(tracker.running(), 0);
    t.same(await tracker.start([], 1000), { error: 'empty argv' });
  });
});
