/**
 * Names from the network, printed: peer node names and group names arrive in heartbeats as
 * any well-formed UTF-8 of 1..63 bytes (a key holder may send anything), so every place that
 * prints them escapes control, format (bidi) and separator characters. printable() and
 * safeJson() themselves, then each output: `haagent status` (human and --json), the
 * operator commands, `haagent events`, the control protocol's lines, systemd's STATUS= line
 * and the log, the CLI ones through their real handlers against a fake agent on a Unix
 * socket in a temporary directory.
 */
import fc from 'fast-check';
import t from 'tap';
import { eventsCommand } from '../../src/cli/events.js';
import { standbyCommand } from '../../src/cli/operator.js';
import { statusCommand } from '../../src/cli/status.js';
import { line } from '../../src/daemon/control-protocol.js';
import { formatStatus, serviceStatusLine, type StatusRecord } from '../../src/daemon/status-view.js';
import { createLogger } from '../../src/log.js';
import { printable, printableDeep, safeJson } from '../../src/printable.js';
import { capture, fakeAgent } from './cli-fakes.js';

/** Names a key holder could put in a heartbeat (each 1..63 bytes of well-formed UTF-8). */
const HOSTILE = [
  'd1\x1b[2J\x1b[H', // clear the screen, cursor home
  'd1\x1b]0;owned\x07', // set the terminal title (OSC)
  'd9\nPEER  yes', // a forged table line
  'd1\r  d0', // overwrite the start of the line
  'evil\u202edcba', // right-to-left override
  'x\u2066y\u2069', // isolates
  'a\u200bb\u200dc\u2060d', // zero-width characters
  'l\u2028m\u2029n', // line and paragraph separators
  'c1\u009b2J', // C1 CSI
  'del\x7f\x08\x08', // DEL, backspace
  'nb\u00a0sp\u3000', // spaces that are not U+0020
  'bom\ufeff',
  'tag\u{e0041}\u{e007f}', // tag characters
  'nul\x00',
  'back\\x1b', // a literal backslash: must not print as an escaped ESC
];

/** What no human output may contain raw (besides its own newlines). */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Cs}\p{Cn}\p{Zl}\p{Zp}\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]/u;
const unsafeIn = (text: string) => text.split('\n').filter((l) => UNSAFE.test(l));

t.test('printable escapes every control, format and separator character, and backslash', async (t) => {
  t.equal(printable('d1\x1b[2J'), 'd1\\x1b[2J');
  t.equal(printable('a\nb\tc'), 'a\\x0ab\\x09c');
  t.equal(printable('evil\u202edcba'), 'evil\\u202edcba');
  t.equal(printable('c1\u009b'), 'c1\\x9b');
  t.equal(printable('tag\u{e0041}'), 'tag\\u{e0041}');
  t.equal(printable('back\\x1b'), 'back\\\\x1b', 'a backslash doubles: never read as an escape');
  t.equal(printable('lone\ud800'), 'lone\\ud800', 'a lone surrogate (not from the wire, which is well-formed UTF-8)');
  for (const ok of ['d0', 'director-1.example', 'dé', 'узел', '节点', 'ノード', 'emoji😀', 'with space']) t.equal(printable(ok), ok, `${ok} unchanged`);
  for (const bad of HOSTILE) t.notMatch(printable(bad), UNSAFE, printable(bad));
});

t.test('printable is one-to-one: two names never print alike', async () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 20 }), (a, b) => a === b || printable(a) !== printable(b)),
  );
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 63 }), (s) => !UNSAFE.test(printable(s))));
});

