/**
 * Resident memory and CPU time of an agent's processes, from /proc: VmRSS of
 * /proc/PID/status and utime+stime (+ cutime+cstime: scripts and helpers it ran and reaped)
 * of /proc/PID/stat, summed over the agent's process tree. Parsing is pure and tested.
 */
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

export interface ProcSample {
  rssKb: number;
  /** clock ticks of CPU used by the process and its reaped children. */
  ticks: number;
}

/** VmRSS in kB from /proc/PID/status text; 0 when absent (kernel threads, zombies). */
export function parseRssKb(status: string): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return m ? Number(m[1]) : 0;
}

/** utime+stime+cutime+cstime (fields 14-17) from /proc/PID/stat text. */
export function parseTicks(stat: string): number {
  // comm (field 2) may hold spaces and parens: count from after its closing paren (field 3).
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [11, 12, 13, 14].reduce((sum, i) => sum + (Number(rest[i]) || 0), 0);
}

/** One process; null when it is gone. */
export function sampleProc(pid: number): ProcSample | null {
  try {
    return {
      rssKb: parseRssKb(readFileSync(`/proc/${pid}/status`, 'utf8')),
      ticks: parseTicks(readFileSync(`/proc/${pid}/stat`, 'utf8')),
    };
  } catch {
    return null;
  }
}

export function sampleAll(pids: readonly number[]): ProcSample {
  let rssKb = 0;
  let ticks = 0;
  for (const pid of pids) {
    const s = sampleProc(pid);
    if (s) {
      rssKb += s.rssKb;
      ticks += s.ticks;
    }
  }
  return { rssKb, ticks };
}

/** sysconf(_SC_CLK_TCK), via getconf (100 on Linux almost everywhere); called rarely. */
export function ticksPerSecond(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

/** CPU use in percent of one core between two samples taken `seconds` apart. */
export function cpuPercent(before: ProcSample, after: ProcSample, seconds: number, hz = ticksPerSecond()): number {
  if (seconds <= 0) return NaN;
  return (Math.max(0, after.ticks - before.ticks) / hz / seconds) * 100;
}
