/**
 * Faults for drills. Each acts on one lab host or process, inside the lab's namespaces only.
 *
 * Partition: this kernel has no nftables/iptables, so each director gets a permanent
 * neighbour entry mapping every other director's address to an unused MAC. Frames then
 * leave with a destination nobody owns and are dropped silently by the receivers, the
 * way a real partition loses them: no send error and no ICMP for the agent to notice
 * (a blackhole route would make sendto() fail with EINVAL instead). The client is
 * untouched and still reaches every director.
 */
import { run, sleep, type CommandResult } from './exec.js';
import type { Lab, LabHost, LabProcess } from './lab.js';

/** A MAC no lab host uses (locally administered). */
const NOWHERE_MAC = '02:00:00:00:00:fe';

export function kill(proc: LabProcess, sig: 'SIGKILL' | 'SIGTERM'): boolean {
  return proc.kill(sig);
}

/** Freezes the process (SIGSTOP) for ms, then thaws it (SIGCONT); resolves after the thaw. */
export async function hang(proc: LabProcess, ms: number): Promise<void> {
  if (!proc.kill('SIGSTOP')) return;
  try {
    await sleep(ms);
  } finally {
    proc.kill('SIGCONT');
  }
}

/** The host's eth0 (or `dev`: eth1, the lab's backbone) administratively down. */
export function linkDown(host: LabHost, dev = 'eth0'): Promise<CommandResult> {
  return run(['ip', '-n', host.ns, 'link', 'set', dev, 'down']);
}

export function linkUp(host: LabHost, dev = 'eth0'): Promise<CommandResult> {
  return run(['ip', '-n', host.ns, 'link', 'set', dev, 'up']);
}

/** Directors stop hearing each other; client <-> director traffic is unaffected. */
export async function partitionDirectors(lab: Lab): Promise<void> {
  for (const d of lab.directors) {
    for (const other of lab.directors) {
      if (other === d) continue;
      const argv = ['ip', '-n', d.ns, 'neigh', 'replace', other.ip, 'lladdr', NOWHERE_MAC, 'dev', 'eth0', 'nud', 'permanent'];
      const r = await run(argv);
      if (r.code !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr.trim()}`);
    }
  }
}

/** Undoes partitionDirectors: the entries go and ARP learns the real MACs again. */
export async function heal(lab: Lab): Promise<void> {
  for (const d of lab.directors) {
    for (const other of lab.directors) {
      if (other !== d) await run(['ip', '-n', d.ns, 'neigh', 'del', other.ip, 'dev', 'eth0']);
    }
  }
}

export interface NetemSpec {
  lossPct?: number;
  delayMs?: number;
  jitterMs?: number;
}

export type NetemOutcome =
  | { ok: true; scope: 'heartbeat' | 'interface' }
  | { ok: false; error: string };

function netemArgs(spec: NetemSpec): string[] {
  const args = ['netem'];
  if (spec.delayMs) args.push('delay', `${spec.delayMs}ms`, ...(spec.jitterMs ? [`${spec.jitterMs}ms`] : []));
  if (spec.lossPct) args.push('loss', `${spec.lossPct}%`);
  return args;
}

/**
 * Loss/delay on the heartbeat path when the kernel allows it: a prio qdisc whose third
 * band holds netem, and a u32 filter steering UDP to the heartbeat port into that band.
 * Falls back to netem on the whole eth0; reports what it managed, or why it could not
 * (some kernels, like this machine's, ship without sch_netem).
 */
export async function netem(host: LabHost, spec: NetemSpec, heartbeatPort = 694): Promise<NetemOutcome> {
  const tc = (...a: string[]): Promise<CommandResult> => run(['tc', '-n', host.ns, ...a]);
  await clearNetem(host);
  const steps = [
    ['qdisc', 'add', 'dev', 'eth0', 'root', 'handle', '1:', 'prio', 'bands', '3', 'priomap', ...Array(16).fill('1')],
    ['qdisc', 'add', 'dev', 'eth0', 'parent', '1:3', 'handle', '30:', ...netemArgs(spec)],
    ['filter', 'add', 'dev', 'eth0', 'parent', '1:0', 'protocol', 'ip', 'prio', '1', 'u32',
      'match', 'ip', 'protocol', '17', '0xff', 'match', 'ip', 'dport', String(heartbeatPort), '0xffff', 'flowid', '1:3'],
  ];
  let failed: CommandResult | null = null;
  for (const s of steps) {
    const r = await tc(...s);
    if (r.code !== 0) {
      failed = r;
      break;
    }
  }
  if (!failed) return { ok: true, scope: 'heartbeat' };
  await clearNetem(host);
  const whole = await tc('qdisc', 'add', 'dev', 'eth0', 'root', ...netemArgs(spec));
  if (whole.code === 0) return { ok: true, scope: 'interface' };
  return { ok: false, error: `heartbeat path: ${failed.stderr.trim()}; interface: ${whole.stderr.trim()}` };
}

export async function clearNetem(host: LabHost): Promise<void> {
  await run(['tc', '-n', host.ns, 'qdisc', 'del', 'dev', 'eth0', 'root']);
}

/** The root qdisc line(s) of the host's eth0, for checks and reports. */
export async function qdiscs(host: LabHost): Promise<string> {
  return (await run(['tc', '-n', host.ns, 'qdisc', 'show', 'dev', 'eth0'])).stdout;
}

/**
 * A partition at the switch: bridge port isolation on every director's port (isolated ports
 * forward only to non-isolated ones). Unicast, broadcast and multicast between directors are
 * all dropped, so this also partitions agents that advertise by multicast (ucarp), which
 * partitionDirectors' neighbour entries do not; the client still reaches every director.
 */
export async function isolateDirectors(lab: Lab, on = true): Promise<void> {
  for (const d of lab.directors) {
    const argv = ['ip', '-n', lab.switchNs, 'link', 'set', 'dev', `v-${d.name}`, 'type', 'bridge_slave', 'isolated', on ? 'on' : 'off'];
    const r = await run(argv);
    if (r.code !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr.trim()}`);
  }
}
