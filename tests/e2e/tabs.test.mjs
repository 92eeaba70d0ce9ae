// One database, many tabs: pages of one browser context share IndexedDB, as
// the tabs of a web app do. One tab leads and syncs; every write is pushed
// once, nothing is lost, every tab hears of every change, and leadership
// moves when the leader's tab goes away.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sdkPage, eventually, serverDocs, lacks } from './harness.mjs';
import { syncSuite, fresh } from './suite.mjs';

let server;
let proxy;
let browser;
syncSuite((started) => ({ server, proxy, browser } = started));

/**
 * Opens the database `name` in `page` as window.db (or window[slot]),
 * recording its events in window.events[slot]. `options` is JS source for
 * extra open() options (functions allowed).
 */
async function open(page, name, remoteDb, options = '{}', slot = 'db') {
  await page.evaluate(async ({ name, remote, options, slot }) => {
    window.events ??= {};
    window.events[slot] = [];
    // eslint-disable-next-line no-new-func
    const extra = new Function(`return (${options});`)();
    const db = await window.tidesync.Tidesync.open({ name, remote, headers: window.remoteHeaders, debounceMs: 20, backoffBaseMs: 100, backoffCapMs: 1000, pollIntervalMs: 0, ...extra });
    window[slot] = db;
    for (const ev of ['change', 'conflict', 'error', 'status', 'resolved']) db.on(ev, (p) => window.events[slot].push({ ev, p }));
  }, { name, remote: `${proxy.url}/${remoteDb}`, options, slot });
}

const events = (page, ev, slot = 'db') => page.evaluate(({ ev, slot }) => window.events[slot].filter((e) => e.ev === ev).map((e) => e.p), { ev, slot });
const pushedIds = (db) => proxy.requests(`/${db}/_bulk_docs`).filter((r) => r.action !== 'drop-request').flatMap((r) => r.ids ?? []);
const countOf = (ids) => ids.reduce((m, id) => m.set(id, (m.get(id) ?? 0) + 1), new Map());

test('an edit made in a second tab while the first tab\'s push is in flight reaches the server', async () => {
  const context = await browser.newContext();
  const db = fresh('race');
  const name = fresh('c');
  const one = await sdkPage(context, proxy.url);
  await open(one, name, db);
  await eventually(async () => (await one.evaluate(() => window.db.status())).state === 'idle', 10000, 'first sync');
  // Hold tab one's push in the air for a while.
  proxy.fault({ method: 'POST', path: `/${db}/_bulk_docs`, action: 'delay', delayMs: 1500 });
  await one.evaluate(async () => { window.first = (await window.edit({ _id: 'd', v: 1 })).synced; });
  await eventually(() => proxy.requests(`/${db}/_bulk_docs`).length >= 1, 5000, 'the push to start');
  // Tab two opens the same database and edits the document meanwhile.
  const two = await sdkPage(context, proxy.url);
  await open(two, name, db);
  const second = await two.evaluate(async () => (await window.edit({ _id: 'd', v: 2 })).synced);
  assert.equal(second.outcome, 'accepted', JSON.stringify(second));
  assert.match(second.rev, /^2-/);
  const first = await one.evaluate(() => window.first);
  assert.equal(first.outcome, 'accepted');
  assert.match(first.rev, /^1-/);
  const docs = await serverDocs(server, db);
  assert.equal(docs.d.v, 2, 'the server holds the second edit');
  for (const page of [one, two]) {
    const doc = await page.evaluate(() => window.db.get('d'));
    assert.equal(doc.v, 2);
    assert.equal(doc._rev, second.rev);
    assert.equal(await page.evaluate(() => window.db.pendingCount()), 0);
    assert.equal((await page.evaluate(() => window.db.conflicts())).length, 0);
  }
  await context.close();
});

