/**
 * Health checks, ping nodes and link tracking for VIP groups. The pure parts (tracker, effect,
 * summary, parsers) decide; HealthMonitor and LinkMonitor are the thin loops around them; the
 * checks (one function per type) are the effects. docs/health.md describes the configuration
 * and the semantics.
 *
 * Wiring (the daemon's job):
 *   const monitor = new HealthMonitor(groups, { clock, timers: realTimers, checker: createChecker(runner), onChange });
 *   const links = new LinkMonitor(allInterfaces, { runner, timers: realTimers, clock, onLink: (i, up) => monitor.setLink(i, up) });
 *   links.start(); monitor.start();  ...  monitor.stop(); links.stop();
 */
import type { CommandRunner } from '../ports/index.js';
import { execCheck } from './exec.js';
import { httpCheck } from './http.js';
import type { Checker } from './monitor.js';
import { pingCheck } from './ping.js';
import { tcpCheck } from './tcp.js';

export * from './types.js';
export * from './scheduler.js';
export * from './monitor.js';
export * from './link-monitor.js';
export { LineSplitter } from './link-parse.js';
export { httpCheck, type HttpCheckParams } from './http.js';
export { tcpCheck, type TcpCheckParams } from './tcp.js';
export { execCheck, type ExecCheckParams } from './exec.js';
export { pingCheck, pingNodes, pingArgv, type PingCheckParams, type PingNodesResult } from './ping.js';

/**
 * The real Checker: one function per check type. exec and ping go through a runner (argv, no
 * shell, SIGKILL at the timeout), so they ignore the abort signal and stop at the timeout:
 * ping through `runner` (SpawnRunner: the agent's own helper), exec through `operator`
 * (OperatorRunner in production: an operator's program).
 */
export function createChecker(runner: CommandRunner, operator: CommandRunner = runner): Checker {
  return (spec, signal) => {
    switch (spec.type) {
      case 'http':
        return httpCheck(spec, signal);
      case 'tcp':
        return tcpCheck(spec, signal);
      case 'exec':
        return execCheck(spec, operator);
      case 'ping':
        return pingCheck(spec, runner);
    }
  };
}
