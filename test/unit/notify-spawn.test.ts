// Notifier with the real SpawnRunner and harmless /bin/sh hooks: the arguments and HAAGENT_*
// variables really reach the program, a hook that never ends is killed at the timeout while
// notify() itself returns at once, and a failing hook is logged. No test sleeps: each waits for
// the hooks (or the runner's own timeout) through notifier.idle().
import t from 'tap';
import { performance } from 'node:perf_hooks';
import { SpawnRunner } from '../../src/adapters/runner.js';
import { createLogger } from '../../src/log.js';
import { Notifier, type NotifyEvent } from '../../src/daemon/notify.js';

type LogLine = { level: number; msg: string } & Record<string, unknown>;

function notifier(hook: string[], timeoutMs: number) {
  const lines: LogLine[] = [];
  const log = createLogger('info', 'd0', { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  const n = new Notifier({ runner: new SpawnRunner(), log, global: [hook], groups: new Map(), timeoutMs });
  return { n, lines };
}

const EV: NotifyEvent = { node: 'd0', group: 'web', from: 'standby', to: 'active', reason: 'peer d1 dead', vip: '198.51.100.100/32' };

// `sh -c SCRIPT NAME` makes the appended GROUP FROM TO VIP the script's $1..$4.
const sh = (script: string) => ['/bin/sh', '-c', script, 'hook'];

t.test('the hook sees GROUP FROM TO VIP as arguments and the HAAGENT_* variables', async (t) => {
  const { n, lines } = notifier(sh('echo "$1|$2|$3|$4"; echo "$HAAGENT_NODE|$HAAGENT_GROUP|$HAAGENT_FROM|$HAAGENT_TO|$HAAGENT_REASON|$HAAGENT_VIP"'), 5000);
  n.notify(EV);
  await n.idle();
  t.match(lines, [{ level: 30, code: 0, stdout: 'web|standby|active|198.51.100.100/32\nd0|web|standby|active|peer d1 dead|198.51.100.100/32' }]);
});

t.test('a hook that never ends is killed at the timeout; notify() returns at once', async (t) => {
  // exec: sh becomes sleep, so the SIGKILL reaches the process holding the pipes.
  const { n, lines } = notifier(sh('exec sleep 3600'), 200);
  const before = performance.now();
  n.notify(EV);
  const took = performance.now() - before;
  t.ok(took < 5, `notify() returned in ${took.toFixed(3)} ms`);
  t.equal(lines.length, 0, 'nothing logged yet: the hook runs in the background');
  await n.idle();
  t.match(lines, [{ level: 40, timedOut: true, signal: 'SIGKILL', msg: /still running after 200 ms, killed/ }]);
});

t.test('a failing hook is logged with its exit code and stderr', async (t) => {
  const { n, lines } = notifier(sh('echo "cannot reach pager" >&2; exit 3'), 5000);
  n.notify(EV);
  await n.idle();
  t.match(lines, [{ level: 40, group: 'web', from: 'standby', to: 'active', code: 3, stderr: 'cannot reach pager', msg: /exit 3$/ }]);
});

t.test('a missing program is logged as a hook that could not start', async (t) => {
  const { n, lines } = notifier(['/nonexistent/haagent-hook'], 5000);
  n.notify(EV);
  await n.idle();
  t.match(lines, [{ level: 40, code: -1, stderr: /ENOENT/, msg: /could not start$/ }]);
});
