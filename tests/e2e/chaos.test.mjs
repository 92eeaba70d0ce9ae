// A randomized run: three clients write and delete on a small set of ids with
// random offline spells and proxy faults; once all are online and conflicts are
// settled, every client and the server hold the same documents, and every write
// ended as accepted, conflict or rejected. Set TIDESYNC_CHAOS_SEED to replay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sdkPage, eventually, serverDocs, lacks } from './harness.mjs';
import { syncSuite } from './suite.mjs';

let server;
let proxy;
let browser;
syncSuite((started) => ({ server, proxy, browser } = started));

/** mulberry32: a small seeded PRNG, so a failing run can be replayed. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const strip = (doc) => Object.fromEntries(Object.entries(doc).filter(([k]) => k !== '_rev'));

test('three clients under random faults converge and account for every write', { skip: lacks('offline') }, async () => {
  const seed = Number(process.env.TIDESYNC_CHAOS_SEED ?? Date.now() % 1e9);
  console.log(`chaos seed ${seed}`);
  const rand = random(seed);
  const pick = (n) => Math.floor(rand() * n);
  const db = `chaos-${seed}`;
  const clients = [];
  for (let c = 0; c < 3; c++) {
    const context = await browser.newContext();
    const page = await sdkPage(context, proxy.url);
    await page.evaluate(async ({ name, remote }) => {
      window.outcomes = { writes: 0, accepted: 0, conflict: 0, rejected: 0, discarded: 0 };
      window.db = await window.tidesync.Tidesync.open({ name, remote, headers: window.remoteHeaders, debounceMs: 20, backoffBaseMs: 50, backoffCapMs: 400, pollIntervalMs: 300 });
      window.write = async (op, id, body) => {
        const result = op === 'put' ? await window.edit({ _id: id, ...body }) : await window.db.delete(id);
        window.outcomes.writes++;
        result.synced.then((o) => { window.outcomes[o.outcome]++; });
      };
    }, { name: `client-${c}-${seed}`, remote: `${proxy.url}/${db}` });
    clients.push({ context, page, offline: false });
  }
  const faults = ['drop-response', 'drop-request', 'status', 'cut', 'delay'];
  for (let step = 0; step < 360; step++) {
    const client = clients[pick(3)];
    const roll = rand();
    const id = `k${pick(12)}`;
    if (roll < 0.7) {
      await client.page.evaluate(({ id, v }) => window.write('put', id, { v, list: [v % 3, v % 5] }), { id, v: pick(1000) });
    } else if (roll < 0.85) {
      await client.page.evaluate(async (id) => { if (await window.db.get(id)) await window.write('delete', id); }, id);
    } else if (roll < 0.95) {
      client.offline = !client.offline;
      await client.context.setOffline(client.offline);
    } else {
      const action = faults[pick(faults.length)];
      const path = rand() < 0.6 ? `/${db}/_bulk_docs` : `/${db}/_changes`;
      proxy.fault({ path, action, status: 503, retryAfter: 0, delayMs: 200 });
    }
    if (step % 40 === 0) await new Promise((r) => setTimeout(r, 100));
  }
  proxy.clearFaults();
  for (const client of clients) await client.context.setOffline(false);
  const quiet = async () => {
    for (const { page } of clients) {
      const s = await page.evaluate(() => window.db.status());
      if (s.pending !== 0 || s.state === 'syncing') return false;
    }
    return true;
  };
  await eventually(quiet, 60000, 'every outbox to drain');
  // Settle what is left by taking the server's side, then catch everyone up.
  for (const { page } of clients) {
    await page.evaluate(async () => { for (const c of await window.db.conflicts()) await window.db.discardLocal(c.id); });
  }
  for (let round = 0; round < 2; round++) {
    for (const { page } of clients) await page.evaluate(() => window.db.sync());
  }
  const expected = Object.fromEntries(Object.entries(await serverDocs(server, db)).map(([k, d]) => [k, strip(d)]));
  for (const [i, { page }] of clients.entries()) {
    const docs = await page.evaluate(() => window.db.all());
    const held = Object.fromEntries(docs.map((d) => [d._id, strip(d)]));
    assert.deepEqual(held, expected, `client ${i} differs from the server (seed ${seed})`);
    const outcomes = await eventually(() => page.evaluate(() => {
      const o = window.outcomes;
      return o.accepted + o.conflict + o.rejected + o.discarded === o.writes ? o : null;
    }), 10000, `client ${i}: every write settled (seed ${seed})`);
    assert.ok(outcomes.writes > 0);
    assert.equal((await page.evaluate(() => window.db.status())).pending, 0);
  }
  for (const { context } of clients) await context.close();
});
