// A closed stdout (a pipe into `head`) ends a one-shot command quietly; the agent keeps running.
import t from 'tap';
import { onStdoutError } from '../../src/cli/stdout.js';

const epipe = Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });

t.test('EPIPE ends status with the exit code it had, and does not touch the agent', async (t) => {
  const codes: number[] = [];
  const saved = process.exitCode;
  t.teardown(() => { process.exitCode = saved; });
  process.exitCode = undefined;
  onStdoutError(['status'], (c) => codes.push(c))(epipe);
  process.exitCode = 2;
  onStdoutError(['status', '--check'], (c) => codes.push(c))(epipe);
  process.exitCode = undefined;
  onStdoutError(['run'], (c) => codes.push(c))(epipe);
  t.same(codes, [0, 2], 'run did not exit');
});

t.test('any other stdout error is not swallowed', async (t) => {
  const other = Object.assign(new Error('write EIO'), { code: 'EIO' });
  t.throws(() => onStdoutError(['status'], () => undefined)(other), /EIO/);
});
