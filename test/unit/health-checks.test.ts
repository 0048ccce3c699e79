// The checks against real local things: an http server and TCP listeners on 127.0.0.1 port 0,
// harmless commands (true, false, sleep), and ping through a fake runner (the real ping is
// exercised in test/netns/health.test.ts). Every wait is bounded by the check's own timeout.
import t from 'tap';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { httpCheck, type HttpCheckParams } from '../../src/health/http.js';
import { tcpCheck } from '../../src/health/tcp.js';
import { execCheck } from '../../src/health/exec.js';
import { pingArgv, pingNodes, pingCheck } from '../../src/health/ping.js';
import { createChecker } from '../../src/health/index.js';
import { SpawnRunner } from '../../src/adapters/runner.js';
import { HTTP_BODY_MAX_BYTES, type CheckSpec } from '../../src/health/types.js';
import type { CommandResult, CommandRunner } from '../../src/ports/index.js';

async function listen(server: net.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as net.AddressInfo).port;
}

t.test('http check', async (t) => {
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    if (req.url === '/ok') res.end('all OK here');
    else if (req.url === '/teapot') res.writeHead(418).end('OK');
    else if (req.url === '/big') {
      res.write('x'.repeat(HTTP_BODY_MAX_BYTES + 10));
      res.end('OK');
    } else if (req.url === '/hang') res.writeHead(200); // headers, then never a body end
    else if (req.url === '/silent') return; // never answers at all
    else res.writeHead(500).end('broken');
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const port = await listen(server);
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  const spec = (path: string, over: Partial<HttpCheckParams> = {}): HttpCheckParams => ({
    url: `http://127.0.0.1:${port}${path}`,
    expectStatus: null,
    expectBody: null,
    insecure: false,
    timeout: 300,
    ...over,
  });
  t.match(await httpCheck(spec('/ok')), { ok: true, detail: 'status 200' });
  t.match(await httpCheck(spec('/ok', { expectBody: 'OK' })), { ok: true, detail: 'status 200, body matched' });
  t.match(await httpCheck(spec('/ok', { expectBody: 'NOPE' })), { ok: false, detail: 'body lacks "NOPE"' });
  t.match(await httpCheck(spec('/err')), { ok: false, detail: 'status 500, expected 2xx' });
  t.match(await httpCheck(spec('/teapot', { expectStatus: 418, expectBody: 'OK' })), { ok: true });
  t.match(await httpCheck(spec('/ok', { expectStatus: 204 })), { ok: false, detail: 'status 200, expected 204' });
  t.match(await httpCheck(spec('/big', { expectBody: 'OK' })), { ok: false, detail: /in its first 65536 bytes/ }, 'reads at most 64 KiB');
  const hang = await httpCheck(spec('/hang', { expectBody: 'OK' }));
  t.match(hang, { ok: false, detail: 'timed out after 300 ms' }, 'a body that never ends is bounded');
  t.ok(hang.ms >= 250 && hang.ms < 2000, `took about the timeout (${hang.ms} ms)`);
  t.match(await httpCheck(spec('/silent')), { ok: false, detail: 'timed out after 300 ms' });
  const ctl = new AbortController();
  const aborted = httpCheck(spec('/silent', { timeout: 5000 }), ctl.signal);
  ctl.abort();
  t.match(await aborted, { ok: false }, "the caller's signal stops it too");
  t.match(await httpCheck(spec('/ok', { url: 'ftp://127.0.0.1/' })), { ok: false, detail: 'unsupported protocol ftp:' });
  t.match(await httpCheck(spec('/ok', { url: 'not a url' })), { ok: false, detail: 'bad url not a url' });
});

t.test('tcp check', async (t) => {
  const server = net.createServer((s) => s.destroy());
  const port = await listen(server);
  t.teardown(() => server.close());
  t.match(await tcpCheck({ host: '127.0.0.1', port, timeout: 1000 }), { ok: true, detail: `connected to 127.0.0.1:${port}` });
  // A port that was just free: listen, note it, close.
  const gone = net.createServer();
  const closedPort = await listen(gone);
  gone.close();
  await once(gone, 'close');
  t.match(await tcpCheck({ host: '127.0.0.1', port: closedPort, timeout: 1000 }), { ok: false, detail: /ECONNREFUSED/ });
  t.match(await tcpCheck({ host: '127.0.0.1', port: 70000, timeout: 1000 }), { ok: false, detail: /port/i });
  const ctl = new AbortController();
  ctl.abort();
  t.match(await tcpCheck({ host: '127.0.0.1', port, timeout: 1000 }, ctl.signal), { ok: false, detail: 'aborted' });
});

