/**
 * The control socket: a Unix stream socket speaking newline-delimited JSON, one request
 * and one response per line (control-protocol.ts; each connection in control-conn.ts).
 * Access control is the socket file's mode and group (0660 by default: root and the
 * socket's group only), set before anyone can connect, in a directory no other user can
 * write. A second, read-only socket answers status and events and refuses the rest, so it
 * can be opened to more users than the one that moves VIPs.
 */
import { DEFAULTS } from '../config/defaults.js';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { peerCred } from '../adapters/peer-cred.js';
import type { Logger } from '../log.js';
import { closeWith, ControlConnection, TurnBudget, type ConnContext, type ConnLimits } from './control-conn.js';
import { line, type AuditSink, type ControlHandler, type ControlRequest, type ControlResponse, type EventSource } from './control-protocol.js';

export { changesState, parseRequest } from './control-protocol.js';
export type { AuditSink, Caller, ControlHandler, ControlRequest, ControlResponse, EventSource } from './control-protocol.js';

export interface ControlOptions {
  /** the read-only socket (status and events only), or none */
  statusSocket?: { path: string; mode: number } | null;
  limits?: Partial<ConnLimits>;
  /** told of every state-changing command with its caller */
  audit?: AuditSink;
}

/** The agent's audit sink: one log line per state-changing command, with who sent it. */
export function auditLog(log: Logger): AuditSink {
  return (req, caller, res) => {
    const { cmd, ...args } = req;
    const who = caller.uid === null ? 'an unknown uid' : `uid ${caller.uid}`;
    const via = caller.readOnly ? ' on the read-only socket' : '';
    const fields = { cmd, ...args, uid: caller.uid, pid: caller.pid, readOnly: caller.readOnly, ok: res.ok, answer: res.message };
    log.info(fields, `control: ${cmd} by ${who}${via}: ${res.ok ? 'accepted' : 'refused'}`);
  };
}

/** Is something answering on this socket path? */
export function socketInUse(socketPath: string, timeoutMs = 500): Promise<boolean> {
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

/**
 * Refuses a directory that group or others can write: another user could remove the
 * socket and put their own in its place, and operators would talk to it.
 */
export function checkSocketDir(dir: string): void {
  const mode = fs.statSync(dir).mode & 0o7777;
  if ((mode & 0o022) !== 0) {
    const who = (mode & 0o002) !== 0 ? 'every user' : 'its group';
    throw new Error(`control socket directory ${dir} has mode 0${mode.toString(8)}: ${who} can write it and so replace the socket; make it 0755 (chmod go-w) or configure a socket in another directory`);
  }
}

/** One listening socket with its connection cap; the agent has one or two. */
class Listener {
  private readonly conns = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    readonly socketPath: string,
  ) {}

  static async open(socketPath: string, mode: number, ctx: ConnContext): Promise<Listener> {
    const dir = path.dirname(socketPath);
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    checkSocketDir(dir);
    if (fs.existsSync(socketPath)) {
      if (await socketInUse(socketPath)) throw new Error(`control socket ${socketPath} is in use by another process (is an agent already running?)`);
      const st = fs.lstatSync(socketPath);
      if (!st.isSocket()) throw new Error(`control socket path ${socketPath} exists and is not a socket; refusing to remove it`);
      fs.unlinkSync(socketPath);
    }
    const server = net.createServer();
    const l = new Listener(server, socketPath);
    server.on('connection', (c) => l.accept(c, ctx));
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
    return l;
  }

  private accept(c: net.Socket, ctx: ConnContext): void {
    if (this.conns.size >= ctx.limits.maxConnections) {
      c.on('error', () => c.destroy());
      closeWith(c, line({ ok: false, message: `too many connections (${ctx.limits.maxConnections}): try again later` }));
      return;
    }
    // Followers of the event stream never hang up by themselves: close() must end them.
    this.conns.add(c);
    c.on('close', () => this.conns.delete(c));
    new ControlConnection(c, ctx);
  }

  /** Open connections and the answer bytes they have not read yet. */
  stats(): { connections: number; pendingBytes: number } {
    let pendingBytes = 0;
    for (const c of this.conns) pendingBytes += c.writableLength;
    return { connections: this.conns.size, pendingBytes };
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

export class ControlServer {
  private constructor(
    private readonly main: Listener,
    private readonly ro: Listener | null,
  ) {}

  get socketPath(): string {
    return this.main.socketPath;
  }

  /** Refuses (throws) if another process answers on a path or its directory is writable by others; removes a stale socket file. */
  static async listen(socketPath: string, mode: number, handler: ControlHandler, events?: EventSource, opts: ControlOptions = {}): Promise<ControlServer> {
    const limits: ConnLimits = { ...DEFAULTS.control, ...opts.limits };
    // One budget for both sockets: the heartbeats wait for neither.
    const base = { handler, events, limits, budget: new TurnBudget(limits.perTurn), audit: opts.audit, peer: peerCred };
    const main = await Listener.open(socketPath, mode, { ...base, readOnly: null });
    const st = opts.statusSocket;
    if (!st) return new ControlServer(main, null);
    try {
      const readOnly = `refused on the read-only socket ${st.path} (status and events only); state changes go through ${socketPath}`;
      const ro = await Listener.open(st.path, st.mode, { ...base, readOnly });
      return new ControlServer(main, ro);
    } catch (e) {
      await main.close();
      throw e;
    }
  }

  stats(): { connections: number; pendingBytes: number } {
    const a = this.main.stats();
    const b = this.ro?.stats() ?? { connections: 0, pendingBytes: 0 };
    return { connections: a.connections + b.connections, pendingBytes: a.pendingBytes + b.pendingBytes };
  }

  async close(): Promise<void> {
    await Promise.all([this.main.close(), this.ro?.close()]);
  }
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
    c.once('connect', () => c.write(line(req)));
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
