// The CLI's read-only requests: the control socket first, the read-only socket only when
// the control socket's mode keeps the user out (EACCES), and which socket a failure names.
import t from 'tap';
import { failedSocket, notRunning, readRequest, socketsOf, type ReadSockets } from '../../src/cli/common.js';
import { EXIT } from '../../src/cli/exit.js';
import type { ControlRequest, ControlResponse } from '../../src/daemon/control.js';

const errno = (code: string) => Object.assign(new Error(`connect ${code}`), { code });

/** A fake request(): throws the errno given for a path, else answers with the path. */
function fake(fail: Record<string, string>) {
  const asked: string[] = [];
  const send = (path: string, _req: ControlRequest): Promise<ControlResponse> => {
    asked.push(path);
    const code = fail[path];
    return code ? Promise.reject(errno(code)) : Promise.resolve({ ok: true, message: path });
  };
  return { asked, send };
}

const both: ReadSockets = { socket: '/run/h/main.sock', readOnly: '/run/h/ro.sock' };

t.test('the control socket when it answers', async (t) => {
  const f = fake({});
  t.same(await readRequest(both, { cmd: 'status' }, f.send), { ok: true, message: '/run/h/main.sock' });
  t.same(f.asked, ['/run/h/main.sock']);
});

t.test('EACCES on the control socket: the read-only socket', async (t) => {
  const f = fake({ '/run/h/main.sock': 'EACCES' });
  t.same(await readRequest(both, { cmd: 'status' }, f.send), { ok: true, message: '/run/h/ro.sock' });
  t.same(f.asked, ['/run/h/main.sock', '/run/h/ro.sock']);
});

t.test('any other error, or no read-only socket: the control socket error, no second try', async (t) => {
  const f = fake({ '/run/h/main.sock': 'ENOENT' });
  const e = await readRequest(both, { cmd: 'status' }, f.send).catch((x: unknown) => x);
  t.match(e, { code: 'ENOENT' });
  t.equal(failedSocket(both, e), '/run/h/main.sock');
  const g = fake({ '/run/h/main.sock': 'EACCES' });
  await t.rejects(readRequest({ socket: '/run/h/main.sock', readOnly: null }, { cmd: 'status' }, g.send), { code: 'EACCES' });
  t.same([...f.asked, ...g.asked], ['/run/h/main.sock', '/run/h/main.sock']);
});

t.test('both refuse: the error names both sockets', async (t) => {
  const f = fake({ '/run/h/main.sock': 'EACCES', '/run/h/ro.sock': 'ENOENT' });
  const e = await readRequest(both, { cmd: 'status' }, f.send).catch((x: unknown) => x);
  t.match(e, { code: 'ENOENT' });
  t.equal(failedSocket(both, e), '/run/h/main.sock (EACCES), read-only socket /run/h/ro.sock');
});

t.test('socketsOf: the sockets a file names, read leniently', async (t) => {
  const file = (text: string) => () => text;
  t.same(socketsOf('f', file('control:\n  socket: /run/x.sock\n  statusSocket: /run/ro.sock\npriority: 999\n')), { socket: '/run/x.sock', readOnly: '/run/ro.sock' });
  t.same(socketsOf('f', file('groups: [\n')), { socket: '/run/haagent/haagent.sock', readOnly: null }, 'no YAML: the default');
  t.same(socketsOf('f', file('control: { socket: 7 }\n')), { socket: '/run/haagent/haagent.sock', readOnly: null }, 'not a path: the default');
  t.same(socketsOf('f', () => { throw new Error('ENOENT'); }), { socket: '/run/haagent/haagent.sock', readOnly: null }, 'no file: the default');
});

t.test('a socket that keeps the user out is EX_NOPERM, not "no agent running"', async (t) => {
  const write = process.stderr.write;
  const out: string[] = [];
  const code = process.exitCode;
  process.stderr.write = ((s: string) => (out.push(s), true)) as typeof process.stderr.write;
  try {
    notRunning('/run/haagent/haagent.sock', errno('EACCES'));
    t.equal(process.exitCode, EXIT.NOPERM);
    t.match(out.join(''), /permission denied on the control socket \/run\/haagent\/haagent\.sock/);
    notRunning('/run/haagent/haagent.sock', errno('ENOENT'));
    t.equal(process.exitCode, EXIT.NOT_RUNNING);
    t.match(out.join(''), /no agent running \(control socket \/run\/haagent\/haagent\.sock: ENOENT\)/);
  } finally {
    process.stderr.write = write;
    process.exitCode = code;
  }
});
