// The addon's loader (package root from src/ or dist/, cached, never throwing) and the
// addon's own argument checking: a wrong call is a TypeError, a failing system call an
// Error with the errno name as code; nothing here crashes, leaks a descriptor, touches a
// network interface or changes this process's scheduling.
import { closeSync, fstatSync, mkdtempSync, openSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { errnoCode, loadNative, nativeAddonPath, packageRoot } from '../../src/adapters/native.js';

const ROOT = packageRoot();

t.test('the package root is found from src/adapters and from dist/src/adapters', async (t) => {
  t.ok(ROOT, 'found');
  t.equal(packageRoot(join(ROOT!, 'dist', 'src', 'adapters')), ROOT);
  t.equal(packageRoot(join(ROOT!, 'src', 'adapters')), ROOT);
  t.equal(nativeAddonPath(), join(ROOT!, 'build', 'Release', 'haagent_native.node'));
  t.equal(packageRoot('/'), null, 'none above /');
});

t.test('loadNative never throws and caches its outcome', async (t) => {
  const a = loadNative();
  t.equal(loadNative(), a, 'same outcome object');
  if (!a.ok) t.match(a.reason, /native addon/, 'a reason when it cannot load');
});

const load = loadNative();
if (!load.ok) {
  t.comment(`addon tests skipped: ${load.reason}`);
} else {
  const n = load.native;

  t.test('wrong argument types throw TypeError, never crash', async (t) => {
    const bad: [string, () => unknown][] = [
      ['packetOpen()', () => (n.packetOpen as (...a: unknown[]) => unknown)()],
      ['packetOpen(5)', () => n.packetOpen(5 as unknown as string)],
      ['packetOpen(16 chars)', () => n.packetOpen('x'.repeat(16))],
      ['packetOpen(embedded NUL)', () => n.packetOpen('et\0h0')],
      ['packetOpen("")', () => n.packetOpen('')],
      ['packetSend(1.5, ...)', () => n.packetSend(1.5, 1, Buffer.alloc(42))],
      ['packetSend(-1, ...)', () => n.packetSend(-1, 1, Buffer.alloc(42))],
      ['packetSend(NaN, ...)', () => n.packetSend(NaN, 1, Buffer.alloc(42))],
      ['packetSend(fd, 0, ...)', () => n.packetSend(3, 0, Buffer.alloc(42))],
      ['packetSend(fd, idx, array)', () => n.packetSend(3, 1, [1, 2, 3] as unknown as Buffer)],
      ['packetSend(fd, idx, 13 bytes)', () => n.packetSend(3, 1, Buffer.alloc(13))],
      ['packetSend(fd, idx, string)', () => n.packetSend(3, 1, 'frame' as unknown as Buffer)],
      ['packetClose("3")', () => n.packetClose('3' as unknown as number)],
      ['setScheduler(tid, "deadline")', () => n.setScheduler(0, 'deadline' as 'rr', 1, true)],
      ['setScheduler(tid, rr, 100)', () => n.setScheduler(0, 'rr', 100, true)],
      ['setScheduler(tid, rr, 1, 1)', () => n.setScheduler(0, 'rr', 1, 1 as unknown as boolean)],
      ['setScheduler(-1, ...)', () => n.setScheduler(-1, 'rr', 1, true)],
      ['getScheduler(2**31)', () => n.getScheduler(2 ** 31)],
      ['getScheduler("0")', () => n.getScheduler('0' as unknown as number)],
    ];
    for (const [what, call] of bad) t.throws(call, TypeError, what);
  });

  t.test('any values at all: a return or a thrown Error, never a crash', async (t) => {
    const calls: [string, (a: unknown, b: unknown, c: unknown) => unknown][] = [
      ['packetOpen', (a) => (n.packetOpen as (x: unknown) => unknown)(a)],
      ['packetSend', (a, b, c) => (n.packetSend as (...x: unknown[]) => unknown)(a, b, c)],
      ['packetClose', (a) => (n.packetClose as (x: unknown) => unknown)(a)],
      ['getScheduler', (a) => (n.getScheduler as (x: unknown) => unknown)(a)],
      // a tid that cannot exist: this process's own scheduling must not change
      ['setScheduler', (a, b, c) => (n.setScheduler as (...x: unknown[]) => unknown)(2 ** 31 - 1, a, b, c)],
    ];
    const arg = fc.oneof(fc.anything(), fc.integer({ min: -1, max: 64 }), fc.uint8Array().map((u) => Buffer.from(u)));
    for (const [name, call] of calls) {
      const outcome = fc.check(
        fc.property(arg, arg, arg, (a, b, c) => {
          try {
            const r = call(a, b, c);
            // packetOpen of a name that happens to exist: give the socket back.
            if (name === 'packetOpen') n.packetClose((r as { fd: number }).fd);
          } catch (e) {
            return e instanceof Error && (e instanceof TypeError || typeof errnoCode(e) === 'string');
          }
          return true;
        }),
        { numRuns: 300 },
      );
      t.notOk(outcome.failed, name, { report: fc.defaultReportMessage(outcome) });
    }
  });

  t.test('failing calls: errno name as code, the call in the message, no descriptor leaked', async (t) => {
    const fds = () => readdirSync('/proc/self/fd').length;
    const before = fds();
    for (let i = 0; i < 50; i++) {
      try {
        n.packetOpen('hanosuchif0');
        t.fail('opened an interface that does not exist');
      } catch (e) {
        // Without root socket() itself fails; with it the interface lookup does.
        t.ok(['ENODEV', 'EPERM'].includes(errnoCode(e) ?? ''), `code ${errnoCode(e)}`);
        if (i === 0) t.match((e as Error).message, /socket\(AF_PACKET|ioctl\(SIOCGIFINDEX\) \(hanosuchif0\)/);
      }
    }
    t.equal(fds(), before, 'every failed open closed its socket');
    t.throws(() => n.getScheduler(2 ** 31 - 1), { code: 'ESRCH', message: /sched_getscheduler/ });
    t.throws(() => n.setScheduler(2 ** 31 - 1, 'rr', 1, true), { code: 'ESRCH', message: /sched_setscheduler/ });
  });

  t.test('packetSend and packetClose refuse a descriptor that is not a packet socket', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'haagent-native-'));
    const fd = openSync(join(dir, 'f'), 'w');
    try {
      t.throws(() => n.packetSend(fd, 1, Buffer.alloc(42)), { code: 'ENOTSOCK' });
      t.throws(() => n.packetClose(fd), { code: 'ENOTSOCK' });
      t.ok(fstatSync(fd).isFile(), 'the file is still open');
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  t.test('gettid and getScheduler of this (unchanged) thread', async (t) => {
    t.equal(n.gettid(), process.pid, "the main thread's id is the pid");
    const s = n.getScheduler(0);
    t.equal(typeof s.policy, 'string');
    t.equal(typeof s.priority, 'number');
    t.equal(typeof s.resetOnFork, 'boolean');
    t.same(n.getScheduler(n.gettid()), s, 'tid 0 is the calling thread');
  });
}
