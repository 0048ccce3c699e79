import { pino, type Logger, type DestinationStream } from 'pino';
import type { LogLevel } from './config/types.js';

export type { Logger };

/**
 * The one pino factory. Stable keys: `group`, `peer`, `from`, `to`, `reason`. The shared key
 * is never passed to a logger. The destination is injectable so tests can capture lines.
 */
export function createLogger(level: LogLevel | 'silent', node: string, dest?: DestinationStream): Logger {
  const opts = { level, base: { node }, timestamp: pino.stdTimeFunctions.isoTime };
  return dest ? pino(opts, dest) : pino(opts, pino.destination({ fd: 2, sync: true }));
}
