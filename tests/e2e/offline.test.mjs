// Offline first, in a real browser behind a fault-injecting proxy: writes never
// wait for the network, the queue drains by itself, faults lose nothing, and a
// closed tab resumes where it stopped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sdkPage, eventually, serverDocs, appHeaders, staleHeaders, lacks } from './harness.mjs';
import { syncSuite, fresh } from './suite.mjs';

let server;
let proxy;
let browser;
syncSuite((started) => ({ server, proxy, browser } = started), ['--max-document-bytes', '4096']);

/** Opens a database in the page as window.db; options merge over fast test timings. */
async function openDb(page, name, remoteDb, options = {}) {
  await page.evaluate(async ({ name, remote, options }) => {
    window.events = [];
    window.db = await window.tidesync.Tidesync.open({ name, remote, headers: window.remoteHeaders, debounceMs: 20, backoffBaseMs: 100, backoffCapMs: 1000, ...options });
    for (const ev of ['change', 'conflict', 'error', 'status']) window.db.on(ev, (p) => window.events.push({ ev, p }));
  }, { name, remote: `${proxy.url}/${remoteDb}`, options });
}

const pending = (page) => page.evaluate(() => window.db.pendingCount());

test('offline writes resolve at once, nothing is sent, and the queue drains by itself online', { skip: lacks('offline') }, async () => {
  const context = await browser.newContext();
  const page = await sdkPage(context, proxy.url);
  const db = fresh('offline');
  await context.setOffline(true);
  await openDb(page, fresh('c'), db);
  const before = proxy.log.length;
  const statuses = await page.evaluate(async () => {
    const out = [];
    for (let i = 0; i < 20; i++) out.push((await window.edit({ _id: `doc-${i}`, n: i })).status);
    return out;
  });
  assert.deepEqual(new Set(statuses), new Set(['pending']));
  assert.equal(await pending(page), 20);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(proxy.log.length, before, 'nothing reached the network while offline');
  const state = await page.evaluate(() => window.db.status());
  assert.equal(state.state, 'offline');
  await context.setOffline(false);
  await eventually(async () => (await pending(page)) === 0, 15000, 'the queue to drain');
  const docs = await serverDocs(server, db);
  assert.equal(Object.keys(docs).length, 20);
  assert.equal(docs['doc-7'].n, 7);
  await context.close();
});

test('a response lost after the server committed is acknowledged, not duplicated or conflicted', async () => {
  const context = await browser.newContext();
  const page = await sdkPage(context, proxy.url);
  const db = fresh('lost');
  await openDb(page, fresh('c'), db);
  await eventually(async () => (await page.evaluate(() => window.db.status())).state === 'idle', 10000, 'first sync');
  proxy.fault({ method: 'POST', path: `/${db}/_bulk_docs`, action: 'drop-response' });
  const outcome = await page.evaluate(async () => (await window.edit({ _id: 'car', color: 'red' })).synced);
  assert.equal(outcome.outcome, 'accepted');
  assert.match(outcome.rev, /^1-/);
  assert.equal(proxy.requests(`/${db}/_bulk_docs`).length, 2, 'pushed, lost, replayed');
  const res = await server.fetch(`/${db}/car`);
  const doc = await res.json();
  assert.equal(doc._rev, outcome.rev, 'written once: still generation 1');
  assert.equal((await page.evaluate(() => window.db.conflicts())).length, 0);
  await context.close();
});