t.test('safeJson: the same value, nothing raw that a terminal acts on', async (t) => {
  for (const bad of HOSTILE) {
    const json = safeJson(JSON.stringify({ node: bad }));
    t.notMatch(json, UNSAFE, printable(bad));
    t.equal((JSON.parse(json) as { node: string }).node, bad, 'parses back to the name');
  }
  t.equal(safeJson(JSON.stringify({ n: 'dé 节点 😀' })), '{"n":"dé 节点 😀"}', 'letters of any script stay as they are');
  t.equal(safeJson(JSON.stringify({ a: 'x\u202e' }, null, 2)), '{\n  "a": "x\\u202e"\n}', "pretty JSON keeps its own newlines");
  fc.assert(
    fc.property(fc.jsonValue(), fc.string({ unit: 'binary', maxLength: 63 }), (v, s) => {
      const value = { v, s };
      const out = safeJson(JSON.stringify(value));
      return !UNSAFE.test(out) && JSON.stringify(JSON.parse(out)) === JSON.stringify(value);
    }),
  );
});

/** A status record whose peer and group names (and the reasons quoting them) are hostile. */
function hostileStatus(): StatusRecord {
  const peer = (node: string, i: number) => ({
    node,
    address: `198.51.100.${11 + i}`,
    port: 694,
    alive: true,
    lastHeardMsAgo: 20,
    bootId: '7',
    received: 10,
    groups: [{ name: `g${node}`, state: 'standby', priority: 100, reach: 1 }],
    paths: [{ address: `198.51.100.${11 + i}`, lastHeardMsAgo: 20, alive: true }],
    icmpRefuted: 0,
  });
  return {
    node: 'd0',
    cluster: 'lb1',
    pid: 1,
    uptimeMs: 1000,
    maintenance: false,
    shuttingDown: false,
    groups: [
      {
        name: 'web',
        state: 'standby',
        vip: '198.51.100.100/32',
        interface: 'eth0',
        priority: 100,
        advertisedPriority: 100,
        preempt: false,
        vipPresent: false,
        activeNode: HOSTILE[0]!,
        activeSinceMs: 10,
        stateSinceMs: 10,
        transitions: 1,
        announcements: 0,
        faultReason: `peer ${HOSTILE[2]!} said so`,
        lastVipError: null,
        operator: null,
        healthFault: null,
        healthPending: null,
        reach: 1,
        checks: [],
        conflicts: 0,
        lastConflict: null, sync: null,
      },
    ],
    peers: HOSTILE.map(peer),
    heartbeats: { sent: 1, received: 1, sendErrors: 0 },
    dropped: {},
    levip: [
      {
        group: 'rot',
        interface: 'eth0',
        vip: '198.51.100.101/32',
        period: 100,
        guard: 10,
        repeat: 20,
        member: true,
        members: HOSTILE.map((node) => ({ node, weight: 1, since: 0 })),
        slot: 1,
        owner: HOSTILE[4]!,
        iOwn: false,
        answering: false,
        next: [{ slot: 1, start: 0, inMs: -5, owner: HOSTILE[4]! }, { slot: 2, start: 100, inMs: 95, owner: HOSTILE[1]! }],
        slotsOwned: 0,
        announcements: 0,
        announceErrors: 0,
        answerErrors: 0,
      },
    ],
  };
}

