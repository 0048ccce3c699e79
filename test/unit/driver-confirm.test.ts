/**
 * The driver performs the core's announcement check probes on the GatewayConfirmer port and
 * feeds the outcome back: silence and a rejected probe re-announce and ask again, an answer
 * confirms; without a confirmer the core asks for none.
 */
import t from 'tap';
import type { GarpConfig, Vip } from '../../src/config/types.js';
import type { ConfirmOutcome } from '../../src/ports/index.js';
import { parse, withLines } from './config-harness.js';
import { advanceBy, rig, settle } from './driver-rig.js';

const GW = '198.51.100.1';
const config = () => parse(withLines(`    confirm: { gateway: ${GW}, attempts: 4 }`));


t.test('silence, then a rejected probe, then an answer: re-announced twice, confirmed on the third round', async (t) => {
  const probes: { vip: Vip; iface: string; gateway: string }[] = [];
  const announced: { reason?: string; garp: GarpConfig }[] = [];
  const outcomes: (ConfirmOutcome | Error)[] = [{ answered: false }, new Error('spawn arping ENOENT'), { answered: true, latency: 0.4 }];
  const { loop, driver } = rig(config(), {
    confirmer: {
      confirm: async (vip, iface, gateway) => {
        probes.push({ vip, iface, gateway });
        const o = outcomes.shift() ?? { answered: true, latency: 0.4 };
        if (o instanceof Error) throw o;
        return o;
      },
    },
    announcer: { announce: async (_v, _i, garp) => (announced.push({ garp }), { sent: 1, errors: [] }), close: () => undefined },
  });
  driver.start();
  await settle();
  await advanceBy(loop, 6000);
  const g = driver.view().groups[0]!;
  t.equal(g.state, 'active', 'alone: active');
  t.equal(probes.length, 3, 'three probes: no more once confirmed');
  t.same(probes[0], { vip: g.cfg.vip, iface: 'eth0', gateway: GW }, "from the group's VIP, on its interface, to the gateway");
  t.match(g.confirm, { state: 'confirmed', attempts: 3, lastLatency: 0.4, lastError: /spawn arping ENOENT/ });
  t.equal(announced.filter((a) => a.garp.form === 'both').length, 3, 'the takeover burst and two re-announcements');
  driver.stop();
});

t.test('no confirmer: no probe, no check shown', async (t) => {
  const { loop, driver } = rig(config());
  driver.start();
  await settle();
  await advanceBy(loop, 3000);
  const g = driver.view().groups[0]!;
  t.equal(g.state, 'active');
  t.equal(g.confirm, null);
  t.equal(g.confirmProbes, 0);
  driver.stop();
});
