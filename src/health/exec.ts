/**
 * Exec check, as keepalived's track_script: run argv (never through a shell), exit 0 = success.
 * The CommandRunner (OperatorRunner in production: minimal environment, script security, its
 * own process group) SIGKILLs the command and all it started at the timeout, so a hung script
 * can never pile up; its stderr becomes the failure detail.
 */
import { performance } from 'node:perf_hooks';
import { describeResult } from '../adapters/runner.js';
import type { CommandRunner } from '../ports/index.js';
import type { CheckResult, ExecCheckSpec } from './types.js';

export type ExecCheckParams = Pick<ExecCheckSpec, 'command' | 'timeout'>;

export async function execCheck(spec: ExecCheckParams, runner: CommandRunner): Promise<CheckResult> {
  const started = performance.now();
  if (spec.command.length === 0) return { ok: false, detail: 'empty command', ms: 0 };
  const r = await runner.run(spec.command, spec.timeout);
  const ms = Math.round(performance.now() - started);
  if (r.code === 0 && !r.timedOut) return { ok: true, detail: 'exit 0', ms };
  // The first line of stderr is what a check script prints as its reason.
  return { ok: false, detail: firstLine(describeResult(spec.command, r)), ms };
}

function firstLine(text: string): string {
  const line = text.split('\n', 1)[0];
  return line.length > 200 ? `${line.slice(0, 200)}...` : line;
}
