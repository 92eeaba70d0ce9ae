// A server without a WebSocket or a usable stream: pouchdb-server (npm, in
// memory) lists no `changes-continuous` feature and compresses a continuous
// feed until it ends, so a live client holds long-poll requests there, and
// another client's change still reaches it through them, with polling off.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, eventually } from './harness.mjs';
import { startProxy } from './proxy.mjs';
import { startPouchServer } from '../../bench/lib/servers.mjs';
import { fresh, liveClient } from './suite.mjs';

let pouch;
let proxy;
let browser;

before(async () => {
  pouch = await startPouchServer();
  // The proxy serves the test page from the same origin as the server.
  proxy = await startProxy({ url: pouch.url, prepare: async () => {} });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await proxy?.close();
  await pouch?.stop();
});

const client = (remoteDb, options) => liveClient(browser, proxy, remoteDb, options);

test('on pouchdb-server a live client holds long-polls, which deliver', async () => {
  const db = fresh('pouch');
  const b = await client(db);
  await eventually(async () => (await b.page.evaluate(async () => (await window.db.status()).transport)) === 'longpoll', 15000, 'B long-polls');
  const a = await client(db, { live: false });
  await a.page.evaluate(async () => {
    await window.edit({ _id: 'from-a', v: 1 });
    const report = await window.db.sync();
    if (report.errors.length) throw new Error(JSON.stringify(report.errors));
  });
  await eventually(() => b.page.evaluate(() => window.heard.includes('from-a')), 15000, 'B hears of A');
  const feeds = proxy.log.filter((e) => e.path === `/${db}/_changes` && e.feed);
  assert.ok(feeds.length >= 1 && feeds.every((e) => e.feed === 'longpoll'), `only long-polls: ${feeds.map((e) => e.feed)}`);
  assert.equal(proxy.log.filter((e) => e.path === `/${db}/_socket`).length, 0, 'no socket tried');
  await Promise.all([a.context.close(), b.context.close()]);
});
