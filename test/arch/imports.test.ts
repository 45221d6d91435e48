/**
 * Imports point downward: each folder of src/ may import only the layers below it, and no
 * module imports itself through a cycle. Read from the sources, so it holds for every file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../../src');

/** What each folder may import besides itself. The top-level files (main, app, version) may import anything. */
const LEAVES = ['util', 'oci', 'config', 'observability'];
const MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
  util: [],
  oci: ['util'],
  config: ['oci', 'util'],
  observability: ['config', 'oci', 'util'],
  auth: LEAVES,
  upstream: LEAVES,
  store: LEAVES,
  proxy: ['store', 'upstream', ...LEAVES],
  cluster: ['proxy', 'store', 'upstream', ...LEAVES],
  workers: ['cluster', 'proxy', 'store', 'upstream', ...LEAVES],
  http: ['auth', 'proxy', 'store', 'upstream', ...LEAVES],
  cli: ['http', 'proxy', 'store', 'upstream', 'cluster', ...LEAVES],
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Relative imports of a file (static, re-exports and dynamic), as source paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) => m[1]!);
  return specs.map((s) => resolve(dirname(file), s).replace(/\.js$/, '.ts'));
}

const layerOf = (file: string): string => {
  const parts = relative(SRC, file).split('/');
  return parts.length === 1 ? '(top)' : parts[0]!;
};

const files = sources(SRC);
const graph = new Map(files.map((f) => [f, importsOf(f)]));

test('every import points to the same folder or a layer below it', () => {
  const wrong: string[] = [];
  for (const [file, imports] of graph) {
    const from = layerOf(file);
    if (from === '(top)') continue;
    const allowed = MAY_IMPORT[from];
    assert.ok(allowed, `src/${relative(SRC, file)}: folder ${from} has no place in the layers`);
    for (const imp of imports) {
      const to = layerOf(imp);
      if (to !== from && !allowed.includes(to)) wrong.push(`${relative(SRC, file)} → ${relative(SRC, imp)} (${from} may not import ${to})`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('no module reaches itself through its imports', () => {
  const cycles: string[] = [];
  const state = new Map<string, 'active' | 'done'>();
  const visit = (f: string, path: string[]): void => {
    if (state.get(f) === 'done') return;
    if (state.get(f) === 'active') {
      cycles.push([...path.slice(path.indexOf(f)), f].map((p) => relative(SRC, p)).join(' → '));
      return;
    }
    state.set(f, 'active');
    for (const imp of graph.get(f) ?? []) if (graph.has(imp)) visit(imp, [...path, f]);
    state.set(f, 'done');
  };
  for (const f of files) visit(f, []);
  assert.deepEqual(cycles, []);
});

test('the import scan sees the code: app.ts imports the proxy and the store', () => {
  const app = graph.get(join(SRC, 'app.ts')) ?? [];
  assert.ok(app.some((p) => layerOf(p) === 'proxy') && app.some((p) => layerOf(p) === 'store'));
});
