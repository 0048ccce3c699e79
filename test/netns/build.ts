/**
 * Where the compiled harness lives and whether it is current: the namespace helpers (probe,
 * responder, ...) run from dist/, so a missing or stale build must stop a lab before it
 * starts, not show up as a strange figure.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, whether this file runs from test/netns or dist/test/netns. */
export const REPO_ROOT = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6 && !existsSync(join(dir, 'package.json')); i++) dir = dirname(dir);
  return dir;
})();

/** Path of a compiled harness script that runs inside a namespace. */
export function distScript(name: string): string {
  return join(REPO_ROOT, 'dist', 'test', 'netns', `${name}.js`);
}

/** Why the compiled form of `dir/name.ts` cannot be used (missing, or older than its source), or null. */
function staleBuild(dir: string, name: string): string | null {
  const js = join(REPO_ROOT, 'dist', dir, `${name}.js`);
  const ts = join(REPO_ROOT, dir, `${name}.ts`);
  if (!existsSync(js) || (existsSync(ts) && statSync(ts).mtimeMs > statSync(js).mtimeMs)) {
    return `${js} is missing or older than its source: run \`npm run build\` first`;
  }
  return null;
}

/** A drill's skip reason: not root, or one of the src/ modules it runs (e.g. 'cli/run') not built. */
export function drillSkipReason(srcModules: readonly string[]): string | null {
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  for (const name of srcModules) {
    const why = staleBuild('src', name);
    if (why) return why;
  }
  return null;
}

/** The namespace helpers run from dist/: refuse to start with a missing or stale build. */
export function assertBuilt(): void {
  for (const name of ['probe', 'responder', 'arptable', 'exec', 'analyze', 'relay', 'loss']) {
    const why = staleBuild(join('test', 'netns'), name);
    if (why) throw new Error(why);
  }
}
