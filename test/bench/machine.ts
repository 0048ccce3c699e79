/**
 * The machine a bench ran on, for the report: cores, CPU, kernel, Node and agent versions.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release } from 'node:os';
import { join } from 'node:path';
import { run } from '../netns/exec.js';
import { REPO_ROOT } from '../netns/lab.js';

async function firstLine(argv: string[]): Promise<string> {
  const r = await run(argv, 5000);
  return (r.stdout + r.stderr).split('\n').find((l) => l.trim())?.trim() ?? '-';
}

async function debVersion(pkg: string): Promise<string> {
  const r = await run(['dpkg-query', '-W', '-f=${Version}', pkg]);
  return r.code === 0 ? r.stdout.trim() : 'not installed';
}

export async function machineInfo(): Promise<string> {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  const lines = [
    `- cores: ${availableParallelism()} (${cpus()[0]?.model ?? '?'})`,
    `- kernel: ${release()}`,
    `- distribution: ${await firstLine(['sh', '-c', '. /etc/os-release && echo "$PRETTY_NAME"'])}`,
    `- node: ${process.version}; haagent ${pkg.version}`,
    `- keepalived: ${await debVersion('keepalived')}; ucarp: ${await debVersion('ucarp')}; heartbeat: ${await debVersion('heartbeat')}; resource-agents: ${await debVersion('resource-agents')}`,
    `- iputils-arping: ${await debVersion('iputils-arping')}; iproute2: ${await debVersion('iproute2')}`,
  ];
  return lines.join('\n');
}

/** The 1/5/15-minute load averages: other work on the machine skews every figure. */
export function loadText(): string {
  return loadavg().map((v) => v.toFixed(2)).join(' / ');
}

export interface CpuSample {
  /** jiffies spent on anything but idle and iowait, summed over all cores. */
  busy: number;
  total: number;
}

/** The aggregate `cpu` line of /proc/stat text: user nice system idle iowait irq softirq steal ... */
export function parseCpuLine(stat: string): CpuSample {
  const line = stat.split('\n').find((l) => /^cpu\s/.test(l));
  if (!line) throw new Error('no aggregate cpu line in /proc/stat');
  const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = f.reduce((a, b) => a + (b || 0), 0);
  return { busy: total - (f[3] || 0) - (f[4] || 0), total };
}

export function cpuSample(): CpuSample {
  return parseCpuLine(readFileSync('/proc/stat', 'utf8'));
}

/** How busy the whole machine was between two samples, in % of all its cores; NaN for no interval. */
export function busyPercent(a: CpuSample, b: CpuSample): number {
  const total = b.total - a.total;
  return total > 0 ? (100 * (b.busy - a.busy)) / total : NaN;
}