test('three tabs x 100 live writes: each document pushed once, every write settled, every tab told', async () => {
  const context = await browser.newContext();
  const db = fresh('three');
  const name = fresh('c');
  const pages = [];
  for (let i = 0; i < 3; i++) {
    const page = await sdkPage(context, proxy.url);
    await open(page, name, db);
    pages.push(page);
  }
  const outcomes = await Promise.all(pages.map((page, t) => page.evaluate(async (t) => {
    const synced = [];
    for (let i = 0; i < 100; i++) synced.push((await window.edit({ _id: `t${t}-${String(i).padStart(3, '0')}`, t, i })).synced);
    return (await Promise.all(synced)).map((s) => s.outcome);
  }, t)));
  for (const list of outcomes) assert.deepEqual(new Set(list), new Set(['accepted']));
  const counts = countOf(pushedIds(db));
  assert.equal(counts.size, 300);
  const twice = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
  assert.deepEqual(twice, [], 'pushed more than once');
  const docs = await serverDocs(server, db);
  assert.equal(Object.keys(docs).length, 300);
  for (const doc of Object.values(docs)) assert.match(doc._rev, /^1-/);
  for (const page of pages) {
    const changed = new Set((await events(page, 'change')).map((c) => c.id));
    assert.equal(changed.size, 300, 'a change event for every document, whichever tab wrote it');
    const origins = new Set((await events(page, 'change')).map((c) => c.origin));
    assert.ok(origins.has('local') && origins.has('tab'), `origins: ${[...origins]}`);
    assert.equal((await events(page, 'conflict')).length, 0);
  }
  await context.close();
});

test('the leader tab closed in the middle of a push: another tab takes over and finishes, each document once', async () => {
  const context = await browser.newContext();
  const db = fresh('handover');
  const name = fresh('c');
  const leader = await sdkPage(context, proxy.url);
  await open(leader, name, db, '{ batchSize: 20 }');
  await eventually(async () => (await leader.evaluate(() => window.db.status())).state === 'idle', 10000, 'first sync');
  const follower = await sdkPage(context, proxy.url);
  await open(follower, name, db, '{ batchSize: 20 }');
  proxy.fault({ method: 'POST', path: `/${db}/_bulk_docs`, action: 'delay', delayMs: 200, times: 1000 });
  await follower.evaluate(async () => {
    window.synced = [];
    for (let i = 0; i < 200; i++) window.synced.push((await window.edit({ _id: `h-${String(i).padStart(3, '0')}`, i })).synced);
  });
  await eventually(() => proxy.requests(`/${db}/_bulk_docs`).length >= 2, 15000, 'pushing to start');
  await leader.close();
  const outcomes = await follower.evaluate(async () => (await Promise.all(window.synced)).map((s) => s.outcome));
  assert.deepEqual(new Set(outcomes), new Set(['accepted']));
  proxy.clearFaults();
  const docs = await serverDocs(server, db);
  assert.equal(Object.keys(docs).length, 200);
  for (const doc of Object.values(docs)) assert.match(doc._rev, /^1-/, `${doc._id} written more than once`);
  assert.equal(await follower.evaluate(() => window.db.pendingCount()), 0);
  await eventually(async () => (await follower.evaluate(() => window.db.status())).state === 'idle', 5000, 'the new leader to go idle');
  await context.close();
});

test('two tabs edit the version they read: the later save is refused as a conflict and writes nothing', async () => {
  const context = await browser.newContext();
  const db = fresh('revs');
  const name = fresh('c');
  const one = await sdkPage(context, proxy.url);
  const two = await sdkPage(context, proxy.url);
  await open(one, name, db, '{ live: false }');
  await open(two, name, db, '{ live: false }');
  const created = await one.evaluate(() => window.db.put({ _id: 'note', text: 'draft' }).then((r) => r.rev));
  assert.match(created, /^1-[0-9a-f]{32}$/);
  // Both tabs show the note at the version just written.
  const readByOne = await one.evaluate(() => window.db.get('note'));
  const readByTwo = await two.evaluate(() => window.db.get('note'));
  assert.equal(readByOne._rev, created);
  assert.equal(readByTwo._rev, created);
  const saved = await one.evaluate((doc) => window.db.put({ ...doc, text: 'from one' }).then((r) => r.rev), readByOne);
  assert.notEqual(saved, created);
  const failure = (e) => ({ code: e.code, name: e.name, isError: e instanceof Error, details: e.details });
  const refused = await two.evaluate(
    ([doc, failure]) => window.db.put({ ...doc, text: 'from two' }).then(() => null, new Function(`return ${failure}`)()),
    [readByTwo, failure.toString()],
  );
  assert.deepEqual(refused, { code: 'conflict', name: 'TidesyncError', isError: true, details: { id: 'note', rev: created, current: saved } });
  assert.equal((await two.evaluate(() => window.db.get('note'))).text, 'from one', 'the refused save wrote nothing');
  // Naming no _rev is refused too (no lastWriteWins), and a malformed one is invalid_rev.
  const codes = await two.evaluate(() => Promise.all([
    { _id: 'note', text: 'blind' }, { _id: 'note', _rev: 'nope' }, { _id: 'note', _rev: 5 }, { _id: 'ghost', _rev: '1-abc' },
  ].map((doc) => window.db.put(doc).then(() => 'written', (e) => e.code))));
  assert.deepEqual(codes, ['conflict', 'invalid_rev', 'invalid_rev', 'conflict']);
  // A delete naming the version it saw is refused the same way.
  const deletes = await two.evaluate((rev) => Promise.all([rev, 'nope'].map((r) => window.db.delete('note', r).then(() => 'deleted', (e) => e.code))), created);
  assert.deepEqual(deletes, ['conflict', 'invalid_rev']);
  // Read again, save again: accepted, and that is what the server gets.
  const outcome = await two.evaluate(async () => {
    const doc = await window.db.get('note');
    const written = await window.db.put({ ...doc, text: 'from two, over one' });
    await window.db.sync();
    return written.synced;
  });
  assert.equal(outcome.outcome, 'accepted', JSON.stringify(outcome));
  assert.equal((await serverDocs(server, db)).note.text, 'from two, over one');
  assert.equal(await one.evaluate(() => window.db.pendingCount()), 0);
  // Once synced, the _rev a tab shows names the server's version, and it is what a save names.
  const shown = await one.evaluate(() => window.db.get('note').then((d) => d._rev));
  assert.equal(shown, outcome.rev);
  const next = await one.evaluate((rev) => window.db.put({ _id: 'note', _rev: rev, text: 'three' }).then((r) => r.status), shown);
  assert.equal(next, 'pending');
  await context.close();
});