test('a 503 with Retry-After is not retried earlier than asked', async () => {
  const context = await browser.newContext();
  const page = await sdkPage(context, proxy.url);
  const db = fresh('retry');
  await openDb(page, fresh('c'), db);
  await eventually(async () => (await page.evaluate(() => window.db.status())).state === 'idle', 10000, 'first sync');
  proxy.fault({ method: 'POST', path: `/${db}/_bulk_docs`, action: 'status', status: 503, retryAfter: 2 });
  const outcome = await page.evaluate(async () => (await window.edit({ _id: 'x' })).synced);
  assert.equal(outcome.outcome, 'accepted');
  const pushes = proxy.requests(`/${db}/_bulk_docs`);
  assert.equal(pushes.length, 2);
  const waited = pushes[1].t - pushes[0].t;
  assert.ok(waited >= 2000, `retried after ${waited} ms, before the 2 s the server asked for`);
  await eventually(async () => (await page.evaluate(() => window.db.status())).state === 'idle', 5000, 'idle again');
  const status = await page.evaluate(() => window.db.status());
  assert.equal(status.lastError, null, 'the error clears once a retry succeeds');
  // The error event names the wait in the member the typings declare, in
  // milliseconds like every duration of the API.
  const errors = await page.evaluate(() => window.events.filter((e) => e.ev === 'error').map((e) => e.p));
  const refused = errors.find((e) => e.status === 503);
  assert.equal(refused?.code, 'server', JSON.stringify(errors));
  assert.equal(refused.retryAfterMs, 2000, JSON.stringify(errors));
  assert.equal('retry_after' in refused, false);
  assert.equal('retryAfter' in refused, false);
  await context.close();
});

test('a Retry-After given as an HTTP date is honoured too', async () => {
  const context = await browser.newContext();
  const page = await sdkPage(context, proxy.url);
  const db = fresh('retry-date');
  await openDb(page, fresh('c'), db);
  await eventually(async () => (await page.evaluate(() => window.db.status())).state === 'idle', 10000, 'first sync');
  // HTTP dates count whole seconds: 4 s ahead is at least 3 s of waiting.
  const until = new Date(Date.now() + 4000).toUTCString();
  proxy.fault({ method: 'POST', path: `/${db}/_bulk_docs`, action: 'status', status: 503, retryAfter: until });
  const outcome = await page.evaluate(async () => (await window.edit({ _id: 'x' })).synced);
  assert.equal(outcome.outcome, 'accepted');
  const pushes = proxy.requests(`/${db}/_bulk_docs`);
  assert.equal(pushes.length, 2);
  const waited = pushes[1].t - pushes[0].t;
  assert.ok(waited >= 2500, `retried after ${waited} ms, before the date the server named (${until})`);
  const errors = await page.evaluate(() => window.events.filter((e) => e.ev === 'error').map((e) => e.p));
  const refused = errors.find((e) => e.status === 503);
  assert.ok(refused.retryAfterMs > 2000 && refused.retryAfterMs <= 4000, JSON.stringify(refused));
  await context.close();
});

test('a change the server refuses is parked and reported, and the rest of the queue flows', async () => {
  const context = await browser.newContext();
  const page = await sdkPage(context, proxy.url);
  const db = fresh('poison');
  await openDb(page, fresh('c'), db, { live: false });
  const result = await page.evaluate(async () => {
    const big = await window.edit({ _id: 'big', text: 'x'.repeat(8000) });
    const small = [];
    for (let i = 0; i < 3; i++) small.push((await window.edit({ _id: `after-${i}` })).synced);
    const report = await window.db.sync();
    return { report, big: await big.synced, small: await Promise.all(small), outbox: await window.db.outbox(), errors: window.events.filter((e) => e.ev === 'error').map((e) => e.p) };
  });
  assert.equal(result.report.pushed, 3);
  assert.equal(result.big.outcome, 'rejected');
  assert.equal(result.big.error.error, 'document_too_large');
  assert.deepEqual(result.small.map((o) => o.outcome), ['accepted', 'accepted', 'accepted']);
  assert.equal(result.outbox.length, 1, 'kept, never dropped');
  assert.equal(result.outbox[0].state, 'rejected');
  assert.equal(result.errors.filter((e) => e.code === 'rejected' && e.id === 'big').length, 1);
  const docs = await serverDocs(server, db);
  assert.deepEqual(Object.keys(docs).sort(), ['after-0', 'after-1', 'after-2']);
  // The app fixes the document: the new edit replaces the parked one and lands.
  const fixed = await page.evaluate(async () => { await window.edit({ _id: 'big', text: 'short' }); await window.db.sync(); return window.db.pendingCount(); });
  assert.equal(fixed, 0);
  await context.close();
});

