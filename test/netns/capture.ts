/**
 * tcpdump for the lab, printing one line per packet as it arrives: the generic capture and
 * the ARP capture built on it. The lab hands in how to start a process in the namespace
 * (Lab.spawn, so teardown kills tcpdump by PID); nothing here knows the lab itself.
 */
import type { ArpFrame } from './analyze.js';
import { parseTcpdumpArp } from './analyze.js';
import { within } from './exec.js';
import type { LabProcess, SpawnOptions } from './proc.js';

export interface Capture {
  proc: LabProcess;
  /** raw tcpdump output lines so far. */
  lines: string[];
  /** stops tcpdump (SIGINT, by PID; SIGKILL if it lingers) and returns every line it printed. */
  stop(): Promise<string[]>;
}

export interface ArpCapture {
  proc: LabProcess;
  /** raw tcpdump output lines so far (for reports and debugging). */
  lines: string[];
  /** the ARP frames printed so far, each stamped with the kernel's capture time (epoch ms, microseconds kept). */
  frames(): ArpFrame[];
  /** stops tcpdump (SIGINT, by PID) and returns the ARP frames it printed. */
  stop(): Promise<ArpFrame[]>;
}

export interface CaptureOptions {
  /** default eth0. */
  iface?: string;
  /** tcpdump flags besides -i, -n, -l and --immediate-mode. */
  flags?: readonly string[];
}

type Spawn = (argv: readonly string[], opts: SpawnOptions) => LabProcess;

/** Starts tcpdump with spawn and resolves once it listens; `where` names the namespace in errors. */
export async function startCapture(spawn: Spawn, where: string, filter: string, opts: CaptureOptions = {}): Promise<Capture> {
  const lines: string[] = [];
  let listening: () => void = () => undefined;
  const ready = new Promise<boolean>((resolve) => (listening = () => resolve(true)));
  const argv = ['tcpdump', '-i', opts.iface ?? 'eth0', '-n', '-l', ...(opts.flags ?? []), '--immediate-mode', filter];
  const proc = spawn(argv, {
    onLine: (line, stream) => {
      if (stream === 'stdout') lines.push(line);
      else if (line.includes('listening on')) listening();
    },
  });
  if (!(await within(ready, 5000, false))) {
    proc.kill('SIGKILL');
    throw new Error(`tcpdump in ${where} did not start listening`);
  }
  return {
    proc,
    lines,
    stop: async () => {
      proc.kill('SIGINT');
      if (!(await within(proc.exited, 3000, null))) proc.kill('SIGKILL');
      return lines;
    },
  };
}

/**
 * ARP on eth0. Each frame's time is the kernel's capture stamp (pcap header, wall clock,
 * microseconds), not when tcpdump or the test got round to it: a loaded host cannot make a
 * frame look late.
 */
export async function startArpCapture(spawn: Spawn, where: string): Promise<ArpCapture> {
  const c = await startCapture(spawn, where, 'arp', { flags: ['-e', '-tt', '--time-stamp-precision=micro'] });
  const frames = (): ArpFrame[] => c.lines.map(parseTcpdumpArp).filter((f): f is ArpFrame => f !== null);
  return {
    proc: c.proc,
    lines: c.lines,
    frames,
    stop: async () => {
      await c.stop();
      return frames();
    },
  };
}
