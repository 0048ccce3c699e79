/** What the LevIP rotation (rotation.ts) is given: timers, the interface sysctls, the announcer, a log. */
import type { Millis } from '../config/types.js';
import type { NodeId } from '../core/types.js';
import type { Announcer, Timers } from '../ports/index.js';

/** LevIP's timers: the one timer port (src/ports/index.ts). */
export type LevipTimers = Timers;

/** The interface sysctls (host.ts LevipHost fits): suppress once, then the owner's switch. */
export interface LevipHostPort {
  prepare(iface: string): Promise<{ done: string[]; warnings: string[] }>;
  answer(iface: string, on: boolean): Promise<void>;
}

export interface RotationLog {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface LevipRotationDeps {
  node: NodeId;
  /** wall-clock ms (Date.now in production): slots are defined on the shared epoch. */
  wallClock: () => Millis;
  timers: LevipTimers;
  announcer: Announcer;
  host: LevipHostPort;
  log: RotationLog;
}
