/**
 * Small pure helpers for the bench's settings: durations as haagent writes them.
 */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60000 };

/** "30ms", "1.5s", "2m" or a bare number of ms -> ms. Throws on anything else. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/.exec(text);
  if (!m) throw new Error(`not a duration: ${JSON.stringify(text)}`);
  return Number(m[1]) * UNIT_MS[m[2] ?? 'ms'];
}

/** ms -> the shortest exact haagent duration text ("1500ms" stays ms, 2000 -> "2s"). */
export function formatMs(ms: number): string {
  return ms % 1000 === 0 && ms >= 1000 ? `${ms / 1000}s` : `${ms}ms`;
}
