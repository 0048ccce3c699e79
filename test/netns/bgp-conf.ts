/**
 * The BIRD 2 configurations of the BGP lab (bgp-lab.ts), as pure functions: the director's
 * (exports the /32s on the VIP device to the router) and the upstream router's (learns them
 * from every director, installs equal routes as one multipath route, BFD toward each
 * director). docs/bgp.md shows the same text; the drill is what tests it.
 */

/** The service range the VIPs come from; only /32s inside it are exported and accepted. */
export const VIP_RANGE = '203.0.113.64/26';
export const ROUTER_AS = 64512;
export const DIRECTOR_AS = 64513;

export interface BfdTiming {
  /** ms between BFD packets, both ways. */
  intervalMs: number;
  multiplier: number;
}

export const LAB_BFD: BfdTiming = { intervalMs: 50, multiplier: 3 };

/** BIRD's `log` target for a file: its name in quotes (the other form is `syslog`). */
export const birdLogFile = (path: string): string => `"${path}"`;

function bfdBlock(iface: string, t: BfdTiming): string {
  return [
    'protocol bfd {',
    `  interface "${iface}" {`,
    `    min rx interval ${t.intervalMs} ms;`,
    `    min tx interval ${t.intervalMs} ms;`,
    `    multiplier ${t.multiplier};`,
    '  };',
    '}',
  ].join('\n');
}

const TIMERS = [
  '  connect delay time 1;',
  '  hold time 3;',
  '  keepalive time 1;',
  '  connect retry time 1;',
  '  error wait time 1, 5;',
];

/**
 * A director: `direct` picks up the addresses of `device` (haagent's VIPs), BGP exports
 * exactly those /32s inside VIP_RANGE and imports nothing.
 */
export function directorBird(o: { routerId: string; neighbor: string; device: string; uplink: string; bfd: BfdTiming | null; log: string }): string {
  return [
    `log ${o.log} all;`,
    `router id ${o.routerId};`,
    'protocol device { scan time 10; }',
    'protocol direct vips {',
    '  ipv4;',
    `  interface "${o.device}";`,
    '}',
    ...(o.bfd ? [bfdBlock(o.uplink, o.bfd)] : []),
    'protocol bgp upstream {',
    `  local as ${DIRECTOR_AS};`,
    `  neighbor ${o.neighbor} as ${ROUTER_AS};`,
    ...TIMERS,
    ...(o.bfd ? ['  bfd on;'] : []),
    '  ipv4 {',
    '    import none;',
    `    export filter { if source = RTS_DEVICE && net ~ [ ${VIP_RANGE}{32,32} ] then accept; reject; };`,
    '  };',
    '}',
    '',
  ].join('\n');
}

/**
 * The upstream router: one eBGP session per director, accepting only /32s inside
 * VIP_RANGE; the kernel protocol merges equal best routes into one multipath route (ECMP).
 */
export function routerBird(o: { routerId: string; neighbors: readonly string[]; uplink: string; bfd: BfdTiming | null; log: string }): string {
  return [
    `log ${o.log} all;`,
    `router id ${o.routerId};`,
    'protocol device { scan time 10; }',
    'protocol kernel {',
    '  ipv4 { import none; export all; };',
    '  merge paths on;',
    '}',
    ...(o.bfd ? [bfdBlock(o.uplink, o.bfd)] : []),
    'template bgp director {',
    `  local as ${ROUTER_AS};`,
    ...TIMERS,
    ...(o.bfd ? ['  bfd on;'] : []),
    '  ipv4 {',
    `    import filter { if net ~ [ ${VIP_RANGE}{32,32} ] then accept; reject; };`,
    '    export none;',
    '  };',
    '}',
    ...o.neighbors.map((n, i) => `protocol bgp d${i} from director { neighbor ${n} as ${DIRECTOR_AS}; }`),
    '',
  ].join('\n');
}