test('a tab closed in the middle of pushing 500 edits resumes: all 500 land exactly once', async () => {
  const context = await browser.newContext();
  const db = fresh('closed');
  const name = fresh('c');
  let page = await sdkPage(context, proxy.url);
  await openDb(page, name, db, { live: false, batchSize: 25 });
  await page.evaluate(async () => { for (let i = 0; i < 500; i++) await window.edit({ _id: `e-${String(i).padStart(3, '0')}`, i }); });
  proxy.fault({ method: 'POST', path: `/${db}/_bulk_docs`, action: 'delay', delayMs: 150, times: 1000 });
  page.evaluate(() => window.db.sync()).catch(() => {});
  await eventually(() => proxy.requests(`/${db}/_bulk_docs`).length >= 3, 15000, 'pushing to start');
  await page.close();
  proxy.clearFaults();
  page = await sdkPage(context, proxy.url);
  await openDb(page, name, db);
  await eventually(async () => (await pending(page)) === 0, 30000, 'the rest to be pushed');
  const docs = await serverDocs(server, db);
  assert.equal(Object.keys(docs).length, 500);
  for (const doc of Object.values(docs)) assert.match(doc._rev, /^1-/, `${doc._id} written more than once`);
  await context.close();
});

test('census: one document edited offline in two sessions with a reload between is one push', async () => {
  const context = await browser.newContext();
  const db = fresh('census');
  const name = fresh('c');
  let page = await sdkPage(context, proxy.url);
  // The server is unreachable (every request to it dropped), while the page itself still reloads.
  proxy.fault({ path: `/${db}`, action: 'drop-request', times: 100000 });
  await openDb(page, name, db);
  await page.evaluate(() => window.edit({ _id: 'household-12', people: 3, visited: false }));
  await eventually(async () => (await page.evaluate(() => window.db.status())).state === 'offline', 5000, 'offline');
  await page.reload();
  await page.waitForFunction(() => window.ready === true);
  await openDb(page, name, db);
  await page.evaluate(() => window.edit({ _id: 'household-12', people: 4, visited: true }));
  assert.equal((await page.evaluate(() => window.db.outbox())).length, 1, 'coalesced');
  proxy.clearFaults();
  try {
    await eventually(async () => (await pending(page)) === 0, 15000, 'the push');
  } catch (e) {
    console.log(JSON.stringify(proxy.log.slice(-10)), JSON.stringify(await page.evaluate(() => window.db.status())), JSON.stringify(await page.evaluate(() => window.db.outbox())));
    throw e;
  }
  const pushes = proxy.requests(`/${db}/_bulk_docs`).filter((p) => p.action === 'pass');
  assert.deepEqual(pushes.map((p) => p.ids), [['household-12']], 'exactly one push of the document');
  const docs = await serverDocs(server, db);
  assert.equal(docs['household-12'].people, 4);
  assert.equal(docs['household-12'].visited, true);
  assert.match(docs['household-12']._rev, /^1-/);
  await context.close();
});

test('polling brings another client\'s change without any call', async () => {
  const context = await browser.newContext();
  const page = await sdkPage(context, proxy.url);
  const db = fresh('poll');
  await openDb(page, fresh('c'), db, { pollIntervalMs: 500 });
  await eventually(async () => (await page.evaluate(() => window.db.status())).state === 'idle', 10000, 'first sync');
  const res = await server.fetch(`/${db}/from-elsewhere`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ by: 'another client' }) });
  assert.equal(res.status, 201);
  const doc = await eventually(() => page.evaluate(() => window.db.get('from-elsewhere')), 5000, 'the polled change');
  assert.equal(doc.by, 'another client');
  const remoteChange = await page.evaluate(() => window.events.some((e) => e.ev === 'change' && e.p.origin === 'remote' && e.p.id === 'from-elsewhere'));
  assert.ok(remoteChange);
  await context.close();
});

