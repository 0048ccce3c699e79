/**
 * The calling process's neighbour table through the `arp-a` package. arp-a reads
 * /proc/net/arp, which shows the table of the network namespace the process lives in,
 * so run this under `ip netns exec` to see a namespace's view.
 */
import { createRequire } from 'node:module';

export interface ArpEntry {
  ip: string;
  mac: string;
  iface: string;
}

interface ArpA {
  table(cb: (err: Error | null, entry: { ip: string; mac: string; iface?: string } | null) => void): void;
}

// arp-a is CommonJS without types; load it the CommonJS way and type only what we call.
const arpA = createRequire(import.meta.url)('arp-a') as ArpA;

/** All IPv4 entries, incomplete ones included (their MAC reads 00:00:00:00:00:00). */
export function readArpTable(): Promise<ArpEntry[]> {
  return new Promise((resolve, reject) => {
    const out: ArpEntry[] = [];
    arpA.table((err, entry) => {
      if (err) return reject(err);
      if (entry === null) return resolve(out);
      out.push({ ip: entry.ip, mac: entry.mac.toLowerCase(), iface: entry.iface ?? '' });
    });
  });
}

/** The entry for ip with a real MAC, or null (absent or still incomplete). */
export async function lookupArp(ip: string): Promise<ArpEntry | null> {
  const e = (await readArpTable()).find((x) => x.ip === ip);
  return e && e.mac !== '00:00:00:00:00:00' ? e : null;
}
