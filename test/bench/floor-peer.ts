/**
 * The Node floor: the least a Node process does at a heartbeat rate, to compare the agents'
 * CPU with. One timer per interval, one connected UDP socket, a 100-byte datagram sent each
 * tick with a fresh HMAC-SHA256/128, every datagram received checked the same way. No
 * election, no codec: what is left of haagent's steady state once its own logic is removed.
 * Prints "ready" once bound; runs until SIGTERM. Started with the agent's node flags.
 *
 *   node dist/test/bench/floor-peer.js --bind 198.51.100.10 --peer 198.51.100.11 [--port 7694] [--interval 10]
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import dgram from 'node:dgram';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    bind: { type: 'string' },
    peer: { type: 'string' },
    port: { type: 'string', default: '7694' },
    interval: { type: 'string', default: '10' },
  },
});
if (!values.bind || !values.peer) {
  process.stderr.write('floor-peer: --bind and --peer are required\n');
  process.exit(64);
}
const port = Number(values.port);
const interval = Number(values.interval);
const key = Buffer.alloc(32, 0x5a);
const body = Buffer.alloc(84, 0x11);
let seq = 0n;
let received = 0;
let bad = 0;

const sock = dgram.createSocket({ type: 'udp4', reuseAddr: true });
sock.on('error', (e) => process.stderr.write(`floor-peer: ${e.message}\n`));
sock.on('message', (m) => {
  const mac = createHmac('sha256', key).update(m.subarray(0, m.length - 16)).digest().subarray(0, 16);
  if (m.length === 100 && timingSafeEqual(mac, m.subarray(84))) received++;
  else bad++;
});
let timer: NodeJS.Timeout | null = null;
const tick = (): void => {
  body.writeBigUInt64BE(++seq, 0);
  const mac = createHmac('sha256', key).update(body).digest().subarray(0, 16);
  sock.send(Buffer.concat([body, mac]));
  timer = setTimeout(tick, interval);
};
sock.bind(port, values.bind, () => {
  sock.connect(port, values.peer, (err?: Error) => {
    if (err) {
      process.stderr.write(`floor-peer: connect: ${err.message}\n`);
      process.exit(1);
    }
    process.stdout.write('ready\n');
    tick();
  });
});
process.on('SIGTERM', () => {
  if (timer) clearTimeout(timer);
  process.stdout.write(`${JSON.stringify({ sent: Number(seq), received, bad })}\n`);
  sock.close();
});
