/**
 * ICMP echo check through iputils `ping` (Debian package iputils-ping), as Heartbeat's ping
 * nodes. A setuid-free ping needs CAP_NET_RAW (file capability on Debian) or
 * net.ipv4.ping_group_range; the haagent unit already grants CAP_NET_RAW.
 *
 * Exit codes (iputils): 0 = a reply came, 1 = no reply, 2 = any other error (unknown host, no
 * route, bad option). Older iputils take -W in whole seconds only, so -W is rounded up and the
 * runner's own timeout (SIGKILL) is what really bounds the run.
 */
import { performance } from 'node:perf_hooks';
import { describeResult } from '../adapters/runner.js';
import type { CommandRunner } from '../ports/index.js';
import type { CheckResult, Millis, PingCheckSpec } from './types.js';

export type PingCheckParams = Pick<PingCheckSpec, 'host' | 'timeout'>;

/** The argv for one echo; `--` keeps a host name starting with "-" from being read as an option. */
export function pingArgv(host: string, timeout: Millis): string[] {
  const seconds = Math.max(1, Math.ceil(timeout / 1000));
  return ['ping', '-c', '1', '-W', String(seconds), '-n', '--', host];
}

const RTT_RE = /time[=<]([\d.]+) ?ms/;

export async function pingCheck(spec: PingCheckParams, runner: CommandRunner): Promise<CheckResult> {
  const started = performance.now();
  const argv = pingArgv(spec.host, spec.timeout);
  const r = await runner.run(argv, spec.timeout);
  const ms = Math.round(performance.now() - started);
  if (r.code === 0 && !r.timedOut) {
    const rtt = RTT_RE.exec(r.stdout);
    return { ok: true, detail: rtt ? `reply from ${spec.host} in ${rtt[1]} ms` : `reply from ${spec.host}`, ms };
  }
  if (r.timedOut) return { ok: false, detail: `no reply from ${spec.host} within ${spec.timeout} ms`, ms };
  if (r.code === 1) return { ok: false, detail: `no reply from ${spec.host}`, ms };
  // 2 (unknown host, no route) or -1 (ping not installed): say which, from stderr.
  return { ok: false, detail: describeResult(argv, r).split('\n', 1)[0], ms };
}

export interface PingNodesResult {
  /** how many hosts answered. */
  reachable: number;
  results: { host: string; result: CheckResult }[];
}

/**
 * One echo to every ping node at once (the slowest bounds the whole call), for a one-shot
 * uplink count; HealthMonitor tracks ping nodes continuously with rise/fall instead.
 */
export async function pingNodes(hosts: readonly string[], timeout: Millis, runner: CommandRunner): Promise<PingNodesResult> {
  const results = await Promise.all(
    hosts.map(async (host) => ({ host, result: await pingCheck({ host, timeout }, runner) })),
  );
  return { reachable: results.filter((r) => r.result.ok).length, results };
}
