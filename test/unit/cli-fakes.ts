/**
 * Fakes for the CLI tests: an agent on a Unix socket that answers each request as a test
 * says, the command line run in-process with its output and exit code captured, and a
 * configuration file whose control socket is in a private temp directory.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandModule } from 'yargs';
import { parser } from '../../src/cli/parser.js';
import type { ControlRequest } from '../../src/daemon/control.js';

interface Teardown {
  teardown(fn: () => void): void;
}

export function tempDir(t: Teardown, prefix = 'haagent-cli-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** What a command printed and the exit code it left (process.exitCode, or the one it exited with). */
export interface Ran {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs fn with process.stdout/stderr captured and process.exitCode kept, all restored before any assertion. */
export async function capture(fn: () => unknown): Promise<Ran> {
  const out = { stdout: '', stderr: '', code: 0 };
  const w1 = process.stdout.write.bind(process.stdout);
  const w2 = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => ((out.stdout += s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => ((out.stderr += s), true)) as typeof process.stderr.write;
  const before = process.exitCode;
  process.exitCode = undefined;
  try {
    await fn();
    out.code = Number(process.exitCode ?? 0);
  } finally {
    process.stdout.write = w1;
    process.stderr.write = w2;
    process.exitCode = before;
  }
  return out;
}

/** Thrown by the parser's exit in place of ending the test process. */
class Exited extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/**
 * `haagent ARGS` in this process: the real parser, its commands (or those given), output
 * captured. A usage error's exit becomes the code returned.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function runCli(args: string[], registry?: readonly CommandModule<object, any>[]): Promise<Ran> {
  let exited: number | null = null;
  const exit = (code: number): never => {
    throw new Exited(code);
  };
  const ran = await capture(async () => {
    try {
      await parser(args, exit, registry).exitProcess(false).parseAsync();
    } catch (e) {
      if (!(e instanceof Exited)) throw e;
      exited = e.code;
    }
  });
  return exited === null ? ran : { ...ran, code: exited };
}

/** The answer to one request: one line, or several (an event stream). */
export type Answer = object | object[];

/**
 * An agent on a Unix socket in a temp directory: each connection's first request line goes
 * to `answer`, whose lines are written back before the connection ends. `asked` lists the
 * requests in order.
 */
export async function fakeAgent(t: Teardown, answer: (req: ControlRequest) => Answer): Promise<{ socket: string; asked: ControlRequest[] }> {
  const socket = join(tempDir(t, 'haagent-agent-'), 'control.sock');
  const asked: ControlRequest[] = [];
  const server = net.createServer((c) => {
    c.setEncoding('utf8');
    c.on('error', () => c.destroy());
    let buf = '';
    let answered = false;
    c.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      // One request per connection, as the CLI sends.
      if (nl < 0 || answered) return;
      answered = true;
      const req = JSON.parse(buf.slice(0, nl)) as ControlRequest;
      asked.push(req);
      const a = answer(req);
      for (const o of Array.isArray(a) ? a : [a]) c.write(JSON.stringify(o) + '\n');
      c.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  t.teardown(() => server.close());
  return { socket, asked };
}

/** A valid director configuration whose control socket is `socket`, written in `dir`; its path. */
export function configFile(dir: string, socket: string, extra = ''): string {
  const path = join(dir, 'haagent.yaml');
  writeFileSync(
    path,
    `node: d0\ncluster: lb1\nheartbeat:\n  peers: [198.51.100.11]\n  keyFile: ${join(dir, 'key')}\ncontrol:\n  socket: ${socket}\n` +
      `stateDir: ${dir}\ngroups:\n  - name: web\n    vip: 198.51.100.100\n    interface: eth0\n${extra}`,
  );
  return path;
}