t.test('exec check', async (t) => {
  const runner = new SpawnRunner();
  t.match(await execCheck({ command: ['true'], timeout: 2000 }, runner), { ok: true, detail: 'exit 0' });
  t.match(await execCheck({ command: ['false'], timeout: 2000 }, runner), { ok: false, detail: 'false: exit 1' });
  const slow = await execCheck({ command: ['sleep', '5'], timeout: 100 }, runner);
  t.match(slow, { ok: false, detail: /timed out, killed/ });
  t.ok(slow.ms < 2000, `killed at the timeout, not after 5 s (${slow.ms} ms)`);
  t.match(await execCheck({ command: ['sh', '-c', 'echo "disk full" >&2; echo more >&2; exit 3'], timeout: 2000 }, runner), {
    ok: false,
    detail: /exit 3: disk full$/,
  });
  t.match(await execCheck({ command: ['/nonexistent/haagent-check'], timeout: 2000 }, runner), { ok: false, detail: /could not start/ });
  t.match(await execCheck({ command: [], timeout: 2000 }, runner), { ok: false, detail: 'empty command' });
});

/** A runner that answers from a table and records the argv it was given. */
function fakeRunner(answer: (argv: readonly string[]) => Partial<CommandResult>) {
  const seen: { argv: readonly string[]; timeout: number }[] = [];
  const runner: CommandRunner = {
    run: async (argv, timeout) => {
      seen.push({ argv, timeout });
      return { code: 0, signal: null, stdout: '', stderr: '', timedOut: false, ...answer(argv) };
    },
  };
  return { runner, seen };
}

t.test('ping check', async (t) => {
  t.same(pingArgv('198.51.100.1', 500), ['ping', '-c', '1', '-W', '1', '-n', '--', '198.51.100.1'], '-W in whole seconds, at least 1');
  t.same(pingArgv('h', 2500).slice(3, 5), ['-W', '3']);
  const reply = '64 bytes from 198.51.100.1: icmp_seq=1 ttl=64 time=0.042 ms\n';
  const table: [Partial<CommandResult>, { ok: boolean; detail: string | RegExp }][] = [
    [{ code: 0, stdout: reply }, { ok: true, detail: 'reply from 198.51.100.1 in 0.042 ms' }],
    [{ code: 0, stdout: '' }, { ok: true, detail: 'reply from 198.51.100.1' }],
    [{ code: 1 }, { ok: false, detail: 'no reply from 198.51.100.1' }],
    [{ code: -1, signal: 'SIGKILL', timedOut: true }, { ok: false, detail: 'no reply from 198.51.100.1 within 700 ms' }],
    [{ code: 2, stderr: 'ping: connect: Network is unreachable\n' }, { ok: false, detail: /exit 2: ping: connect: Network is unreachable$/ }],
    [{ code: -1, stderr: 'spawn ping ENOENT' }, { ok: false, detail: /could not start: spawn ping ENOENT/ }],
  ];
  for (const [result, want] of table) {
    const { runner, seen } = fakeRunner(() => result);
    t.match(await pingCheck({ host: '198.51.100.1', timeout: 700 }, runner), want);
    t.equal(seen[0].timeout, 700, "the runner's timeout is the check's own");
  }
});

t.test('pingNodes counts the reachable ones', async (t) => {
  const { runner, seen } = fakeRunner((argv) => ({ code: argv.at(-1) === '203.0.113.1' ? 1 : 0 }));
  const r = await pingNodes(['198.51.100.1', '203.0.113.1', '198.51.100.2'], 1000, runner);
  t.equal(r.reachable, 2);
  t.same(r.results.map((x) => [x.host, x.result.ok]), [['198.51.100.1', true], ['203.0.113.1', false], ['198.51.100.2', true]]);
  t.equal(seen.length, 3);
  t.same((await pingNodes([], 1000, runner)).reachable, 0);
});

t.test('createChecker dispatches on the check type', async (t) => {
  const { runner, seen } = fakeRunner(() => ({ code: 0 }));
  const checker = createChecker(runner);
  const common = { name: 'x', interval: 1000, timeout: 400, rise: 1, fall: 1, weight: 'fault' as const, holdDown: 0 };
  const signal = new AbortController().signal;
  t.match(await checker({ ...common, type: 'exec', command: ['check', '--quick'] }, signal), { ok: true });
  t.match(await checker({ ...common, type: 'ping', host: '198.51.100.9' }, signal), { ok: true });
  t.same(seen.map((s) => s.argv[0]), ['check', 'ping']);
  const refused: CheckSpec = { ...common, type: 'tcp', host: '127.0.0.1', port: 70000 };
  t.match(await checker(refused, signal), { ok: false });
  const http: CheckSpec = { ...common, type: 'http', url: 'gopher://x/', expectStatus: null, expectBody: null, insecure: false };
  t.match(await checker(http, signal), { ok: false, detail: 'unsupported protocol gopher:' });
});
