// Live queries: `subscribe(query, callback)` keeps a list on screen current
// through this tab's writes, another tab's, pulled changes and the end of a
// sync cycle, in two pages of one browser context (two tabs of one app).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sdkPage, eventually } from './harness.mjs';
import { syncSuite, fresh } from './suite.mjs';

let server;
let proxy;
let browser;
syncSuite((started) => ({ server, proxy, browser } = started));

async function open(page, name, remoteDb) {
  await page.evaluate(async ({ name, remote }) => {
    window.db = await window.tidesync.Tidesync.open({ name, remote, headers: window.remoteHeaders, live: false });
    window.changes = [];
    window.db.on('change', (c) => window.changes.push(c.id));
  }, { name, remote: `${proxy.url}/${remoteDb}` });
}

/** Subscribes in `page` as window.lists[slot]: every result the callback got, as `id:v` strings. */
function subscribe(page, options, slot) {
  return page.evaluate(({ options, slot }) => {
    window.lists ??= {};
    window.offs ??= {};
    window.lists[slot] = [];
    window.offs[slot] = window.db.subscribe(options, (docs) => {
      window.lists[slot].push(docs.map((d) => `${d._id}:${d.v ?? ''}`));
    });
  }, { options, slot });
}

const latest = (page, slot) => page.evaluate((s) => window.lists[s].at(-1), slot);
const calls = (page, slot) => page.evaluate((s) => window.lists[s].length, slot);
const put = (page, doc) => page.evaluate((d) => window.edit(d), doc);

test('a live list follows local writes, another tab\'s, pulled ones, and deletions', async () => {
  const context = await browser.newContext();
  const db = fresh('live-query');
  await server.prepare(db);
  const name = fresh('c');
  const a = await sdkPage(context, proxy.url);
  const b = await sdkPage(context, proxy.url);
  await open(a, name, db);
  await open(b, name, db);
  await subscribe(a, { prefix: 'todo-' }, 'todos');
  await eventually(async () => (await calls(a, 'todos')) === 1, 5000, 'the first call');
  assert.deepEqual(await latest(a, 'todos'), [], 'called at once with the current (empty) result');

  await put(a, { _id: 'todo-1', v: 1 });
  await eventually(async () => JSON.stringify(await latest(a, 'todos')) === '["todo-1:1"]', 5000, 'this tab\'s write');
  await put(b, { _id: 'todo-2', v: 1 });
  await eventually(async () => JSON.stringify(await latest(a, 'todos')) === '["todo-1:1","todo-2:1"]', 5000, 'the other tab\'s write');

  // Another client's write, pulled by this tab's sync (the first sync
  // creates the remote database).
  await a.evaluate(() => window.db.sync());
  await server.fetch(`/${db}/todo-3`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ v: 7 }) });
  await a.evaluate(() => window.db.sync());
  await eventually(async () => (await latest(a, 'todos')).includes('todo-3:7'), 5000, 'the pulled write');

  await a.evaluate(() => window.db.delete('todo-1'));
  await eventually(async () => JSON.stringify(await latest(a, 'todos')) === '["todo-2:1","todo-3:7"]', 5000, 'the deletion');

  // A write outside the query's prefix does not re-read it.
  const before = await calls(a, 'todos');
  await put(a, { _id: 'note-1', v: 1 });
  await eventually(async () => (await a.evaluate(() => window.changes)).includes('note-1'), 5000, 'the change event');
  await put(a, { _id: 'todo-4', v: 1 });
  await eventually(async () => (await latest(a, 'todos')).includes('todo-4:1'), 5000, 'the next write in range');
  assert.equal(await calls(a, 'todos'), before + 1, 'note-1 caused no call, todo-4 one');
  await context.close();
});

test('a status-filtered list empties when a sync cycle pushes its documents; unsubscribing stops the calls', async () => {
  const context = await browser.newContext();
  const db = fresh('live-status');
  await server.prepare(db);
  const page = await sdkPage(context, proxy.url);
  await open(page, fresh('c'), db);
  await subscribe(page, { status: 'pending' }, 'pending');
  await subscribe(page, { limit: 2, descending: true }, 'last');
  await page.evaluate(() => window.db.putMany(Array.from({ length: 50 }, (_, i) => ({ _id: `p-${String(i).padStart(2, '0')}`, v: 1 }))));
  await eventually(async () => (await latest(page, 'pending')).length === 50, 5000, 'fifty pending');
  await eventually(async () => JSON.stringify(await latest(page, 'last')) === '["p-49:1","p-48:1"]', 5000, 'the last two');
  // A bulk write of 50 is read again a few times, not once per document.
  assert.ok((await calls(page, 'pending')) <= 6, `${await calls(page, 'pending')} calls`);
  await page.evaluate(() => window.db.sync());
  await eventually(async () => (await latest(page, 'pending')).length === 0, 5000, 'nothing pending after the push');

  await page.evaluate(() => window.offs.last());
  const frozen = await calls(page, 'last');
  await put(page, { _id: 'd', v: 1 });
  await eventually(async () => (await latest(page, 'pending')).includes('d:1'), 5000, 'the other subscription still runs');
  assert.equal(await calls(page, 'last'), frozen, 'an unsubscribed callback is not called');
  await context.close();
});

test('bad options and callbacks are refused at once with a code', async () => {
  const context = await browser.newContext();
  const page = await sdkPage(context, proxy.url);
  await page.evaluate(async () => { window.db = await window.tidesync.Tidesync.open({ name: `bad-${Date.now()}` }); });
  const codes = await page.evaluate(() => {
    const out = [];
    for (const [options, callback] of [[{ limt: 1 }, () => {}], [{ limit: -1 }, () => {}], [{}, 'not a function'], [undefined, undefined]]) {
      try { window.db.subscribe(options, callback); out.push('accepted'); } catch (e) { out.push(e.code); }
    }
    return out;
  });
  assert.deepEqual(codes, ['invalid_options', 'invalid_options', 'invalid_listener', 'invalid_listener']);
  await context.close();
});
