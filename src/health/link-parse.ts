/**
 * Pure parsers for link state as iproute2 prints it. `ip -json monitor` ignores -json
 * (iproute2 6.1, measured), so events come from `ip -o monitor link` text; the initial read
 * uses `ip -json link show dev IF`. Lines as captured in a namespace (veth pair, iproute2 6.1):
 *
 *   2: eth0@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default \    link/ether ...
 *   2: eth0@if2: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue state DOWN ...   (peer down)
 *   2: eth0@if2: <BROADCAST,MULTICAST> mtu 1500 qdisc noqueue state DOWN ...                  (set down)
 *   Deleted 2: eth9@NONE: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN ...
 *
 * "Up" means what keepalived checks (IFF_UP and IFF_RUNNING): administratively up, carrier
 * present (LOWER_UP), and no NO-CARRIER / M-DOWN flag. iproute2 prints NO-CARRIER exactly when
 * IFF_UP is set without IFF_RUNNING, which also covers a dormant link.
 */

export interface LinkEvent {
  ifindex: number;
  /** the name without its "@peer" suffix. */
  iface: string;
  up: boolean;
  /** the link was deleted (a "Deleted" line). */
  deleted: boolean;
}

// Optional "[LINK]" tag (ip monitor all), optional "Deleted ", index, name[@peer], <flags>.
const MONITOR_RE = /^(?:\[[A-Z]+\]\s*)?(Deleted\s+)?(\d+):\s+([^\s:@]+)(?:@[^\s:]*)?:\s+<([^>]*)>/;

/** One line of `ip -o monitor link`, or null for anything else (blank, other objects, garbage). */
export function parseMonitorLine(line: string): LinkEvent | null {
  const m = MONITOR_RE.exec(line.trim());
  if (!m) return null;
  const deleted = m[1] !== undefined;
  const flags = m[4] === '' ? [] : m[4].split(',');
  return { ifindex: Number(m[2]), iface: m[3], deleted, up: !deleted && flagsUp(flags) };
}

/** IFF_UP and carrier, from the flag names iproute2 prints (text and JSON alike). */
export function flagsUp(flags: readonly string[]): boolean {
  return flags.includes('UP') && flags.includes('LOWER_UP') && !flags.includes('NO-CARRIER') && !flags.includes('M-DOWN');
}

/**
 * stdout of `ip -json link show dev IF`: the interface's state and index, or null when the
 * output names no such interface or is not the expected JSON (the caller treats that as down).
 */
export function parseLinkShow(stdout: string, iface: string): { up: boolean; ifindex: number } | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    return null;
  }
  if (!Array.isArray(parsed)) return null;
  for (const entry of parsed as unknown[]) {
    if (typeof entry !== 'object' || entry === null) continue;
    const e = entry as { ifindex?: unknown; ifname?: unknown; flags?: unknown };
    if (e.ifname !== iface || !Array.isArray(e.flags) || typeof e.ifindex !== 'number') continue;
    return { up: flagsUp(e.flags.filter((f): f is string => typeof f === 'string')), ifindex: e.ifindex };
  }
  return null;
}

/**
 * Splits a stream of chunks into lines, keeping the partial last line for the next chunk. A
 * single line longer than maxLine is dropped (no real link line comes close), so a stream
 * without newlines cannot grow the buffer without bound.
 */
export class LineSplitter {
  private rest = '';
  /** inside an over-long line: drop everything up to its newline. */
  private skipping = false;

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly maxLine = 16 * 1024,
  ) {}

  push(chunk: string): void {
    const parts = (this.rest + chunk).split('\n');
    this.rest = parts.pop() ?? '';
    for (const line of parts) {
      if (!this.skipping && line.length <= this.maxLine) this.onLine(line);
      this.skipping = false;
    }
    if (this.rest.length > this.maxLine) {
      this.rest = '';
      this.skipping = true;
    }
  }
}
