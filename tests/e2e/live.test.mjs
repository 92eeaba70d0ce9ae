// Realtime: a live client holds a `_changes` feed, so another client's change
// reaches it without polling (every client here has polling off, so a change
// can only arrive through the feed); a stalled feed steps down to long-poll
// and back up; going offline closes the feed and coming back reopens it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, lacks } from './harness.mjs';
import { syncSuite, fresh, liveClient } from './suite.mjs';

let server;
let proxy;
let browser;
syncSuite((started) => ({ server, proxy, browser } = started));

/** A client in a context of its own, with polling off; `window.heard` lists the remote changes. */
const client = (remoteDb, options) => liveClient(browser, proxy, remoteDb, options);

/** A writer that syncs by hand only (it holds no feed). */
async function writer(remoteDb) {
  return client(remoteDb, { live: false });
}

const write = (page, id, v) => page.evaluate(async ({ id, v }) => {
  await window.edit({ _id: id, v });
  const report = await window.db.sync();
  if (report.errors.length) throw new Error(JSON.stringify(report.errors));
}, { id, v });

const heard = (page, id) => page.evaluate((id) => window.heard.includes(id), id);
const transport = (page) => page.evaluate(async () => (await window.db.status()).transport);
const feeds = (db, kind) => proxy.log.filter((e) => e.path === `/${db}/_changes` && e.feed === kind);

test('a change reaches a live client through its feed, with polling off', async () => {
  const db = fresh('live');
  const b = await client(db);
  const a = await writer(db);
  await eventually(async () => (await transport(b.page)) === 'stream', 15000, 'B holds a streamed feed');
  assert.equal(feeds(db, 'continuous').length, 1, 'one feed open');
  assert.equal(await transport(a.page), 'none', 'a client without automatic sync holds none');
  await write(a.page, 'doc-1', 1);
  await eventually(() => heard(b.page, 'doc-1'), 10000, 'B hears of doc-1');
  assert.deepEqual(await b.page.evaluate(() => window.db.get('doc-1').then((d) => d.v)), 1);
  // The same feed carries the next change; B's own writes go out as usual.
  await write(a.page, 'doc-2', 2);
  await eventually(() => heard(b.page, 'doc-2'), 10000, 'B hears of doc-2');
  await b.page.evaluate(() => window.edit({ _id: 'from-b', v: 3 }));
  await eventually(() => b.page.evaluate(async () => (await window.db.status()).pending === 0), 10000, 'B pushes');
  await a.page.evaluate(() => window.db.sync());
  assert.equal(await a.page.evaluate(() => window.db.get('from-b').then((d) => d?.v)), 3);
  assert.equal(feeds(db, 'continuous').length, 1, 'still the one feed');
  await Promise.all([a.context.close(), b.context.close()]);
});

test('a stalled feed steps down to long-poll, still delivers, and steps back up', async () => {
  const db = fresh('stall');
  // The first streamed feed sends one heartbeat, then nothing.
  proxy.fault({ path: `/${db}/_changes`, feed: 'continuous', action: 'stall' });
  const b = await client(db, { feedHeartbeatMs: 300 });
  const a = await writer(db);
  await eventually(async () => (await transport(b.page)) === 'longpoll', 15000, 'B steps down');
  await write(a.page, 'after-stall', 1);
  await eventually(() => heard(b.page, 'after-stall'), 10000, 'B hears through long-poll');
  assert.ok(feeds(db, 'longpoll').length >= 1);
  // Three heartbeats later it tries the stream again, which now works.
  await eventually(async () => (await transport(b.page)) === 'stream', 15000, 'B steps back up');
  assert.equal(feeds(db, 'continuous').length, 2, 'the stalled feed and the one after it');
  await write(a.page, 'after-step-up', 2);
  await eventually(() => heard(b.page, 'after-step-up'), 10000, 'B hears through the stream again');
  const transports = await b.page.evaluate(() => window.transports);
  assert.deepEqual(transports.slice(transports.indexOf('stream')), ['stream', 'longpoll', 'stream'], 'a status event at each switch');
  await Promise.all([a.context.close(), b.context.close()]);
});

test('a stream that never sends a byte (a buffering server) is left for long-poll for good', async () => {
  const db = fresh('silent');
  proxy.fault({ path: `/${db}/_changes`, feed: 'continuous', action: 'silent' });
  const b = await client(db, { feedHeartbeatMs: 300 });
  const a = await writer(db);
  await eventually(async () => (await transport(b.page)) === 'longpoll', 15000, 'B steps down');
  await write(a.page, 'after-silence', 1);
  await eventually(() => heard(b.page, 'after-silence'), 10000, 'B hears through long-poll');
  // Ten heartbeats later (where a stall would have stepped back up after
  // three), the stream has not been tried again.
  await new Promise((r) => setTimeout(r, 3000));
  assert.equal(feeds(db, 'continuous').length, 1, 'the stream was tried once');
  assert.equal(await transport(b.page), 'longpoll');
  await Promise.all([a.context.close(), b.context.close()]);
});

test('going offline closes the feed and coming back reopens it; pause does too', { skip: lacks('offline') }, async () => {
  const db = fresh('reopen');
  const b = await client(db);
  const a = await writer(db);
  await eventually(async () => (await transport(b.page)) === 'stream', 15000, 'B holds a feed');
  await b.context.setOffline(true);
  await eventually(async () => (await transport(b.page)) === 'none', 10000, 'no feed offline');
  await write(a.page, 'while-offline', 1);
  await b.context.setOffline(false);
  // Back online: the cycle pulls what was missed, and a new feed opens.
  await eventually(() => heard(b.page, 'while-offline'), 10000, 'B catches up');
  await eventually(() => feeds(db, 'continuous').length === 2, 10000, 'a second feed');
  await write(a.page, 'after-reopen', 2);
  await eventually(() => heard(b.page, 'after-reopen'), 10000, 'through the new feed');
  await b.page.evaluate(() => window.db.pause());
  assert.equal(await transport(b.page), 'none');
  await b.page.evaluate(() => window.db.resume());
  await eventually(async () => (await transport(b.page)) === 'stream', 10000, 'resumed');
  assert.equal(feeds(db, 'continuous').length, 3);
  await Promise.all([a.context.close(), b.context.close()]);
});

test('liveFeed: false leaves interval polling, and bad feed options are refused', async () => {
  const db = fresh('nofeed');
  const b = await client(db, { liveFeed: false, pollIntervalMs: 300 });
  const a = await writer(db);
  await eventually(async () => (await transport(b.page)) === 'poll', 10000, 'B polls');
  await write(a.page, 'polled', 1);
  await eventually(() => heard(b.page, 'polled'), 10000, 'B polls it in');
  assert.equal(feeds(db, 'continuous').length + feeds(db, 'longpoll').length, 0, 'no feed');
  for (const bad of [0, -5, 'fast', Infinity]) {
    const error = await b.page.evaluate(async (bad) => {
      try {
        await window.tidesync.Tidesync.open({ name: 'bad-feed', feedHeartbeatMs: bad });
        return null;
      } catch (e) {
        return { code: e.code, message: e.message };
      }
    }, bad === Infinity ? 1e400 : bad);
    assert.equal(error?.code, 'invalid_options', `feedHeartbeatMs ${bad}`);
  }
  await Promise.all([a.context.close(), b.context.close()]);
});
