/**
 * keepalived.conf's syntax, read into a tree of statements; pure (text in, tree or errors out).
 *
 * The format is line-oriented: a statement is a keyword and its arguments on one line; a `{`
 * opens a block of statements that a `}` closes (on the same line or later ones, with the `{`
 * also accepted alone on the next line). `#` and `!` start a comment anywhere outside quotes.
 * A quoted part (`"..."` or `'...'`) keeps its whitespace and joins the characters around it
 * into one word, with the quotes removed and shell-like backslash escapes applied inside;
 * a quoted `{` or `#` is plain text. `include` is kept as a statement like any other: the
 * mapping reports it as not followed, since this module reads one text and opens no file.
 */

export interface KaStatement {
  /** the keyword, e.g. "vrrp_instance", or an entry's first word ("192.0.2.10/24"). */
  key: string;
  /** the words after it on its line, unquoted. */
  args: string[];
  /** 1-based line of the keyword. */
  line: number;
  /** the statements between its braces; null when it has no block. */
  block: KaStatement[] | null;
}

/** A syntax error, at the line it was found. */
export interface KaSyntaxError {
  line: number;
  expected: string;
}

export type KaParseResult = { ok: true; statements: KaStatement[] } | { ok: false; errors: KaSyntaxError[] };

interface Word {
  text: string;
  /** true when any part was quoted: a quoted "{" is text, not a brace. */
  quoted: boolean;
}

const ESCAPES: Record<string, string> = { a: '\x07', b: '\b', E: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/** One escape after a backslash inside quotes, from `s[i]`; returns the text and the next index. */
function escape(s: string, i: number): [string, number] {
  const c = s[i]!;
  if (ESCAPES[c] !== undefined) return [ESCAPES[c], i + 1];
  const oct = /^[0-7]{1,3}/.exec(s.slice(i));
  if (oct) return [String.fromCharCode(parseInt(oct[0], 8)), i + oct[0].length];
  const hex = c === 'x' ? /^[0-9a-fA-F]{1,2}/.exec(s.slice(i + 1)) : null;
  if (hex) return [String.fromCharCode(parseInt(hex[0], 16)), i + 1 + hex[0].length];
  return [c, i + 1];
}

/** The words of one line, comments removed; a string when a quote is not closed. */
function words(line: string): Word[] | string {
  const out: Word[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '#' || c === '!') break;
    if (c === '{' || c === '}') {
      out.push({ text: c, quoted: false });
      i++;
      continue;
    }
    let text = '';
    let quoted = false;
    while (i < line.length && !/\s/.test(line[i]!) && !'{}#!'.includes(line[i]!)) {
      const q = line[i]!;
      if (q !== '"' && q !== "'") {
        text += q;
        i++;
        continue;
      }
      quoted = true;
      const opened = i++;
      while (i < line.length && line[i] !== q) {
        if (line[i] === '\\' && i + 1 < line.length) {
          const [t, next] = escape(line, i + 1);
          text += t;
          i = next;
        } else text += line[i++];
      }
      if (i >= line.length) return `a closing ${q} for the string opened at column ${opened + 1}`;
      i++;
    }
    out.push({ text, quoted });
  }
  return out;
}

/** Parses a whole keepalived.conf text. Every syntax error is reported, in line order. */
export function parseKeepalived(text: string): KaParseResult {
  const top: KaStatement[] = [];
  const stack: KaStatement[] = [];
  const errors: KaSyntaxError[] = [];
  const list = () => (stack.length === 0 ? top : stack[stack.length - 1]!.block!);
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const ws = words(raw);
    if (typeof ws === 'string') {
      errors.push({ line, expected: ws });
      return;
    }
    // The statement this line has started, if any; a bare "{" opens the previous one's block.
    let current: KaStatement | null = null;
    for (const w of ws) {
      if (!w.quoted && w.text === '{') {
        const here = list();
        const target = current ?? here[here.length - 1];
        if (!target || target.block !== null || (current === null && ws[0] !== w)) {
          errors.push({ line, expected: 'a keyword before "{"' });
          continue;
        }
        target.block = [];
        stack.push(target);
        current = null;
      } else if (!w.quoted && w.text === '}') {
        if (stack.length === 0) errors.push({ line, expected: 'no "}" here: no block is open' });
        else stack.pop();
        current = null;
      } else if (current) current.args.push(w.text);
      else {
        current = { key: w.text, args: [], line, block: null };
        list().push(current);
      }
    }
  });
  for (const open of stack) {
    errors.push({ line: open.line, expected: `a "}" closing ${open.key} before the end of the file` });
  }
  if (errors.length > 0) return { ok: false, errors: errors.sort((a, b) => a.line - b.line) };
  return { ok: true, statements: top };
}
