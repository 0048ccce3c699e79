/**
 * The accepted YAML shape as zod 4 schemas. Every object is strict (an unknown key is an
 * error, most often a typo), and every schema carries the operator-facing "expected ..." text
 * as its error, so an issue's message is exactly what load.ts prints after "expected".
 * Defaults are not filled here: resolve.ts does that, because several depend on other fields.
 */
import { z } from 'zod';
import { LIMITS } from './defaults.js';
import { EXPECT, NAME_RE, durationIn, parseIfname, parseIp, parseListen, parseMode, parseMulticast, parsePeer, parseVip, type Parsed } from './fields.js';

/** A zod leaf around one of our parsers; its issue message is the parser's "expected" text. */
function leaf<T>(parse: (v: unknown) => Parsed<T>) {
  return z.unknown().transform((v, ctx): T => {
    const r = parse(v);
    if (r.ok) return r.value;
    ctx.addIssue({ code: 'custom', message: r.expected });
    return z.NEVER;
  });
}

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
 * One hook: an argv list, never a shell string, so a group name or reason can never be
 * interpreted by a shell. The program must be absolute: no PATH search decides what runs as root.
 */
const hookSchema = z
  .array(z.string({ error: EXPECT.hookArg }).refine((s) => !s.includes('\0'), { error: EXPECT.hookArg }), { error: EXPECT.hook })
  .min(1, { error: `${EXPECT.hook}; this one is empty` })
  .max(LIMITS.notifyArgs.max, { error: `${EXPECT.hook}; at most ${LIMITS.notifyArgs.max} strings` })
  .superRefine((argv, ctx) => {
    if (argv.length > 0 && !argv[0]?.startsWith('/')) ctx.addIssue({ code: 'custom', path: [0], message: EXPECT.hookProgram });
  });

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

/** Only with mode: levip (cross.ts); guard <= period / 2 is checked there too. */
export const levipSchema = strict({
  period: leaf(durationIn(LIMITS.levipPeriod.min, LIMITS.levipPeriod.max)).optional(),
  guard: leaf(durationIn(0, LIMITS.levipGuard.max)).optional(),
  repeat: leaf(durationIn(LIMITS.levipRepeat.min, LIMITS.levipRepeat.max)).optional(),
  weight: intIn(LIMITS.levipWeight.min, LIMITS.levipWeight.max).optional(),
});

export const groupSchema = strict({
  name: name(),
  mode: z.enum(['failover', 'levip'], { error: 'one of failover, levip' }).optional(),
  levip: levipSchema.optional(),
  vip: leaf(parseVip),
  interface: leaf(parseIfname),
  priority: intIn(LIMITS.priority.min, LIMITS.priority.max).optional(),
  preempt: bool().optional(),
  preemptDelay: leaf(durationIn(0, LIMITS.preemptDelay.max)).optional(),
  garp: garpSchema.optional(),
  notify: hooksSchema().optional(),
});

export const heartbeatSchema = strict({
  bind: leaf(parseIp).optional(),
  port: intIn(LIMITS.port.min, LIMITS.port.max).optional(),
  peers: z.array(leaf(parsePeer), { error: 'a list of peer addresses' }).optional(),
  multicast: leaf(parseMulticast).optional(),
  interval: leaf(durationIn(LIMITS.interval.min, LIMITS.interval.max)).optional(),
  // Lower bounds of deadTime and initDead depend on other fields: checked in cross.ts.
  deadTime: leaf(durationIn(0, LIMITS.deadTime.max)).optional(),
  deadCount: intIn(LIMITS.deadCount.min, LIMITS.deadCount.max).optional(),
  initDead: leaf(durationIn(0, LIMITS.initDead.max)).optional(),
  keyFile: absPath().optional(),
});

export const controlSchema = strict({
  socket: absPath(LIMITS.socketPathMaxBytes).optional(),
  mode: leaf(parseMode).optional(),
});

export const configSchema = strict({
  node: name().optional(),
  cluster: name(),
  logLevel: z
    .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal'], {
      error: 'one of trace, debug, info, warn, error, fatal',
    })
    .optional(),
  stateDir: absPath().optional(),
  heartbeat: heartbeatSchema,
  control: controlSchema.optional(),
  notify: hooksSchema().optional(),
  notifyTimeout: leaf(durationIn(LIMITS.notifyTimeout.min, LIMITS.notifyTimeout.max)).optional(),
  metrics: metricsSchema.optional(),
  groups: z
    .array(groupSchema, { error: 'a list of at least one group' })
    .min(1, { error: 'a list of at least one group' }),
});

/** What the schema yields: the YAML shape with durations in ms and addresses parsed. */
export type RawConfig = z.output<typeof configSchema>;
export type RawGroup = z.output<typeof groupSchema>;