test('two open() of one name in one page share the work and hear each other', async () => {
  const context = await browser.newContext();
  const page = await sdkPage(context, proxy.url);
  const db = fresh('twice');
  const name = fresh('c');
  // React StrictMode mounts twice: two instances of one database in one page.
  await open(page, name, db, '{}', 'a');
  await open(page, name, db, '{}', 'b');
  const outcomes = await page.evaluate(async () => {
    const a = await window.a.put({ _id: 'from-a', n: 1 });
    const b = await window.b.put({ _id: 'from-b', n: 2 });
    const again = await window.edit({ _id: 'from-a', n: 3 }, window.b);
    return Promise.all([a.synced, b.synced, again.synced]);
  });
  assert.deepEqual(outcomes.map((o) => o.outcome), ['accepted', 'accepted', 'accepted']);
  const docs = await serverDocs(server, db);
  assert.equal(docs['from-a'].n, 3);
  assert.equal(docs['from-b'].n, 2);
  const counts = countOf(pushedIds(db));
  assert.ok([...counts.values()].every((n) => n <= 2) && counts.get('from-b') === 1, JSON.stringify([...counts]));
  const heardByA = (await events(page, 'change', 'a')).filter((c) => c.origin === 'tab').map((c) => c.id);
  assert.ok(heardByA.includes('from-b'), 'a hears b\'s write as another tab\'s');
  // A sync() asked of either instance runs once, in the leader.
  const reports = await page.evaluate(() => Promise.all([window.a.sync(), window.b.sync()]));
  for (const report of reports) assert.deepEqual(report.errors, []);
  await page.evaluate(() => Promise.all([window.a.close(), window.b.close()]));
  await context.close();
});

test('open, close and open again in quick succession loses nothing', async () => {
  const context = await browser.newContext();
  const page = await sdkPage(context, proxy.url);
  const db = fresh('reopen');
  const name = fresh('c');
  for (let round = 0; round < 3; round++) {
    await open(page, name, db);
    await page.evaluate(async (round) => {
      await window.edit({ _id: `r${round}`, round });
      await window.db.close();
    }, round);
    const closed = await page.evaluate(() => window.db.get('r0').then(() => 'open', (e) => e.code));
    assert.equal(closed, 'closed');
  }
  await open(page, name, db);
  await eventually(async () => (await page.evaluate(() => window.db.pendingCount())) === 0, 10000, 'the queue to drain');
  const docs = await serverDocs(server, db);
  assert.deepEqual(Object.keys(docs).sort(), ['r0', 'r1', 'r2']);
  // destroy() right after live writes closes its own connection first.
  const destroyed = await page.evaluate(async () => {
    for (let i = 0; i < 20; i++) await window.edit({ _id: `late-${i}` });
    await window.db.destroy();
    return 'destroyed';
  });
  assert.equal(destroyed, 'destroyed');
  await open(page, name, db, '{ live: false }');
  assert.equal((await page.evaluate(() => window.db.all())).length, 0);
  await context.close();
});

