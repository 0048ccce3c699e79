/**
 * The firewall rules of docs/operations.md (## Firewall), taken from the document itself and
 * applied with nftables to both directors of a lab, everything else dropped in and out:
 *
 * 1. exactly those lines: the pair elects (d0 active, d1 standby, each hearing the other),
 *    no UDP datagram is dropped, and when d0's agent is SIGKILLed d1 learns it through ICMP
 *    port unreachable (d0's kernel answers d1's next heartbeat) long before the dead time;
 * 2. the same lines without the ICMP ones: that crash is found only by the dead time;
 * 3. rules written for heartbeats from an ephemeral source port (1024-65535 to 694), as a
 *    reader of "heartbeats leave from an ephemeral port" would write them: every heartbeat is
 *    dropped, neither director hears the other, both go active.
 *
 * Needs root, `npm run build` and nft (scripts/setup.sh installs nftables).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { HaagentCluster, haagentAvailable, type HaagentNode } from './agents/haagent.js';
import { epochNow, run, sleep, waitFor } from './exec.js';
import { Lab, REPO_ROOT, type LabHost } from './lab.js';
import { findLog, logOf } from '../fixtures/security/drill.js';
import { fastStatus, groupOf } from '../fixtures/security/watch.js';

const DEAD_TIME_MS = 1500;

const skip =
  process.getuid?.() !== 0
    ? 'network namespaces need root'
    : (await run(['nft', '--version'])).code !== 0
      ? 'nft is not installed (scripts/setup.sh installs nftables)'
      // A kernel built without nf_tables refuses the first table; tried in a private network
      // namespace that vanishes with the command, so the root namespace is never touched.
      : (await run(['unshare', '--net', 'nft', 'add', 'table', 'inet', 'probe'])).code !== 0
        ? 'this kernel has no nf_tables'
        : !(await haagentAvailable())
        ? 'dist/src/main.js is not available: run `npm run build`'
        : false;

/** The documented rules: the ```nft block of docs/operations.md, split at its "# input chain" / "# output chain" lines. */
function documentedRules(markdown: string): { input: string[]; output: string[]; peer: string } {
  const at = markdown.indexOf('\n## Firewall');
  const block = at < 0 ? undefined : /```nft\n([\s\S]*?)```/.exec(markdown.slice(at))?.[1];
  if (block === undefined) throw new Error('docs/operations.md has no ```nft block under ## Firewall');
  const out = { input: [] as string[], output: [] as string[] };
  let chain: 'input' | 'output' | null = null;
  for (const raw of block.split('\n')) {
    const line = raw.replace(/\s+#.*$/, '').trim();
    if (/^#\s*input chain/.test(raw.trim())) chain = 'input';
    else if (/^#\s*output chain/.test(raw.trim())) chain = 'output';
    else if (line !== '' && !line.startsWith('#')) {
      if (chain === null) throw new Error(`a rule before "# input chain": ${line}`);
      out[chain].push(line);
    }
  }
  const peer = /ip saddr (\d+\.\d+\.\d+\.\d+)/.exec(out.input.join('\n'))?.[1];
  if (!peer) throw new Error('no peer address in the documented input rules');
  return { ...out, peer };
}

/** A table that drops everything but loopback and `rules`, counting the UDP and ICMP it drops. */
function ruleset(rules: { input: string[]; output: string[] }): string {
  return [
    'table inet hatest {',
    '  counter udp_in_dropped { }',
    '  counter udp_out_dropped { }',
    '  counter icmp_dropped { }',
    '  chain input {',
    '    type filter hook input priority filter; policy drop;',
    '    iif "lo" accept',
    ...rules.input.map((r) => `    ${r}`),
    '    meta l4proto udp counter name "udp_in_dropped" drop',
    '    meta l4proto icmp counter name "icmp_dropped" drop',
    '  }',
    '  chain output {',
    '    type filter hook output priority filter; policy drop;',
    '    oif "lo" accept',
    ...rules.output.map((r) => `    ${r}`),
    '    meta l4proto udp counter name "udp_out_dropped" drop',
    '    meta l4proto icmp counter name "icmp_dropped" drop',
    '  }',
    '}',
    '',
  ].join('\n');
}

/** The rules for `host`: the documented ones name d1 as the peer (they are d0's). */
function rulesFor(lab: Lab, host: LabHost, rules: { input: string[]; output: string[]; peer: string }) {
  const peer = lab.directors.find((d) => d !== host)!.ip;
  const swap = (r: string) => r.split(rules.peer).join(peer);
  return { input: rules.input.map(swap), output: rules.output.map(swap) };
}

async function applyFirewall(lab: Lab, name: string, rules: (host: LabHost) => { input: string[]; output: string[] }): Promise<void> {
  for (const host of lab.directors) {
    const file = join(lab.dir, `${name}-${host.name}.nft`);
    writeFileSync(file, ruleset(rules(host)));
    await lab.exec(host, ['nft', 'delete', 'table', 'inet', 'hatest']); // absent the first time
    const r = await lab.exec(host, ['nft', '-f', file]);
    if (r.code !== 0) throw new Error(`nft -f ${file} in ${host.name}: ${r.stderr.trim()}\n${readFileSync(file, 'utf8')}`);
  }
}

/** A named counter's packets in host's hatest table. */
async function dropped(lab: Lab, host: LabHost, counter: string): Promise<number> {
  const r = await lab.exec(host, ['nft', 'list', 'counter', 'inet', 'hatest', counter]);
  return Number(/packets (\d+)/.exec(r.stdout)?.[1] ?? NaN);
}

async function drops(lab: Lab): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const h of lab.directors) for (const c of ['udp_in_dropped', 'udp_out_dropped', 'icmp_dropped']) out[`${h.name} ${c}`] = await dropped(lab, h, c);
  return out;
}

/** Both agents started; true once d0 is active and d1 standby, each hearing the other. */
async function elected(d0: HaagentNode, d1: HaagentNode): Promise<boolean> {
  return (
    (await waitFor(async () => {
      const [s0, s1] = await Promise.all([fastStatus(d0, 300), fastStatus(d1, 300)]);
      return groupOf(s0)?.state === 'active' && groupOf(s1)?.state === 'standby' && s0?.peers.some((p) => p.node === 'd1' && p.alive) && s1?.peers.some((p) => p.node === 'd0' && p.alive);
    }, 10_000, 50)) ?? false
  );
}

/** SIGKILLs d0's agent; how long until d1 is active, and the line d1 logged for d0's death. */
async function crash(d0: HaagentNode, d1: HaagentNode): Promise<{ ms: number | null; death: string | null }> {
  const skipLines = logOf(d1).length;
  const at = epochNow();
  await d0.kill();
  const took = await waitFor(async () => groupOf(await fastStatus(d1, 300))?.state === 'active', DEAD_TIME_MS + 5000, 10);
  const ms = took ? epochNow() - at : null;
  await sleep(100);
  return { ms, death: findLog(logOf(d1), /peer d0 dead/, 0, skipLines)?.msg ?? null };
}

t.test('the documented firewall rules: heartbeats pass, a crash is found through ICMP; rules for an ephemeral source port break the pair', { skip, timeout: 180_000 }, async (t) => {
  const doc = documentedRules(readFileSync(join(REPO_ROOT, 'docs', 'operations.md'), 'utf8'));
  t.comment(`documented input rules: ${doc.input.join(' | ')}`);
  t.comment(`documented output rules: ${doc.output.join(' | ')}`);
  const lab = await Lab.create({ directors: 2 });
  const cluster = new HaagentCluster(lab, { interval: '20ms', deadTime: `${DEAD_TIME_MS}ms`, initDead: `${DEAD_TIME_MS}ms` });
  const [d0, d1] = cluster.nodes as [HaagentNode, HaagentNode];
  try {
    // 1. Exactly the documented lines.
    await applyFirewall(lab, 'documented', (h) => rulesFor(lab, h, doc));
    cluster.startAll();
    const up = await elected(d0, d1);
    t.ok(up, 'behind the documented rules: d0 active, d1 standby, each hearing the other', { diagnostic: !up, d0: d0.logTail(5), d1: d1.logTail(5) });
    if (!up) return;
    await sleep(500);
    const steady = await drops(lab);
    t.same(Object.entries(steady).filter(([k, n]) => k.includes('udp') && n !== 0), [], 'no UDP datagram dropped: every heartbeat went from port 694 to port 694', { drops: steady });
    const fast = await crash(d0, d1);
    t.comment(`documented rules: d0's agent SIGKILLed -> d1 active after ${fast.ms?.toFixed(1) ?? '-'} ms (dead time ${DEAD_TIME_MS} ms): ${fast.death ?? 'no death logged'}`);
    t.ok(fast.ms !== null && fast.ms < DEAD_TIME_MS / 2, 'd1 took over well before the dead time');
    t.match(fast.death, /refused our heartbeat|port unreachable and no answer to a probe/, "through d0's ICMP port unreachable");
    await cluster.stopAll();

    // 2. Without the ICMP lines: the same crash waits out the dead time.
    const noIcmp = { ...doc, input: doc.input.filter((r) => !r.includes('icmp')), output: doc.output.filter((r) => !r.includes('icmp')) };
    await applyFirewall(lab, 'no-icmp', (h) => rulesFor(lab, h, noIcmp));
    cluster.startAll();
    t.ok(await elected(d0, d1), 'without the ICMP rules the pair still elects');
    const slow = await crash(d0, d1);
    t.comment(`without the ICMP rules: d1 active after ${slow.ms?.toFixed(1) ?? '-'} ms: ${slow.death ?? 'no death logged'}`);
    t.ok(slow.ms !== null && slow.ms >= DEAD_TIME_MS * 0.8, 'd1 took over only at the dead time');
    t.match(slow.death, /silent for/, 'by silence');
    t.ok((await dropped(lab, lab.directors[0]!, 'icmp_dropped')) > 0, "d0's port unreachable was dropped on its way out");
    await cluster.stopAll();

    // 3. Rules for heartbeats from an ephemeral port: nothing passes.
    const ephemeral = (h: LabHost) => {
      const peer = lab.directors.find((d) => d !== h)!.ip;
      return { input: [`ip saddr ${peer} udp sport 1024-65535 udp dport 694 accept`], output: [`ip daddr ${peer} udp sport 1024-65535 udp dport 694 accept`] };
    };
    await applyFirewall(lab, 'ephemeral', ephemeral);
    cluster.startAll();
    const split = await waitFor(async () => {
      const [s0, s1] = await Promise.all([fastStatus(d0, 300), fastStatus(d1, 300)]);
      return groupOf(s0)?.state === 'active' && groupOf(s1)?.state === 'active' ? [s0, s1] : null;
    }, 10_000, 50);
    t.ok(split, 'rules for an ephemeral source port: both directors active');
    t.same(split?.map((s) => s?.peers.filter((p) => p.alive).length), [0, 0], 'neither hears the other');
    const deaf = await drops(lab);
    t.ok(deaf['d0 udp_out_dropped']! > 0 && deaf['d1 udp_out_dropped']! > 0, 'every heartbeat dropped on its way out (source port 694)', { drops: deaf });
  } finally {
    await cluster.stopAll();
    t.same(await lab.destroy(), { leftNamespaces: [], leftPids: [] }, 'lab torn down');
    cluster.cleanup();
  }
});
