// The WebSocket channel (a reference-server extension): a live client that
// finds the `websocket` feature holds the database's socket, which carries
// its pushes and pulls up and other clients' changes down, so it makes no
// HTTP request per write, and going offline closes it, coming back reopens it; a socket cut after a push went up, before its
// answer came back, loses nothing and duplicates nothing (invariant 4); a
// refused socket steps down to the streamed feed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, serverDocs, couch, lacks, startServer } from './harness.mjs';
import { startProxy } from './proxy.mjs';
import { syncSuite, fresh, liveClient } from './suite.mjs';

let server;
let proxy;
let browser;
syncSuite((started) => ({ server, proxy, browser } = started), ['--websocket', 'true']);

const skip = couch ? 'the WebSocket channel is a reference-server feature; CouchDB has none' : false;

const client = (remoteDb, options) => liveClient(browser, proxy, remoteDb, options);

const transport = (page) => page.evaluate(async () => (await window.db.status()).transport);
const pending = (page) => page.evaluate(async () => (await window.db.status()).pending);
/** HTTP requests to the database at the proxy since `t` (the socket's excepted). */
const httpSince = (db, t) => proxy.log.filter((e) => e.t >= t && e.path.startsWith(`/${db}`) && e.feed !== 'socket');

test('a live client pushes, pulls and hears changes over one WebSocket', { skip: skip || lacks('offline') }, async () => {
  const db = fresh('socket');
  const b = await client(db);
  await eventually(async () => (await transport(b.page)) === 'websocket', 15000, 'B holds the socket');
  const opened = Date.now();
  for (let i = 0; i < 3; i++) await b.page.evaluate((i) => window.edit({ _id: `b-${i}`, v: i }), i);
  await eventually(async () => (await pending(b.page)) === 0, 15000, 'B pushed');
  const docs = await serverDocs(server, db);
  assert.deepEqual([0, 1, 2].map((i) => docs[`b-${i}`]?.v), [0, 1, 2]);
  assert.deepEqual(httpSince(db, opened).map((e) => `${e.method} ${e.path}`), [], 'no HTTP request: the socket carried them');
  assert.ok(proxy.log.filter((e) => e.feed === 'socket' && e.path === `/${db}/_socket`).every((e) => e.up > 0), 'frames went up the socket');

  // Another client's change (written over HTTP) reaches B down the socket.
  const a = await client(db, { live: false });
  await a.page.evaluate(async () => { await window.edit({ _id: 'from-a', v: 9 }); await window.db.sync(); });
  await eventually(() => b.page.evaluate(() => window.heard.includes('from-a')), 10000, 'B hears of A');
  assert.equal(await b.page.evaluate(() => window.db.get('from-a').then((d) => d?.v)), 9);

  // Offline closes the socket; back online, a new one opens and B catches up.
  const sockets = () => proxy.log.filter((e) => e.feed === 'socket' && e.path === `/${db}/_socket`).length;
  const before = sockets();
  await b.context.setOffline(true);
  await eventually(async () => (await transport(b.page)) === 'none', 10000, 'no socket offline');
  await a.page.evaluate(async () => { await window.edit({ _id: 'while-offline', v: 1 }); await window.db.sync(); });
  await b.context.setOffline(false);
  await eventually(async () => (await transport(b.page)) === 'websocket', 15000, 'the socket again');
  await eventually(() => b.page.evaluate(() => window.heard.includes('while-offline')), 10000, 'B catches up');
  assert.ok(sockets() > before, 'a new socket was opened');
  await Promise.all([a.context.close(), b.context.close()]);
});

