/**
 * Log lines to the journal carry their syslog priority (`<3>` for an error), so that
 * `journalctl -p err` finds the agent's errors; elsewhere lines stay plain JSON.
 */
import t from 'tap';
import { createLogger, resolveLogFormat, stderrIsJournal, withPriority } from '../../src/log.js';
import { prettyLine } from '../../src/log-pretty.js';

function capture(journal: boolean): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const log = createLogger('debug', 'd0', { write: (l: string) => void lines.push(l) }, journal ? 'journal' : 'json');
  return { lines, log };
}

t.test('each level gets its syslog priority', async (t) => {
  const { lines, log } = capture(true);
  log.debug('d');
  log.info('i');
  log.warn('w');
  log.error('e');
  log.fatal('f');
  t.same(lines.map((l) => l.slice(0, 3)), ['<7>', '<6>', '<4>', '<3>', '<2>']);
  t.same(JSON.parse(lines[3]!.slice(3)), { ...JSON.parse(lines[3]!.slice(3)), level: 50, msg: 'e', node: 'd0' }, 'the rest is the JSON line');
});

t.test('not to the journal: plain JSON lines', async (t) => {
  const { lines, log } = capture(false);
  log.error('e');
  t.equal(lines[0]![0], '{');
});

t.test('a line without a level is info', async (t) => {
  t.equal(withPriority('{"msg":"x"}\n'), '<6>{"msg":"x"}\n');
});

t.test('stderr is the journal only when JOURNAL_STREAM names it', async (t) => {
  const stat = () => ({ dev: 25, ino: 4711 });
  t.equal(stderrIsJournal({ JOURNAL_STREAM: '25:4711' }, stat), true);
  t.equal(stderrIsJournal({ JOURNAL_STREAM: '25:4712' }, stat), false, 'inherited, but stderr was redirected');
  t.equal(stderrIsJournal({}, stat), false, 'not under systemd');
  t.equal(stderrIsJournal({ JOURNAL_STREAM: '25:4711' }, () => { throw new Error('EBADF'); }), false, 'no stderr');
});

t.test('auto is journal only when stderr is the journal', async (t) => {
  t.equal(resolveLogFormat('auto', () => true), 'journal');
  t.equal(resolveLogFormat('auto', () => false), 'json');
  t.equal(resolveLogFormat('pretty', () => true), 'pretty', 'an explicit format wins over the journal');
  t.equal(resolveLogFormat('json', () => true), 'json');
});

t.test('pretty: one human line a record, names escaped, the err message only', async (t) => {
  const lines: string[] = [];
  const log = createLogger('debug', 'd0', { write: (l: string) => void lines.push(l) }, 'pretty');
  log.warn({ peer: 'd1', group: 'web' }, 'peer d1: path 203.0.113.2 silent');
  log.error({ group: 'evil\nFAKE LINE', err: new Error('boom\nsecond') }, 'cannot add VIP');
  log.info({ n: 3, ok: true, why: 'two words' }, 'x');
  t.equal(lines.length, 3);
  t.match(lines[0]!, /^\d{4}-\d\d-\d\dT[\d:.]+Z WARN {2}peer d1: path 203\.0\.113\.2 silent {2}peer=d1 {2}group=web\n$/);
  t.notMatch(lines[0]!, /node=|"level"/, 'node, level and time are not repeated as fields');
  t.equal(lines[1]!.split('\n').length, 2, 'a newline in a name or an error stays escaped: one line');
  t.match(lines[1]!, /ERROR cannot add VIP {2}group="evil\\x0aFAKE LINE" {2}err=boom\\x0asecond\n$/);
  t.notMatch(lines[1]!, /at .*\.ts/, 'no stack');
  t.match(lines[2]!, /INFO {2}x {2}n=3 {2}ok=true {2}why="two words"\n$/);
  t.equal(prettyLine('{"level":30,"time":"T","msg":"m","q":"say \\"hi\\""}'), 'T INFO  m  q="say \\"hi\\""\n', 'a quote in a value is escaped');
});

t.test('pretty: a line that is not JSON is passed through, escaped', async (t) => {
  t.equal(prettyLine('not json\x1b[2J\n'), 'not json\\x1b[2J\n');
});
