/**
 * haagent behind the bench's AgentNode/AgentCluster interface, wrapping the lab author's
 * HaagentNode/HaagentCluster (test/netns/agents/haagent.ts). haagent does not fork a
 * daemon, so the spawned PID (ip netns exec execs node) is the agent itself.
 */
import { processTree, type AgentCluster, type AgentNode } from '../netns/agents/common.js';
import { HaagentCluster, type HaagentNode, type HaagentOptions } from '../netns/agents/haagent.js';
import type { CommandResult } from '../netns/exec.js';
import type { Lab } from '../netns/lab.js';
import { parseDuration } from './settings.js';

class HaagentAgentNode implements AgentNode {
  constructor(readonly inner: HaagentNode) {}

  get name(): string {
    return this.inner.name;
  }

  get host() {
    return this.inner.host;
  }

  start(): Promise<void> {
    this.inner.start();
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    if (this.inner.proc?.alive() && (await this.inner.stop()) === null) await this.inner.kill();
  }

  async kill(): Promise<void> {
    if (this.inner.proc?.alive()) await this.inner.kill();
  }

  freeze(): void {
    this.inner.proc?.kill('SIGSTOP');
  }

  thaw(): void {
    this.inner.proc?.kill('SIGCONT');
  }

  /** `haagent release`: what the unit's ExecStopPost runs, after a crash too. */
  cleanup(): Promise<CommandResult> {
    return this.inner.release();
  }

  alive(): boolean {
    return this.inner.proc?.alive() ?? false;
  }

  /**
   * The agent and every process it runs: `ip monitor` (link tracking), `ip -batch` (VIP
   * changes) and any arping or hook in flight. (`ip netns exec` execs node: no wrapper here.)
   */
  pids(): number[] {
    const p = this.inner.proc;
    return p?.alive() ? processTree(p.pid) : [];
  }

  vipPresent(): Promise<boolean> {
    return this.inner.vipPresent();
  }

  logTail(lines?: number): string {
    return this.inner.logTail(lines);
  }
}

export class HaagentAgentCluster implements AgentCluster {
  readonly kind = 'haagent';
  readonly inner: HaagentCluster;
  readonly nodes: HaagentAgentNode[];
  readonly detectMs: number;
  readonly settings: string;

  constructor(lab: Lab, opts: HaagentOptions) {
    this.inner = new HaagentCluster(lab, opts);
    this.nodes = this.inner.nodes.map((n) => new HaagentAgentNode(n));
    this.detectMs = parseDuration(opts.deadTime ?? '150ms');
    const g = { count: 3, spacing: '20ms', ...opts.garp };
    this.settings = `interval ${opts.interval ?? '50ms'}, deadTime ${opts.deadTime ?? '150ms'}, initDead ${opts.initDead ?? '300ms'}, ` +
      `priority 150/100, preempt ${opts.preempt ?? true}, garp ${g.count} x ${g.spacing} (both forms)`;
  }

  startAll(): Promise<void> {
    this.inner.startAll();
    return Promise.resolve();
  }

  stopAll(): Promise<void> {
    return this.inner.stopAll();
  }

  cleanup(): void {
    this.inner.cleanup();
  }
}
