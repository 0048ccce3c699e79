/**
 * keepalived's scripts as haagent's: vrrp_script + track_script become exec health checks,
 * notify / notify_master / notify_backup / notify_fault become notify hooks. Pure.
 *
 * Weights. keepalived adds a positive weight to the priority while the script passes and
 * subtracts a negative one while it fails; weight 0 puts the instance in fault. haagent's
 * weight N lowers the priority by N while the check fails, and `fault` is keepalived's 0. So
 * -N maps to N, and +N to N with the group's base priority raised by N: passing, the node
 * then advertises P+N as under keepalived, failing P.
 *
 * Hooks. haagent runs every hook of a group on every transition, with GROUP FROM TO VIP
 * appended; keepalived runs notify_master only on becoming MASTER, with no arguments, and
 * notify with INSTANCE NAME STATE PRIORITY appended. Each keepalived script is therefore
 * wrapped in a /bin/sh line that reads HAAGENT_TO, runs the script only on the matching
 * transition, and passes it keepalived's arguments (the appended ones land in $0..$3, unused).
 */
import { NAME_RE } from '../config/fields.js';
import { LIMITS } from '../config/limits.js';
import type { KaStatement } from './keepalived-parse.js';
import { clamp, commandOf, formatSeconds, integerArg, secondsArg, shellLine, shellQuote } from './keepalived-values.js';
import type { Report } from './report.js';

export interface ScriptDef {
  name: string;
  line: number;
  /** the script line as keepalived runs it. */
  command: string;
  commandLine: number;
  intervalMs: number;
  /** null: keepalived's default, the interval. */
  timeoutMs: number | null;
  weight: number;
  reverse: boolean;
  rise: number;
  fall: number;
}

/** One vrrp_script block; null when it has no script line. */
export function readScript(s: KaStatement, report: Report): ScriptDef | null {
  const def: ScriptDef = { name: s.args[0] ?? '', line: s.line, command: '', commandLine: s.line, intervalMs: 1000, timeoutMs: null, weight: 0, reverse: false, rise: 1, fall: 1 };
  for (const k of s.block ?? []) {
    if (k.key === 'script') {
      def.command = k.args.join(' ');
      def.commandLine = k.line;
    } else if (k.key === 'interval') def.intervalMs = secondsArg(k, report, 0.001) ?? def.intervalMs;
    else if (k.key === 'timeout') def.timeoutMs = secondsArg(k, report, 0.001);
    else if (k.key === 'rise' || k.key === 'fall') def[k.key] = integerArg(k, report, 1, 2 ** 31 - 1) ?? 1;
    else if (k.key === 'weight') {
      def.weight = integerArg(k, report, -253, 253) ?? 0;
      def.reverse = k.args[1] === 'reverse';
    } else if (k.key === 'user') report.dropped(k.line, `user ${k.args.join(' ')}`, 'checks run as the agent\'s user (haagent under the shipped unit)');
    else if (k.key === 'init_fail') report.differs(k.line, 'init_fail', 'haagent always starts a weight: fault check as not yet passed (the group claims nothing until it has passed rise times), and a weighted one as passing');
    else report.dropped(k.line, k.key, 'no haagent equivalent in a check');
  }
  if (def.command === '') {
    report.error(s.line, `vrrp_script ${def.name}: a script line (script "/path/to/check")`);
    return null;
  }
  return def;
}

/** A name haagent accepts, unique in `taken` (which it joins). */
export function safeName(name: string, taken: Set<string>): string {
  let base = name.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 60) || 'check';
  if (!NAME_RE.test(base)) base = 'check';
  let out = base;
  for (let i = 2; taken.has(out); i++) out = `${base}-${i}`;
  taken.add(out);
  return out;
}

/** What a group's track_script block comes to: its checks and the priority to add. */
export interface Tracked {
  checks: Record<string, unknown>[];
  boost: number;
}

/** How a script becomes a check; `weight` already resolved (entry weight over script weight). */
function checkOf(def: ScriptDef, entry: KaStatement, weight: number, taken: Set<string>, report: Report): Record<string, unknown> | null {
  const command = commandOf(def.command);
  if (command === null) {
    report.error(def.commandLine, `script: got "${def.command}", expected a program and its arguments`);
    return null;
  }
  if (command.differs) report.differs(def.commandLine, `script ${def.command}`, command.differs);
  if (/\b(killall|pidof|pgrep|kill)\b/.test(def.command)) {
    report.differs(def.commandLine, `script ${def.command}`, 'under the shipped unit checks run as user haagent with ProtectProc=invisible: processes of other users cannot be seen or signalled, so this process check would fail and keep the node out of the election; check the service itself (a tcp or http check) instead');
  }
  const limits = LIMITS.health;
  const interval = clamp(def.intervalMs, limits.interval);
  const timeout = clamp(def.timeoutMs ?? def.intervalMs, limits.timeout);
  if (interval !== def.intervalMs) report.differs(def.line, `vrrp_script ${def.name}`, `interval ${formatSeconds(def.intervalMs)} is outside haagent's 100ms..1h: ${formatSeconds(interval)} used`);
  if (timeout !== (def.timeoutMs ?? def.intervalMs)) report.differs(def.line, `vrrp_script ${def.name}`, `timeout is outside haagent's 10ms..10m: ${formatSeconds(timeout)} used`);
  const count = (n: number, what: string) => {
    const max = limits.rise.max;
    if (n > max) report.differs(def.line, `vrrp_script ${def.name}`, `${what} ${n} is above haagent's ${max}: ${max} used`);
    return Math.min(n, max);
  };
  const check: Record<string, unknown> = {
    name: safeName(def.name, taken),
    type: 'exec',
    command: command.argv,
    interval: formatSeconds(interval),
    timeout: formatSeconds(timeout),
    rise: count(def.rise, 'rise'),
    fall: count(def.fall, 'fall'),
    weight: weight === 0 ? 'fault' : Math.abs(weight),
    // keepalived reports a recovery at once; haagent's default hold-down (10s) would delay it.
    holdDown: '0s',
  };
  if (weight > 0) {
    report.differs(entry.line, `track_script ${def.name}`, `keepalived adds weight ${weight} while the script passes; haagent lowers the priority while a check fails, so the group's priority is raised by ${weight} and the check takes ${weight} off while failing (the same priorities either way)`);
  }
  return check;
}

