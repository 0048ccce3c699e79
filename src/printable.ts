/**
 * Text that came from the network, made safe to print. Peer node names and group names
 * arrive in heartbeats: authenticated, but any key holder may put any well-formed UTF-8 of
 * 1..63 bytes there, so control characters (an ANSI escape that rewrites the terminal, a
 * newline that forges a line), bidirectional overrides and other format characters (which
 * reorder or hide what follows them), line separators and odd spaces. Two forms:
 *
 * - printable(): for human output (`haagent status`, operator commands, systemd's STATUS=).
 *   Every such character is written as an escape: `\x1b`, `\u202e`, `\u{e0041}`, and a
 *   backslash as `\\`, so the escaped form of a name is never the printout of another.
 * - safeJson(): for JSON text (`status --json`, `events`, the control protocol, the logs).
 *   JSON.stringify already escapes C0 controls, `"` and `\`, but leaves DEL, C1 controls,
 *   format characters and U+2028/U+2029 raw: those become `\uXXXX` escapes. A JSON text has
 *   no character outside its strings above U+007E, so the replacement only ever happens
 *   inside strings and the text parses to exactly the same value.
 */

/**
 * What is escaped in either form besides C0: DEL and C1 (Cc above U+001F), format characters
 * (Cf: bidi embeddings, overrides and isolates, LRM/RLM, zero-width characters, soft hyphen,
 * BOM, tags), lone surrogates (Cs), unassigned code points (Cn: what a later Unicode may make
 * a format character), line and paragraph separators (Zl, Zp) and every space but U+0020.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const HUMAN = /[\\\u0000-\u001f\u007f-\u009f\p{Cf}\p{Cs}\p{Cn}\p{Zl}\p{Zp}\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]/gu;
/** The same without C0, which JSON.stringify escapes itself (and whose \n is a JSON text's own whitespace). */
const JSON_TEXT = /[\u007f-\u009f\p{Cf}\p{Cs}\p{Cn}\p{Zl}\p{Zp}\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]/gu;

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');

function escapeHuman(ch: string): string {
  if (ch === '\\') return '\\\\';
  const cp = ch.codePointAt(0)!;
  if (cp <= 0xff) return `\\x${hex(cp, 2)}`;
  return cp <= 0xffff ? `\\u${hex(cp, 4)}` : `\\u{${hex(cp, 1)}}`;
}

/** `s` with every control, format, separator and non-ASCII space character escaped, and `\` as `\\`. */
export function printable(s: string): string {
  return s.replace(HUMAN, escapeHuman);
}

/** Each UTF-16 unit as a JSON escape (an astral character becomes its surrogate pair). */
function escapeJson(ch: string): string {
  let out = '';
  for (let i = 0; i < ch.length; i++) out += `\\u${hex(ch.charCodeAt(i), 4)}`;
  return out;
}

/** JSON text (JSON.stringify's) with the characters it leaves raw but a terminal acts on escaped. */
export function safeJson(json: string): string {
  return json.replace(JSON_TEXT, escapeJson);
}

/** A copy of a JSON-shaped value with printable() applied to every string in it, keys included. */
export function printableDeep<T>(value: T): T {
  if (typeof value === 'string') return printable(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => printableDeep(v)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [printable(k), printableDeep(v)])) as T;
  }
  return value;
}
