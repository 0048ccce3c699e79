import t from 'tap';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAndBumpBootId, nextBootId, parseBootId } from '../../src/wire/boot-id.js';

const U64_MAX = (1n << 64n) - 1n;

t.test('nextBootId maths', async (t) => {
  const cases: [bigint | null, number, bigint, string][] = [
    [null, 1_700_000_000_000, 1_700_000_000_000n, 'first start: the wall clock'],
    [1_600_000_000_000n, 1_700_000_000_000, 1_700_000_000_000n, 'clock ahead of the previous boot'],
    [1_700_000_000_000n, 1_600_000_000_000, 1_700_000_000_001n, 'clock stepped back: previous + 1'],
    [1_700_000_000_000n, 1_700_000_000_000, 1_700_000_000_001n, 'same millisecond: previous + 1'],
    [5n, 5.9, 6n, 'fractional ms floored, still above previous'],
    [null, -3, 0n, 'negative clock clamps to 0'],
    [null, Number.NaN, 0n, 'NaN clock clamps to 0'],
    [7n, Number.NaN, 8n, 'a broken clock still moves forward'],
    [U64_MAX - 1n, 0, U64_MAX, 'up to the top of u64'],
  ];
  for (const [prev, wall, want, why] of cases) t.equal(nextBootId(prev, wall), want, why);
  t.throws(() => nextBootId(U64_MAX, 0), RangeError, 'no overflow past u64');
  t.throws(() => nextBootId(-1n, 0), RangeError);
});

t.test('parseBootId is strict', async (t) => {
  t.equal(parseBootId('123\n'), 123n);
  t.equal(parseBootId('123'), 123n);
  for (const bad of ['', '\n', '-1', '1e3', ' 12', '12 ', '0x10', '123\n\n', `${U64_MAX}`, '1'.repeat(21)]) {
    t.equal(parseBootId(bad), null, JSON.stringify(bad));
  }
});

t.test('loadAndBumpBootId', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'haagent-bootid-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'boot-id');

  t.test('first start, then monotonic across a clock step back', async (t) => {
    t.same(loadAndBumpBootId(file, 1000), { bootId: 1000n });
    t.equal(readFileSync(file, 'utf8'), '1000\n');
    t.equal(statSync(file).mode & 0o777, 0o600, 'mode 0600');
    t.same(loadAndBumpBootId(file, 500), { bootId: 1001n }, 'clock went back');
    t.same(loadAndBumpBootId(file, 5000), { bootId: 5000n }, 'clock ahead again');
    t.equal(readFileSync(file, 'utf8'), '5000\n');
    t.same(readdirSync(dir), ['boot-id'], 'no temp file left behind');
  });

  t.test('corrupt file is replaced, with a warning', async (t) => {
    writeFileSync(file, 'garbage', { mode: 0o644 });
    const r = loadAndBumpBootId(file, 42);
    t.equal(r.bootId, 42n);
    t.match(r.warning, /corrupt/);
    t.equal(readFileSync(file, 'utf8'), '42\n');
    t.equal(statSync(file).mode & 0o777, 0o600, 'rewritten with mode 0600');
  });

  t.test('a symlink at the state path is replaced, not followed', async (t) => {
    const target = join(dir, 'victim');
    writeFileSync(target, 'precious');
    const link = join(dir, 'linked-boot-id');
    symlinkSync(target, link);
    loadAndBumpBootId(link, 7);
    t.equal(readFileSync(target, 'utf8'), 'precious', 'the link target is untouched');
    t.equal(readFileSync(link, 'utf8'), '7\n');
  });

  t.test('directory missing: falls back to the clock, warns', async (t) => {
    const r = loadAndBumpBootId(join(dir, 'nope', 'boot-id'), 77);
    t.equal(r.bootId, 77n);
    t.match(r.warning, /cannot persist/);
  });

  t.test('parent is not a directory: falls back to the clock, warns', async (t) => {
    const blocked = join(dir, 'blocked');
    writeFileSync(blocked, '');
    const r = loadAndBumpBootId(join(blocked, 'boot-id'), 10);
    t.equal(r.bootId, 10n);
    t.match(r.warning, /cannot read .*ENOTDIR.*cannot persist/);
  });

  const isRoot = process.getuid?.() === 0;
  t.test(
    'directory not writable: keeps previous + 1 when larger, warns',
    { skip: isRoot ? 'root ignores directory permission bits' : false },
    async (t) => {
      const ro = join(dir, 'ro');
      mkdirSync(ro);
      writeFileSync(join(ro, 'boot-id'), '900\n');
      chmodSync(ro, 0o500);
      t.teardown(() => chmodSync(ro, 0o700));
      const r = loadAndBumpBootId(join(ro, 'boot-id'), 10);
      t.equal(r.bootId, 901n, 'previous value still honoured');
      t.match(r.warning, /cannot persist/);
      t.same(readdirSync(ro), ['boot-id'], 'no temp file left behind');
    },
  );
  t.end();
});
