// The npm package as it would be published from ./pkg: its package.json, and a
// tarball (npm pack --dry-run) that holds every file the entry point reaches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, dirname, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isOptimisedBuild } from '../e2e/demo-support.mjs';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'pkg');
const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'));

test('package.json describes an ESM package with types', () => {
  assert.equal(manifest.name, 'tidesync');
  assert.match(manifest.version, /^\d+\.\d+\.\d+/);
  assert.notEqual(manifest.version, '0.0.0', 'build-pkg stamps the crate version');
  assert.equal(manifest.type, 'module');
  assert.equal(manifest.types, './index.d.ts');
  assert.deepEqual(manifest.exports['.'], { types: './index.d.ts', default: './index.js' });
  // The entry makes open() initialise the module: a bundler must run it.
  assert.deepEqual(manifest.sideEffects, ['./index.js']);
  assert.ok(manifest.license);
  assert.ok(manifest.keywords.includes('offline-first'));
});

test('the tarball holds every module the entry reaches, the wasm, the types and the README', () => {
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--loglevel=error'], { cwd: pkg, encoding: 'utf8' }));
  const files = new Set(packed.files.map((f) => f.path));
  const reached = new Set();
  const visit = (file) => {
    if (reached.has(file)) return;
    reached.add(file);
    const source = readFileSync(join(pkg, file), 'utf8');
    for (const [, spec] of source.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
      visit(normalize(join(dirname(file), spec)));
    }
  };
  visit('index.js');
  for (const file of [...reached, 'tidesync_bg.wasm', 'index.d.ts', 'tidesync.d.ts', 'README.md', 'package.json']) {
    assert.ok(files.has(file), `${file} is in the tarball (has: ${[...files].join(', ')})`);
  }
  assert.ok(reached.size >= 3, `index.js, the bindings and the snippets (${[...reached].join(', ')})`);
  assert.ok(isOptimisedBuild(readFileSync(join(pkg, 'tidesync_bg.wasm'))), 'the packed wasm is the wasm-opt output');
});

test('the README opens with a quick start of about ten lines', () => {
  const readme = readFileSync(join(pkg, 'README.md'), 'utf8');
  const quick = readme.match(/## Quick start\s+```js\n([\s\S]*?)```/);
  assert.ok(quick, 'a "Quick start" section with a js block');
  const lines = quick[1].trim().split('\n').length;
  assert.ok(lines >= 6 && lines <= 14, `${lines} lines`);
  // No set-up step: the import and open() are all it takes.
  assert.match(quick[1], /import \{ Tidesync \} from 'tidesync'/);
  assert.doesNotMatch(quick[1], /init\(/);
});

test('README\'s method table names exactly the methods the typings declare', () => {
  const readme = readFileSync(join(pkg, '..', 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('| method | what it does |'));
  const rows = table.split('\n').slice(2).filter((line) => line.startsWith('| `'));
  const documented = new Set(rows.flatMap((row) => [...row.split(' | ')[0].matchAll(/`(\w+)\(/g)].map((m) => m[1])));
  const typings = readFileSync(join(pkg, 'tidesync.d.ts'), 'utf8');
  const declared = new Set();
  for (const block of [/^export class Tidesync \{[\s\S]*?^\}/m, /^export interface Tidesync \{[\s\S]*?^\}/m]) {
    const body = typings.match(block)?.[0] ?? '';
    for (const m of body.matchAll(/^ {4}(static )?(\w+)(<[^>]*>)?\(/gm)) if (!m[1]) declared.add(m[2]);
  }
  assert.ok(declared.size > 15, `methods found in the typings: ${[...declared]}`);
  assert.ok(!declared.has('free'), 'free() is not offered: close() ends an instance');
  assert.deepEqual([...documented].sort(), [...declared].sort(), 'README table vs typings');
});