/**
 * An instance's track_script block as checks. `weightsIgnored` names the sync group whose
 * member this instance is: keepalived ignores weighted trackers there.
 */
export function trackScripts(block: KaStatement[], scripts: ReadonlyMap<string, ScriptDef>, weightsIgnored: string | null, report: Report): Tracked {
  const out: Tracked = { checks: [], boost: 0 };
  const taken = new Set<string>();
  for (const entry of block) {
    const def = scripts.get(entry.key);
    if (!def) {
      report.dropped(entry.line, `track_script ${entry.key}`, 'no vrrp_script of that name in this file');
      continue;
    }
    const at = entry.args.indexOf('weight');
    const text = at >= 0 ? entry.args[at + 1] ?? '' : null;
    const weight = text === null ? def.weight : /^-?\d{1,3}$/.test(text) ? Number(text) : NaN;
    if (!(Math.abs(weight) <= 253)) {
      report.error(entry.line, `track_script ${entry.key}: got weight "${text}", expected an integer -253..253`);
      continue;
    }
    if (entry.args.includes('reverse') || (at < 0 && def.reverse)) {
      report.dropped(entry.line, `track_script ${entry.key}`, 'a reversed weight (priority moves when the script passes) has no haagent equivalent');
      continue;
    }
    if (weight !== 0 && weightsIgnored !== null) {
      report.dropped(entry.line, `track_script ${entry.key}`, `keepalived ignores weighted trackers of a sync group member (vrrp_sync_group ${weightsIgnored}), so this one had no effect`);
      continue;
    }
    const check = checkOf(def, entry, weight, taken, report);
    if (check === null) continue;
    out.checks.push(check);
    if (weight > 0) out.boost += weight;
  }
  return out;
}

export const NOTIFY_KEYS = ['notify_master', 'notify_backup', 'notify_fault', 'notify'] as const;
export type NotifyKey = (typeof NOTIFY_KEYS)[number];

const STATE_OF: Record<Exclude<NotifyKey, 'notify'>, [string, string]> = {
  notify_master: ['active', 'MASTER'],
  notify_backup: ['standby', 'BACKUP'],
  notify_fault: ['fault', 'FAULT'],
};

/** One notify line of an instance as a haagent hook (an argv), or null when it names no script. */
export function notifyHook(s: KaStatement & { key: NotifyKey }, instance: string, priority: number, report: Report): string[] | null {
  const body = shellLine(s.args[0] ?? '');
  if (body === null) {
    report.error(s.line, `${s.key}: a script (${s.key} "/path/to/script args")`);
    return null;
  }
  if (s.args.length > 1) report.dropped(s.line, `${s.key} user ${s.args.slice(1).join(' ')}`, 'hooks run as the agent\'s user (haagent under the shipped unit)');
  const common = 'it runs as user haagent with the agent\'s capabilities, not as root (a hook that needs root fails), and script security checks /bin/sh, not the script: keep it where only root can write';
  if (s.key === 'notify') {
    const args = `INSTANCE ${shellQuote(instance)} "$s" ${priority}`;
    report.differs(s.line, s.key, `haagent runs hooks on every transition with GROUP FROM TO VIP appended; it is wrapped in /bin/sh so that it gets keepalived's INSTANCE NAME STATE PRIORITY instead (active, standby, fault as MASTER, BACKUP, FAULT; STOP and DELETED are never sent; PRIORITY is always ${priority}, the priority with every tracker passing, not the current one); ${common}`);
    return ['/bin/sh', '-c', `case "$HAAGENT_TO" in active) s=MASTER;; standby) s=BACKUP;; fault) s=FAULT;; *) exit 0;; esac; ${body} ${args}`];
  }
  const [to, state] = STATE_OF[s.key];
  report.differs(s.line, s.key, `haagent runs hooks on every transition with GROUP FROM TO VIP appended; it is wrapped in /bin/sh so that it runs only on becoming ${to} (keepalived's ${state}) with its own arguments only; ${common}`);
  return ['/bin/sh', '-c', `[ "$HAAGENT_TO" = ${to} ] || exit 0; ${body}`];
}
