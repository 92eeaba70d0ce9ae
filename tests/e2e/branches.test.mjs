// Documents whose revision tree branched on the server, as other replicators
// (CouchDB's, PouchDB's) leave them: the branches are made here as they make
// them, with `_bulk_docs` and `new_edits: false`. A client shows every live
// branch as a conflict, its resolution deletes the losing leaf so every
// replica converges, and a winner of a lower generation is applied.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sdkPage } from './harness.mjs';
import { syncSuite, fresh } from './suite.mjs';

let server;
let proxy;
let browser;
syncSuite(async (started) => {
  ({ server, proxy, browser } = started);
});

/** A client of `db` in a page of its own context, as `window.db`. */
async function client(db, options = '{}') {
  const context = await browser.newContext();
  const page = await sdkPage(context, proxy.url);
  await page.evaluate(async ({ name, remote, options }) => {
    window.conflictEvents = [];
    // eslint-disable-next-line no-new-func
    const extra = new Function(`return (${options});`)();
    window.db = await window.tidesync.Tidesync.open({ name, remote, headers: window.remoteHeaders, live: false, ...extra });
    window.db.on('conflict', (c) => window.conflictEvents.push(c));
  }, { name: fresh('branches-client'), remote: `${proxy.url}/${db}`, options });
  const run = (fn, arg) => page.evaluate(fn, arg);
  return {
    run,
    put: (doc) => run(async (d) => {
      const stored = await window.db.get(d._id);
      await window.db.put({ ...d, ...(stored ? { _rev: stored._rev } : {}) });
    }, doc),
    sync: () => run(() => window.db.sync()),
    /** Syncs `id`'s pending write; resolves to the revision the server gave it. */
    push: (id) => run(async (i) => { await window.db.sync(); return (await window.db.get(i))._rev; }, id),
    get: (id) => run((i) => window.db.get(i), id),
    conflicts: () => run(() => window.db.conflicts()),
    close: () => context.close(),
  };
}

/** Grafts the leaf `rev` (history `ids`, newest first) onto `id`, as a replicator does. */
async function graft(db, id, start, ids, body) {
  const doc = { _id: id, _rev: `${start}-${ids[0]}`, _revisions: { start, ids }, ...body };
  const res = await server.fetch(`/${db}/_bulk_docs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ docs: [doc], new_edits: false }),
  });
  assert.equal(res.status, 201, await res.text());
}

/** The server's winner of `id` with its `_conflicts`. */
async function onServer(db, id) {
  const res = await server.fetch(`/${db}/${id}?conflicts=true`);
  assert.equal(res.status, 200);
  return res.json();
}

const hashOf = (rev) => rev.split('-')[1];
const body = (doc) => Object.fromEntries(Object.entries(doc ?? {}).filter(([k]) => !k.startsWith('_')));
const HIGH = 'f'.repeat(32);

test('a branch made by another replicator is a conflict, and resolving it converges every replica', async () => {
  const db = fresh('branches');
  const a = await client(db);
  await a.put({ _id: 'job-1', status: 'new' });
  const first = await a.push('job-1');
  await a.put({ _id: 'job-1', status: 'started' });
  const mine = await a.push('job-1');
  // Another replicator's branch from the same parent wins (higher hash).
  await graft(db, 'job-1', 2, [HIGH, hashOf(first)], { status: 'cancelled' });
  const before = await onServer(db, 'job-1');
  assert.equal(before._rev, `2-${HIGH}`);
  assert.deepEqual(before._conflicts, [mine]);

  const report = await a.sync();
  assert.equal(report.conflicts, 1);
  const [conflict] = await a.conflicts();
  assert.equal(conflict.id, 'job-1');
  assert.deepEqual(conflict.remote, { status: 'cancelled' });
  assert.deepEqual(conflict.local, { status: 'started' });
  assert.equal(conflict.remoteRev, `2-${HIGH}`);
  assert.deepEqual(conflict.losingRevs, [mine]);
  assert.equal((await a.run(() => window.conflictEvents.length)), 1);
  // The device shows the server's winner until the app decides.
  assert.deepEqual(body(await a.get('job-1')), { status: 'cancelled' });

  await a.run(() => window.db.resolve('job-1', { status: 'started', note: 'kept after review' }));
  const pushed = await a.sync();
  assert.deepEqual(pushed.errors, []);
  assert.equal(pushed.conflicts, 0);
  const after = await onServer(db, 'job-1');
  assert.equal(after._conflicts, undefined, `one live leaf left: ${JSON.stringify(after)}`);
  assert.deepEqual(body(after), { status: 'started', note: 'kept after review' });
  assert.deepEqual(await a.conflicts(), []);

  // A fresh client sees the one version, no conflict.
  const b = await client(db);
  const pulled = await b.sync();
  assert.equal(pulled.conflicts, 0);
  assert.deepEqual(body(await b.get('job-1')), { status: 'started', note: 'kept after review' });
  await a.close();
  await b.close();
});

test('a policy decides a branch conflict on its own and the losing leaf is deleted in the same sync', async () => {
  const db = fresh('branches');
  const a = await client(db, "{ conflicts: { strategy: 'merge' } }");
  await a.put({ _id: 'room-1', floor: 1, name: 'Lab' });
  const first = await a.push('room-1');
  await a.put({ _id: 'room-1', floor: 1, name: 'Lab', seats: 12 });
  await a.sync();
  await graft(db, 'room-1', 2, [HIGH, hashOf(first)], { floor: 1, name: 'Lab', wing: 'B' });
  const report = await a.sync();
  assert.equal(report.conflicts, 0, 'decided by the policy');
  const resolved = await a.run(() => window.db.conflicts());
  assert.deepEqual(resolved, []);
  const after = await onServer(db, 'room-1');
  assert.equal(after._conflicts, undefined, JSON.stringify(after));
  // Each branch added a field: the merge keeps both.
  assert.deepEqual(body(after), { floor: 1, name: 'Lab', seats: 12, wing: 'B' });
  await a.close();
});

test('a winner of a lower generation (the winning branch deleted elsewhere) is applied', async () => {
  const db = fresh('branches');
  const a = await client(db);
  await a.put({ _id: 'note-1', text: 'v1' });
  await a.sync();
  await a.put({ _id: 'note-1', text: 'v2' });
  const mine = await a.push('note-1');
  // A root branch at generation 1 arrives, then the winner is deleted.
  await graft(db, 'note-1', 1, ['0123456789abcdef0123456789abcdef'], { text: 'from elsewhere' });
  const deleted = await server.fetch(`/${db}/note-1?rev=${mine}`, { method: 'DELETE' });
  assert.equal(deleted.status, 200, await deleted.text());
  const winner = await onServer(db, 'note-1');
  assert.equal(winner._rev, '1-0123456789abcdef0123456789abcdef');

  const report = await a.sync();
  assert.deepEqual(report.errors, []);
  assert.equal(report.conflicts, 0);
  const doc = await a.get('note-1');
  assert.equal(doc._rev, winner._rev);
  assert.deepEqual(body(doc), { text: 'from elsewhere' });
  await a.close();
});
