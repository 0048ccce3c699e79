/**
 * A zod leaf around one of our parsers (fields.ts): its issue message is the parser's
 * "expected" text. Shared by the schema files so every leaf reports the same way.
 */
import { z } from 'zod';
import type { Parsed } from './fields.js';

export function leaf<T>(parse: (v: unknown) => Parsed<T>) {
  return z.unknown().transform((v, ctx): T => {
    const r = parse(v);
    if (r.ok) return r.value;
    ctx.addIssue({ code: 'custom', message: r.expected });
    return z.NEVER;
  });
}
