/**
 * The control socket's protocol: newline-delimited JSON, one request and one response per
 * line. Which commands change state (and so are refused on the read-only socket and logged
 * with the caller's uid) is decided here.
 */
import { safeJson } from '../printable.js';

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

/** Who sent a command: the peer's uid when the platform tells (SO_PEERCRED), else null. */
export interface Caller {
  uid: number | null;
  pid: number | null;
  /** it came in on the read-only socket */
  readOnly: boolean;
}

/** Called after every state-changing command, accepted or refused, for the log. */
export type AuditSink = (req: ControlRequest, caller: Caller, res: ControlResponse) => void;

/** The commands that only read: the read-only socket answers these and nothing else. */
const READ_ONLY: ReadonlySet<ControlRequest['cmd']> = new Set(['status', 'events']);

export function changesState(req: ControlRequest): boolean {
  return !READ_ONLY.has(req.cmd);
}

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

/** One response line, ASCII-safe for a terminal (safeJson: names in it come from the network). */
export function line(res: ControlResponse | object): string {
  return safeJson(JSON.stringify(res)) + '\n';
}
