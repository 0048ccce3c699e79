// Notifier with a fake runner whose commands end when the test says so: arguments and
// environment, order within a group, independence of groups, the concurrency cap, the
// bounded queue, and what gets logged. No sleeps: the test resolves the fake commands itself.
import t from 'tap';
import { createLogger } from '../../src/log.js';
import { MAX_LOGGED_OUTPUT, Notifier, clip, type NotifierOptions, type NotifyEvent } from '../../src/daemon/notify.js';
import type { CommandResult, CommandRunner, RunOptions } from '../../src/ports/index.js';

interface Call {
  argv: readonly string[];
  timeoutMs: number;
  env: NodeJS.ProcessEnv | undefined;
  finish: (r?: Partial<CommandResult>) => void;
}

/** Records every run; each stays "running" until the test calls its finish(). */
class FakeRunner implements CommandRunner {
  readonly calls: Call[] = [];
  running = 0;
  maxRunning = 0;

  run(argv: readonly string[], timeoutMs: number, opts?: RunOptions): Promise<CommandResult> {
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    return new Promise((resolve) => {
      this.calls.push({
        argv,
        timeoutMs,
        env: opts?.env,
        finish: (r = {}) => {
          this.running--;
          resolve({ code: 0, signal: null, stdout: '', stderr: '', timedOut: false, ...r });
        },
      });
    });
  }

  /** Finishes every call still running, in start order. */
  finishAll(r?: Partial<CommandResult>): void {
    for (const c of this.calls.splice(0)) c.finish(r);
  }
}

type LogLine = { level: number; msg: string } & Record<string, unknown>;

