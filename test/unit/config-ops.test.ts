// The operations keys: notify hooks (argv lists, absolute program), notifyTimeout and
// metrics.listen. Refusals are located at line:column like every other key; accepted values
// come out in the effective Config and survive the check-config rendering round trip.
import t from 'tap';
import { BASE, withLines, parse, runIssueCases, type IssueCase } from './config-harness.js';
import { DEFAULTS } from '../../src/config/defaults.js';
import { LIMITS } from '../../src/config/limits.js';
import { renderEffectiveConfig } from '../../src/config/render.js';

// A valid document; the cases append lines after line 9. Keep the line numbers stable.

/** `extra` lines put at the top level, before `groups:` (line 6 onwards). */
const withTop = (...extra: string[]) => [...BASE.slice(0, 5), ...extra, ...BASE.slice(5)].join('\n') + '\n';

const CASES: IssueCase[] = [
  { name: 'a shell string instead of an argv list', text: withTop('notify: ["/usr/local/bin/ha-notify --site a"]'), path: 'notify[0]', line: 6, column: 10, value: '"/usr/local/bin/ha-notify --site a"', expected: /^a hook: a list of strings, the program first/ },
  { name: 'a program found through PATH', text: withTop('notify: [[ha-notify, --site]]'), path: 'notify[0][0]', line: 6, column: 11, value: '"ha-notify"', expected: /absolute path .* without a shell and without a PATH search/ },
  { name: 'an empty hook', text: withTop('notify: [[]]'), path: 'notify[0]', line: 6, column: 10, value: 'a list', expected: /this one is empty$/ },
  { name: 'an unquoted number as an argument', text: withTop('notify: [[/bin/x, 3]]'), path: 'notify[0][1]', line: 6, column: 19, value: '3', expected: /^a string argument .*quote numbers/ },
  { name: 'notify not a list', text: withTop('notify: /bin/x'), path: 'notify', line: 6, column: 9, value: '"/bin/x"', expected: /^a list of hooks, each a list of strings/ },
  { name: 'too many hooks', text: withTop(`notify: [${Array(LIMITS.notifyHooks.max + 1).fill('[/bin/x]').join(', ')}]`), path: 'notify', line: 6, column: 9, expected: new RegExp(`at most ${LIMITS.notifyHooks.max} hooks`) },
  { name: 'too many arguments', text: withTop(`notify: [[/bin/x${', a'.repeat(LIMITS.notifyArgs.max)}]]`), path: 'notify[0]', line: 6, column: 10, expected: new RegExp(`at most ${LIMITS.notifyArgs.max} strings`) },
  { name: 'a group hook with a relative program', text: withLines('    notify: [[bin/web-notify]]'), path: 'groups[0].notify[0][0]', line: 10, column: 15, value: '"bin/web-notify"', expected: /^the program as an absolute path/ },
  { name: 'notifyTimeout below 100ms', text: withTop('notifyTimeout: 50ms'), path: 'notifyTimeout', line: 6, column: 16, value: '"50ms"', expected: /from 100ms to 10m/ },
  { name: 'metrics.listen on a host name (no DNS at start)', text: withTop('metrics: { listen: "localhost:9694" }'), path: 'metrics.listen', line: 6, column: 20, value: '"localhost:9694"', expected: /^an address with optional port to listen on/ },
  { name: 'metrics.listen port out of range', text: withTop('metrics: { listen: "127.0.0.1:70000" }'), path: 'metrics.listen', line: 6, column: 20, expected: /port must be 1\.\.65535/ },
  { name: 'metrics.listen on a multicast address', text: withTop('metrics: { listen: "239.1.1.1:9694" }'), path: 'metrics.listen', line: 6, column: 20, expected: /not a multicast address/ },
  { name: 'unknown key under metrics', text: withTop('metrics: { port: 9694 }'), path: 'metrics', line: 6, column: 12, value: 'unknown key "port"', expected: /keys listen$/ },
];

runIssueCases(CASES);

t.test('off by default: no hooks, no HTTP listener, the default hook timeout', async (t) => {
  const c = parse(withLines());
  t.same(c.notify, []);
  t.equal(c.notifyTimeout, DEFAULTS.notifyTimeout);
  t.same(c.metrics, { listen: null });
  t.same(c.groups[0]?.notify, []);
  t.same(parse(withTop('metrics: {}')).metrics, { listen: null }, 'an empty metrics mapping is off too');
});

t.test('hooks, timeout and listen address are taken as written', async (t) => {
  const c = parse(
    withTop('notify:', '  - ["/usr/local/bin/ha-notify", "--site", "a"]', '  - [/bin/logger]', 'notifyTimeout: 1.5s', 'metrics: { listen: 127.0.0.1:9100 }').concat(
      '    notify: [["/usr/local/bin/web-notify"]]\n',
    ),
  );
  t.same(c.notify, [['/usr/local/bin/ha-notify', '--site', 'a'], ['/bin/logger']]);
  t.equal(c.notifyTimeout, 1500);
  t.same(c.metrics.listen, { host: '127.0.0.1', port: 9100 });
  t.same(c.groups[0]?.notify, [['/usr/local/bin/web-notify']]);
});

t.test('metrics.listen: IPv6 in brackets, canonical; no port means the default port', async (t) => {
  const listen = (v: string) => parse(withTop(`metrics: { listen: "${v}" }`)).metrics.listen;
  t.same(listen('[2001:DB8::1]:9000'), { host: '2001:db8::1', port: 9000 });
  t.same(listen('[::1]:9694'), { host: '::1', port: 9694 });
  t.same(listen('0.0.0.0'), { host: '0.0.0.0', port: DEFAULTS.metricsPort });
  t.same(listen('::'), { host: '::', port: DEFAULTS.metricsPort });
});

t.test('the effective configuration shows the keys and loads back unchanged', async (t) => {
  // Arguments YAML would misread if the renderer did not quote them.
  const tricky = ['/opt/x y/hook', 'a, b', 'k: v', '#not-a-comment', '[x]', '', 'yes', '3', "it's"];
  const text = withTop(
    `notify: [${JSON.stringify(tricky)}, [/bin/logger, -t, haagent]]`,
    'notifyTimeout: 90s',
    'metrics: { listen: "[::1]:9100" }',
  ).concat('    notify: [[/usr/local/bin/web-notify]]\n');
  const c = parse(text);
  t.same(c.notify[0], tricky);
  const rendered = renderEffectiveConfig(c);
  t.same(parse(rendered), c);
  t.match(rendered, /\nnotify:\n {2}- \[.*\]\n {2}- \[\/bin\/logger, -t, haagent\]\nnotifyTimeout: 90s\nmetrics:\n {2}listen: "\[::1\]:9100"\n/);
  t.match(rendered, /\n {4}notify:\n {6}- \[\/usr\/local\/bin\/web-notify\]\n/);
  const plain = renderEffectiveConfig(parse(withLines()));
  t.notMatch(plain, /notify:\n|metrics:/, 'empty hook lists and an absent listener are not rendered');
  t.match(plain, /\nnotifyTimeout: 5s\n/, 'the default timeout is shown');
});
