/**
 * Durations as written in the configuration: "100ms", "2s", "1.5s", "1m", "1h", "0s". A number
 * without a unit is refused, 0 alone excepted (it is 0 in every unit): keepalived reads
 * `preempt_delay 300` as seconds and Heartbeat reads `deadtime 30` as seconds, so a bare 300
 * carried over from either would silently be 300 ms here. Pure; never throws.
 *
 * Everything downstream works in whole milliseconds (Millis), so a value that does not land
 * on a whole millisecond ("0.5ms", "1.0001s") is refused rather than silently rounded: a
 * rounded timer is a timer the operator did not ask for.
 */
import type { Millis } from './types.js';

export type DurationResult = { ok: true; ms: Millis } | { ok: false; error: string };

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

// digits, an optional fraction, then an optional unit; no sign, no spaces, no exponent.
const DURATION_RE = /^(\d+)(?:\.(\d+))?(ms|s|m|h)?$/;

const EXPECTED = 'a duration with its unit, such as "100ms", "2s", "1.5s", "1m"';

/** The hint for a number written without a unit ("300" -> add a unit: 300ms or 300s). */
export function addUnit(n: string): string {
  return `add a unit: ${n}ms or ${n}s`;
}

/** Parses one duration; a number needs its unit (0 alone excepted). */
export function parseDuration(input: unknown): DurationResult {
  if (typeof input === 'number') {
    if (input === 0) return { ok: true, ms: 0 };
    return { ok: false, error: Number.isSafeInteger(input) && input > 0 ? addUnit(String(input)) : EXPECTED };
  }
  if (typeof input !== 'string') return { ok: false, error: EXPECTED };
  const m = DURATION_RE.exec(input);
  if (!m) return { ok: false, error: EXPECTED };
  const [, whole, frac = '', unit] = m;
  if (unit === undefined) return Number(`${whole}${frac}`) === 0 ? { ok: true, ms: 0 } : { ok: false, error: addUnit(input) };
  // Integer arithmetic on the decimal digits, so "1.1s" is exactly 1100 and not 1100.0000000000002.
  const digits = `${whole}${frac}`;
  if (digits.length > 15) return { ok: false, error: `${EXPECTED}; this one is too long` };
  const scaled = Number(digits) * UNIT_MS[unit]!;
  const divisor = 10 ** frac.length;
  if (scaled % divisor !== 0) return { ok: false, error: `${EXPECTED}; it must come to whole milliseconds` };
  const ms = scaled / divisor;
  if (!Number.isSafeInteger(ms)) return { ok: false, error: `${EXPECTED}; this one is too long` };
  return { ok: true, ms };
}

/**
 * Formats milliseconds back into the largest unit that represents them exactly, so that
 * `parseDuration(formatDuration(ms))` gives `ms` back: 0 -> "0s", 1500 -> "1500ms",
 * 2000 -> "2s", 60000 -> "1m".
 */
export function formatDuration(ms: Millis): string {
  if (ms === 0) return '0s';
  for (const unit of ['h', 'm', 's'] as const) {
    const size = UNIT_MS[unit];
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
