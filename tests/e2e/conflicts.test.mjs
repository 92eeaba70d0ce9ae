// Conflict resolution levels 1 and 2 in a real browser, two clients against the
// real server, one test per use case of the seeds: the bug tracker, the
// gallery, the building inspector, the census, the supervisor, and the app's
// own resolver (returning a Promise, or throwing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sdkPage, serverDocs } from './harness.mjs';
import { syncSuite, fresh } from './suite.mjs';

let server;
let proxy;
let browser;
let context;
syncSuite(async (started) => {
  ({ server, proxy, browser } = started);
  context = await browser.newContext();
});

/**
 * Two clients on one fresh remote database, each in its own page. `options` is
 * JS source for the open() options object (functions allowed).
 */
async function pair(optionsA = '{}', optionsB = optionsA) {
  const db = fresh('conflicts');
  const clients = [];
  for (const [label, options] of [['a', optionsA], ['b', optionsB]]) {
    const page = await sdkPage(context, proxy.url);
    await page.evaluate(async ({ name, remote, options }) => {
      window.events = [];
      // eslint-disable-next-line no-new-func
      const extra = new Function(`return (${options});`)();
      window.db = await window.tidesync.Tidesync.open({ name, remote, headers: window.remoteHeaders, live: false, ...extra });
      for (const ev of ['change', 'conflict', 'error', 'resolved']) window.db.on(ev, (p) => window.events.push({ ev, p }));
    }, { name: `${db}-${label}`, remote: `${proxy.url}/${db}`, options });
    clients.push(page);
  }
  const [a, b] = clients;
  const run = (page, fn, arg) => page.evaluate(fn, arg);
  const put = (page, doc) => run(page, (d) => window.edit(d).then((r) => ({ id: r.id, status: r.status })), doc);
  const sync = (page) => run(page, () => window.db.sync());
  const get = (page, id) => run(page, (i) => window.db.get(i), id);
  const events = (page, ev) => run(page, (e) => window.events.filter((x) => x.ev === e).map((x) => x.p), ev);
  /** Both clients start from the same synced document. */
  const share = async (doc) => { await put(a, doc); await sync(a); await sync(b); };
  return { db, a, b, run, put, sync, get, events, share, close: async () => { await a.close(); await b.close(); } };
}

const body = (doc) => Object.fromEntries(Object.entries(doc ?? {}).filter(([k]) => !k.startsWith('_')));

test('bug tracker: different fields merge, sentences of one text merge, the same field conflicts', async () => {
  const t = await pair("{ conflicts: { strategy: 'merge' } }");
  await t.share({ _id: 'bug-1', title: 'Crash', status: 'open', assignee: null, description: 'The app crashes on login. It started after the update. Users are unhappy.' });
  await t.put(t.a, { _id: 'bug-1', ...body(await t.get(t.a, 'bug-1')), status: 'in-progress', description: 'The app crashes on login with SSO. It started after the update. Users are unhappy.' });
  await t.put(t.b, { _id: 'bug-1', ...body(await t.get(t.b, 'bug-1')), assignee: 'kim', description: 'The app crashes on login. It started after the update. Users are very unhappy.' });
  await t.sync(t.a);
  const report = await t.sync(t.b);
  assert.equal(report.conflicts, 0, 'merged, nothing left to the app');
  const resolved = await t.events(t.b, 'resolved');
  assert.equal(resolved.length, 1);
  assert.equal(resolved[0].strategy, 'merge');
  await t.sync(t.b);
  await t.sync(t.a);
  const expected = { title: 'Crash', status: 'in-progress', assignee: 'kim', description: 'The app crashes on login with SSO. It started after the update. Users are very unhappy.' };
  assert.deepEqual(body(await t.get(t.a, 'bug-1')), expected);
  assert.deepEqual(body(await t.get(t.b, 'bug-1')), expected);
  assert.deepEqual(body((await serverDocs(server, t.db))['bug-1']), expected);

  // Same field, different values: a real clash, left to the app.
  await t.put(t.a, { _id: 'bug-1', ...expected, status: 'closed' });
  const stale = await t.run(t.b, (d) => window.edit(d).then((r) => { window.staleSynced = r.synced; return r.id; }), { _id: 'bug-1', ...expected, status: 'wontfix' });
  assert.equal(stale, 'bug-1');
  await t.sync(t.a);
  const clash = await t.sync(t.b);
  assert.equal(clash.conflicts, 1);
  const outcome = await t.run(t.b, () => window.staleSynced);
  assert.equal(outcome.outcome, 'conflict');
  assert.equal(outcome.conflict.local.status, 'wontfix');
  assert.equal(outcome.conflict.remote.status, 'closed');
  assert.equal((await t.events(t.b, 'conflict')).length, 1);
  await t.close();
});

test('gallery: renamed on one device and deleted on the other is a conflict with both versions', async () => {
  const t = await pair("{ conflicts: { strategy: 'merge' } }");
  await t.share({ _id: 'photo-9', name: 'beach.jpg', album: 'summer' });
  await t.put(t.a, { _id: 'photo-9', name: 'sunset-beach.jpg', album: 'summer' });
  await t.run(t.b, () => window.db.delete('photo-9'));
  await t.sync(t.a);
  const report = await t.sync(t.b);
  assert.equal(report.conflicts, 1);
  const [conflict] = await t.run(t.b, () => window.db.conflicts());
  assert.equal(conflict.local, null, 'deleted here');
  assert.equal(conflict.remote.name, 'sunset-beach.jpg', 'renamed there');
  assert.equal(conflict.base.name, 'beach.jpg');
  await t.close();
});

