// peerCred: the addon's getsockopt(SO_PEERCRED) with its argument checking, and the
// adapter that finds a net.Socket's descriptor and never throws.
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { loadNative } from '../../src/adapters/native.js';
import { peerCred, socketFd } from '../../src/adapters/peer-cred.js';

/** A connected pair over a Unix socket in a temp dir: [server side, client side]. */
async function pair(t: Test): Promise<[net.Socket, net.Socket]> {
  const dir = mkdtempSync(join(tmpdir(), 'haagent-cred-'));
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(join(dir, 's'), r));
  const accepted = new Promise<net.Socket>((r) => srv.once('connection', r));
  const c = net.connect(join(dir, 's'));
  const s = await accepted;
  t.teardown(() => {
    c.destroy();
    s.destroy();
    srv.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return [s, c];
}

const load = loadNative();
const n = load.ok ? load.native : null;
if (!n?.peerCred) {
  t.comment(`addon peerCred tests skipped: ${load.ok ? 'this build has no peerCred' : load.reason}`);
} else {
  const cred = n.peerCred.bind(n);
  t.test('wrong arguments throw TypeError; a descriptor that is no socket, ENOTSOCK', async (t) => {
    for (const bad of [undefined, -1, 1.5, NaN, '3', 2 ** 31]) t.throws(() => cred(bad as number), TypeError, String(bad));
    t.throws(() => (cred as (...a: unknown[]) => unknown)(), TypeError, 'no argument');
    const dir = mkdtempSync(join(tmpdir(), 'haagent-cred-'));
    const fd = openSync(join(dir, 'f'), 'w');
    try {
      t.throws(() => cred(fd), { code: 'ENOTSOCK', message: /getsockopt\(SO_PEERCRED\)/ });
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  t.test("a connected Unix socket's peer is this process", async (t) => {
    const [s] = await pair(t);
    const fd = socketFd(s);
    t.type(fd, 'number');
    t.same(cred(fd!), { pid: process.pid, uid: process.getuid?.(), gid: process.getgid?.() });
  });
}

t.test('the adapter: the uid when it can, null otherwise, never a throw', async (t) => {
  const [s, c] = await pair(t);
  const got = peerCred(s);
  if (n?.peerCred) t.match(got, { uid: process.getuid?.(), pid: process.pid });
  else t.equal(got, null);
  c.destroy();
  s.destroy();
  t.equal(socketFd(s), null, 'a destroyed socket has no descriptor');
  t.equal(peerCred(s), null, 'and no credentials');
  t.equal(peerCred({} as net.Socket), null, 'not a socket at all');
});
