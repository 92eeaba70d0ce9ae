// Reading at scale: `all()` pages through 10 000 documents by id (a range, a
// prefix, skip and limit, descending), as CouchDB's `_all_docs` does, and a
// page reads about its own size from IndexedDB, counted in the page by
// wrapping IndexedDB's reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sdkPage } from './harness.mjs';
import { syncSuite } from './suite.mjs';

let server;
let proxy;
let browser;
let page;
const N = 10000;
syncSuite(async (started) => {
  ({ server, proxy, browser } = started);
  page = await sdkPage(await browser.newContext(), proxy.url);
  await page.evaluate(async (n) => {
    // Every record IndexedDB hands back: getAll results and cursor steps.
    window.recordsRead = 0;
    const getAll = IDBObjectStore.prototype.getAll;
    IDBObjectStore.prototype.getAll = function (...args) {
      const request = getAll.apply(this, args);
      request.addEventListener('success', () => { window.recordsRead += request.result.length; });
      return request;
    };
    const openCursor = IDBObjectStore.prototype.openCursor;
    IDBObjectStore.prototype.openCursor = function (...args) {
      const request = openCursor.apply(this, args);
      request.addEventListener('success', () => { if (request.result) window.recordsRead += 1; });
      return request;
    };
    window.db = await window.tidesync.Tidesync.open({ name: `queries-${Date.now()}` });
    const id = (i) => `doc-${String(i).padStart(5, '0')}`;
    for (let i = 0; i < n; i += 1000) {
      await window.db.putMany(Array.from({ length: 1000 }, (_, k) => ({ _id: id(i + k), n: i + k })));
    }
    // Never synced, so deleting it forgets it (no tombstone).
    await window.db.delete(id(1));
  }, N);
});

/** The ids `all(options)` returns, and how many records IndexedDB handed back for it. */
async function all(options) {
  return page.evaluate(async (o) => {
    window.recordsRead = 0;
    const docs = await window.db.all(o);
    return { ids: docs.map((d) => d._id + (d._deleted ? ' (deleted)' : '')), read: window.recordsRead };
  }, options);
}

const ids = (...ns) => ns.map((i) => `doc-${String(i).padStart(5, '0')}`);

test('a first page of 10 reads a few dozen records, not 10 000', async () => {
  const first = await all({ limit: 10 });
  assert.deepEqual(first.ids, ids(0, 2, 3, 4, 5, 6, 7, 8, 9, 10));
  assert.ok(first.read <= 64, `${first.read} records read`);
  const everything = await all(undefined);
  assert.equal(everything.ids.length, N - 1);
  assert.ok(everything.read >= N - 1, 'the full listing reads them all');
});

test('ranges and prefixes select by id, both ends included', async () => {
  assert.deepEqual((await all({ startKey: 'doc-05000', limit: 3 })).ids, ids(5000, 5001, 5002));
  assert.deepEqual((await all({ startKey: 'doc-05000', endKey: 'doc-05004' })).ids, ids(5000, 5001, 5002, 5003, 5004));
  const prefix = await all({ prefix: 'doc-0999' });
  assert.deepEqual(prefix.ids, ids(9990, 9991, 9992, 9993, 9994, 9995, 9996, 9997, 9998, 9999));
  assert.ok(prefix.read <= 10, `${prefix.read} records read for a prefix of 10`);
  assert.deepEqual((await all({ prefix: 'nothing-' })).ids, []);
  assert.deepEqual((await all({ startKey: 'doc-00009', endKey: 'doc-00002' })).ids, [], 'an empty range');
  assert.deepEqual((await all({ startKey: 'doc-09998' })).ids, ids(9998, 9999));
});

test('descending starts from startKey and reads only the page', async () => {
  const last = await all({ descending: true, limit: 3 });
  assert.deepEqual(last.ids, ids(9999, 9998, 9997));
  assert.ok(last.read <= 4, `${last.read} records read`);
  assert.deepEqual((await all({ descending: true, startKey: 'doc-00003' })).ids, ids(3, 2, 0));
  assert.deepEqual((await all({ descending: true, startKey: 'doc-00003', endKey: 'doc-00002' })).ids, ids(3, 2));
  assert.deepEqual((await all({ descending: true, prefix: 'doc-0000', skip: 7 })).ids, ids(2, 0));
});

test('skip and limit page through everything, each document once, in order', async () => {
  const seen = [];
  let startKey;
  for (;;) {
    const batch = await all(startKey === undefined ? { limit: 1000 } : { startKey, skip: 1, limit: 1000 });
    assert.ok(batch.read <= 1300, `${batch.read} records read for a page of 1000`);
    seen.push(...batch.ids);
    if (batch.ids.length < 1000) break;
    startKey = batch.ids[batch.ids.length - 1];
  }
  assert.equal(seen.length, N - 1);
  assert.deepEqual(seen, (await all(undefined)).ids);
  assert.deepEqual((await all({ skip: N - 4 })).ids, ids(9997, 9998, 9999));
  assert.deepEqual((await all({ limit: 0 })).ids, []);
});

test('filters apply before skip and limit: status, tombstones', async () => {
  assert.deepEqual((await all({ limit: 3 })).ids, ids(0, 2, 3));
  assert.deepEqual((await all({ status: 'synced', limit: 5 })).ids, [], 'nothing synced without a remote');
  assert.deepEqual((await all({ status: 'pending', startKey: 'doc-00100', limit: 2 })).ids, ids(100, 101));
  // A tombstone needs a document the server had: a small synced database.
  const name = `queries-synced-${Date.now()}`;
  await server.prepare(name);
  const pages = await page.evaluate(async ({ name, remote }) => {
    const db = await window.tidesync.Tidesync.open({ name, remote, headers: window.remoteHeaders, live: false });
    await db.putMany([{ _id: 'a' }, { _id: 'b' }, { _id: 'c' }, { _id: 'd' }]);
    await db.sync();
    await db.delete('b');
    const ids = (docs) => docs.map((d) => d._id + (d._deleted ? ' (deleted)' : ''));
    const out = {
      live: ids(await db.all({ limit: 2 })),
      withDeleted: ids(await db.all({ limit: 2, includeDeleted: true })),
      pendingDescending: ids(await db.all({ status: 'pending', includeDeleted: true, descending: true, limit: 1 })),
      syncedSkip: ids(await db.all({ status: 'synced', skip: 1 })),
    };
    await db.destroy();
    return out;
  }, { name, remote: `${proxy.url}/${name}` });
  assert.deepEqual(pages, {
    live: ['a', 'c'],
    withDeleted: ['a', 'b (deleted)'],
    pendingDescending: ['b (deleted)'],
    syncedSkip: ['c', 'd'],
  });
});

test('bad options are refused with invalid_options, naming the option', async () => {
  const refused = await page.evaluate(async () => {
    const out = [];
    for (const options of [{ limt: 5 }, { limit: -1 }, { skip: 1.5 }, { startKey: 3 }, { descending: 'yes' }]) {
      try { await window.db.all(options); out.push('accepted'); } catch (e) { out.push(`${e.code}: ${e.message}`); }
    }
    return out;
  });
  assert.equal(refused.length, 5);
  for (const r of refused) assert.match(r, /^invalid_options: /);
  assert.match(refused[0], /limt/);
  assert.match(refused[1], /limit/);
});
