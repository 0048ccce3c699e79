/**
 * The announcement check's probe over iputils arping (the GatewayConfirmer port): one ARP
 * request for the gateway's address, sent with the VIP as sender address (`-s VIP`) and the
 * interface's MAC as sender hardware address, answers collected for one second. The request
 * itself makes a Linux gateway create or update its entry for the VIP (it is addressed to
 * the gateway); a unicast reply from the gateway's address, which comes to our MAC, is the
 * confirmation. Exit codes: 0 when an answer came, 1 when none did; anything else (2: the
 * VIP is not on the interface, a bad interface, a missing binary, a kill at the bound) is an
 * error and says nothing about the gateway.
 */
import type { Millis, Vip } from '../config/types.js';
import type { CommandRunner, ConfirmOutcome, GatewayConfirmer } from '../ports/index.js';
import { arpingReplyLines } from './arp-detect.js';
import { describeResult } from './runner.js';

export interface ArpingConfirmerOptions {
  arpingPath: string;
  /** bound of one run: the one-second deadline plus room for a loaded host. */
  runTimeout: Millis;
}

/** The latency (ms) of the first unicast reply from `gateway` in arping's output; null: none. */
export function gatewayReply(stdout: string, gateway: string): number | null {
  const reply = arpingReplyLines(stdout).find((r) => r.unicast && r.ip === gateway && r.ms !== null);
  return reply?.ms ?? null;
}

export class ArpingConfirmer implements GatewayConfirmer {
  constructor(
    private readonly runner: CommandRunner,
    private readonly opts: ArpingConfirmerOptions,
  ) {}

  async confirm(vip: Vip, iface: string, gateway: string): Promise<ConfirmOutcome> {
    if (vip.family !== 4) return { answered: false, error: 'the announcement check speaks ARP: IPv4 only' };
    const argv = [this.opts.arpingPath, '-c', '1', '-w', '1', '-s', vip.address, '-I', iface, gateway];
    const r = await this.runner.run(argv, this.opts.runTimeout);
    if (!r.timedOut && (r.code === 0 || r.code === 1)) {
      const latency = gatewayReply(r.stdout, gateway);
      return latency === null ? { answered: false } : { answered: true, latency };
    }
    return { answered: false, error: describeResult(argv, r) };
  }
}