test('a 401 asks the auth callback for fresh headers and retries with them', async () => {
  const context = await browser.newContext();
  const page = await sdkPage(context, proxy.url);
  const db = fresh('auth');
  proxy.fault({ method: 'POST', path: `/${db}/_bulk_docs`, action: 'status', status: 401 });
  // The proxy answers the first push 401, as a server does once a token expired.
  const freshAuth = appHeaders.Authorization ?? 'Bearer fresh';
  await page.evaluate(async ({ name, remote, stale, freshAuth }) => {
    window.authCalls = 0;
    window.db = await window.tidesync.Tidesync.open({
      name, remote, debounceMs: 20, backoffBaseMs: 5000, headers: stale,
      auth: async () => { window.authCalls++; return { Authorization: freshAuth }; },
    });
  }, { name: fresh('c'), remote: `${proxy.url}/${db}`, stale: staleHeaders, freshAuth });
  const outcome = await page.evaluate(async () => (await window.edit({ _id: 'secret' })).synced);
  assert.equal(outcome.outcome, 'accepted');
  const pushes = proxy.requests(`/${db}/_bulk_docs`);
  assert.deepEqual(pushes.map((p) => p.auth), [staleHeaders.Authorization, freshAuth]);
  assert.ok(pushes[1].t - pushes[0].t < 4000, 'retried at once, not after the backoff');
  assert.equal(await page.evaluate(() => window.authCalls), 1);
  await context.close();
});

test('a hung request times out and is retried; pause holds automatic sync until resume', async () => {
  const context = await browser.newContext();
  const page = await sdkPage(context, proxy.url);
  const db = fresh('timeout');
  await openDb(page, fresh('c'), db, { requestTimeoutMs: 1000 });
  await eventually(async () => (await page.evaluate(() => window.db.status())).state === 'idle', 10000, 'first sync');
  proxy.fault({ method: 'POST', path: `/${db}/_bulk_docs`, action: 'delay', delayMs: 4000 });
  const outcome = await page.evaluate(async () => (await window.edit({ _id: 'slow' })).synced);
  assert.equal(outcome.outcome, 'accepted');
  const errors = await page.evaluate(() => window.events.filter((e) => e.ev === 'error').map((e) => e.p.code));
  assert.ok(errors.length >= 1 && errors.every((c) => c === 'timeout'), `errors: ${errors}`);

  await page.evaluate(() => window.db.pause());
  assert.equal((await page.evaluate(() => window.db.status())).state, 'paused');
  const before = proxy.requests(`/${db}/_bulk_docs`).length;
  await page.evaluate(() => window.edit({ _id: 'held' }));
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(proxy.requests(`/${db}/_bulk_docs`).length, before, 'nothing pushed while paused');
  assert.equal(await pending(page), 1);
  await page.evaluate(() => window.db.resume());
  await eventually(async () => (await pending(page)) === 0, 5000, 'the push after resume');
  await context.close();
});

test('an auth callback that never answers times out, is reported, and sync goes on', async () => {
  const context = await browser.newContext();
  const page = await sdkPage(context, proxy.url);
  const db = fresh('authhang');
  proxy.fault({ method: 'POST', path: `/${db}/_bulk_docs`, action: 'status', status: 401 });
  await page.evaluate(async ({ name, remote }) => {
    window.events = [];
    window.db = await window.tidesync.Tidesync.open({
      name, remote, headers: window.remoteHeaders, live: false, callbackTimeoutMs: 300, auth: () => new Promise(() => {}),
    });
    window.db.on('error', (p) => window.events.push(p));
  }, { name: fresh('c'), remote: `${proxy.url}/${db}` });
  const first = await page.evaluate(async () => { await window.edit({ _id: 'a' }); return window.db.sync(); });
  assert.equal(first.errors[0].code, 'unauthorized');
  await eventually(() => page.evaluate(() => window.events.some((e) => e.code === 'auth_timeout')), 5000, 'the auth timeout');
  const second = await page.evaluate(() => window.db.sync());
  assert.deepEqual(second.errors, []);
  assert.equal(second.pushed, 1);
  await context.close();
});
