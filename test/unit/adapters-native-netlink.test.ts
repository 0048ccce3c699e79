// The addon's netlink exports, argument checking only: every bad call is a TypeError before
// any request is made. This runs in the root namespace, so nothing here may reach the kernel
// with a request that could change it: every call that gets past one bad argument names an
// interface index no host has. The kernel's answers are tested in a namespace
// (test/netns/netlink.test.ts).
import t from 'tap';
import { errnoCode, loadNative } from '../../src/adapters/native.js';

/** An interface index no host has (the largest the addon accepts). */
const NOWHERE = 2 ** 31 - 1;
const V4 = Buffer.from([198, 51, 100, 100]);
const V6 = Buffer.from('20010db8000000000000000000000100', 'hex');

const load = loadNative();
if (!load.ok) {
  t.comment(`addon tests skipped: ${load.reason}`);
} else {
  const n = load.native;
  const add = n.addrAdd as (...a: unknown[]) => unknown;
  const del = n.addrDel as (...a: unknown[]) => unknown;
  const ifIndex = n.ifIndex as (...a: unknown[]) => unknown;

  t.test('wrong arguments throw TypeError before any request', async (t) => {
    const bad: [string, () => unknown][] = [
      ['ifIndex()', () => ifIndex()],
      ['ifIndex(5)', () => ifIndex(5)],
      ['ifIndex("")', () => ifIndex('')],
      ['ifIndex(16 bytes)', () => ifIndex('x'.repeat(16))],
      ['ifIndex(embedded NUL)', () => ifIndex('lo\0x')],
      ['addrAdd with 4 arguments', () => add(NOWHERE, 4, V4, 32)],
      ['addrAdd ifindex 0', () => add(0, 4, V4, 32, false)],
      ['addrAdd ifindex -1', () => add(-1, 4, V4, 32, false)],
      ['addrAdd ifindex 1.5', () => add(1.5, 4, V4, 32, false)],
      ['addrAdd ifindex 2**31', () => add(2 ** 31, 4, V4, 32, false)],
      ['addrAdd ifindex "1"', () => add('1', 4, V4, 32, false)],
      ['addrAdd family 5', () => add(NOWHERE, 5, V4, 32, false)],
      ['addrAdd family 0', () => add(NOWHERE, 0, V4, 32, false)],
      ['addrAdd family "4"', () => add(NOWHERE, '4', V4, 32, false)],
      ['addrAdd family 4 with 16 bytes', () => add(NOWHERE, 4, V6, 32, false)],
      ['addrAdd family 6 with 4 bytes', () => add(NOWHERE, 6, V4, 128, true)],
      ['addrAdd 3-byte address', () => add(NOWHERE, 4, V4.subarray(0, 3), 32, false)],
      ['addrAdd address as string', () => add(NOWHERE, 4, '198.51.100.100', 32, false)],
      ['addrAdd address as array', () => add(NOWHERE, 4, [198, 51, 100, 100], 32, false)],
      ['addrAdd prefix 33 (v4)', () => add(NOWHERE, 4, V4, 33, false)],
      ['addrAdd prefix 129 (v6)', () => add(NOWHERE, 6, V6, 129, true)],
      ['addrAdd prefix -1', () => add(NOWHERE, 4, V4, -1, false)],
      ['addrAdd prefix NaN', () => add(NOWHERE, 4, V4, NaN, false)],
      ['addrAdd nodad 1', () => add(NOWHERE, 6, V6, 128, 1)],
      ['addrAdd nodad on IPv4', () => add(NOWHERE, 4, V4, 32, true)],
      ['addrDel with 3 arguments', () => del(NOWHERE, 4, V4)],
      ['addrDel ifindex 0', () => del(0, 4, V4, 32)],
      ['addrDel family 6 with 4 bytes', () => del(NOWHERE, 6, V4, 32)],
      ['addrDel prefix 33', () => del(NOWHERE, 4, V4, 33)],
      ['addrDel prefix 1.5', () => del(NOWHERE, 6, V6, 1.5)],
    ];
    for (const [what, call] of bad) t.throws(call, TypeError, what);
  });

  t.test('ifIndex reads the index of an interface, or throws ENODEV', async (t) => {
    const lo = n.ifIndex('lo');
    t.ok(Number.isInteger(lo) && lo > 0, `lo has index ${lo}`);
    let code: string | undefined;
    try {
      n.ifIndex('nosuch-hat0');
    } catch (e) {
      code = errnoCode(e);
      t.match((e as Error).message, /^if_nametoindex\(nosuch-hat0\): /, 'the message names the call and the interface');
    }
    t.equal(code, 'ENODEV');
  });
}
