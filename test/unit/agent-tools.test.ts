// missingTools: `ip` always; `arping` only for a group that announces an IPv4 VIP by ARP (a
// bgp group does not: its routing daemon announces).
import t from 'tap';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { missingTools } from '../../src/daemon/agent-adapters.js';
import { parse, withLines } from './config-harness.js';
import { tempDir } from './cli-fakes.js';

t.test('arping is needed for a failover IPv4 VIP, not for a bgp group', async (t) => {
  const dir = tempDir(t);
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'ip'), '#!/bin/sh\n');
  chmodSync(join(bin, 'ip'), 0o755);
  t.same(missingTools(parse(withLines()), bin), ['arping']);
  const bgp = parse(withLines('    mode: bgp').replace('198.51.100.100/32', '203.0.113.100/32'));
  t.same(missingTools(bgp, bin), []);
  t.same(missingTools(bgp, join(dir, 'empty')), ['ip']);
});
