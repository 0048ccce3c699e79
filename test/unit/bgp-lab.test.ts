/**
 * The BGP lab's pure parts: the flow analysis (bgp-analyze.ts) on made-up records, and the
 * daemon configurations of docs/bgp.md, which must be the very text the drills run.
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import type { ProbeReply } from '../../test/netns/analyze.js';
import { answeredByAfter, firstElsewhere, flowSpread, formatShare, lastAnsweredBy, lastLoss } from '../../test/netns/bgp-analyze.js';
import { directorBird, LAB_BFD, routerBird } from '../../test/netns/bgp-conf.js';
import { frrBfdd, frrDirectorBgpd, frrRouterBgpd } from '../../test/netns/bgp-frr.js';
import type { FlowResult } from '../../test/netns/flows.js';

const T0 = 1_000_000;

/** n probes 1 ms apart over `flows` flows; who(seq) names the responder or null (lost). */
function record(n: number, flows: number, who: (seq: number) => string | null): FlowResult {
  const sentAt = Array.from({ length: n }, (_, i) => T0 + i);
  const replies: ProbeReply[] = [];
  sentAt.forEach((s, seq) => {
    const by = who(seq);
    if (by) replies.push({ seq, sentAt: s, recvAt: s + 0.5, by });
  });
  return { vip: '203.0.113.100', intervalMs: 1, startedAt: T0, stoppedAt: T0 + n, sentAt, replies, arp: [], tcp: [], sendErrors: 0, flows };
}

t.test('flowSpread counts each flow once, for the director that answered it most', async (t) => {
  // 6 flows: 0,3 -> d0; 1,4 -> d1; 2 -> d2; flow 5 moves from d2 to d0 half-way.
  const r = record(600, 6, (seq) => {
    const f = seq % 6;
    if (f === 5) return seq < 300 ? 'd2' : 'd0';
    return ['d0', 'd1', 'd2', 'd0', 'd1'][f]!;
  });
  const s = flowSpread(r, T0, T0 + 600);
  t.equal(s.flows, 6);
  t.equal(s.split, 1, 'the moved flow is split');
  t.same(s.share, { d0: 3 / 6, d1: 2 / 6, d2: 1 / 6 }, 'a tie goes to the first name; the moved flow counts once');
  t.equal(formatShare(s), 'd0 50%, d1 33%, d2 17%');
  const early = flowSpread(r, T0, T0 + 300);
  t.same(early.share, { d0: 2 / 6, d1: 2 / 6, d2: 2 / 6 }, 'the window limits what counts');
  t.equal(early.split, 0);
});

t.test('when traffic left one director and reached another', async (t) => {
  // d0 answers until 100, nobody until 150, then d1.
  const r = record(300, 4, (seq) => (seq < 100 ? 'd0' : seq < 150 ? null : 'd1'));
  t.equal(firstElsewhere(r, 'd0', T0 + 90), 60, 'first d1 answer sent 60 ms after the fault');
  t.equal(firstElsewhere(r, 'd1', T0), 0);
  t.equal(firstElsewhere(record(10, 1, () => 'd0'), 'd0', T0), null, 'null when nobody else answered');
  t.equal(lastAnsweredBy(r, 'd0'), T0 + 99);
  t.equal(lastAnsweredBy(r, 'd9'), null);
  t.equal(answeredByAfter(r, 'd0', T0 + 95), 5);
  t.equal(answeredByAfter(r, 'd0', T0 + 100), 0);
  t.equal(lastLoss(r, T0 + 90), 59, 'the last lost probe was sent 59 ms after the fault');
  t.equal(lastLoss(r, T0 + 200), 0, 'nothing lost after 200');
  // Two flows: the even one moves to d1 at once, the odd one is lost until 250. The first
  // answer from elsewhere comes at once; every flow is served only after 250.
  const split = record(400, 2, (seq) => (seq < 100 ? 'd0' : seq % 2 === 0 || seq >= 250 ? 'd1' : null));
  t.equal(firstElsewhere(split, 'd0', T0 + 100), 0);
  t.equal(lastLoss(split, T0 + 100), 149);
});

t.test('docs/bgp.md shows the configurations the drills run', async (t) => {
  const doc = readFileSync(new URL('../../docs/bgp.md', import.meta.url), 'utf8');
  const n = ['198.51.100.10', '198.51.100.11', '198.51.100.12'];
  const shown: [string, string][] = [
    ['BIRD director', directorBird({ routerId: n[0]!, neighbor: '198.51.100.1', device: 'haagent0', uplink: 'eth0', bfd: LAB_BFD, log: 'syslog' })],
    ['BIRD router', routerBird({ routerId: '198.51.100.1', neighbors: n, uplink: 'eth0', bfd: LAB_BFD, log: 'syslog' })],
    ['FRR director', frrDirectorBgpd({ routerId: n[0]!, neighbor: '198.51.100.1', bfd: true })],
    ['FRR router', frrRouterBgpd({ routerId: '198.51.100.1', neighbors: n, bfd: true })],
    ['FRR bfdd', frrBfdd(LAB_BFD)],
  ];
  for (const [what, text] of shown) t.ok(doc.includes('```\n' + text.trimEnd() + '\n```'), `${what}: verbatim in a code block`);
});
