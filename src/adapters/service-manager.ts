/**
 * systemd's notification protocol (sd_notify(3)) for `Type=notify` with `WatchdogSec=`:
 * READY=1 once the agent serves, STATUS= with the groups' states, RELOADING=1 / READY=1
 * around a reload, STOPPING=1 on the way out, and WATCHDOG=1 while the election loop turns.
 *
 * Node's dgram has no AF_UNIX datagram sockets, so the one sendto goes through unix-dgram
 * (a maintained native addon). It is loaded only when NOTIFY_SOCKET is set: outside systemd,
 * or under Type=simple, every method here is a no-op and the addon is never touched.
 */
import { createRequire } from 'node:module';
import type { Logger } from '../log.js';

/** The variables systemd sets for the main process. */
export interface ServiceEnv {
  NOTIFY_SOCKET?: string | undefined;
  WATCHDOG_USEC?: string | undefined;
  WATCHDOG_PID?: string | undefined;
}

/** One datagram socket to the service manager. send() throws on failure. */
export interface ServiceChannel {
  send(message: string): void;
  close(): void;
}

export interface IntervalTimers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export type WatchdogSetting = { pingMs: number } | { error: string } | null;

/**
 * The keep-alive period systemd asks of this process: half of WATCHDOG_USEC, as
 * sd_watchdog_enabled(3) advises. null when there is no watchdog, or it is meant for another
 * process (WATCHDOG_PID names someone else).
 */
export function watchdogSetting(env: ServiceEnv, pid: number): WatchdogSetting {
  const usec = env.WATCHDOG_USEC;
  if (usec === undefined || usec === '') return null;
  if (env.WATCHDOG_PID !== undefined && env.WATCHDOG_PID !== '' && env.WATCHDOG_PID !== String(pid)) return null;
  if (!/^[0-9]{1,15}$/.test(usec) || Number(usec) === 0) return { error: `WATCHDOG_USEC=${JSON.stringify(usec)}: expected a positive number of microseconds` };
  return { pingMs: Math.max(1, Math.floor(Number(usec) / 2000)) };
}

/** Where NOTIFY_SOCKET points, or why it cannot be used. */
export function serviceSocketPath(raw: string | undefined): { path: string } | { error: string } | null {
  if (raw === undefined || raw === '') return null;
  if (raw.startsWith('/')) return { path: raw };
  if (raw.startsWith('@')) return { error: `NOTIFY_SOCKET=${raw}: abstract sockets are not supported (unix-dgram takes filesystem paths); systemd's own is /run/systemd/notify` };
  return { error: `NOTIFY_SOCKET=${JSON.stringify(raw)}: expected an absolute path` };
}

interface UnixDgramSocket {
  on(event: 'error', fn: (e: Error) => void): void;
  send(buf: Buffer, offset: number, length: number, path: string, cb: (e?: Error) => void): void;
  close(): void;
}

/** The real channel: an unconnected AF_UNIX datagram socket, sendto() per message. */
export function openUnixDgram(path: string): ServiceChannel {
  const require = createRequire(import.meta.url);
  const mod = require('unix-dgram') as { createSocket(type: 'unix_dgram'): UnixDgramSocket };
  const sock = mod.createSocket('unix_dgram');
  let lastError: Error | null = null;
  sock.on('error', (e) => (lastError = e));
  return {
    send(message) {
      const buf = Buffer.from(message);
      let err: Error | undefined;
      // unix-dgram calls back synchronously with the sendto() result.
      sock.send(buf, 0, buf.length, path, (e) => (err = e));
      const failed = err ?? lastError;
      lastError = null;
      if (failed) throw failed;
    },
    close: () => sock.close(),
  };
}

export interface ServiceManagerDeps {
  env: ServiceEnv;
  pid: number;
  log: Logger;
  timers: IntervalTimers;
  open?: (path: string) => ServiceChannel;
  /** CLOCK_MONOTONIC in µs, for RELOADING=1's MONOTONIC_USEC. */
  monotonicUsec?: () => bigint;
}

