/**
 * Health checks, ping nodes and link tracking for VIP groups. The pure parts (tracker, effect,
 * summary, parsers) decide; HealthMonitor and LinkMonitor are the thin loops around them; the
 * probes are the effects. docs/health.md describes the configuration and the semantics.
 *
 * Wiring (the daemon's job):
 *   const monitor = new HealthMonitor(groups, { clock, timers: realTimers, probe: createProbe(runner), onChange });
 *   const links = new LinkMonitor(allInterfaces, { runner, timers: realTimers, clock, onLink: (i, up) => monitor.setLink(i, up) });
 *   links.start(); monitor.start();  ...  monitor.stop(); links.stop();
 */
import type { CommandRunner } from '../ports/index.js';
import { execProbe } from './exec.js';
import { httpProbe } from './http.js';
import type { Probe } from './monitor.js';
import { pingProbe } from './ping.js';
import { tcpProbe } from './tcp.js';

export * from './types.js';
export * from './scheduler.js';
export * from './monitor.js';
export * from './link-monitor.js';
export { LineSplitter } from './link-parse.js';
export { httpProbe, type HttpProbeSpec } from './http.js';
export { tcpProbe, type TcpProbeSpec } from './tcp.js';
export { execProbe, type ExecProbeSpec } from './exec.js';
export { pingProbe, pingNodes, pingArgv, type PingProbeSpec, type PingNodesResult } from './ping.js';

/**
 * The real Probe: one function per check type. exec and ping go through a runner (argv, no
 * shell, SIGKILL at the timeout), so they ignore the abort signal and stop at the timeout:
 * ping through `runner` (SpawnRunner: the agent's own helper), exec through `operator`
 * (OperatorRunner in production: an operator's program).
 */
export function createProbe(runner: CommandRunner, operator: CommandRunner = runner): Probe {
  return (spec, signal) => {
    switch (spec.type) {
      case 'http':
        return httpProbe(spec, signal);
      case 'tcp':
        return tcpProbe(spec, signal);
      case 'exec':
        return execProbe(spec, operator);
      case 'ping':
        return pingProbe(spec, runner);
    }
  };
}
