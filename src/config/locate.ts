/**
 * From a validation path (["groups", 0, "vip"]) back to the YAML source: the node's
 * line:column and a short rendering of what the operator wrote there. The yaml package keeps
 * source offsets on every node; LineCounter turns offsets into 1-based line and column.
 */
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';

export type PathKey = string | number;

export interface Location {
  line: number;
  column: number;
}

/** ["groups", 0, "vip"] -> "groups[0].vip"; the empty path is the document itself. */
export function pathText(path: readonly PathKey[]): string {
  let out = '';
  for (const k of path) out += typeof k === 'number' ? `[${k}]` : out === '' ? k : `.${k}`;
  return out === '' ? '(top level)' : out;
}

function deref(doc: Document, node: unknown): unknown {
  return isAlias(node) ? node.resolve(doc) : node;
}

/** One step down: a map's value by key, or a sequence's item by index. */
function child(doc: Document, node: unknown, key: PathKey): unknown {
  const n = deref(doc, node);
  if (isMap(n)) return n.items.find((p) => isScalar(p.key) && p.key.value === key)?.value ?? undefined;
  if (isSeq(n) && typeof key === 'number') return n.items[key];
  return undefined;
}

/** Walks as deep as the path exists: the node at the path, or its nearest existing ancestor. */
function walk(doc: Document, path: readonly PathKey[]): { node: unknown; complete: boolean } {
  let node: unknown = doc.contents;
  for (const key of path) {
    const next = child(doc, node, key);
    if (next === undefined || next === null) return { node, complete: false };
    node = next;
  }
  return { node, complete: true };
}

function position(lc: LineCounter, node: unknown): Location | undefined {
  const range = (node as Node | null)?.range;
  if (!range) return undefined;
  const { line, col } = lc.linePos(range[0]);
  return { line, column: col };
}

/** Where the value at `path` is written; if it is missing, where its parent is. */
export function locate(doc: Document, lc: LineCounter, path: readonly PathKey[]): Location | undefined {
  return position(lc, walk(doc, path).node) ?? { line: 1, column: 1 };
}

/** Where `key` itself is written inside the mapping at `path` (for unknown keys). */
export function locateKey(doc: Document, lc: LineCounter, path: readonly PathKey[], key: string): Location | undefined {
  const map = deref(doc, walk(doc, path).node);
  const pair = isMap(map) ? map.items.find((p) => isScalar(p.key) && p.key.value === key) : undefined;
  return position(lc, pair?.key) ?? locate(doc, lc, path);
}

const MAX_SHOWN = 80;

/** What the operator wrote at `path`, short: `"eth0"`, `3`, `a list`; "nothing" when absent. */
export function renderValue(doc: Document, path: readonly PathKey[]): string {
  const { node: found, complete } = walk(doc, path);
  if (!complete) return 'nothing';
  const node = deref(doc, found);
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (!isScalar(node)) return 'nothing';
  const v = node.value;
  if (v === null || v === undefined) return 'an empty value';
  // Numbers as written: an unquoted `0660` reads as 660, and the operator typed 0660.
  const text = typeof v === 'string' ? JSON.stringify(v) : node.source || String(v);
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN - 3)}...` : text;
}