t.test('formatStatus: hostile names are escaped, the layout is intact', async (t) => {
  const s = hostileStatus();
  const out = formatStatus(s);
  t.same(unsafeIn(out), [], 'no raw control, format or separator character on any line');
  const plain = formatStatus(printableDeep(s) as StatusRecord);
  t.equal(out.split('\n').length, plain.split('\n').length, 'no extra line');
  const peerLines = out.split('\n').filter((l) => l.includes('198.51.100.'));
  t.ok(peerLines.length >= HOSTILE.length, 'one line per peer');
  for (const bad of HOSTILE) t.ok(out.includes(printable(bad)), `shown as ${printable(bad)}`);
  t.match(out, /web\s+STANDBY\s+198\.51\.100\.100\/32\s+eth0\s+100\s+d1\\x1b\[2J\\x1b\[H/, 'the active node column, escaped');
  t.match(out, /peer d9\\x0aPEER {2}yes said so/, 'a reason quoting a name');
  t.match(out, /slot 1 owner evil\\u202edcba;/, 'LevIP lines too');
  t.same(s, hostileStatus(), 'the record itself is not changed');
});

t.test("systemd's STATUS= line escapes the holder", async (t) => {
  const out = serviceStatusLine([{ name: 'web', state: 'standby', vip: '198.51.100.100/32', activeNode: 'd1\nWATCHDOG=trigger\x1b[2J' }], 'd0');
  t.equal(out, 'web standby (active: d1\\x0aWATCHDOG=trigger\\x1b[2J)');
});

t.test('control protocol lines and log lines are safe JSON', async (t) => {
  const ev = { event: 'transition', group: 'web', reason: `peer ${HOSTILE[4]!} ${HOSTILE[7]!} claimed` };
  const l = line(ev);
  t.ok(l.endsWith('\n') && l.indexOf('\n') === l.length - 1, 'one line');
  t.notMatch(l.slice(0, -1), UNSAFE, 'nothing raw');
  t.same(JSON.parse(l), ev);

  const lines: string[] = [];
  const log = createLogger('info', 'd0', { write: (s: string) => void lines.push(s) });
  for (const bad of HOSTILE) log.info({ peer: bad, group: bad }, `peer ${bad} joins`);
  t.equal(lines.length, HOSTILE.length);
  for (const [i, raw] of lines.entries()) {
    t.notMatch(raw.slice(0, -1), UNSAFE, `log line ${i}`);
    t.match(JSON.parse(raw), { peer: HOSTILE[i], group: HOSTILE[i], msg: `peer ${HOSTILE[i]} joins` }, 'the values are intact');
  }
});

/** A fake agent (test/unit/cli-fakes.ts): answers status and standby, streams events (as raw JSON, like an agent before the fix). */
async function hostileAgent(t: { teardown(fn: () => void): void }, status: StatusRecord, events: object[]): Promise<string> {
  const { socket } = await fakeAgent(t, (req) => {
    if (req.cmd === 'status') return { ok: true, status };
    if (req.cmd === 'standby') return { ok: true, message: `handing over to ${HOSTILE[0]!}` };
    if (req.cmd === 'events') return [{ ok: true, message: 'following events' }, ...events];
    return { ok: false, message: 'unexpected' };
  });
  return socket;
}

t.test('the CLI prints hostile names escaped: status, status --json, events, operator commands', async (t) => {
  const status = hostileStatus();
  const events = HOSTILE.map((bad) => ({ time: '2024-01-01T00:00:00.000Z', node: 'd0', event: 'peer', peer: bad, reason: `peer ${bad} is alive` }));
  const socket = await hostileAgent(t, status, events);
  const args = { config: '/nonexistent', socket, $0: 'haagent', _: [] };

  const human = await capture(() => statusCommand.handler({ ...args, json: false }));
  t.same(unsafeIn(human.stdout), [], 'status: nothing raw');
  t.equal(human.stdout, formatStatus(status));

  const json = await capture(() => statusCommand.handler({ ...args, json: true }));
  t.notMatch(json.stdout.replace(/\n/g, ''), UNSAFE, 'status --json: nothing raw');
  t.same(JSON.parse(json.stdout), status, 'status --json: the same record');

  const ev = await capture(() => eventsCommand.handler(args));
  const evLines = ev.stdout.trim().split('\n');
  t.equal(evLines.length, HOSTILE.length, 'events: one line per event, none forged');
  t.same(unsafeIn(ev.stdout), [], 'events: nothing raw');
  t.same(evLines.map((l) => JSON.parse(l) as object), events, 'events: the same values');

  const op = await capture(() => standbyCommand.handler({ ...args, group: 'web', wait: 0 }));
  t.same(unsafeIn(op.stdout), [], 'standby: nothing raw');
  t.match(op.stdout, /^handing over to d1\\x1b\[2J\\x1b\[H\nweb: standby \(active node: d1\\x1b\[2J\\x1b\[H\)\n/);
});
