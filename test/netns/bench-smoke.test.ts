/**
 * Smoke test of the bench machinery (test/bench/): the real `bench.js` CLI, haagent against
 * keepalived, one repetition of crash, crash-svc and planned, a 2 s steady and a 2 s saturated
 * window. It proves the harness works end to end (labs, adapters, probe, VIP watch, ARP
 * capture, the responder killed and restarted, busy loops, restore, tables, JSON, teardown);
 * the figures are printed by `npm run bench`, never asserted here. Needs root and
 * `npm run build`; the keepalived half is skipped with a message when keepalived is not
 * installed.
 */
import t from 'tap';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installed } from './agents/common.js';
import { haagentAvailable } from './agents/haagent.js';
import { BENCH, runBench } from './bench-cli.js';
import { listNamespaces, parseNsName } from './sweep.js';

if (process.getuid?.() !== 0) t.plan(0, 'network namespaces need root');
else if (!(await haagentAvailable()) || !existsSync(BENCH)) t.plan(0, 'dist/ is not built: run `npm run build`');

interface BenchJson {
  records: { cell: string; row: string; outageMs: number | string; ok: boolean; holder: string | null; garpMs: number | null; note: string }[];
  steady: { cell: string; rssMb: number[]; cpuPct: number[] }[];
  saturated: { loops: number; results: { cell: string; switches: number }[] } | null;
}

t.test('bench: haagent vs keepalived, crash + crash-svc + planned, one repetition', async (t) => {
  const withKeepalived = await installed('keepalived');
  if (!withKeepalived) t.comment('keepalived is not installed (scripts/bench-setup.sh): running the haagent half only');
  const cells = withKeepalived ? ['haagent-default', 'keepalived-fast'] : ['haagent-default'];
  const dir = mkdtempSync(join(tmpdir(), 'hatbench-'));
  const json = join(dir, 'bench.json');
  const before = await listNamespaces();
  try {
    const args = ['--cells', cells.join(','), '--scenarios', 'crash,crash-svc,planned', '--reps', '1', '--steady', '2', '--saturated', '2', '--json', json];
    const { code, out, pid } = await runBench(args, 200000);
    t.equal(code, 0, 'bench exits 0', { output: out.slice(-3000) });
    t.match(out, /every namespace and process removed/, 'bench reports a clean teardown');
    t.match(out, /\| crash\s+\|\s+haagent-default/, 'the outage table has the haagent crash row');
    t.match(out, /\| crash-svc \|\s+haagent-default/, 'and the crash-svc row');
    t.match(out, /## First gratuitous ARP from the taker/, 'the first-GARP table is printed');
    t.match(out, /## Saturated host \(\d+ busy loops on \d+ cores, 2 s\)/, 'the saturated-host table is printed');
    const data = JSON.parse(readFileSync(json, 'utf8')) as BenchJson;
    for (const cell of cells) {
      for (const row of ['crash', 'crash-svc', 'planned', 'failback']) {
        const mine = data.records.filter((r) => r.cell === cell && r.row === row);
        t.ok(mine.length >= 1, `${cell}: a ${row} record`);
        const settled = mine.every((r) => r.ok && r.holder !== null);
        const ended = mine.every((r) => typeof r.outageMs === 'number');
        // haagent's rounds must settle and its outage end. Another agent's are what they are
        // (on a loaded CI machine keepalived-fast now and then ends a crash round with no single
        // holder, or its failback leaves the client unanswered to the end): reported, not
        // judged; the bench machinery is what this test proves, on the haagent cell.
        if (cell.startsWith('haagent')) {
          t.ok(settled, `${cell} ${row}: the round ended with one holder the client reaches`, { notes: mine.map((r) => r.note) });
          t.ok(ended, `${cell} ${row}: the outage ended`);
        } else {
          if (!settled) t.comment(`${cell} ${row}: the round did not settle (${mine.map((r) => r.note).join('; ')}): the agent's, not the bench's`);
          if (!ended) t.comment(`${cell} ${row}: the outage did not end within the round (the agent's, not the bench's)`);
        }
      }
      t.ok(data.records.some((r) => r.cell === cell && r.garpMs !== null), `${cell}: a first GARP from the taker was captured`);
      const s = data.steady.find((x) => x.cell === cell);
      t.ok(s && s.rssMb.every((v) => v > 0), `${cell}: steady-state RSS sampled for both directors`);
      t.ok(data.saturated?.results.some((x) => x.cell === cell), `${cell}: measured in the saturated window`);
    }
    t.match(out, /- lane /, 'lane times are printed');
    // Other suites may build labs meanwhile: only the bench's own (named after its pid) count.
    const mine = (await listNamespaces()).filter((n) => !before.includes(n) && parseNsName(n)?.pid === pid);
    t.same(mine, [], 'no namespace of the bench left behind');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
