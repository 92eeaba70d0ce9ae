// The package imported with no set-up: `Tidesync.open()` right after the
// import, with no `init()` call, in a plain <script type="module"> page and in
// a module Web Worker, served straight from ./pkg (the Vite app covers a
// bundler the same way). And `init(url)` first, for a .wasm served elsewhere.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch } from '../e2e/harness.mjs';
import { serveDir } from '../e2e/demo-support.mjs';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'pkg');

let site;
let browser;
before(async () => {
  site = await serveDir(pkg);
  browser = await launch();
});
after(async () => { await browser?.close(); await site?.close(); });

/** A page of the package's origin, recording page errors. */
async function pageOfPackage() {
  const page = await browser.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));
  const wasm = [];
  page.on('request', (r) => { if (r.url().endsWith('.wasm')) wasm.push(r.url()); });
  await page.goto(`${site.url}/package.json`);
  return { page, problems, wasm };
}

test('a plain module page opens a database right after the import, without init()', async () => {
  const { page, problems, wasm } = await pageOfPackage();
  await page.addScriptTag({
    type: 'module',
    content: `
      import { Tidesync, TidesyncError } from '/index.js';
      // Two opens at once initialise the module once.
      const [a, b] = await Promise.all([Tidesync.open({ name: 'zero-a' }), Tidesync.open({ name: 'zero-b' })]);
      await a.put({ _id: 'x', n: 1 });
      let code = null;
      try { await b.put({ _id: '_bad' }); } catch (e) { code = e instanceof TidesyncError ? e.code : String(e); }
      window.result = { n: (await a.get('x')).n, code, isTidesync: a instanceof Tidesync };
      await a.destroy();
      await b.destroy();
    `,
  });
  const result = await page.waitForFunction(() => window.result, null, { timeout: 20000 }).then((h) => h.jsonValue());
  assert.deepEqual(result, { n: 1, code: 'invalid_id', isTidesync: true });
  assert.deepEqual(problems, []);
  assert.equal(wasm.length, 1, `the .wasm fetched once: ${wasm.join(', ')}`);
  await page.close();
});

test('a module Web Worker opens a database without init()', async () => {
  const { page, problems } = await pageOfPackage();
  const result = await page.evaluate(async (origin) => {
    const source = `
      import { Tidesync } from '${origin}/index.js';
      const db = await Tidesync.open({ name: 'zero-worker' });
      await db.put({ _id: 'w', from: 'worker' });
      const doc = await db.get('w');
      await db.destroy();
      postMessage(doc.from);
    `;
    const worker = new Worker(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })), { type: 'module' });
    return new Promise((resolve, reject) => {
      worker.onmessage = (e) => resolve(e.data);
      worker.onerror = (e) => reject(new Error(e.message || 'worker failed'));
    });
  }, site.url);
  assert.equal(result, 'worker');
  assert.deepEqual(problems, []);
  await page.close();
});

test("init() with the .wasm's address first is the one initialisation; a failed one can be retried", async () => {
  const { page, problems, wasm } = await pageOfPackage();
  await page.addScriptTag({
    type: 'module',
    content: `
      import init, { Tidesync } from '/index.js';
      let failed = null;
      try { await init('/no-such.wasm'); } catch (e) { failed = String(e); }
      await init(new URL('/tidesync_bg.wasm', location.href));
      const db = await Tidesync.open({ name: 'zero-explicit' });
      await db.put({ _id: 'e' });
      window.result = { failed: failed !== null, count: (await db.all()).length };
      await db.destroy();
    `,
  });
  const result = await page.waitForFunction(() => window.result, null, { timeout: 20000 }).then((h) => h.jsonValue());
  assert.deepEqual(result, { failed: true, count: 1 });
  assert.deepEqual(problems, []);
  assert.deepEqual(wasm.map((u) => new URL(u).pathname), ['/no-such.wasm', '/tidesync_bg.wasm']);
  await page.close();
});
