/**
 * The HTTP side of the metrics: node:http, one path (GET or HEAD /metrics), nothing else.
 * The listener is opt-in (metrics.listen) and unauthenticated, so it is kept small and
 * bounded: no request body is read, connections are capped, and no client holds one for
 * long, whatever it does (each bound below is in DEFAULTS.metricsServer, written in
 * src/config/agent-settings.ts):
 *
 * - connects and sends nothing, or stops sending or reading: `idleMs` without any progress
 *   either way (the socket's inactivity timeout; a write that does not move counts as none);
 * - sends its headers slowly: `headersMs` to send them all (node:http's headersTimeout),
 *   `requestMs` for the whole request; checked every `checkMs` (node's default is 30 s);
 * - reads the answer slowly: `responseMs` from the request to the last byte handed to the
 *   kernel, then the socket is destroyed;
 * - keeps an idle keep-alive connection: `keepAliveMs`;
 * - opens many connections: past `maxConnections` each new one is closed at once, so the
 *   file descriptors it costs stay bounded (plus the transient one of the accept);
 * - sends many or long headers: `maxHeaderBytes`, `maxHeadersCount`.
 *
 * Timers and I/O only: nothing here blocks the event loop, so the heartbeats go on while the
 * slots are held (test/unit/metrics-slow-clients.test.ts measures it).
 */
import { DEFAULTS } from '../config/defaults.js';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MetricsSource {
  text(): Promise<string>;
  readonly contentType: string;
}

export interface MetricsServer {
  /** the port actually bound (the one asked for, or the kernel's pick for 0). */
  port: number;
  close(): Promise<void>;
}

export interface SlowClientLimits {
  idleMs: number;
  headersMs: number;
  requestMs: number;
  checkMs: number;
  responseMs: number;
  keepAliveMs: number;
  maxConnections: number;
  maxHeaderBytes: number;
  maxHeadersCount: number;
}

async function answer(source: MetricsSource, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== '/metrics') {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found: the metrics are at /metrics\n');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
    return;
  }
  let body: string;
  try {
    body = await source.text();
  } catch (e) {
    res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`metrics collection failed: ${e instanceof Error ? e.message : String(e)}\n`);
    return;
  }
  res.writeHead(200, { 'Content-Type': source.contentType, 'Cache-Control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/**
 * Listens on host:port; rejects when the address cannot be bound (EADDRINUSE, EADDRNOTAVAIL).
 * `onError` hears server errors after that (the agent logs them; the next scrape retries).
 * `limits` replaces some of DEFAULTS.metricsServer (tests).
 */
export function serveMetrics(
  source: MetricsSource,
  host: string,
  port: number,
  onError: (e: Error) => void = () => undefined,
  limits: Partial<SlowClientLimits> = {},
): Promise<MetricsServer> {
  const l: SlowClientLimits = { ...DEFAULTS.metricsServer, ...limits };
  const server = createServer(
    {
      headersTimeout: l.headersMs,
      requestTimeout: l.requestMs,
      keepAliveTimeout: l.keepAliveMs,
      connectionsCheckingInterval: l.checkMs,
      maxHeaderSize: l.maxHeaderBytes,
    },
    (req, res) => {
      // The answer must be out within responseMs, or the connection goes (a slow reader).
      const deadline = setTimeout(() => req.socket.destroy(), l.responseMs);
      deadline.unref();
      res.once('close', () => clearTimeout(deadline));
      void answer(source, req, res);
    },
  );
  // Inactivity (no byte in or out, including a stalled write): with no 'timeout' listener
  // node:http destroys the socket.
  server.timeout = l.idleMs;
  server.maxConnections = l.maxConnections;
  server.maxHeadersCount = l.maxHeadersCount;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', reject);
      // A later error (a failed accept) must not crash the agent: report it, keep serving.
      server.on('error', onError);
      const bound = (server.address() as AddressInfo).port;
      resolve({
        port: bound,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            // Idle keep-alive connections of a scraper would otherwise hold close() open.
            server.closeAllConnections();
          }),
      });
    });
  });
}
