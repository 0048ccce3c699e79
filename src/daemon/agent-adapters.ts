/**
 * What the agent checks and picks before it starts, without any agent state: the external
 * tools a configuration needs, and the addon-backed timer and MAC for the election loop
 * (each with its pure-Node fallback when the addon is not built).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/types.js';
import { loadNative } from '../adapters/native.js';
import { loopTimers } from '../adapters/loop-timer.js';
import { nativeMac } from '../adapters/native-mac.js';
import type { DatagramMac } from '../wire/mac.js';
import type { Timers } from './driver.js';

/** A start refused for a reason the operator must fix (exit 69, EX_UNAVAILABLE). */
export class StartError extends Error {
  override name = 'StartError';
}

/** The external tools this configuration needs, missing from PATH. */
export function missingTools(config: Config, pathEnv = process.env.PATH ?? ''): string[] {
  const needed = ['ip'];
  if (config.groups.some((g) => g.vip.family === 4)) needed.push('arping');
  const dirs = pathEnv.split(':').filter(Boolean);
  return needed.filter((tool) => !dirs.some((d) => isExecutable(path.join(d, tool))));
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The election loop's timer: the addon's libuv timer (no stale wake-ups), else setTimeout. */
export function driverTimers(): Timers | undefined {
  const load = loadNative();
  return load.ok ? loopTimers(load.native) : undefined;
}

/** The steady state's MAC: the addon's, else node:crypto (the driver's default). */
export function driverMac(key: Buffer): DatagramMac | undefined {
  const load = loadNative();
  return load.ok ? nativeMac(load.native, key) : undefined;
}
