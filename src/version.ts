/**
 * haagent's version, from the package.json shipped beside dist/, the one place it is written:
 * two levels above this file once compiled (dist/src/version.js), one level from the source
 * (src/version.ts, as the tests run it). "unknown" when neither is haagent's package.json (a
 * copied dist/ without it): never a reason to fail.
 */
import { readFileSync } from 'node:fs';

const CANDIDATES = ['../../package.json', '../package.json'];

export function packageVersion(base: string = import.meta.url): string {
  for (const rel of CANDIDATES) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, base), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'haagent' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not there, or not JSON: the next candidate
    }
  }
  return 'unknown';
}
