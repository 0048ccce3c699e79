/**
 * Hostile drill, forged ICMP: a host on the segment without the key (the real server r0)
 * sends "port unreachable" errors to the standby d1, quoting d1's heartbeats to the active
 * d0 (icmp-forger.ts). Before, d1 took that for d0's death and took the VIP while d0 still
 * served it. Now an ICMP error is only a hint: d1 probes d0, d0 answers, and nothing moves.
 * Then a real crash (d0's agent and its service SIGKILLed, the kernel up) must still be
 * found through ICMP - an error quoting d1's own heartbeat, or one plus an unanswered probe -
 * not by waiting out the dead time, which is set long here (300 ms) so the two are easy to
 * tell apart.
 * Needs root and `npm run build`.
 */
import t from 'tap';
import { HaagentCluster, haagentAvailable, type HaagentNode } from './agents/haagent.js';
import { inetChecksum, portUnreachable } from './icmp-forger.js';
import { epochNow, sleep, waitFor } from './exec.js';
import { distScript, Lab } from './lab.js';
import { findLog, logOf } from '../fixtures/security/drill.js';
import { fastStatus, groupOf, VipWatch } from '../fixtures/security/watch.js';
import { DEFAULTS } from '../../src/config/defaults.js';

const skip = process.getuid?.() !== 0 ? 'network namespaces need root' : !(await haagentAvailable()) ? 'dist/src/main.js is not available: run `npm run build`' : false;

t.test('the forged error: type 3 code 3 quoting the IPv4 and UDP headers, checksums right', async (t) => {
  const m = portUnreachable({ src: '198.51.100.11', dst: '198.51.100.10', sport: 694, dport: 694 });
  t.equal(m.length, 8 + 20 + 8);
  t.same([m[0], m[1]], [3, 3]);
  t.equal(inetChecksum(m), 0, 'ICMP checksum');
  t.equal(inetChecksum(m.subarray(8, 28)), 0, 'quoted IP header checksum');
  t.same([...m.subarray(20, 28)], [198, 51, 100, 11, 198, 51, 100, 10], 'quoted source and destination');
  t.equal(m.readUInt16BE(28), 694);
  t.equal(m.readUInt16BE(30), 694);
});

async function transitions(nodes: readonly HaagentNode[]): Promise<number[]> {
  return Promise.all(nodes.map(async (n) => groupOf(await fastStatus(n))?.transitions ?? -1));
}

t.test('forged ICMP port unreachable moves nothing; a real crash is still found through ICMP', { skip, timeout: 120_000 }, async (t) => {
  const lab = await Lab.create({ directors: 2, realServers: 1 });
  const cluster = new HaagentCluster(lab, { interval: '20ms', deadTime: '300ms', initDead: '600ms' });
  const [d0, d1] = cluster.nodes as [HaagentNode, HaagentNode];
  const attacker = lab.realServers[0]!;
  let watch: VipWatch | null = null;
  try {
    const responders = await lab.startResponders();
    cluster.startAll();
    const up = await waitFor(async () => groupOf(await fastStatus(d0))?.state === 'active' && groupOf(await fastStatus(d1))?.state === 'standby', 10_000, 50);
    t.ok(up, 'd0 active, d1 standby', { diagnostic: !up, log: d1.logTail() });
    watch = await VipWatch.start(lab);
    const before = await transitions([d0, d1]);
    const attackAt = epochNow();
    const forge = await lab.exec(attacker, [process.execPath, distScript('icmp-forger'), '--to', d1.host.ip, '--quote-src', d1.host.ip, '--quote-dst', d0.host.ip, '--count', '400', '--every', '5'], 30_000);
    t.equal(forge.code, 0, `the forger ran: ${forge.stdout.trim() || forge.stderr.trim()}`);
    await sleep(300);
    t.same(await transitions([d0, d1]), before, 'no transition on d0 or d1');
    t.same(watch.holders(), ['d0'], 'the VIP is on d0 only');
    t.notOk(watch.events.some((e) => e.node === 'd1' && e.present && e.at >= attackAt), 'the VIP never appeared on d1');
    const seen = (await fastStatus(d1))?.peers.find((p) => p.node === 'd0');
    t.ok((seen?.icmpRefuted ?? 0) >= 1, `d1 counts the refuted errors (${seen?.icmpRefuted})`);
    t.ok(findLog(logOf(d1), /answered after an ICMP port unreachable/), 'd1 logged the refutation');

    // The hold on that path ends hintHold after the first refutation; then a real crash.
    await sleep(Math.max(0, attackAt + DEFAULTS.election.hintHold + 500 - epochNow()));
    const killAt = epochNow();
    responders[0]?.kill('SIGKILL'); // d0's service dies with its agent
    await d0.kill();
    const took = await waitFor(async () => groupOf(await fastStatus(d1, 300))?.state === 'active', 5000, 10);
    t.ok(took, 'd1 took over');
    const death = findLog(logOf(d1), /peer d0 dead/);
    // With the addon the kernel keeps the datagram each error quotes: the real one quotes our
    // own heartbeat (verified, dead at once); without it, the probe confirms.
    t.match(death?.msg, /refused our heartbeat|port unreachable and no answer to a probe/, 'found through ICMP, not by the 300 ms dead time');
    const added = await waitFor(async () => watch?.events.find((e) => e.node === 'd1' && e.present && e.at >= killAt) ?? null, 2000, 20);
    t.comment(`crash -> VIP on d1: ${added ? (added.at - killAt).toFixed(1) : '?'} ms (dead time 300 ms); d1: ${death?.msg ?? 'no death logged'}`);
  } finally {
    watch?.stop();
    await cluster.stopAll();
    t.same(await lab.destroy(), { leftNamespaces: [], leftPids: [] }, 'lab torn down');
    cluster.cleanup();
  }
});
