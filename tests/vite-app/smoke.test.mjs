// The package consumed by a bundler: the Vite app (built by scripts/test with
// `vite build` into dist/) is served as static files and opened in Chromium,
// where it writes a document and reads it back, with no server behind it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch, artifacts } from '../e2e/harness.mjs';
import { serveDir, isOptimisedBuild } from '../e2e/demo-support.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
const pkgWasm = join(here, '..', '..', 'pkg', 'tidesync_bg.wasm');

let site;
let browser;
before(async () => {
  assert.ok(existsSync(join(dist, 'index.html')), 'build the app first: (cd tests/vite-app && npx vite build)');
  site = await serveDir(dist);
  browser = await launch();
});
after(async () => { await browser?.close(); await site?.close(); });

test('vite bundled the optimised .wasm of the package as an asset', () => {
  const assets = readdirSync(join(dist, 'assets'));
  const wasm = assets.filter((f) => f.endsWith('.wasm'));
  assert.equal(wasm.length, 1, `one .wasm asset, found ${assets.join(', ')}`);
  const bundled = readFileSync(join(dist, 'assets', wasm[0]));
  assert.ok(bundled.equals(readFileSync(pkgWasm)), 'the asset is pkg/tidesync_bg.wasm byte for byte');
  assert.ok(isOptimisedBuild(bundled), 'the wasm went through wasm-opt (no producers or name section)');
});

test('the built Vite app writes a document and reads it back in Chromium', async () => {
  const page = await browser.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  const wasmResponses = [];
  page.on('response', (r) => { if (r.url().endsWith('.wasm')) wasmResponses.push(r.status()); });
  await page.goto(`${site.url}/`);
  const result = await page.waitForFunction(() => window.smokeResult, null, { timeout: 20000 }).then((h) => h.jsonValue());
  await page.screenshot({ path: join(artifacts, 'vite-app.png') });
  assert.equal(result.ok, true, result.error);
  assert.equal(result.status, 'pending', 'no remote: the write stays local');
  assert.equal(result.doc._id, 'inspection-1');
  assert.equal(result.doc.building, 'Town hall');
  assert.deepEqual(result.doc.extinguishers, [{ tag: 'FE-1', status: 'ok' }]);
  assert.equal(result.count, 1);
  assert.equal(result.errorCode, 'invalid_id', 'errors are TidesyncError instances with a code');
  assert.deepEqual(wasmResponses, [200]);
  assert.deepEqual(problems, []);
  await page.close();
});
