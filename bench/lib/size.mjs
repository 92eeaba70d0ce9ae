// Package size: the wasm module raw and gzipped, the JS glue gzipped (every
// .js file the package entry loads), against PouchDB's minified browser bundle.
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';

const gz = (buf) => gzipSync(buf, { level: 9 }).length;

function jsFiles(dir) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.js'))
    .map((e) => join(e.parentPath ?? e.path, e.name));
}

export function sizeBenchmark(pkgDir, pouchBundle) {
  const wasm = readFileSync(join(pkgDir, 'tidesync_bg.wasm'));
  const js = jsFiles(pkgDir);
  const jsGzip = js.reduce((sum, f) => sum + gz(readFileSync(f)), 0);
  const pouch = readFileSync(pouchBundle);
  return {
    id: 'size',
    wasmRaw: wasm.length,
    wasmGzip: gz(wasm),
    jsRaw: js.reduce((sum, f) => sum + readFileSync(f).length, 0),
    jsGzip,
    jsFiles: js.map((f) => relative(pkgDir, f)),
    totalGzip: gz(wasm) + jsGzip,
    pouchdbMinGzip: gz(pouch),
    pouchdbMinRaw: pouch.length,
  };
}
