/**
 * One control connection: lines are taken from the input one at a time and answered in
 * order, a bounded number per event-loop turn across every connection (TurnBudget), so a
 * burst of requests never holds up the heartbeats. Reading stops while a backlog is being
 * answered or while the client does not read its answers; a client that stays silent or
 * stops reading for `idleMs` is disconnected, and one whose unread answers pass
 * `maxPendingBytes` is dropped at once: the agent's memory per connection stays bounded.
 */
import type net from 'node:net';
import { changesState, line, parseRequest, type AuditSink, type Caller, type ControlHandler, type ControlRequest, type ControlResponse, type EventSource } from './control-protocol.js';

export interface ConnLimits {
  /** longest request line in characters, the newline excluded */
  maxLine: number;
  /** lines answered per event-loop turn, all connections of a server together */
  perTurn: number;
  /** unread answer bytes a connection may hold before it is dropped */
  maxPendingBytes: number;
  /** no complete request (and no reading of the answers) for this long closes a connection */
  idleMs: number;
  /** concurrent connections per socket; the next one is refused with one line */
  maxConnections: number;
}

/** At most `perTurn` units between two check phases of the event loop, granted in FIFO order. */
export class TurnBudget {
  private used = 0;
  private armed = false;
  private readonly waiters: (() => void)[] = [];

  constructor(private readonly perTurn: number) {}

  /** Takes a unit if this turn has one left. */
  take(): boolean {
    if (this.used >= this.perTurn) return false;
    this.used++;
    this.arm();
    return true;
  }

  /** Resolves, with a unit taken, in a later turn. */
  wait(): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.arm();
    });
  }

  private arm(): void {
    if (this.armed) return;
    this.armed = true;
    setImmediate(() => this.reset());
  }

  private reset(): void {
    this.armed = false;
    this.used = 0;
    while (this.used < this.perTurn && this.waiters.length > 0) {
      this.used++;
      this.waiters.shift()?.();
    }
    if (this.used > 0) this.arm();
  }
}

export interface ConnContext {
  handler: ControlHandler;
  events?: EventSource;
  limits: ConnLimits;
  budget: TurnBudget;
  /** the socket refuses state-changing commands with this message (the read-only socket) */
  readOnly: string | null;
  audit?: AuditSink;
  /** the peer's credentials; may return null, must not throw */
  peer: (conn: net.Socket) => { uid: number; pid: number } | null;
}

/** Ends the connection after one last line; destroyed if that line cannot leave within a second. */
export function closeWith(conn: net.Socket, last: string): void {
  const t = setTimeout(() => conn.destroy(), 1000);
  conn.once('close', () => clearTimeout(t));
  conn.end(last, () => conn.destroy());
}

const TOO_LONG = Symbol('too long');

export class ControlConnection {
  private buf = '';
  private pos = 0;
  private busy = false;
  private unsubscribe: (() => void) | null = null;
  private idle: NodeJS.Timeout | null = null;
  private caller: Caller | null = null;

  constructor(
    private readonly conn: net.Socket,
    private readonly ctx: ConnContext,
  ) {
    conn.setEncoding('utf8');
    conn.on('error', () => conn.destroy());
    conn.on('close', () => {
      this.unsubscribe?.();
      if (this.idle) clearTimeout(this.idle);
    });
    conn.on('data', (chunk: string) => {
      this.buf = this.buf.slice(this.pos) + chunk;
      this.pos = 0;
      if (!this.busy) void this.pump();
    });
    this.armIdle();
  }

  /** A follower of the event stream only listens: no idle timeout for it. */
  private armIdle(): void {
    if (this.idle) clearTimeout(this.idle);
    this.idle = this.unsubscribe ? null : setTimeout(() => this.onIdle(), this.ctx.limits.idleMs);
  }

  private onIdle(): void {
    // Busy here means waiting for the client to read its answers: it gets nothing more.
    if (this.busy) this.conn.destroy();
    else closeWith(this.conn, line({ ok: false, message: `no request for ${this.ctx.limits.idleMs} ms: closing` }));
  }

  private nextLine(): string | typeof TOO_LONG | null {
    const max = this.ctx.limits.maxLine;
    const nl = this.buf.indexOf('\n', this.pos);
    if (nl < 0) return this.buf.length - this.pos > max ? TOO_LONG : null;
    if (nl - this.pos > max) return TOO_LONG;
    const l = this.buf.slice(this.pos, nl);
    this.pos = nl + 1;
    return l;
  }

  private async pump(): Promise<void> {
    const conn = this.conn;
    this.busy = true;
    conn.pause();
    for (let l = this.nextLine(); l !== null && !conn.destroyed; l = this.nextLine()) {
      if (l === TOO_LONG) {
        closeWith(conn, line({ ok: false, message: `request too long (over ${this.ctx.limits.maxLine} characters)` }));
        return;
      }
      this.armIdle();
      if (!this.ctx.budget.take()) await this.ctx.budget.wait();
      if (conn.destroyed) return;
      await this.handle(parseRequest(l));
      if (conn.writableNeedDrain && !(await this.drained())) return;
    }
    this.buf = this.buf.slice(this.pos);
    this.pos = 0;
    this.busy = false;
    if (!conn.destroyed) conn.resume();
  }

  private drained(): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        this.conn.off('drain', onDrain);
        this.conn.off('close', onClose);
        resolve(ok);
      };
      const onDrain = () => done(true);
      const onClose = () => done(false);
      this.conn.on('drain', onDrain);
      this.conn.on('close', onClose);
    });
  }

  /** Writes one line unless the client already leaves too much unread: then it is dropped. */
  private send(msg: object): void {
    if (this.conn.destroyed) return;
    if (this.conn.writableLength <= this.ctx.limits.maxPendingBytes) {
      this.conn.write(line(msg));
      return;
    }
    // 'close' comes a turn later: stop the event stream's writes now.
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.conn.destroy();
  }

  private async handle(req: ControlRequest | string): Promise<void> {
    if (typeof req === 'string') return this.send({ ok: false, message: req });
    if (req.cmd === 'events') return this.follow();
    let res: ControlResponse;
    if (this.ctx.readOnly !== null && changesState(req)) res = { ok: false, message: `${req.cmd} ${this.ctx.readOnly}` };
    else {
      try {
        const r = this.ctx.handler(req);
        res = r instanceof Promise ? await r : r;
      } catch (e) {
        res = { ok: false, message: `internal error: ${e instanceof Error ? e.message : String(e)}` };
      }
    }
    if (changesState(req)) {
      try {
        this.ctx.audit?.(req, this.callerOf(), res);
      } catch {
        /* the log's failure must not cost the answer */
      }
    }
    this.send(res);
  }

  private follow(): void {
    if (!this.ctx.events || this.unsubscribe) return this.send({ ok: false, message: 'no event stream here' });
    this.send({ ok: true, message: 'following events' });
    this.unsubscribe = this.ctx.events((ev) => this.send(ev));
    this.armIdle();
  }

  private callerOf(): Caller {
    if (!this.caller) {
      let cred: { uid: number; pid: number } | null = null;
      try {
        cred = this.ctx.peer(this.conn);
      } catch {
        cred = null;
      }
      this.caller = { uid: cred?.uid ?? null, pid: cred?.pid ?? null, readOnly: this.ctx.readOnly !== null };
    }
    return this.caller;
  }
}