test('building inspector: two inspectors adding extinguishers keep both, none duplicated', async () => {
  const t = await pair("{ conflicts: { strategy: 'merge' } }");
  const e1 = { id: 'e1', status: 'ok' };
  await t.share({ _id: 'report-3', building: 'Town hall', extinguishers: [e1] });
  await t.put(t.a, { _id: 'report-3', building: 'Town hall', extinguishers: [e1, { id: 'e2', status: 'expired' }] });
  await t.put(t.b, { _id: 'report-3', building: 'Town hall', extinguishers: [e1, { id: 'e3', status: 'ok' }] });
  await t.sync(t.a);
  assert.equal((await t.sync(t.b)).conflicts, 0);
  await t.sync(t.b);
  await t.sync(t.a);
  const ids = (doc) => doc.extinguishers.map((e) => e.id).sort();
  assert.deepEqual(ids(await t.get(t.a, 'report-3')), ['e1', 'e2', 'e3']);
  assert.deepEqual(await t.get(t.a, 'report-3'), await t.get(t.b, 'report-3'));
  await t.close();
});

test('census: stacked offline edits against a concurrent server change merge', async () => {
  const t = await pair("{ conflicts: { strategy: 'merge' } }");
  await t.share({ _id: 'household-7', people: 2, visited: false, notes: '' });
  // b is offline (it just does not sync) and edits twice; a changes another field meanwhile.
  await t.put(t.b, { _id: 'household-7', people: 3, visited: false, notes: '' });
  await t.put(t.b, { _id: 'household-7', people: 3, visited: true, notes: '' });
  await t.put(t.a, { _id: 'household-7', people: 2, visited: false, notes: 'dog in the yard' });
  await t.sync(t.a);
  assert.equal((await t.run(t.b, () => window.db.outbox())).length, 1, 'one coalesced change');
  assert.equal((await t.sync(t.b)).conflicts, 0);
  await t.sync(t.b);
  await t.sync(t.a);
  const expected = { people: 3, visited: true, notes: 'dog in the yard' };
  assert.deepEqual(body(await t.get(t.a, 'household-7')), expected);
  assert.deepEqual(body(await t.get(t.b, 'household-7')), expected);
  await t.close();
});

test('a supervisor beats an inspector, whichever syncs last', async () => {
  const rule = "{ strategy: { priority: { field: 'editor.role', order: ['supervisor', 'inspector'] } } }";
  const t = await pair(`{ author: { id: 'sam', role: 'supervisor' }, conflicts: ${rule} }`, `{ author: { id: 'ivy', role: 'inspector' }, conflicts: ${rule} }`);
  await t.share({ _id: 'site-1', verdict: 'pending' });
  await t.put(t.a, { _id: 'site-1', verdict: 'fail' });
  await t.put(t.b, { _id: 'site-1', verdict: 'pass' });
  await t.sync(t.a);
  await t.sync(t.b);
  await t.sync(t.b);
  await t.sync(t.a);
  assert.equal((await t.get(t.b, 'site-1')).verdict, 'fail', 'the inspector yields');
  assert.equal((await t.events(t.b, 'resolved'))[0].strategy, 'priority');
  // The other order: the inspector syncs first, the supervisor's later change still wins.
  await t.put(t.b, { _id: 'site-1', verdict: 'pass again' });
  await t.put(t.a, { _id: 'site-1', verdict: 'fail again' });
  await t.sync(t.b);
  await t.sync(t.a);
  await t.sync(t.a);
  await t.sync(t.b);
  assert.equal((await t.get(t.a, 'site-1')).verdict, 'fail again');
  assert.equal((await t.get(t.b, 'site-1')).verdict, 'fail again');
  assert.equal((await t.get(t.a, 'site-1')).editor.role, 'supervisor');
  await t.close();
});

test('an async custom resolver decides first', async () => {
  const resolver = "{ resolver: async (c) => { await new Promise((r) => setTimeout(r, 10)); return { ...c.remote, ...c.local, decidedBy: 'custom' }; } }";
  const t = await pair(resolver);
  await t.share({ _id: 'x', a: 1, b: 1 });
  await t.put(t.a, { _id: 'x', a: 2, b: 1 });
  await t.put(t.b, { _id: 'x', a: 1, b: 3 });
  await t.sync(t.a);
  await t.sync(t.b);
  const resolved = await t.events(t.b, 'resolved');
  assert.deepEqual(resolved.map((r) => r.strategy), ['custom']);
  assert.equal((await t.events(t.b, 'conflict')).length, 0, 'no conflict left for the app');
  await t.sync(t.b);
  await t.sync(t.a);
  assert.deepEqual(body(await t.get(t.a, 'x')), { a: 1, b: 3, decidedBy: 'custom' });
  await t.close();
});

test('a custom resolver that throws leaves the conflict to the app, reported, nothing lost', async () => {
  const t = await pair("{ resolver: () => { throw new Error('resolver bug'); }, conflicts: { strategy: 'merge' } }");
  await t.share({ _id: 'y', v: 1 });
  await t.put(t.a, { _id: 'y', v: 2 });
  await t.put(t.b, { _id: 'y', v: 3 });
  await t.sync(t.a);
  const report = await t.sync(t.b);
  assert.equal(report.conflicts, 1);
  const errors = await t.events(t.b, 'error');
  assert.equal(errors.length, 1);
  assert.equal(errors[0].code, 'resolver_failed');
  assert.match(errors[0].message, /resolver bug/);
  assert.equal((await t.events(t.b, 'conflict')).length, 1);
  const [conflict] = await t.run(t.b, () => window.db.conflicts());
  assert.equal(conflict.local.v, 3, 'the local version is kept');
  assert.equal((await t.get(t.b, 'y')).v, 3);
  await t.close();
});
