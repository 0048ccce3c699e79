import { pino, type Logger, type DestinationStream } from 'pino';
import type { LogLevel } from './config/types.js';
import { safeJson } from './printable.js';

export type { Logger };

/**
 * The one pino factory. Stable keys: `group`, `peer`, `from`, `to`, `reason`. The shared key
 * is never passed to a logger. The destination is injectable so tests can capture lines.
 * Every line goes out through safeJson(): peer and group names (in fields and in messages)
 * come from the network, and pino escapes only what JSON must.
 */
export function createLogger(level: LogLevel | 'silent', node: string, dest?: DestinationStream): Logger {
  const opts = { level, base: { node }, timestamp: pino.stdTimeFunctions.isoTime };
  const out = dest ?? pino.destination({ fd: 2, sync: true });
  return pino(opts, { write: (line: string) => out.write(safeJson(line)) });
}