function setup(opts: Partial<NotifierOptions> = {}) {
  const lines: LogLine[] = [];
  const log = createLogger('info', 'd0', { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  const runner = new FakeRunner();
  // Deferred work runs when the test flushes it, so "nothing started yet" is observable.
  const deferred: (() => void)[] = [];
  const flush = async () => {
    for (let i = 0; i < 100; i++) {
      for (const fn of deferred.splice(0)) fn();
      await new Promise<void>((r) => queueMicrotask(r));
    }
  };
  const notifier = new Notifier({
    runner,
    log,
    global: [['/usr/local/bin/ha-notify', '--site', 'a']],
    groups: new Map([['web', [['/usr/local/bin/web-notify']]]]),
    timeoutMs: 5000,
    env: { PATH: '/usr/bin:/bin' },
    defer: (fn) => deferred.push(fn),
    ...opts,
  });
  return { notifier, runner, lines, flush };
}

const ev = (group: string, from: NotifyEvent['from'], to: NotifyEvent['to'], reason = 'peer dead'): NotifyEvent => ({
  node: 'd0',
  group,
  from,
  to,
  reason,
  vip: '198.51.100.100/32',
});

t.test('argv gets GROUP FROM TO VIP appended; the environment carries HAAGENT_*', async (t) => {
  const { notifier, runner, flush } = setup();
  notifier.notify(ev('web', 'standby', 'active', 'peer d1 dead'));
  t.equal(runner.calls.length, 0, 'nothing is spawned inside notify()');
  await flush();
  t.same(
    runner.calls.map((c) => c.argv),
    [
      ['/usr/local/bin/ha-notify', '--site', 'a', 'web', 'standby', 'active', '198.51.100.100/32'],
      ['/usr/local/bin/web-notify', 'web', 'standby', 'active', '198.51.100.100/32'],
    ],
    'global hook first, then the group hook',
  );
  t.same(runner.calls[0]?.env, {
    PATH: '/usr/bin:/bin',
    HAAGENT_NODE: 'd0',
    HAAGENT_GROUP: 'web',
    HAAGENT_FROM: 'standby',
    HAAGENT_TO: 'active',
    HAAGENT_REASON: 'peer d1 dead',
    HAAGENT_VIP: '198.51.100.100/32',
  });
  t.equal(runner.calls[0]?.timeoutMs, 5000);
  runner.finishAll();
  await notifier.idle();
});

t.test('a group without hooks of its own gets the global ones; no hooks at all, no spawn', async (t) => {
  const a = setup();
  a.notifier.notify(ev('db', 'init', 'standby'));
  await a.flush();
  t.same(a.runner.calls.map((c) => c.argv[0]), ['/usr/local/bin/ha-notify']);
  a.runner.finishAll();
  await a.notifier.idle();
  const b = setup({ global: [] });
  b.notifier.notify(ev('db', 'init', 'standby'));
  await b.flush();
  t.equal(b.runner.calls.length, 0);
  await b.notifier.idle();
});

t.test('one group: the next transition waits until every hook of the previous one ended', async (t) => {
  const { notifier, runner, flush } = setup();
  notifier.notify(ev('web', 'standby', 'active'));
  notifier.notify(ev('web', 'active', 'standby'));
  await flush();
  t.equal(runner.calls.length, 2, 'only the first transition runs');
  runner.calls[0]?.finish();
  await flush();
  t.equal(runner.calls.length, 2, 'still waiting for the second hook of the first transition');
  runner.calls[1]?.finish();
  await flush();
  t.same(runner.calls.slice(2).map((c) => c.argv.slice(-3, -1)), [['active', 'standby'], ['active', 'standby']]);
  runner.finishAll();
  await notifier.idle();
});

t.test('groups do not wait for each other', async (t) => {
  const { notifier, runner, flush } = setup();
  notifier.notify(ev('web', 'standby', 'active'));
  notifier.notify(ev('db', 'standby', 'active'));
  await flush();
  t.same(runner.calls.map((c) => c.argv.at(-4)), ['web', 'web', 'db']);
  runner.finishAll();
  await notifier.idle();
});

t.test('at most maxRunning hooks of one group at once, all of them run', async (t) => {
  const hooks = Array.from({ length: 10 }, (_, i) => [`/usr/local/bin/h${i}`]);
  const { notifier, runner, flush } = setup({ global: hooks, maxRunning: 3 });
  notifier.notify(ev('db', 'standby', 'active'));
  await flush();
  const started: string[] = [];
  for (let round = 0; round < 10 && runner.calls.length > 0; round++) {
    t.ok(runner.running <= 3, `round ${round}: ${runner.running} running`);
    started.push(...runner.calls.map((c) => c.argv[0] as string));
    runner.finishAll();
    await flush();
  }
  t.equal(runner.maxRunning, 3);
  t.same(started, hooks.map((h) => h[0]), 'each hook once, started in list order');
  await notifier.idle();
});

t.test('a full queue drops the oldest waiting transition with a warning; the newest always runs', async (t) => {
  const { notifier, runner, lines, flush } = setup({ maxQueued: 2, global: [], groups: new Map([['web', [['/bin/h']]]]) });
  const flaps: NotifyEvent[] = [
    ev('web', 'init', 'standby', 'r1'),
    ev('web', 'standby', 'active', 'r2'),
    ev('web', 'active', 'fault', 'r3'),
    ev('web', 'fault', 'standby', 'r4'),
    ev('web', 'standby', 'active', 'r5'),
  ];
  notifier.notify(flaps[0] as NotifyEvent);
  await flush();
  for (const f of flaps.slice(1)) notifier.notify(f);
  const seen: string[] = [];
  for (let i = 0; i < 10 && runner.calls.length > 0; i++) {
    seen.push(...runner.calls.map((c) => `${c.argv.at(-3)}->${c.argv.at(-2)}`));
    runner.finishAll();
    await flush();
  }
  t.same(seen, ['init->standby', 'fault->standby', 'standby->active'], 'r2 and r3 were dropped');
  const warns = lines.filter((l) => l.level === 40);
  t.same(warns.map((w) => w.reason), ['r2', 'r3']);
  t.match(warns[0], { group: 'web', from: 'standby', to: 'active', msg: /2 transitions already waiting/ });
  await notifier.idle();
});

t.test('outcomes are logged: info on exit 0, warn with code, signal or timeout otherwise', async (t) => {
  const { notifier, runner, lines, flush } = setup({ global: [], groups: new Map([['web', [['/bin/h']]]]) });
  const outcomes: Partial<CommandResult>[] = [
    { stdout: 'sent page\n' },
    { code: 3, stderr: 'oops\n' },
    { code: -1, signal: 'SIGKILL', timedOut: true },
    { code: -1, stderr: 'spawn /bin/h ENOENT' },
    { code: -1, signal: 'SIGSEGV' },
  ];
  for (const o of outcomes) {
    notifier.notify(ev('web', 'standby', 'active', 'why'));
    await flush();
    runner.calls.shift()?.finish(o);
    await flush();
  }
  await notifier.idle();
  t.match(lines, [
    { level: 30, group: 'web', from: 'standby', to: 'active', reason: 'why', hook: '/bin/h', code: 0, stdout: 'sent page', msg: 'notify hook /bin/h: ok' },
    { level: 40, code: 3, stderr: 'oops', msg: 'notify hook /bin/h: exit 3' },
    { level: 40, timedOut: true, signal: 'SIGKILL', msg: 'notify hook /bin/h: still running after 5000 ms, killed' },
    { level: 40, stderr: /ENOENT/, msg: 'notify hook /bin/h: could not start' },
    { level: 40, signal: 'SIGSEGV', msg: 'notify hook /bin/h: killed by SIGSEGV' },
  ]);
  t.notOk('stderr' in (lines[0] as object), 'empty output is not logged');
});

t.test('a runner that rejects (it never should) is logged and the lane moves on', async (t) => {
  const runner: CommandRunner = { run: () => Promise.reject(new Error('boom')) };
  const lines: LogLine[] = [];
  const log = createLogger('info', 'd0', { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  const notifier = new Notifier({ runner, log, global: [['/bin/h']], groups: new Map(), timeoutMs: 100 });
  notifier.notify(ev('web', 'standby', 'active'));
  notifier.notify(ev('web', 'active', 'standby'));
  await notifier.idle();
  t.match(lines, [{ level: 40, stderr: 'boom', to: 'active' }, { level: 40, stderr: 'boom', to: 'standby' }]);
});

t.test('close() skips what waits and ignores new transitions', async (t) => {
  const { notifier, runner, lines, flush } = setup({ global: [], groups: new Map([['web', [['/bin/h']]]]) });
  notifier.notify(ev('web', 'standby', 'active'));
  await flush();
  notifier.notify(ev('web', 'active', 'standby'));
  notifier.close();
  notifier.notify(ev('web', 'standby', 'active'));
  runner.finishAll();
  await flush();
  await notifier.idle();
  t.equal(runner.calls.length, 0, 'nothing ran after the first hook');
  t.match(lines.at(-2), { level: 40, skipped: 1, msg: /stopping/ });
});

t.test('the duration is logged when a clock is given', async (t) => {
  let now = 1000;
  const { notifier, runner, lines, flush } = setup({ clock: { now: () => now }, global: [['/bin/h']], groups: new Map() });
  notifier.notify(ev('web', 'standby', 'active'));
  await flush();
  now += 42;
  runner.finishAll();
  await notifier.idle();
  t.match(lines[0], { ms: 42 });
});

t.test('clip keeps output short and says how much was cut', async (t) => {
  t.equal(clip('  short\n'), 'short');
  const long = clip('x'.repeat(MAX_LOGGED_OUTPUT + 10));
  t.ok(long.startsWith('x'.repeat(MAX_LOGGED_OUTPUT) + '...'));
  t.match(long, /\[10 more characters\]$/);
});
