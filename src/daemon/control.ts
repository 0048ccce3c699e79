/**
 * The control socket: a Unix stream socket speaking newline-delimited JSON, one request
 * and one response per line. Access control is the socket file's mode and group (0660 by
 * default: root and the socket's group only), set before anyone can connect.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export type ControlRequest =
  | { cmd: 'status' }
  | { cmd: 'takeover'; group?: string }
  | { cmd: 'standby'; group?: string }
  | { cmd: 'maintenance'; on: boolean }
  | { cmd: 'reload' }
  /** keeps the connection open and streams one JSON line per event */
  | { cmd: 'events' };

export type ControlResponse = { ok: boolean; message?: string; status?: unknown };

export type ControlHandler = (req: ControlRequest) => ControlResponse | Promise<ControlResponse>;

/** Subscribes a writer to the event stream; returns the unsubscribe function. */
export type EventSource = (write: (event: object) => void) => () => void;

const MAX_LINE = 64 * 1024;

export function parseRequest(line: string): ControlRequest | string {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return 'request is not JSON';
  }
  if (typeof v !== 'object' || v === null) return 'request is not an object';
  const o = v as Record<string, unknown>;
  const group = typeof o.group === 'string' ? o.group : undefined;
  switch (o.cmd) {
    case 'status':
    case 'reload':
    case 'events':
      return { cmd: o.cmd };
    case 'takeover':
    case 'standby':
      return group === undefined ? { cmd: o.cmd } : { cmd: o.cmd, group };
    case 'maintenance':
      if (typeof o.on !== 'boolean') return 'maintenance needs "on": true|false';
      return { cmd: 'maintenance', on: o.on };
    default:
      return `unknown command ${JSON.stringify(o.cmd)}`;
  }
}

/** Is something answering on this socket path? */
export function probeSocket(socketPath: string, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(socketPath);
    const t = setTimeout(() => {
      c.destroy();
      resolve(true); // connected but silent still means somebody owns it
    }, timeoutMs);
    c.once('connect', () => {
      clearTimeout(t);
      c.destroy();
      resolve(true);
    });
    c.once('error', () => {
      clearTimeout(t);
      resolve(false);
    });
  });
}

export class ControlServer {
  private readonly conns = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    readonly socketPath: string,
  ) {
    // Followers of the event stream never hang up by themselves: close() must end them.
    server.on('connection', (c) => {
      this.conns.add(c);
      c.on('close', () => this.conns.delete(c));
    });
  }

  /** Refuses (throws) if another process answers on the path; removes a stale socket file. */
  static async listen(socketPath: string, mode: number, handler: ControlHandler, events?: EventSource): Promise<ControlServer> {
    fs.mkdirSync(path.dirname(socketPath), { recursive: true, mode: 0o755 });
    if (fs.existsSync(socketPath)) {
      if (await probeSocket(socketPath)) throw new Error(`control socket ${socketPath} is in use by another process (is an agent already running?)`);
      const st = fs.lstatSync(socketPath);
      if (!st.isSocket()) throw new Error(`control socket path ${socketPath} exists and is not a socket; refusing to remove it`);
      fs.unlinkSync(socketPath);
    }
    const server = net.createServer((conn) => serve(conn, handler, events));
    // A tight umask while binding, so the socket never exists with a wider mode.
    const old = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(socketPath, () => resolve());
      });
    } finally {
      process.umask(old);
    }
    fs.chmodSync(socketPath, mode);
    return new ControlServer(server, socketPath);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      for (const c of this.conns) c.destroy();
      try {
        fs.unlinkSync(this.socketPath);
      } catch {
        /* already gone */
      }
    });
  }
}

function serve(conn: net.Socket, handler: ControlHandler, events?: EventSource): void {
  let buf = '';
  let unsubscribe: (() => void) | null = null;
  conn.on('close', () => unsubscribe?.());
  conn.setEncoding('utf8');
  conn.on('error', () => conn.destroy());
  conn.on('data', (chunk: string) => {
    buf += chunk;
    if (buf.length > MAX_LINE) {
      conn.end(JSON.stringify({ ok: false, message: 'request too long' }) + '\n');
      return;
    }
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const req = parseRequest(line);
      if (typeof req !== 'string' && req.cmd === 'events') {
        if (!events || unsubscribe) {
          conn.write(JSON.stringify({ ok: false, message: 'no event stream here' }) + '\n');
          continue;
        }
        conn.write(JSON.stringify({ ok: true, message: 'following events' }) + '\n');
        // A slow reader must not grow our memory: drop the subscriber when its buffer is full.
        unsubscribe = events((ev) => {
          if (conn.writableLength > MAX_LINE * 16) conn.destroy();
          else conn.write(JSON.stringify(ev) + '\n');
        });
        continue;
      }
      void answer(conn, req, handler);
    }
  });
}

async function answer(conn: net.Socket, req: ControlRequest | string, handler: ControlHandler): Promise<void> {
  let res: ControlResponse;
  if (typeof req === 'string') res = { ok: false, message: req };
  else {
    try {
      res = await handler(req);
    } catch (e) {
      res = { ok: false, message: `internal error: ${e instanceof Error ? e.message : String(e)}` };
    }
  }
  if (!conn.destroyed) conn.write(JSON.stringify(res) + '\n');
}

/** Client side: one request, one response, bounded in time. */
export function request(socketPath: string, req: ControlRequest, timeoutMs = 3000): Promise<ControlResponse> {
  return new Promise((resolve, reject) => {
    const c = net.connect(socketPath);
    let buf = '';
    const t = setTimeout(() => {
      c.destroy();
      reject(new Error(`no answer from ${socketPath} within ${timeoutMs} ms`));
    }, timeoutMs);
    c.setEncoding('utf8');
    c.once('connect', () => c.write(JSON.stringify(req) + '\n'));
    c.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(t);
      c.destroy();
      try {
        resolve(JSON.parse(buf.slice(0, nl)) as ControlResponse);
      } catch {
        reject(new Error('malformed answer from the agent'));
      }
    });
    c.once('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
  });
}