test('a resolver that calls sync() does not deadlock; one that never answers times out and sync goes on', async () => {
  const context = await browser.newContext();
  const page = await sdkPage(context, proxy.url);
  const db = fresh('resolver');
  await open(page, fresh('c'), db, `{ live: false, callbackTimeoutMs: 500, resolver: async (c) => {
    if (c.id === 'hang') return new Promise(() => {});
    window.nested = await window.db.sync();
    return { ...c.remote, ...c.local, merged: true };
  } }`);
  await page.evaluate(async () => {
    await window.edit({ _id: 'calls-sync', v: 0 });
    await window.edit({ _id: 'hang', v: 0 });
    await window.db.sync();
    await window.edit({ _id: 'calls-sync', v: 1, mine: true });
    await window.edit({ _id: 'hang', v: 1 });
  });
  for (const id of ['calls-sync', 'hang']) {
    const current = await (await server.fetch(`/${db}/${id}`)).json();
    const res = await server.fetch(`/${db}/${id}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...current, v: 2, theirs: true }) });
    assert.equal(res.status, 201);
  }
  const report = await page.evaluate(() => window.db.sync());
  assert.equal(report.conflicts, 2);
  await eventually(async () => (await events(page, 'error')).some((e) => e.code === 'resolver_timeout' && e.id === 'hang'), 5000, 'the timeout');
  assert.ok(await page.evaluate(() => window.nested !== undefined), 'the nested sync() returned');
  await page.evaluate(() => window.db.sync());
  const merged = (await serverDocs(server, db))['calls-sync'];
  assert.equal(merged.merged, true, 'the resolution was pushed');
  assert.equal(merged.theirs, true);
  const conflicts = await page.evaluate(() => window.db.conflicts());
  assert.deepEqual(conflicts.map((c) => c.id), ['hang'], 'the timed-out conflict is left to the app');
  assert.ok((await events(page, 'conflict')).some((c) => c.id === 'hang'));
  // Sync goes on after the timeout.
  const after = await page.evaluate(async () => { const w = await window.edit({ _id: 'later' }); await window.db.sync(); return w.synced; });
  assert.equal(after.outcome, 'accepted');
  await context.close();
});

test('a follower reports the leader\'s sync state and its sync() is run by the leader', async () => {
  const context = await browser.newContext();
  const db = fresh('status');
  const name = fresh('c');
  const leader = await sdkPage(context, proxy.url);
  await open(leader, name, db);
  await eventually(async () => (await leader.evaluate(() => window.db.status())).state === 'idle', 10000, 'first sync');
  const follower = await sdkPage(context, proxy.url);
  await open(follower, name, db);
  const before = proxy.requests(`/${db}/_changes`, 'GET').length;
  const report = await follower.evaluate(() => window.db.sync());
  assert.deepEqual(report.errors, []);
  assert.ok(proxy.requests(`/${db}/_changes`, 'GET').length > before, 'a cycle ran');
  const status = await follower.evaluate(() => window.db.status());
  assert.equal(status.state, 'idle');
  assert.ok(status.lastSyncAt > 0);
  assert.ok((await events(follower, 'status')).length > 0, 'the follower hears the leader\'s status');
  await context.close();
});

test('without Web Locks a lease elects one leader: one push per document, and a new leader when it closes', async () => {
  const context = await browser.newContext();
  await context.addInitScript(() => { Object.defineProperty(Navigator.prototype, 'locks', { get: () => undefined, configurable: true }); });
  const db = fresh('lease');
  const name = fresh('c');
  const one = await sdkPage(context, proxy.url);
  assert.equal(await one.evaluate(() => navigator.locks), undefined);
  await open(one, name, db);
  const two = await sdkPage(context, proxy.url);
  await open(two, name, db);
  const outcomes = await Promise.all([one, two].map((page, t) => page.evaluate(async (t) => {
    const synced = [];
    for (let i = 0; i < 30; i++) synced.push((await window.edit({ _id: `l${t}-${i}`, i })).synced);
    return (await Promise.all(synced)).map((s) => s.outcome);
  }, t)));
  for (const list of outcomes) assert.deepEqual(new Set(list), new Set(['accepted']));
  const counts = countOf(pushedIds(db));
  assert.equal(counts.size, 60);
  assert.ok([...counts.values()].every((n) => n === 1), 'each document pushed once');
  // Whichever tab leads, closing one leaves the other to sync.
  await one.close();
  const late = await two.evaluate(async () => (await window.edit({ _id: 'after-handover' })).synced);
  assert.equal(late.outcome, 'accepted');
  await context.close();
});

test('the leader tab crashed in the middle of a push: another tab takes over, each document once', { skip: lacks('cdp') }, async () => {
  const context = await browser.newContext();
  const db = fresh('crash');
  const name = fresh('c');
  const leader = await sdkPage(context, proxy.url);
  await open(leader, name, db, '{ batchSize: 10 }');
  await eventually(async () => (await leader.evaluate(() => window.db.status())).state === 'idle', 10000, 'first sync');
  const follower = await sdkPage(context, proxy.url);
  await open(follower, name, db, '{ batchSize: 10 }');
  proxy.fault({ method: 'POST', path: `/${db}/_bulk_docs`, action: 'delay', delayMs: 300, times: 1000 });
  await leader.evaluate(async () => { for (let i = 0; i < 100; i++) await window.edit({ _id: `k-${String(i).padStart(3, '0')}`, i }); });
  await eventually(() => proxy.requests(`/${db}/_bulk_docs`).length >= 2, 15000, 'pushing to start');
  // The renderer dies: no unload, no close(); the browser releases its lock.
  const cdp = await context.newCDPSession(leader);
  const crashed = new Promise((resolve) => leader.once('crash', resolve));
  cdp.send('Page.crash').catch(() => {}); // never answers: the page is gone
  await crashed;
  await eventually(async () => (await follower.evaluate(() => window.db.pendingCount())) === 0, 20000, 'the follower to finish the queue');
  proxy.clearFaults();
  const docs = await serverDocs(server, db);
  assert.equal(Object.keys(docs).length, 100);
  for (const doc of Object.values(docs)) assert.match(doc._rev, /^1-/, `${doc._id} written more than once`);
  await context.close();
});

test('a tab that only listens hears what the leader pulls and the conflicts it finds', async () => {
  const context = await browser.newContext();
  const db = fresh('listen');
  const name = fresh('c');
  const leader = await sdkPage(context, proxy.url);
  await open(leader, name, db, '{ live: false }');
  await leader.evaluate(() => window.db.sync());
  const listener = await sdkPage(context, proxy.url);
  await open(listener, name, db, '{ live: false }');
  await leader.evaluate(async () => { await window.edit({ _id: 'shared', v: 1 }); await window.db.sync(); });
  const current = await (await server.fetch(`/${db}/shared`)).json();
  await server.fetch(`/${db}/shared`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...current, v: 2 }) });
  await server.fetch(`/${db}/elsewhere`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ by: 'server' }) });
  await leader.evaluate(async () => { await window.edit({ _id: 'shared', v: 3 }); await window.db.sync(); });
  await eventually(async () => (await events(listener, 'change')).some((c) => c.id === 'elsewhere' && c.origin === 'remote'), 5000, 'the pulled change');
  await eventually(async () => (await events(listener, 'conflict')).some((c) => c.id === 'shared'), 5000, 'the conflict');
  const local = (await events(listener, 'change')).filter((c) => c.id === 'shared').map((c) => c.origin);
  assert.ok(local.includes('tab'), `the leader's writes reach the listener as another tab's: ${local}`);
  // Each change carries the document as get() reads it, so a list updates without a read.
  const changes = await events(listener, 'change');
  const pulled = changes.find((c) => c.id === 'elsewhere' && c.origin === 'remote');
  assert.deepEqual(pulled.doc, { _id: 'elsewhere', _rev: pulled.doc._rev, by: 'server' });
  assert.match(pulled.doc._rev, /^1-/);
  assert.equal(pulled.deleted, false);
  const fromTab = changes.find((c) => c.id === 'shared' && c.origin === 'tab');
  assert.equal(fromTab.doc._id, 'shared');
  assert.ok([1, 3].includes(fromTab.doc.v), JSON.stringify(fromTab));
  await leader.evaluate(() => window.db.delete('elsewhere'));
  await eventually(async () => (await events(listener, 'change')).some((c) => c.id === 'elsewhere' && c.origin === 'tab' && c.deleted), 5000, 'the deletion');
  const gone = (await events(listener, 'change')).find((c) => c.id === 'elsewhere' && c.deleted);
  assert.equal('doc' in gone, false, 'a deletion carries no document');
  await context.close();
});
