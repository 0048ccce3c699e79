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
