// The package through the other bundlers apps use: esbuild and webpack 5
// bundle the same small app (bundlers/entry.js, no init() call), which is then
// opened in Chromium. webpack emits the .wasm as an asset by itself (through
// `new URL(..., import.meta.url)`); esbuild keeps that URL as it is, so the
// app ships tidesync_bg.wasm beside its bundle, as the package README says.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import webpack from 'webpack';
import { launch } from '../e2e/harness.mjs';
import { serveDir } from '../e2e/demo-support.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const entry = join(here, 'bundlers', 'entry.js');
const pkgWasm = readFileSync(join(here, '..', '..', 'pkg', 'tidesync_bg.wasm'));
const page = '<!doctype html><meta charset="utf-8"><title>bundled</title><script type="module" src="./main.js"></script>';

let out;
let browser;
before(async () => {
  out = mkdtempSync(join(tmpdir(), 'tidesync-bundlers-'));
  browser = await launch();
});
after(async () => { await browser?.close(); rmSync(out, { recursive: true, force: true }); });

/** Serves `dir`, opens its page in Chromium and returns the smoke result and the .wasm answers. */
async function run(dir) {
  writeFileSync(join(dir, 'index.html'), page);
  const site = await serveDir(dir);
  const tab = await browser.newPage();
  const problems = [];
  tab.on('pageerror', (e) => problems.push(e.message));
  const wasm = [];
  tab.on('response', async (r) => { if (r.url().endsWith('.wasm')) wasm.push({ status: r.status(), bytes: await r.body() }); });
  try {
    await tab.goto(`${site.url}/`);
    const result = await tab.waitForFunction(() => window.smokeResult, null, { timeout: 20000 }).then((h) => h.jsonValue());
    return { result, problems, wasm };
  } finally {
    await tab.close();
    await site.close();
  }
}

function expectSmoke({ result, problems, wasm }) {
  assert.equal(result.ok, true, result.error);
  assert.equal(result.building, 'Town hall');
  assert.equal(result.errorCode, 'invalid_id');
  assert.deepEqual(problems, []);
  assert.equal(wasm.length, 1, 'the module fetched once');
  assert.equal(wasm[0].status, 200);
  assert.ok(Buffer.compare(wasm[0].bytes, pkgWasm) === 0, 'the package\'s .wasm, byte for byte');
}

test('esbuild: a bundle with the .wasm beside it runs without init()', async () => {
  const dir = join(out, 'esbuild');
  await build({ entryPoints: [entry], bundle: true, format: 'esm', outfile: join(dir, 'main.js'), logLevel: 'silent' });
  assert.match(readFileSync(join(dir, 'main.js'), 'utf8'), /tidesync_bg\.wasm/, 'esbuild keeps the URL of the .wasm');
  copyFileSync(join(here, '..', '..', 'pkg', 'tidesync_bg.wasm'), join(dir, 'tidesync_bg.wasm'));
  expectSmoke(await run(dir));
});

test('webpack 5: a production bundle emits the .wasm and runs without init()', async () => {
  const dir = join(out, 'webpack');
  const stats = await new Promise((resolve, reject) => {
    webpack({
      mode: 'production',
      context: here,
      entry,
      output: { path: dir, filename: 'main.js', publicPath: 'auto' },
      performance: { hints: false },
    }, (error, result) => (error ? reject(error) : resolve(result)));
  });
  assert.equal(stats.hasErrors(), false, stats.toString('errors-only'));
  const emitted = readdirSync(dir).filter((f) => f.endsWith('.wasm'));
  assert.equal(emitted.length, 1, `one .wasm asset: ${readdirSync(dir).join(', ')}`);
  expectSmoke(await run(dir));
});