/** What `haagent run` tells systemd. Built once per process from its environment. */
export class ServiceManager {
  private channel: ServiceChannel | null = null;
  private watchdog: unknown = null;
  private withheld = false;
  private failures = 0;
  private readonly ping: WatchdogSetting;

  constructor(private readonly deps: ServiceManagerDeps) {
    const target = serviceSocketPath(deps.env.NOTIFY_SOCKET);
    this.ping = target ? watchdogSetting(deps.env, deps.pid) : null;
    if (target === null) return;
    if ('error' in target) {
      deps.log.error(target.error);
      return;
    }
    if (this.ping && 'error' in this.ping) deps.log.error(this.ping.error);
    try {
      this.channel = (deps.open ?? openUnixDgram)(target.path);
    } catch (e) {
      deps.log.error({ err: (e as Error).message, socket: target.path }, 'cannot open the systemd notification socket: readiness and watchdog are not reported');
    }
  }

  /** Whether notifications go anywhere (NOTIFY_SOCKET set and the socket opened). */
  get enabled(): boolean {
    return this.channel !== null;
  }

  /** The keep-alive period, when systemd asked for one. */
  get watchdogPingMs(): number | null {
    return this.ping && 'pingMs' in this.ping ? this.ping.pingMs : null;
  }

  ready(status?: string): void {
    this.send(status === undefined ? 'READY=1' : `READY=1\nSTATUS=${oneLine(status)}`);
  }

  status(text: string): void {
    this.send(`STATUS=${oneLine(text)}`);
  }

  /** Before a reload; ready() again after it (accepted or refused, the agent still serves). */
  reloading(): void {
    const usec = (this.deps.monotonicUsec ?? (() => process.hrtime.bigint() / 1000n))();
    this.send(`RELOADING=1\nMONOTONIC_USEC=${usec}`);
  }

  stopping(): void {
    this.send('STOPPING=1');
  }

  /**
   * Sends WATCHDOG=1 every half period while `alive()` holds. A stuck election loop stops
   * the pings and systemd restarts the service (its ExecStopPost releases the VIP first).
   */
  startWatchdog(alive: () => boolean): void {
    const pingMs = this.watchdogPingMs;
    if (!this.channel || pingMs === null || this.watchdog !== null) return;
    const beat = () => {
      if (alive()) {
        if (this.withheld) this.deps.log.warn('election loop turning again: watchdog keep-alives resumed');
        this.withheld = false;
        this.send('WATCHDOG=1');
      } else if (!this.withheld) {
        this.withheld = true;
        this.deps.log.error({ pingMs }, 'election loop stalled: withholding the watchdog keep-alive');
      }
    };
    beat();
    this.watchdog = this.deps.timers.setInterval(beat, pingMs);
  }

  close(): void {
    if (this.watchdog !== null) this.deps.timers.clearInterval(this.watchdog);
    this.watchdog = null;
    this.channel?.close();
    this.channel = null;
  }

  private send(message: string): void {
    if (!this.channel) return;
    try {
      this.channel.send(message);
      if (this.failures > 0) this.deps.log.info({ failed: this.failures }, 'systemd notifications delivered again');
      this.failures = 0;
    } catch (e) {
      // Logged on the first failure of a run, not on every keep-alive.
      if (this.failures++ === 0) this.deps.log.error({ err: (e as Error).message, message: message.split('\n')[0] }, 'systemd notification failed');
    }
  }
}

/** STATUS= is one line; a newline would start another assignment. */
function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ');
}

/** Removes the variables so hooks and tools started later cannot speak to systemd in our name. */
export function takeServiceEnv(env: NodeJS.ProcessEnv): ServiceEnv {
  const out: ServiceEnv = { NOTIFY_SOCKET: env.NOTIFY_SOCKET, WATCHDOG_USEC: env.WATCHDOG_USEC, WATCHDOG_PID: env.WATCHDOG_PID };
  delete env.NOTIFY_SOCKET;
  delete env.WATCHDOG_USEC;
  delete env.WATCHDOG_PID;
  return out;
}