test('a socket cut after a push went up loses nothing and pushes nothing twice', { skip }, async () => {
  const db = fresh('socket-cut');
  // The first large frame up (the push of 40 documents) reaches the server,
  // then the connection is cut before its answer comes back.
  proxy.fault({ socket: true, path: `/${db}/_socket`, action: 'cut-up', bytes: 2000 });
  const b = await client(db);
  await eventually(async () => (await transport(b.page)) === 'websocket', 15000, 'B holds the socket');
  const outcomes = b.page.evaluate(async () => {
    const docs = Array.from({ length: 40 }, (_, i) => ({ _id: `doc-${String(i).padStart(2, '0')}`, text: 'x'.repeat(60), i }));
    const results = await window.db.putMany(docs);
    return Promise.all(results.map((r) => r.synced));
  });
  const settled = await outcomes;
  assert.ok(proxy.log.some((e) => e.feed === 'socket' && e.cut), 'the socket was cut mid-batch');
  assert.deepEqual([...new Set(settled.map((o) => o.outcome))], ['accepted'], 'every write settled as accepted');
  await eventually(async () => (await pending(b.page)) === 0, 15000, 'nothing pending');
  const docs = await serverDocs(server, db);
  assert.equal(Object.keys(docs).length, 40);
  for (const doc of Object.values(docs)) assert.match(doc._rev, /^1-/, `${doc._id} written once`);
  assert.equal(await b.page.evaluate(async () => (await window.db.conflicts()).length), 0, 'its own lost push is no conflict');
  await eventually(async () => (await transport(b.page)) === 'websocket', 15000, 'B holds a socket again');
  await b.context.close();
});

test('a refused socket steps down to the streamed feed, which delivers', { skip }, async () => {
  const db = fresh('socket-refused');
  proxy.fault({ socket: true, path: `/${db}/_socket`, action: 'refuse', times: 5 });
  const b = await client(db, { feedHeartbeatMs: 60000 });
  await eventually(async () => (await transport(b.page)) === 'stream', 15000, 'B steps down to the stream');
  const a = await client(db, { live: false });
  await a.page.evaluate(async () => { await window.edit({ _id: 'via-stream', v: 1 }); await window.db.sync(); });
  await eventually(() => b.page.evaluate(() => window.heard.includes('via-stream')), 10000, 'B hears through the stream');
  await Promise.all([a.context.close(), b.context.close()]);
});

test('on a server that checks credentials, the socket carries the app\'s Authorization header; a stranger gets none', { skip }, async () => {
  // A server of its own, with an admin (fewer PBKDF2 rounds: a debug build).
  const secured = await startServer(['--websocket', 'true', '--admin', 'admin:socket-admin', '--pbkdf2-iterations', '1000']);
  const securedProxy = await startProxy(secured);
  try {
    const db = fresh('socket-auth');
    const json = { 'content-type': 'application/json' };
    let res = await secured.fetch('/_users/org.couchdb.user:ivy', { method: 'PUT', headers: json, body: JSON.stringify({ name: 'ivy', password: 'ivy-pw', roles: [], type: 'user' }) });
    assert.ok(res.ok, `user: ${res.status}`);
    res = await secured.fetch(`/${db}`, { method: 'PUT' });
    assert.ok(res.ok, `db: ${res.status}`);
    res = await secured.fetch(`/${db}/_security`, { method: 'PUT', headers: json, body: JSON.stringify({ members: { names: ['ivy'], roles: [] } }) });
    assert.ok(res.ok, `_security: ${res.status}`);

    const headers = { Authorization: `Basic ${Buffer.from('ivy:ivy-pw').toString('base64')}` };
    const ivy = await liveClient(browser, securedProxy, db, { headers, createRemote: false });
    await eventually(async () => (await transport(ivy.page)) === 'websocket', 15000, 'ivy holds the socket');
    const opened = Date.now();
    for (let i = 0; i < 3; i++) await ivy.page.evaluate((i) => window.db.put({ _id: `ivy-${i}`, v: i }), i);
    await eventually(async () => (await pending(ivy.page)) === 0, 15000, 'ivy pushed');
    const httpRequests = securedProxy.log.filter((e) => e.t >= opened && e.path.startsWith(`/${db}`) && e.feed !== 'socket');
    assert.deepEqual(httpRequests.map((e) => `${e.method} ${e.path}`), [], 'the socket carried the pushes');
    assert.deepEqual(Object.keys(await serverDocs(secured, db)).sort(), ['ivy-0', 'ivy-1', 'ivy-2']);

    // Without credentials the socket is refused, and so is every request.
    const stranger = await liveClient(browser, securedProxy, db, { headers: {}, createRemote: false, live: false });
    await stranger.page.evaluate(() => window.db.put({ _id: 'stranger' }));
    const report = await stranger.page.evaluate(() => window.db.sync());
    assert.equal(report.errors[0]?.code, 'unauthorized', JSON.stringify(report));
    assert.equal(await pending(stranger.page), 1, 'the change stays queued');
    await Promise.all([ivy.context.close(), stranger.context.close()]);
  } finally {
    await securedProxy.close();
    secured.stop();
  }
});
