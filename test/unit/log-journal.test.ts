/**
 * Log lines to the journal carry their syslog priority (`<3>` for an error), so that
 * `journalctl -p err` finds the agent's errors; elsewhere lines stay plain JSON.
 */
import t from 'tap';
import { createLogger, stderrIsJournal, withPriority } from '../../src/log.js';

function capture(journal: boolean): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const log = createLogger('debug', 'd0', { write: (l: string) => void lines.push(l) }, journal);
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
