/**
 * The accepted YAML shape as zod 4 schemas. Every object is strict (an unknown key is an
 * error, most often a typo), and every schema carries the operator-facing "expected ..." text
 * as its error, so an issue's message is exactly what load.ts prints after "expected".
 * Defaults are not filled here: resolve.ts does that, because several depend on other fields.
 */
import { z } from 'zod';
import { MAX_GROUPS } from '../wire/codec.js';
import { LIMITS } from './limits.js';
import { EXPECT, NAME_RE, durationIn, parseIfname, parseIp, parseListen, parseMode, parseMulticast, parseStatusMode, parsePeerEntry, parseVip, type Parsed } from './fields.js';
import { HTTP_BODY_MAX_BYTES, type CheckWeight } from '../health/types.js';
import { RS_EXPECT, parseRealServerIfname, parseRealServerVipField } from './realserver.js';
import { VIPS_EXPECT, parseVipEntry } from './group-vips.js';
import { bgpSchema } from './bgp.js';
import { leaf } from './zod-leaf.js';


function intIn(min: number, max: number) {
  const error = `an integer from ${min} to ${max}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

const name = () => z.string({ error: EXPECT.name }).regex(NAME_RE, { error: EXPECT.name });

const absPath = (maxBytes = 4095) => {
  const error = `an absolute path (starting with "/")${maxBytes < 4095 ? ` of at most ${maxBytes} bytes` : ''}`;
  return z
    .string({ error })
    .refine((s) => s.startsWith('/') && !s.includes('\0') && Buffer.byteLength(s) <= maxBytes, { error });
};

const bool = () => z.boolean({ error: 'true or false' });

function strict<T extends z.core.$ZodLooseShape>(shape: T) {
  return z.strictObject(shape, { error: `a mapping with the keys ${Object.keys(shape).join(', ')}` });
}

/**
 * An argv list (a hook, an exec check), never a shell string, so a group name or reason can
 * never be interpreted by a shell. The program must be absolute: no PATH search decides what
 * runs as root. `what` and `program` are the texts for the list and for a relative program.
 */
function argvSchema(what: string, program: string) {
  return z
    .array(z.string({ error: EXPECT.hookArg }).refine((s) => !s.includes('\0'), { error: EXPECT.hookArg }), { error: what })
    .min(1, { error: `${what}; this one is empty` })
    .max(LIMITS.notifyArgs.max, { error: `${what}; at most ${LIMITS.notifyArgs.max} strings` })
    .superRefine((argv, ctx) => {
      if (argv.length > 0 && !argv[0]?.startsWith('/')) ctx.addIssue({ code: 'custom', path: [0], message: program });
    });
}

const hookSchema = argvSchema(EXPECT.hook, EXPECT.hookProgram);

const hooksSchema = () =>
  z
    .array(hookSchema, { error: 'a list of hooks, each a list of strings (e.g. [["/usr/local/bin/ha-notify", "--site", "a"]])' })
    .max(LIMITS.notifyHooks.max, { error: `a list of at most ${LIMITS.notifyHooks.max} hooks` });

export const metricsSchema = strict({
  listen: leaf(parseListen).optional(),
});

export const garpSchema = strict({
  count: intIn(LIMITS.garpCount.min, LIMITS.garpCount.max).optional(),
  spacing: leaf(durationIn(0, LIMITS.garpSpacing.max)).optional(),
  form: z.enum(['request', 'reply', 'both'], { error: 'one of request, reply, both' }).optional(),
  refresh: leaf(durationIn(LIMITS.garpRefresh.min, LIMITS.garpRefresh.max, true)).optional(),
});

/** The announcement check (src/core/confirm.ts); IPv4 gateway, failover groups only (cross.ts). */
export const confirmSchema = strict({
  gateway: leaf(parseIp),
  attempts: intIn(LIMITS.confirmAttempts.min, LIMITS.confirmAttempts.max).optional(),
});

/** Only with mode: levip (cross.ts); guard <= period / 2 is checked there too. */
export const levipSchema = strict({
  period: leaf(durationIn(LIMITS.levipPeriod.min, LIMITS.levipPeriod.max)).optional(),
  guard: leaf(durationIn(0, LIMITS.levipGuard.max)).optional(),
  repeat: leaf(durationIn(LIMITS.levipRepeat.min, LIMITS.levipRepeat.max)).optional(),
  weight: intIn(LIMITS.levipWeight.min, LIMITS.levipWeight.max).optional(),
});

const CHECK_EXPECT = {
  check: 'a check: a mapping with name, type (http, tcp, exec or ping) and the keys of that type',
  type: 'one of http, tcp, exec, ping',
  weight: `fault, or an integer from ${LIMITS.health.weight.min} to ${LIMITS.health.weight.max} (subtracted from the priority while the check fails)`,
  url: 'an http:// or https:// URL (e.g. http://127.0.0.1:80/health)',
  body: `a non-empty string of at most ${HTTP_BODY_MAX_BYTES} bytes (quote numbers), looked for in the first ${HTTP_BODY_MAX_BYTES / 1024} KiB of the body`,
  command: 'a command: a list of strings, the program first (e.g. ["/usr/local/bin/check", "--quick"])',
  program: 'the program as an absolute path (starting with "/"): checks run without a shell and without a PATH search',
} as const;

/** `fault` (the node leaves the election while the check fails) or a priority decrement. */
function parseWeight(v: unknown): Parsed<CheckWeight> {
  const { min, max } = LIMITS.health.weight;
  if (v === 'fault' || (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max)) return { ok: true, value: v };
  return { ok: false, expected: CHECK_EXPECT.weight };
}

/** Kept as written (the http check parses it again); credentials would end up in logs and status. */
function parseHttpUrl(v: unknown): Parsed<string> {
  const url = typeof v === 'string' && URL.canParse(v) ? new URL(v) : undefined;
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) return { ok: false, expected: CHECK_EXPECT.url };
  if (url.username !== '' || url.password !== '') return { ok: false, expected: `${CHECK_EXPECT.url}, without user:password (the URL shows in logs and status)` };
  return { ok: true, value: v as string };
}

/** Keys of every check, after the type's own; defaults come from DEFAULTS.health in resolve.ts. */
const checkCommon = {
  interval: leaf(durationIn(LIMITS.health.interval.min, LIMITS.health.interval.max)).optional(),
  timeout: leaf(durationIn(LIMITS.health.timeout.min, LIMITS.health.timeout.max)).optional(),
  rise: intIn(LIMITS.health.rise.min, LIMITS.health.rise.max).optional(),
  fall: intIn(LIMITS.health.fall.min, LIMITS.health.fall.max).optional(),
  weight: leaf(parseWeight).optional(),
  holdDown: leaf(durationIn(0, LIMITS.health.holdDown.max)).optional(),
};

const checkOf = <K extends string, T extends z.core.$ZodLooseShape>(type: K, own: T) =>
  strict({ name: name(), type: z.literal(type), ...own, ...checkCommon });

/** One check (docs/health.md); the name is unique within its group (cross.ts). */
export const checkSchema = z.discriminatedUnion(
  'type',
  [
    checkOf('http', {
      url: leaf(parseHttpUrl),
      expectStatus: intIn(100, 599).optional(),
      expectBody: z
        .string({ error: CHECK_EXPECT.body })
        .refine((s) => s.length > 0 && Buffer.byteLength(s) <= HTTP_BODY_MAX_BYTES, { error: CHECK_EXPECT.body })
        .optional(),
      insecure: bool().optional(),
    }),
    checkOf('tcp', { host: leaf(parseIp), port: intIn(LIMITS.port.min, LIMITS.port.max) }),
    checkOf('exec', { command: argvSchema(CHECK_EXPECT.command, CHECK_EXPECT.program) }),
    checkOf('ping', { host: leaf(parseIp) }),
  ],
  // A bad or missing type is reported at `type`; anything but a mapping at the check itself.
  { error: (issue) => (issue.code === 'invalid_union' ? CHECK_EXPECT.type : CHECK_EXPECT.check) },
);

export const groupSchema = strict({
  name: name(),
  mode: z.enum(['failover', 'levip', 'bgp'], { error: 'one of failover, levip, bgp' }).optional(),
  levip: levipSchema.optional(),
  // Only with mode: bgp (bgp.ts, with the rules its VIPs follow).
  bgp: bgpSchema.optional(),
  // Exactly one of vip and vips (group-vips.ts, with the duplicates and the LevIP rules).
  vip: leaf(parseVip).optional(),
  vips: z
    .array(leaf(parseVipEntry), { error: VIPS_EXPECT.list })
    .min(1, { error: VIPS_EXPECT.list })
    .max(LIMITS.groupVips.max, { error: VIPS_EXPECT.list })
    .optional(),
  interface: leaf(parseIfname),
  priority: intIn(LIMITS.priority.min, LIMITS.priority.max).optional(),
  preempt: bool().optional(),
  preemptDelay: leaf(durationIn(0, LIMITS.preemptDelay.max)).optional(),
  // Groups naming the same unit fail over together (sync.ts; a unit of one is refused there).
  sync: name().optional(),
  garp: garpSchema.optional(),
  confirm: confirmSchema.optional(),
  notify: hooksSchema().optional(),
  checks: z.array(checkSchema, { error: 'a list of checks, each a mapping with name and type' }).optional(),
  // Duplicates and the VIP interface itself are refused in cross.ts.
  trackInterfaces: z.array(leaf(parseIfname), { error: 'a list of interface names (e.g. [eth1])' }).optional(),
  pingNodes: z
    .array(leaf(parseIp), { error: 'a list of IP addresses (e.g. [198.51.100.1])' })
    .max(LIMITS.health.pingNodes.max, { error: `a list of at most ${LIMITS.health.pingNodes.max} IP addresses (each is pinged every second)` })
    .optional(),
});

export const heartbeatSchema = strict({
  bind: leaf(parseIp).optional(),
  port: intIn(LIMITS.port.min, LIMITS.port.max).optional(),
  peers: z.array(leaf(parsePeerEntry), { error: 'a list of peers (each { node: NAME, address: ADDRESS }, or an address alone)' }).optional(),
  multicast: leaf(parseMulticast).optional(),
  interval: leaf(durationIn(LIMITS.interval.min, LIMITS.interval.max)).optional(),
  // Lower bounds of deadTime and initDead depend on other fields: checked in cross.ts.
  deadTime: leaf(durationIn(0, LIMITS.deadTime.max)).optional(),
  deadCount: intIn(LIMITS.deadCount.min, LIMITS.deadCount.max).optional(),
  initDead: leaf(durationIn(0, LIMITS.initDead.max)).optional(),
  keyFile: absPath().optional(),
  // A second key accepted but never sent with: a rotation in progress (docs/operations.md).
  acceptKeyFile: absPath().optional(),
});

export const controlSchema = strict({
  socket: absPath(LIMITS.socketPathMaxBytes).optional(),
  mode: leaf(parseMode).optional(),
  statusSocket: absPath(LIMITS.socketPathMaxBytes).optional(),
  statusMode: leaf(parseStatusMode).optional(),
});

/** The real-server role (src/config/realserver.ts: which other keys it makes optional). */
export const realserverSchema = strict({
  vips: z
    .array(leaf(parseRealServerVipField), { error: RS_EXPECT.vips })
    .min(1, { error: RS_EXPECT.vips })
    .max(LIMITS.realserverVips.max, { error: `${RS_EXPECT.vips}; at most ${LIMITS.realserverVips.max}` }),
  interface: leaf(parseRealServerIfname).optional(),
  stateFile: absPath().optional(),
  recheck: leaf(durationIn(LIMITS.realserverRecheck.min, LIMITS.realserverRecheck.max, true)).optional(),
  undoOnStop: bool().optional(),
});

/** cluster, heartbeat and groups are required unless the file has only a realserver section (cross checks). */
export const configSchema = strict({
  node: name().optional(),
  cluster: name().optional(),
  logLevel: z
    .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal'], {
      error: 'one of trace, debug, info, warn, error, fatal',
    })
    .optional(),
  logFormat: z.enum(['auto', 'json', 'journal', 'pretty'], { error: 'one of auto, json, journal, pretty' }).optional(),
  stateDir: absPath().optional(),
  realtime: intIn(LIMITS.realtime.min, LIMITS.realtime.max).optional(),
  heartbeat: heartbeatSchema.optional(),
  // Needs 2+ unicast peers (cross.ts): the majority is counted from heartbeat.peers.
  quorum: bool().optional(),
  control: controlSchema.optional(),
  notify: hooksSchema().optional(),
  notifyTimeout: leaf(durationIn(LIMITS.notifyTimeout.min, LIMITS.notifyTimeout.max)).optional(),
  metrics: metricsSchema.optional(),
  // Every heartbeat carries every group, and the codec's count is capped; the datagram size,
  // which the names decide, is checked in wire-fit.ts.
  groups: z
    .array(groupSchema, { error: 'a list of at least one group' })
    .min(1, { error: 'a list of at least one group' })
    .max(MAX_GROUPS, { error: `a list of at most ${MAX_GROUPS} groups (every heartbeat carries every group, and it has room for ${MAX_GROUPS})` })
    .optional(),
  realserver: realserverSchema.optional(),
});

/** What the schema yields: the YAML shape with durations in ms and addresses parsed. */
export type RawConfig = z.output<typeof configSchema>;
export type RawGroup = z.output<typeof groupSchema>;
export type RawCheck = z.output<typeof checkSchema>;
