/**
 * Harness for test/netns/packet.test.ts, run from dist/ (the addon works per namespace, and a
 * namespace is per process: the test itself stays in the root namespace). Prints one JSON line.
 *
 *   packet-send.js announce --iface eth0 --vip 198.51.100.100 --form both
 *       PacketAnnouncer with the real addon; a fallback that only records (it must stay unused).
 *   packet-send.js arping --iface eth0 --vip 198.51.100.100 --form request|reply
 *       iputils arping -U / -A -c 1, the frame the announcer must reproduce.
 *   packet-send.js time --iface eth0 --vip 198.51.100.100 --count 200
 *       how long one packetSend of the request frame takes (ns per call).
 *   packet-send.js sched
 *       SCHED_RR 1 with reset-on-fork on this process's main thread; reports it, another
 *       thread of this process, and a child process (which must not have inherited it).
 *   packet-send.js sched-report
 *       getScheduler of this process's main thread.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { garpFrame } from '../../src/adapters/arp-frame.js';
import { loadNative, type Native } from '../../src/adapters/native.js';
import { PacketAnnouncer } from '../../src/adapters/packet-announcer.js';
import type { GarpForm } from '../../src/config/types.js';
import type { AnnounceOutcome, Announcer } from '../../src/ports/index.js';
import { epochNow, within } from './exec.js';
import { runMode, type Modes } from './harness-main.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    iface: { type: 'string', default: 'eth0' },
    vip: { type: 'string', default: '198.51.100.100' },
    form: { type: 'string', default: 'both' },
    count: { type: 'string', default: '200' },
  },
});

function native(): Native {
  const load = loadNative();
  if (!load.ok) throw new Error(load.reason);
  return load.native;
}

/** Records what would have gone to arping; the test asserts it stayed empty. */
class RecordingFallback implements Announcer {
  readonly used: string[] = [];
  async announce(): Promise<AnnounceOutcome> {
    this.used.push('announce');
    return { sent: 0, errors: ['fallback used'] };
  }
  close(): void {}
}

async function announce(): Promise<object> {
  const fallback = new RecordingFallback();
  const reasons: string[] = [];
  // As the agent does at start-up: construct (compiles the send path) and open the socket.
  const started = epochNow();
  const announcer = new PacketAnnouncer({ native: native(), fallback, onFallback: (r) => reasons.push(r) });
  const constructedAt = epochNow();
  const prepared = announcer.prepare(values.iface, [values.vip]);
  const preparedAt = epochNow();
  const vip = { address: values.vip, prefix: 32, family: 4 as const };
  const calledAt = epochNow();
  const pending = announcer.announce(vip, values.iface, { form: values.form as GarpForm, count: 1, spacing: 0, refresh: 0 });
  const returnedAt = epochNow();
  const outcome = await pending;
  announcer.close();
  return { constructMs: constructedAt - started, prepareMs: preparedAt - constructedAt, prepared, calledAt, returnedAt, outcome, fallback: fallback.used, reasons };
}

async function arping(): Promise<object> {
  const flag = values.form === 'reply' ? '-A' : '-U';
  const calledAt = epochNow();
  const child = spawn('arping', [flag, '-c', '1', '-I', values.iface, values.vip], { stdio: 'ignore' });
  const exit = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => resolve(code));
    child.on('error', () => resolve(-1));
  });
  // arping lingers ~1 s after its frame; bounded by 3 s, then killed by its PID.
  const code = await within(exit, 3000, null);
  if (code === null) child.kill('SIGKILL');
  return { calledAt, code };
}

function time(): object {
  const n = native();
  const sock = n.packetOpen(values.iface);
  const frame = garpFrame('request', sock.mac, values.vip);
  const count = Math.min(Math.max(parseInt(values.count, 10) || 1, 1), 1000);
  const ns: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const t0 = process.hrtime.bigint();
      n.packetSend(sock.fd, sock.ifindex, frame);
      ns.push(Number(process.hrtime.bigint() - t0));
    }
  } finally {
    n.packetClose(sock.fd);
  }
  return { ns };
}

/** Thread ids of this process other than the calling thread. */
function otherThreads(self: number): number[] {
  return readdirSync('/proc/self/task').map(Number).filter((tid) => tid !== self);
}

function sched(): object {
  const n = native();
  const tid = n.gettid();
  n.setScheduler(0, 'rr', 1, true);
  const self = n.getScheduler(0);
  const other = otherThreads(tid)[0];
  const otherThread = other === undefined ? null : n.getScheduler(other);
  const child = spawnSync(process.execPath, [process.argv[1]!, 'sched-report'], { encoding: 'utf8', timeout: 5000 });
  return { tid, pid: process.pid, self, otherThread, child: child.status === 0 ? JSON.parse(child.stdout) : { error: child.stderr } };
}

const modes: Modes = {
  announce,
  arping,
  time,
  sched,
  'sched-report': () => native().getScheduler(0),
};

runMode('packet-send', modes, positionals[0]);
