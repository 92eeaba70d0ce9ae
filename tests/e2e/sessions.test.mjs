// Server-side sessions (a reference-server extension): a live client's feed
// is listed at `GET /_active_tasks` under the id the SDK sends, a polling
// client's pulls too; past the server's cap on live feeds (one here) a
// client's feed is refused with 503, and the client steps down to polling,
// still syncing, and back up once there is room.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, couch } from './harness.mjs';
import { syncSuite, fresh, liveClient } from './suite.mjs';

let server;
let proxy;
let browser;
syncSuite((started) => ({ server, proxy, browser } = started), ['--max-live-feeds', '1']);

const skip = couch ? 'sessions and the live-feed cap are reference-server features; CouchDB has neither' : false;

const client = (remoteDb, options) => liveClient(browser, proxy, remoteDb, options);

const transport = (page) => page.evaluate(async () => (await window.db.status()).transport);
const tasks = async () => (await server.fetch('/_active_tasks')).json();
const liveTasks = async (db) => (await tasks()).filter((t) => t.database === db && t.transport !== 'poll');
const refusals = (db) => proxy.log.filter((e) => e.path === `/${db}/_changes` && e.feed && e.status === 503);

test('the server lists who syncs and caps live feeds; a refused client polls, then steps back up', { skip }, async () => {
  const db = fresh('sessions');
  // A short heartbeat: a server notices a feed's client left when it next
  // writes to it.
  const a = await client(db, { pollIntervalMs: 0, feedHeartbeatMs: 500 });
  await eventually(async () => (await transport(a.page)) === 'stream', 15000, 'A holds a streamed feed');
  // A's cycles pull by `_changes` too, which lists it as polling as well.
  let listed = await liveTasks(db);
  assert.equal(listed.length, 1, JSON.stringify(listed));
  assert.equal(listed[0].type, 'tidesync_sync');
  assert.equal(listed[0].transport, 'continuous');
  assert.match(listed[0].client ?? '', /^[0-9a-f-]{36}$/, 'A names itself');
  const aId = listed[0].client;

  // B finds the server at its cap: both live feeds refused, so it polls.
  const b = await client(db, { pollIntervalMs: 300, feedHeartbeatMs: 1000 });
  await eventually(() => {
    const refused = refusals(db).map((e) => e.feed);
    return refused.includes('continuous') && refused.includes('longpoll');
  }, 15000, 'B refused a stream, then a long-poll');
  await eventually(async () => (await transport(b.page)) === 'poll', 15000, 'B steps down to polling');
  const bTask = await eventually(async () => (await tasks())
    .find((t) => t.database === db && t.transport === 'poll' && t.client !== aId), 10000, 'B listed as polling');
  assert.match(bTask.client ?? '', /^[0-9a-f-]{36}$/, 'B names itself');
  assert.deepEqual((await liveTasks(db)).map((t) => t.client), [aId], 'still the one live feed, A\'s');

  // Both still sync: B's write reaches A through A's feed, A's reaches B by polling.
  await b.page.evaluate(() => window.edit({ _id: 'from-b', v: 1 }));
  await eventually(() => a.page.evaluate(() => window.heard.includes('from-b')), 10000, 'A hears of B');
  await a.page.evaluate(() => window.edit({ _id: 'from-a', v: 2 }));
  await eventually(() => b.page.evaluate(() => window.heard.includes('from-a')), 10000, 'B pulls A');

  // A leaves: its session ends, and B steps back up to a live feed.
  await a.context.close();
  await eventually(async () => !(await liveTasks(db)).some((t) => t.client === aId), 10000, "A's live session ends");
  await eventually(async () => (await transport(b.page)) !== 'poll', 20000, 'B steps back up');
  // (A long-poll is listed while a request waits, between two of them not.)
  await eventually(async () => (await liveTasks(db)).map((t) => t.client).join() === bTask.client, 10000, 'B listed with its live feed');
  await b.context.close();
});
