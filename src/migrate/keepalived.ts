/**
 * keepalived.conf text to haagent.yaml text, with the list of what was left out or differs
 * (each at its keepalived line), or the syntax and value errors that stop the conversion.
 * Pure: parse (keepalived-parse.ts), map (keepalived-map.ts), render in haagent's own YAML
 * style (src/config/render.ts). The caller validates the result with haagent's loader.
 */
import { renderYaml } from '../config/render.js';
import { mapKeepalived, type MapOptions } from './keepalived-map.js';
import { parseKeepalived } from './keepalived-parse.js';
import { Report, sortNotes, type InputError, type Note } from './report.js';

export type Conversion = { ok: true; yaml: string; notes: Note[] } | { ok: false; errors: InputError[] };

export interface ConvertOptions extends MapOptions {
  /** the input's name, for the comment at the top of the YAML. */
  source: string;
}

export function convertKeepalived(text: string, opts: ConvertOptions): Conversion {
  const parsed = parseKeepalived(text);
  if (!parsed.ok) return { ok: false, errors: parsed.errors };
  const report = new Report();
  const doc = mapKeepalived(parsed.statements, opts, report);
  if (doc === null || report.errors.length > 0) return { ok: false, errors: [...report.errors].sort((a, b) => a.line - b.line) };
  const groups = doc.groups as { checks?: unknown[] }[];
  const comment = `converted from ${opts.source} by haagent import-keepalived;\nread what it listed as not carried over or different before using it`;
  return { ok: true, yaml: renderYaml(doc, groups, comment), notes: sortNotes(report.notes) };
}
