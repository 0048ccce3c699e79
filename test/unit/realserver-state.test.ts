// The real-server state file (src/realserver/state.ts): atomic 0600 round trip in a temp
// directory, refusal of damaged files, and the pure merge rules of recordUp / recordDown.
import t, { type Test } from 'tap';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Vip } from '../../src/config/types.js';
import type { Change } from '../../src/realserver/plan.js';
import {
  emptyState, isEmptyState, readBootId, readStateFile, recordDown, recordUp, removeStateFile, writeStateFile, type RealServerState,
} from '../../src/realserver/state.js';

const V4: Vip = { address: '198.51.100.100', prefix: 32, family: 4 };
const V4B: Vip = { address: '198.51.100.101', prefix: 32, family: 4 };
const V6: Vip = { address: '2001:db8::100', prefix: 128, family: 6 };

function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'haagent-rs-state-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const SAMPLE: RealServerState = {
  version: 1,
  bootId: 'b00t',
  added: [V4, V6],
  present: [V4B],
  sysctls: [{ iface: 'all', key: 'arp_ignore', found: 0, set: 1 }],
};

t.test('round trip: mode 0600, directory created, no temp file left', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'sub', 'realserver.json');
  t.same(await readStateFile(file), { kind: 'none' }, 'missing file');
  await writeStateFile(file, SAMPLE);
  t.same(await readStateFile(file), { kind: 'ok', state: SAMPLE });
  t.equal(statSync(file).mode & 0o777, 0o600);
  await writeStateFile(file, { ...SAMPLE, added: [] });
  t.same(await readStateFile(file), { kind: 'ok', state: { ...SAMPLE, added: [] } }, 'replaced');
  t.same(readdirSync(join(dir, 'sub')), ['realserver.json'], 'only the state file');
  await removeStateFile(file);
  await removeStateFile(file);
  t.same(await readStateFile(file), { kind: 'none' }, 'removed (twice is fine)');
});

t.test('damaged files are refused, not guessed at', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'realserver.json');
  const bad: [string, RegExp][] = [
    ['{', /not JSON/],
    [JSON.stringify({ ...SAMPLE, version: 2 }), /version/],
    [JSON.stringify({ ...SAMPLE, sysctls: [{ iface: 'all', key: 'rp_filter', found: 0, set: 1 }] }), /key/],
    [JSON.stringify({ ...SAMPLE, added: [{ address: '198.51.100.100', prefix: 32, family: 5 }] }), /family/],
  ];
  for (const [text, why] of bad) {
    writeFileSync(file, text);
    const r = await readStateFile(file);
    t.equal(r.kind, 'invalid', text.slice(0, 40));
    if (r.kind === 'invalid') t.match(r.error, why);
  }
});

t.test('recordUp', async (t) => {
  const first: Change[] = [
    { kind: 'set-sysctl', iface: 'all', key: 'arp_ignore', from: 0, to: 1 },
    { kind: 'add-vip', vip: V4 },
  ];
  const s1 = recordUp(emptyState('b'), first, [V4B]);
  t.same(s1, {
    version: 1, bootId: 'b', added: [V4], present: [V4B],
    sysctls: [{ iface: 'all', key: 'arp_ignore', found: 0, set: 1 }],
  });
  // Someone lowered all.arp_ignore to 3 by hand; a second up sets it again. down must still give back 0,
  // and V4, found on lo now, was added by the first up: it stays ours.
  const s2 = recordUp(s1, [{ kind: 'set-sysctl', iface: 'all', key: 'arp_ignore', from: 3, to: 1 }], [V4, V4B]);
  t.same(s2.sysctls, [{ iface: 'all', key: 'arp_ignore', found: 0, set: 1 }]);
  t.same(s2.added, [V4]);
  t.same(s2.present, [V4B]);
  t.same(recordUp(s2, [], [V4, V4B]), s2, 'an up with nothing to do keeps the record as it is');
  t.same(s1.added, [V4], 'recordUp does not mutate its input');
  // A VIP that was present before and was then removed by hand becomes ours once up adds it.
  t.same(recordUp(s2, [{ kind: 'add-vip', vip: V4B }], []).present, []);
});

t.test('recordDown keeps only what down failed to undo', async (t) => {
  const failedRemove: Change = { kind: 'remove-vip', vip: V6 };
  const failedSysctl: Change = { kind: 'set-sysctl', iface: 'all', key: 'arp_ignore', from: 1, to: 0 };
  t.equal(isEmptyState(recordDown(SAMPLE, [])), true);
  const left = recordDown(SAMPLE, [failedRemove, failedSysctl]);
  t.same(left.added, [V6]);
  t.same(left.sysctls, SAMPLE.sysctls);
});

t.test('boot id', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'boot_id'), 'abc-123\n');
  t.equal(await readBootId(join(dir, 'boot_id')), 'abc-123');
  t.equal(await readBootId(join(dir, 'missing')), null);
});
