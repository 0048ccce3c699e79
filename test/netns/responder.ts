/**
 * Responder: runs inside a director (or real-server) namespace. UDP :7000 echoes each
 * datagram prefixed with this responder's name; TCP :7001 writes the name and closes.
 * The probe tells directors apart by that name. Prints "ready" once both listen.
 *
 *   node dist/test/netns/responder.js --name d0 [--udp 7000] [--tcp 7001]
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    name: { type: 'string' },
    udp: { type: 'string', default: '7000' },
    tcp: { type: 'string', default: '7001' },
  },
});
if (!values.name) {
  process.stderr.write('responder: --name is required\n');
  process.exit(64);
}
const name = values.name;

const udp = dgram.createSocket('udp4');
udp.on('message', (msg, rinfo) => {
  // Unconnected reply: the kernel picks the source address, the probe keys on the name.
  udp.send(Buffer.concat([Buffer.from(`${name} `), msg]), rinfo.port, rinfo.address);
});
udp.on('error', (err) => process.stderr.write(`responder ${name}: udp: ${err.message}\n`));

const tcp = net.createServer((sock) => {
  sock.on('error', () => sock.destroy());
  sock.end(`${name}\n`);
});
tcp.on('error', (err) => {
  process.stderr.write(`responder ${name}: tcp: ${err.message}\n`);
  process.exit(1);
});

let listening = 0;
const ready = (): void => {
  if (++listening === 2) process.stdout.write('ready\n');
};
udp.bind(Number(values.udp), '0.0.0.0', ready);
tcp.listen(Number(values.tcp), '0.0.0.0', ready);

const stop = (): void => {
  udp.close();
  tcp.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
