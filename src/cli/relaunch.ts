/**
 * The agent's timing must not depend on how it was launched. The installed binary's shebang
 * gives node NODE_FLAGS, but `node dist/src/main.js run` (a hand-written unit, a wrapper, a
 * drill) would not: measured at 10 ms heartbeats, without them the young generation grows
 * to V8's default 32 MB and the agent paused 17-90 ms for garbage collection, against at most
 * ~6 ms after start-up with them (docs/benchmarks.md). So `run` started without them replaces
 * itself, before loading anything else, with the same node, the same script and arguments
 * and the flags added: execve keeps the PID, so systemd's MAINPID, the notification socket's sender
 * check and the watchdog still name the agent.
 *
 * Only `run` relaunches: the other commands live for milliseconds. HAAGENT_RELAUNCHED=1 in
 * the environment marks a relaunched process (and stops a second relaunch if the flags were
 * somehow not visible to it); it is removed once read, so hooks and checks never see it.
 * Flags given through NODE_OPTIONS count as given.
 */
import { errnoCode, loadNative } from '../adapters/native.js';

/**
 * A 1 MB young generation: scavenges stay well under a millisecond and the heap (RSS ~75 MB
 * at 10 ms heartbeats) stays small. WebAssembly is not used, so it is not exposed.
 */
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--no-expose-wasm'];

export const RELAUNCH_GUARD = 'HAAGENT_RELAUNCHED';

export interface ProcessView {
  execPath: string;
  execArgv: readonly string[];
  /** process.argv: node, the script, then the arguments. */
  argv: readonly string[];
  env: Record<string, string | undefined>;
}

export type RelaunchPlan = { relaunch: false; missing: readonly string[]; why: string } | { relaunch: true; argv: string[]; env: string[]; missing: readonly string[] };

/** Options of the top-level parser that take a value: their value is not the command. */
const VALUE_OPTIONS = new Set(['-c', '--config']);

/** The command word of a haagent command line (the first argument that is not an option), if any. */
export function commandOf(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') return args[i + 1];
    if (VALUE_OPTIONS.has(a)) {
      i++;
      continue;
    }
    if (!a.startsWith('-')) return a;
  }
  return undefined;
}

/** What to do for this process: pure, so every case is a unit test. */
export function planRelaunch(p: ProcessView, flags: readonly string[] = NODE_FLAGS): RelaunchPlan {
  const fromEnv = (p.env.NODE_OPTIONS ?? '').split(/\s+/);
  const missing = flags.filter((f) => !p.execArgv.includes(f) && !fromEnv.includes(f));
  if (commandOf(p.argv.slice(2)) !== 'run') return { relaunch: false, missing, why: 'not the run command' };
  if (missing.length === 0) return { relaunch: false, missing, why: 'node flags present' };
  if (p.env[RELAUNCH_GUARD] !== undefined) return { relaunch: false, missing, why: `already relaunched (${RELAUNCH_GUARD} is set)` };
  const env = Object.entries(p.env)
    .filter((e): e is [string, string] => e[1] !== undefined && e[0] !== RELAUNCH_GUARD)
    .map(([k, v]) => `${k}=${v}`);
  env.push(`${RELAUNCH_GUARD}=1`);
  // The added flags come after the caller's own, so that they win over a conflicting one.
  return { relaunch: true, argv: [p.execPath, ...p.execArgv, ...missing, ...p.argv.slice(1)], env, missing };
}

/**
 * Relaunches this process with NODE_FLAGS when it is the agent and lacks them. Returns only
 * when no relaunch was needed or it failed; a failure is a warning on stderr (the agent runs
 * anyway, with longer collection pauses), never a reason not to run.
 */
export function relaunchWithNodeFlags(p: ProcessView = process, stderr: (s: string) => void = (s) => process.stderr.write(s)): void {
  const plan = planRelaunch(p);
  if (!plan.relaunch) {
    // Its work is done (the decision above); hooks and checks need not see it.
    delete p.env[RELAUNCH_GUARD];
    if (plan.missing.length > 0 && commandOf(p.argv.slice(2)) === 'run') {
      stderr(`haagent: warning: running without node flags ${plan.missing.join(' ')} (${plan.why}): garbage-collection pauses can be tens of ms\n`);
    }
    return;
  }
  const loaded = loadNative();
  const fail = (why: string): void => stderr(`haagent: warning: cannot relaunch with node flags ${plan.missing.join(' ')} (${why}): running without them; garbage-collection pauses can be tens of ms\n`);
  if (!loaded.ok) return fail(loaded.reason);
  try {
    loaded.native.execve(p.execPath, plan.argv, plan.env);
  } catch (e) {
    fail(`${errnoCode(e) ?? 'error'}: ${(e as Error).message}`);
  }
}
