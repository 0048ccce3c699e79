/**
 * Heartbeat 3.0.6 (Debian's, "R1" style: haresources, no Pacemaker) on the lab's directors,
 * for the side-by-side bench.
 *
 * Heartbeat reads /etc/ha.d, keeps state under /var/lib/heartbeat and /run, and names itself
 * after `uname -n`. Each node therefore runs under `unshare --mount --uts` (plus the PID
 * namespace of common.ts) with private bind mounts over those three directories and its own
 * hostname; the host's files stay untouched. It daemonizes, so the namespace's init is a
 * small shell that sets things up, starts heartbeat and then sleeps; a planned stop sends
 * SIGTERM to heartbeat's "master control process" (Heartbeat's own graceful path: it hands
 * its resources over, then exits), never to the wrapper.
 *
 * The VIP is an IPaddr2 resource (resource-agents), with auto_failback on so the preferred
 * node takes it back, as the other cells do. Heartbeat refuses a deadtime not above twice the
 * keepalive.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VIP_CIDR, type Lab, type LabHost } from '../lab.js';
import { type AgentCluster, cmdlineOf, processTree, WrappedDaemon } from './common.js';

export interface HeartbeatOptions {
  /** Heartbeat time syntax: "1" (seconds) or "10ms". */
  keepalive: string;
  deadtime: string;
  warntime?: string;
  initdead?: string;
  /** deadtime in ms, for the harness's waits. */
  deadMs: number;
  /** `ucast eth0 ADDR` targets by director index (default: the other directors); a lossy path's relay addresses. */
  peers?: string[][];
}

export const HEARTBEAT_BIN = '/usr/libexec/heartbeat/heartbeat';

export function haCf(lab: Lab, i: number, dir: string, o: HeartbeatOptions): string {
  const me = lab.directors[i];
  const lines = [
    `logfile ${join(dir, 'ha.log')}`,
    'use_logd no',
    `keepalive ${o.keepalive}`,
    `deadtime ${o.deadtime}`,
    ...(o.warntime ? [`warntime ${o.warntime}`] : []),
    ...(o.initdead ? [`initdead ${o.initdead}`] : []),
    'udpport 694',
    ...(o.peers?.[i] ?? lab.directors.filter((d) => d !== me).map((d) => d.ip)).map((ip) => `ucast eth0 ${ip}`),
    'auto_failback on',
    ...lab.directors.map((d) => `node ${d.name}`),
    'crm no',
    '',
  ];
  return lines.join('\n');
}

class HeartbeatNode extends WrappedDaemon {
  constructor(lab: Lab, host: LabHost, private readonly dir: string) {
    super(lab, host, join(dir, 'wrapper.log'));
  }

  get haLog(): string {
    return join(this.dir, 'ha.log');
  }

  protected override unshareFlags(): string[] {
    return ['--mount', '--uts'];
  }

  protected command(): string[] {
    return ['sh', join(this.dir, 'start.sh')];
  }

  protected override prepare(): void {
    rmSync(join(this.dir, 'run', 'heartbeat.pid'), { force: true });
  }

  /** heartbeat's master control process (it renames itself in its cmdline). */
  protected override mainPid(): number | null {
    if (!this.proc) return null;
    return processTree(this.proc.pid).find((p) => cmdlineOf(p).startsWith('heartbeat: master control')) ?? null;
  }

  /** Heartbeat logs to its own file (ha.cf logfile); the wrapper's output is only set-up noise. */
  override logTail(lines = 20): string {
    try {
      return readFileSync(this.haLog, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return super.logTail(lines);
    }
  }

  /** Writes the private /etc/ha.d, /run and /var/lib/heartbeat and the start script. */
  static layout(lab: Lab, i: number, dir: string, key: string, o: HeartbeatOptions): void {
    const had = join(dir, 'had');
    cpSync('/etc/ha.d', had, { recursive: true });
    writeFileSync(join(had, 'ha.cf'), haCf(lab, i, dir, o), { mode: 0o644 });
    writeFileSync(join(had, 'authkeys'), `auth 1\n1 sha1 ${key}\n`, { mode: 0o600 });
    // haresources: the preferred node, then the resource; IPaddr2::ip/len/dev.
    writeFileSync(join(had, 'haresources'), `${lab.directors[0].name} IPaddr2::${VIP_CIDR}/eth0\n`, { mode: 0o644 });
    cpSync('/var/lib/heartbeat', join(dir, 'varlib'), { recursive: true });
    for (const sub of ['run/heartbeat/rsctmp', 'run/resource-agents']) mkdirSync(join(dir, sub), { recursive: true });
    const me = lab.directors[i];
    const script = [
      'set -e',
      `hostname ${me.name}`,
      `mount --bind ${had} /etc/ha.d`,
      `mount --bind ${join(dir, 'run')} /run`,
      `mount --bind ${join(dir, 'varlib')} /var/lib/heartbeat`,
      `${HEARTBEAT_BIN} </dev/null`,
      // heartbeat forked into the background; this shell stays as the namespace's init.
      'exec sleep infinity',
      '',
    ].join('\n');
    writeFileSync(join(dir, 'start.sh'), script, { mode: 0o700 });
  }
}

export class HeartbeatCluster implements AgentCluster {
  readonly kind = 'heartbeat';
  readonly dir: string;
  readonly nodes: HeartbeatNode[];
  readonly detectMs: number;
  readonly settings: string;

  constructor(lab: Lab, readonly opts: HeartbeatOptions) {
    this.dir = mkdtempSync(join(tmpdir(), 'hatheartbeat-'));
    const key = randomBytes(16).toString('hex');
    this.nodes = lab.directors.map((d, i) => {
      const dir = join(this.dir, d.name);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      HeartbeatNode.layout(lab, i, dir, key, opts);
      return new HeartbeatNode(lab, d, dir);
    });
    this.detectMs = opts.deadMs;
    const extra = [opts.warntime && `warntime ${opts.warntime}`, opts.initdead && `initdead ${opts.initdead}`].filter(Boolean).join(', ');
    this.settings = `keepalive ${opts.keepalive}, deadtime ${opts.deadtime}${extra ? ', ' + extra : ''}, ucast, auto_failback on, IPaddr2 (send_arp -i 200 -r 5)`;
  }

  async startAll(): Promise<void> {
    for (const n of this.nodes) await n.start();
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop(15000).catch(() => n.kill())));
  }

  cleanup(): void {
    if (!process.env.HAAGENT_LAB_KEEP) rmSync(this.dir, { recursive: true, force: true });
  }
}
