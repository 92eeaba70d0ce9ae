// The demo page in a real browser: it loads the optimised package, stores an
// inspection locally, and syncs it to the server that serves the page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startServer, launch, artifacts } from './harness.mjs';

let server;
let browser;
before(async () => { server = await startServer(); browser = await launch(); });
after(async () => { await browser?.close(); server?.stop(); });

test('the demo stores an inspection and syncs it to the server', async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${server.url}/_demo/`);
  await page.waitForSelector('#status:not(:text("starting…"))');
  await page.fill('#building', 'Town hall');
  await page.click('#new-inspection button');
  await page.waitForSelector('#inspections li:has-text("Town hall")');
  await page.click('#sync');
  await page.waitForFunction(() => document.querySelector('#pending')?.textContent === '0 pending');
  await page.screenshot({ path: join(artifacts, 'demo-synced.png') });
  const res = await fetch(`${server.url}/inspections/_all_docs?include_docs=true`);
  const body = await res.json();
  assert.equal(res.status, 200);
  assert.deepEqual(body.rows.map((r) => r.doc.building), ['Town hall']);
  assert.deepEqual(errors, []);
});
