/**
 * TCP connect check, as BalanceNG's: the port accepts a connection. The socket is destroyed the
 * moment it connects (nothing is sent), so the service sees a connect and a reset-free close
 * at worst. Never rejects; bounded by its own timer and the caller's signal.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { errorText } from '../adapters/bounded-buffer.js';
import type { CheckResult, TcpCheckSpec } from './types.js';

export type TcpCheckParams = Pick<TcpCheckSpec, 'host' | 'port' | 'timeout'>;

export function tcpCheck(spec: TcpCheckParams, signal?: AbortSignal): Promise<CheckResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    let socket: net.Socket | undefined;
    const done = (ok: boolean, detail: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket?.destroy();
      resolve({ ok, detail, ms: Math.round(performance.now() - started) });
    };
    const onAbort = (): void => done(false, 'aborted');
    const timer = setTimeout(() => done(false, `timed out after ${spec.timeout} ms`), spec.timeout);
    if (signal?.aborted) {
      done(false, 'aborted');
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      socket = net.connect({ host: spec.host, port: spec.port });
    } catch (err) {
      // Synchronous throws are argument errors (a port out of range).
      done(false, errorText(err));
      return;
    }
    socket.once('connect', () => done(true, `connected to ${spec.host}:${spec.port}`));
    socket.on('error', (err) => done(false, errorText(err)));
  });
}
