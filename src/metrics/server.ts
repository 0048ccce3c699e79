/**
 * The HTTP side of the metrics: node:http, one path (GET or HEAD /metrics), nothing else.
 * The listener is opt-in (metrics.listen) and unauthenticated, so it is kept small and
 * bounded: no request body is read, slow clients are cut off, connections are capped.
 */
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

/** A scrape is a few kilobytes; a client that takes longer than this is stuck or hostile. */
const REQUEST_TIMEOUT_MS = 10_000;
/** A Prometheus server or two plus an operator's curl; more is not a scraper. */
const MAX_CONNECTIONS = 16;

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
 */
export function serveMetrics(source: MetricsSource, host: string, port: number, onError: (e: Error) => void = () => undefined): Promise<MetricsServer> {
  const server = createServer((req, res) => void answer(source, req, res));
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.headersTimeout = REQUEST_TIMEOUT_MS;
  server.maxConnections = MAX_CONNECTIONS;
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
