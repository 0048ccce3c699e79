// keepalived.conf's syntax (src/migrate/keepalived-parse.ts) and the value readers of
// src/migrate/keepalived-values.ts: comments, quoting, braces in every layout, and the
// errors that make import-keepalived exit 78, each at its line.
import t from 'tap';
import { parseKeepalived, type KaStatement } from '../../src/migrate/keepalived-parse.js';
import { commandOf, formatSeconds, secondsToMs, shellLine, splitCommand } from '../../src/migrate/keepalived-values.js';

function statements(text: string): KaStatement[] {
  const r = parseKeepalived(text);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.statements;
}

/** key + args of each statement, blocks nested, lines left out. */
function shape(list: KaStatement[]): unknown[] {
  return list.map((s) => (s.block === null ? [s.key, ...s.args] : [s.key, ...s.args, shape(s.block)]));
}

t.test('comments start with # or ! anywhere outside quotes', async (t) => {
  const s = statements('! a comment line\nglobal_defs { # trailing\n  router_id lb1 ! after a value\n  # whole line\n}\n');
  t.same(shape(s), [['global_defs', [['router_id', 'lb1']]]]);
  t.same(shape(statements('notify_master "/bin/a # not a comment" ! but this is\n')), [['notify_master', '/bin/a # not a comment']]);
});

t.test('quoted parts keep their whitespace and join the text around them; escapes inside quotes', async (t) => {
  t.same(shape(statements(`x abcd" efg h jkl "mnop\n`)), [['x', 'abcd efg h jkl mnop']]);
  t.same(shape(statements(`x abcd "efg h jkl" mnop\n`)), [['x', 'abcd', 'efg h jkl', 'mnop']]);
  t.same(shape(statements(`x '"double" inside single'\n`)), [['x', '"double" inside single']]);
  t.same(shape(statements('x "a\\tb\\x41\\101\\\\\\"q"\n')), [['x', 'a\tbAA\\"q']]);
  t.same(shape(statements('x "{" "}" "#"\n')), [['x', '{', '}', '#']], 'a quoted brace or # is text');
});

t.test('blocks: opened on the keyword line, on a line of their own, or all on one line', async (t) => {
  const text = ['vrrp_instance A {', '  virtual_ipaddress { 10.0.0.1/24 dev eth0 }', '  unicast_peer', '  {', '    10.0.0.2', '  }', '}', 'vrrp_script s{script /bin/true}'].join('\n');
  const s = statements(text);
  t.same(shape(s), [
    ['vrrp_instance', 'A', [['virtual_ipaddress', [['10.0.0.1/24', 'dev', 'eth0']]], ['unicast_peer', [['10.0.0.2']]]]],
    ['vrrp_script', 's', [['script', '/bin/true']]],
  ]);
  t.equal(s[0]!.line, 1);
  t.equal(s[0]!.block![1]!.line, 3, 'the statement keeps the line of its keyword');
  t.equal(s[0]!.block![1]!.block![0]!.line, 5);
  t.equal(s[1]!.line, 8);
});

t.test('syntax errors: every one, at its line, with what was expected', async (t) => {
  const r = parseKeepalived(['global_defs {', '  router_id "lb1', '}', '}', 'vrrp_instance A {', '  state MASTER', '  x { {', '']. join('\n'));
  t.notOk(r.ok);
  if (r.ok) return;
  t.same(r.errors.map((e) => e.line), [2, 4, 5, 7, 7]);
  t.match(r.errors[0]!.expected, /closing " for the string opened at column 13/);
  t.match(r.errors[1]!.expected, /no block is open/);
  t.match(r.errors[2]!.expected, /"}" closing vrrp_instance before the end of the file/);
  t.match(r.errors.slice(3).map((e) => e.expected), [/keyword before "\{"/, /"}" closing x before the end/]);
  t.ok(parseKeepalived('').ok, 'an empty file parses (the mapping says there is nothing to convert)');
});

t.test('seconds: fractions to whole milliseconds, written back with a unit', async (t) => {
  t.equal(secondsToMs('1'), 1000);
  t.equal(secondsToMs('0.5'), 500);
  t.equal(secondsToMs('2.71828'), 2718, 'below a millisecond is rounded');
  t.equal(secondsToMs('1e3'), null);
  t.equal(secondsToMs('-1'), null);
  t.equal(formatSeconds(300_000), '300s', 'keepalived\'s seconds stay seconds: preempt_delay 300 is "300s", never a bare 300');
  t.equal(formatSeconds(1609), '1609ms');
});

t.test('script lines: words, quotes, and what haagent needs to run them', async (t) => {
  t.same(splitCommand(`/etc/keepalived/n.sh ' spaces ' "a b"c d`), ['/etc/keepalived/n.sh', ' spaces ', 'a bc', 'd']);
  t.equal(splitCommand(`/bin/x 'open`), null);
  t.same(commandOf('/usr/bin/killall -0 haproxy'), { argv: ['/usr/bin/killall', '-0', 'haproxy'], differs: null });
  const bare = commandOf('killall -0 haproxy');
  t.same(bare?.argv, ['/usr/bin/env', 'killall', '-0', 'haproxy'], 'a program without a path is looked up by env');
  t.match(bare?.differs, /killall has no path/);
  t.same(commandOf('</dev/tcp/127.0.0.1/80')?.argv, ['/bin/sh', '-c', '</dev/tcp/127.0.0.1/80'], 'shell syntax keeps its shell');
  t.equal(commandOf('   '), null);
  t.equal(shellLine(`/bin/n.sh 'it''s' 'a b'`), `exec /bin/n.sh its 'a b'`);
  t.equal(shellLine(`/bin/n.sh "it's here"`), `exec /bin/n.sh 'it'\\''s here'`);
});
