// The control socket under abuse, over real Unix sockets in a private temp directory:
// pipelined lines answered in order with a per-line limit, a bounded number of lines per
// event-loop turn, backpressure on a client that never reads, a connection cap and an
// idle timeout, a socket directory others can write refused, the read-only socket, and
// the audit of state-changing commands. Every check counts; none times the machine.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { loadNative } from '../../src/adapters/native.js';
import type { Logger } from '../../src/log.js';
import { auditLog, ControlServer, request, type Caller, type ControlRequest, type ControlResponse } from '../../src/daemon/control.js';

function tempDir(t: Test): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'haagent-ctl-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Connects and collects lines; `next(n)` resolves with the next n lines, or with fewer if the server closes. */
function client(sock: string) {
  const c = net.connect(sock);
  c.setEncoding('utf8');
  let buf = '';
  const got: string[] = [];
  let closed = false;
  let wake = () => undefined as void;
  c.on('data', (d: string) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      got.push(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
    wake();
  });
  c.on('error', () => undefined);
  c.on('close', () => {
    closed = true;
    wake();
  });
  const next = (n: number) =>
    new Promise<ControlResponse[]>((resolve) => {
      const check = () => {
        if (got.length >= n || closed) resolve(got.splice(0, n).map((l) => JSON.parse(l) as ControlResponse));
        else wake = check;
      };
      check();
    });
  return { c, next, isClosed: () => closed, closedP: new Promise<void>((r) => c.once('close', () => r())) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const STATUS = JSON.stringify({ cmd: 'status' }) + '\n';

t.test('pipelined short lines are answered in order; the 64 KiB limit is per line', async (t) => {
  const sock = path.join(tempDir(t), 'c.sock');
  let n = 0;
  const srv = await ControlServer.listen(sock, 0o600, () => ({ ok: true, message: String(n++) }));
  t.teardown(() => srv.close());
  const a = client(sock);
  a.c.write(STATUS.repeat(20_000)); // 340 KB in one write: several 64 KiB reads of short lines
  const res = await a.next(20_000);
  t.equal(res.length, 20_000, 'every line answered');
  t.ok(
    res.every((r, i) => r.ok && r.message === String(i)),
    'in order, none refused as too long',
  );
  // One line just under the limit (padded JSON) is a request; one just over is refused.
  a.c.write(`{"cmd":"status"${' '.repeat(60 * 1024)}}\n`);
  t.same((await a.next(1))[0], { ok: true, message: '20000' }, '60 KiB line answered');
  a.c.write(`{"cmd":"status"${' '.repeat(70 * 1024)}}\n`);
  const last = await a.next(1);
  t.match(last[0], { ok: false, message: /request too long/ }, '70 KiB line refused');
  await a.closedP;
  t.equal(n, 20_001, 'the long line never reached the handler');
});

t.test('a burst of 10,000 lines is answered a bounded number per event-loop turn', async (t) => {
  const sock = path.join(tempDir(t), 'c.sock');
  let sinceTurn = 0;
  let most = 0;
  let turns = 0;
  let ticking = true;
  const tick = () => {
    turns++;
    sinceTurn = 0;
    if (ticking) setImmediate(tick);
  };
  setImmediate(tick);
  t.teardown(() => (ticking = false));
  const srv = await ControlServer.listen(sock, 0o600, () => {
    most = Math.max(most, ++sinceTurn);
    return { ok: true };
  }, undefined, { limits: { perTurn: 16 } });
  t.teardown(() => srv.close());
  const a = client(sock);
  a.c.write('x\n'.repeat(10_000));
  const res = await a.next(10_000);
  t.equal(res.length, 10_000, 'every line answered');
  t.ok(res.every((r) => !r.ok && r.message === 'request is not JSON'));
  a.c.write(STATUS.repeat(2000));
  t.equal((await a.next(2000)).length, 2000);
  t.ok(most > 0 && most <= 32, `at most two turns' budget between two check phases (${most})`);
  t.ok(turns >= 2000 / 32, `the loop turned meanwhile (${turns} turns)`);
});

t.test('a client that never reads: reading stops, queued answers stay bounded', async (t) => {
  const sock = path.join(tempDir(t), 'c.sock');
  let handled = 0;
  const big = 'y'.repeat(1000);
  const srv = await ControlServer.listen(sock, 0o600, () => (handled++, { ok: true, status: big }), undefined, { limits: { idleMs: 600_000 } });
  t.teardown(() => srv.close());
  const a = client(sock);
  a.c.pause();
  a.c.write(STATUS.repeat(20_000)); // 340 KB of requests, 20 MB of answers if all were queued
  let most = 0;
  // Wait until the server stops answering (the count stays the same over 10 checks).
  for (let same = 0, last = -1, i = 0; same < 10 && i < 2000; i++) {
    await sleep(20);
    most = Math.max(most, srv.stats().pendingBytes);
    same = handled === last ? same + 1 : 0;
    last = handled;
  }
  t.ok(handled < 20_000, `the server stopped answering (${handled} of 20000)`);
  t.ok(most <= 256 * 1024, `queued answer bytes stayed under 256 KiB (${most})`);
  // Reading again resumes the rest, in order.
  a.c.resume();
  const res = await a.next(20_000);
  t.equal(res.length, 20_000, 'all answered once the client reads');
  a.c.destroy();
});

t.test('a client that stops reading is disconnected after the idle bound', async (t) => {
  const sock = path.join(tempDir(t), 'c.sock');
  const srv = await ControlServer.listen(sock, 0o600, () => ({ ok: true, status: 'y'.repeat(1000) }), undefined, { limits: { idleMs: 200 } });
  t.teardown(() => srv.close());
  const a = client(sock);
  a.c.pause();
  a.c.write(STATUS.repeat(20_000));
  await a.closedP;
  t.pass('disconnected');
  for (let i = 0; i < 500 && srv.stats().connections > 0; i++) await sleep(10);
  t.equal(srv.stats().connections, 0, 'nothing held for it');
});

t.test('an event follower that never reads is dropped before its queue passes the cap', async (t) => {
  const sock = path.join(tempDir(t), 'c.sock');
  const subs = new Set<(ev: object) => void>();
  const srv = await ControlServer.listen(sock, 0o600, () => ({ ok: true }), (w) => (subs.add(w), () => subs.delete(w)), { limits: { maxPendingBytes: 64 * 1024 } });
  t.teardown(() => srv.close());
  const a = client(sock);
  a.c.write(JSON.stringify({ cmd: 'events' }) + '\n');
  t.match(await a.next(1), [{ ok: true }]);
  a.c.pause();
  let most = 0;
  for (let i = 0; i < 10_000 && subs.size > 0; i++) {
    for (const w of subs) w({ event: 'transition', pad: 'z'.repeat(1000) });
    most = Math.max(most, srv.stats().pendingBytes);
  }
  t.equal(subs.size, 0, 'unsubscribed');
  t.ok(most <= 64 * 1024 + 2048, `queued bytes stayed at the cap (${most})`);
});

t.test('connections are capped; a silent one is closed after the idle timeout', async (t) => {
  const sock = path.join(tempDir(t), 'c.sock');
  const srv = await ControlServer.listen(sock, 0o600, () => ({ ok: true }), undefined, { limits: { maxConnections: 3, idleMs: 60_000 } });
  t.teardown(() => srv.close());
  const held = [client(sock), client(sock), client(sock)];
  for (const h of held) {
    h.c.write(STATUS);
    t.same(await h.next(1), [{ ok: true }]);
  }
  const fourth = client(sock);
  fourth.c.write(STATUS);
  t.match(await fourth.next(1), [{ ok: false, message: /too many connections/ }], 'refused with one line');
  await fourth.closedP;
  held[0]!.c.destroy();
  for (let i = 0; i < 500 && srv.stats().connections > 2; i++) await sleep(10);
  const fifth = client(sock);
  fifth.c.write(STATUS);
  t.same(await fifth.next(1), [{ ok: true }], 'a freed slot is taken');
  for (const h of [...held, fifth]) h.c.destroy();

  const sock2 = path.join(tempDir(t), 'i.sock');
  const srv2 = await ControlServer.listen(sock2, 0o600, () => ({ ok: true }), undefined, { limits: { idleMs: 100 } });
  t.teardown(() => srv2.close());
  const idle = client(sock2);
  idle.c.write('{"cmd":'); // never completed
  t.match(await idle.next(1), [{ ok: false, message: /no request for 100 ms/ }]);
  await idle.closedP;
  t.pass('closed');
});

t.test('a socket directory that group or others can write is refused', async (t) => {
  const base = tempDir(t);
  for (const mode of [0o775, 0o757, 0o777]) {
    const dir = path.join(base, mode.toString(8));
    fs.mkdirSync(dir);
    fs.chmodSync(dir, mode);
    await t.rejects(ControlServer.listen(path.join(dir, 'c.sock'), 0o600, () => ({ ok: true })), new RegExp(`${dir} has mode 0${mode.toString(8)}`));
    t.notOk(fs.existsSync(path.join(dir, 'c.sock')), 'no socket made');
  }
  const ok = path.join(base, 'ok');
  fs.mkdirSync(ok, { mode: 0o755 });
  fs.chmodSync(ok, 0o755);
  const srv = await ControlServer.listen(path.join(ok, 'c.sock'), 0o600, () => ({ ok: true }));
  await srv.close();
  t.pass('0755 accepted');
});

t.test('the read-only socket answers status and refuses state changes; state changes are audited with the uid', async (t) => {
  const dir = tempDir(t);
  const sock = path.join(dir, 'c.sock');
  const ro = path.join(dir, 'c.sock.ro');
  const seen: ControlRequest['cmd'][] = [];
  const audit: { req: ControlRequest; caller: Caller; res: ControlResponse }[] = [];
  const srv = await ControlServer.listen(sock, 0o600, (req) => (seen.push(req.cmd), { ok: true, message: req.cmd }), (w) => (w({ hello: 1 }), () => undefined), {
    statusSocket: { path: ro, mode: 0o666 },
    audit: (req, caller, res) => audit.push({ req, caller, res }),
  });
  t.teardown(() => srv.close());
  t.equal(fs.statSync(ro).mode & 0o777, 0o666, 'read-only socket mode');
  t.equal(fs.statSync(sock).mode & 0o777, 0o600, 'main socket mode');
  t.same(await request(ro, { cmd: 'status' }), { ok: true, message: 'status' });
  for (const req of [{ cmd: 'takeover' }, { cmd: 'standby', group: 'web' }, { cmd: 'maintenance', on: true }, { cmd: 'reload' }] as ControlRequest[]) {
    t.match(await request(ro, req), { ok: false, message: new RegExp(`^${req.cmd} refused on the read-only socket`) }, `${req.cmd} refused`);
  }
  t.same(seen, ['status'], 'no state change reached the handler');
  const ev = client(ro);
  ev.c.write(JSON.stringify({ cmd: 'events' }) + '\n');
  t.match(await ev.next(2), [{ ok: true }, { hello: 1 }], 'events follow on the read-only socket');
  ev.c.destroy();
  t.same(await request(sock, { cmd: 'takeover', group: 'web' }), { ok: true, message: 'takeover' });
  t.equal(audit.length, 5, 'four refused, one accepted; status not audited');
  const load = loadNative();
  const uid = load.ok && load.native.peerCred ? process.getuid?.() ?? null : null;
  t.same(audit[4], { req: { cmd: 'takeover', group: 'web' }, caller: { uid, pid: uid === null ? null : process.pid, readOnly: false }, res: { ok: true, message: 'takeover' } });
  t.match(audit[0], { req: { cmd: 'takeover' }, caller: { uid, readOnly: true }, res: { ok: false } });
});

t.test('an audit sink or a handler that throws does not break the connection', async (t) => {
  const sock = path.join(tempDir(t), 'c.sock');
  let audits = 0;
  const srv = await ControlServer.listen(
    sock,
    0o600,
    (req) => {
      if (req.cmd === 'reload') throw new Error('boom');
      return { ok: true };
    },
    undefined,
    {
      audit: () => {
        audits++;
        throw new Error('log failed');
      },
    },
  );
  t.teardown(() => srv.close());
  t.same(await request(sock, { cmd: 'reload' }), { ok: false, message: 'internal error: boom' });
  t.same(await request(sock, { cmd: 'takeover' }), { ok: true }, 'answered although the audit threw');
  t.same(await request(sock, { cmd: 'status' }), { ok: true });
  t.equal(audits, 2);
});

t.test("the agent's audit log line names the command, its arguments, the uid and the outcome", async (t) => {
  const lines: [Record<string, unknown>, string][] = [];
  const log = { info: (o: Record<string, unknown>, m: string) => lines.push([o, m]) } as unknown as Logger;
  const sink = auditLog(log);
  sink({ cmd: 'takeover', group: 'web' }, { uid: 1000, pid: 42, readOnly: false }, { ok: true, message: 'web: taking over' });
  sink({ cmd: 'maintenance', on: true }, { uid: null, pid: null, readOnly: true }, { ok: false, message: 'refused' });
  t.same(lines, [
    [{ cmd: 'takeover', group: 'web', uid: 1000, pid: 42, readOnly: false, ok: true, answer: 'web: taking over' }, 'control: takeover by uid 1000: accepted'],
    [{ cmd: 'maintenance', on: true, uid: null, pid: null, readOnly: true, ok: false, answer: 'refused' }, 'control: maintenance by an unknown uid on the read-only socket: refused'],
  ]);
});
