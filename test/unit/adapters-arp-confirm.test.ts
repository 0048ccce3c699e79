/**
 * The announcement check's probe over arping (src/adapters/arp-confirm.ts): the command line,
 * what counts as the gateway's answer, and the exits that are errors, not silence.
 */
import t from 'tap';
import { ArpingConfirmer, gatewayReply } from '../../src/adapters/arp-confirm.js';
import type { CommandResult } from '../../src/ports/index.js';

const VIP = { address: '198.51.100.100', prefix: 32, family: 4 as const };
const GW = '198.51.100.1';

// iputils arping 20221126 (Debian 12), as run by the drill.
const ANSWERED = `ARPING ${GW} from ${VIP.address} eth0
Unicast reply from ${GW} [02:00:00:00:AA:01]  0.531ms
Sent 1 probes (1 broadcast(s))
Received 1 response(s)
`;
const SILENT = `ARPING ${GW} from ${VIP.address} eth0
Sent 1 probes (1 broadcast(s))
Received 0 response(s)
`;

function confirmer(result: Partial<CommandResult>) {
  const calls: { argv: readonly string[]; timeout: number }[] = [];
  const runner = {
    run: async (argv: readonly string[], timeout: number): Promise<CommandResult> => {
      calls.push({ argv, timeout });
      return { code: 0, signal: null, stdout: '', stderr: '', timedOut: false, ...result };
    },
  };
  return { c: new ArpingConfirmer(runner, { arpingPath: 'arping', runTimeout: 2500 }), calls };
}

t.test('gatewayReply: the first unicast reply from the gateway, with its time', async (t) => {
  t.equal(gatewayReply(ANSWERED, GW), 0.531);
  t.equal(gatewayReply(SILENT, GW), null);
  t.equal(gatewayReply(ANSWERED, '198.51.100.2'), null, 'a reply from another address is not the gateway');
  t.equal(gatewayReply(ANSWERED.replace('Unicast', 'Broadcast'), GW), null, 'a broadcast reply did not come to our MAC');
});

t.test('one request from the VIP to the gateway, bounded; exit 0 with the reply is an answer', async (t) => {
  const { c, calls } = confirmer({ code: 0, stdout: ANSWERED });
  t.same(await c.confirm(VIP, 'eth0', GW), { answered: true, latency: 0.531 });
  t.same(calls[0]?.argv, ['arping', '-c', '1', '-w', '1', '-s', VIP.address, '-I', 'eth0', GW]);
  t.equal(calls[0]?.timeout, 2500);
});

t.test('exit 1 is silence; exit 2, a kill or a missing binary is an error with what it said', async (t) => {
  t.same(await confirmer({ code: 1, stdout: SILENT }).c.confirm(VIP, 'eth0', GW), { answered: false });
  const bad = await confirmer({ code: 2, stderr: 'arping: bind: Cannot assign requested address' }).c.confirm(VIP, 'eth0', GW);
  t.equal(bad.answered, false);
  t.match(bad.error, /exit 2: arping: bind: Cannot assign requested address/);
  t.match((await confirmer({ code: -1, signal: 'SIGKILL', timedOut: true }).c.confirm(VIP, 'eth0', GW)).error, /timed out/);
  t.match((await confirmer({ code: -1, stderr: 'spawn arping ENOENT' }).c.confirm(VIP, 'eth0', GW)).error, /could not start/);
  t.match(await confirmer({}).c.confirm({ address: '2001:db8::100', prefix: 128, family: 6 }, 'eth0', GW), { answered: false, error: /IPv4 only/ });
});
