// CouchDB's own replicator (`POST /_replicate` on a CouchDB) pointed at the
// reference server, both ways: data moves between a CouchDB cluster and the
// reference server with every document, every conflict branch and every
// attachment, and a second run finds nothing left to move. Needs a CouchDB:
// it runs in the CouchDB tier (TIDESYNC_E2E_TARGET=couchdb) and is skipped,
// saying so, elsewhere.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { couch, startReference } from '../e2e/harness.mjs';

const skip = couch ? false : 'needs Apache CouchDB: runs in the CouchDB tier (COUCHDB_URL set)';
let reference;
let count = 0;

before(async () => {
  if (couch) reference = await startReference();
});

after(async () => {
  await reference?.stop();
});

/** A request to CouchDB as its admin; the parsed answer, checked against `status`. */
async function onCouch(method, path, body, status) {
  const res = await fetch(`${couch.url}${path}`, {
    method,
    headers: { authorization: couch.admin, 'content-type': 'application/json', accept: 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (status !== undefined) assert.equal(res.status, status, `${method} ${path}: ${text}`);
  return text ? JSON.parse(text) : null;
}

/** A request to the reference server (open: no admins configured). */
async function onReference(method, path, body, status) {
  const res = await reference.fetch(path, {
    method,
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (status !== undefined) assert.equal(res.status, status, `${method} ${path}: ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Runs CouchDB's replicator from `source` to `target` (endpoint objects) and returns its report. */
function replicate(source, target) {
  return onCouch('POST', '/_replicate', { source, target, create_target: true }, 200);
}

const couchEnd = (db) => ({ url: `${couch.url}/${db}`, headers: { Authorization: couch.admin } });
const referenceEnd = (db) => ({ url: `${reference.url}/${db}` });
const fresh = (what) => `replicator-${what}-${process.pid}-${++count}`;
const notes = 'Meter read at 9:40, seal intact.\n'.repeat(200);
const photo = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7919) % 256)).toString('base64');

/** Every document of `db` with its `_conflicts`, by id. */
async function everything(call, db) {
  const all = await call('GET', `/${db}/_all_docs?include_docs=true&conflicts=true`, undefined, 200);
  return Object.fromEntries(all.rows.map((row) => [row.id, row.doc]));
}

test('CouchDB replicates to the reference server: documents, a conflict with both leaves, an attachment', { skip }, async () => {
  const db = fresh('to');
  await onCouch('PUT', `/${db}`, undefined, 201);
  const docs = Array.from({ length: 200 }, (_, i) => ({ _id: `doc-${String(i).padStart(3, '0')}`, n: i }));
  await onCouch('POST', `/${db}/_bulk_docs`, { docs }, 201);
  // CouchDB sends compressible types (text, JSON) gzip-encoded.
  await onCouch('PUT', `/${db}/photo`, {
    kind: 'photo',
    _attachments: {
      'p.bin': { content_type: 'application/octet-stream', data: photo },
      'notes.txt': { content_type: 'text/plain', data: Buffer.from(notes).toString('base64') },
    },
  }, 201);
  // Two branches of one document, as two offline writers leave it.
  const branches = [
    { _id: 'shared', _rev: '2-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', _revisions: { start: 2, ids: ['aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', '11111111111111111111111111111111'] }, side: 'a' },
    { _id: 'shared', _rev: '2-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', _revisions: { start: 2, ids: ['bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', '11111111111111111111111111111111'] }, side: 'b' },
  ];
  await onCouch('POST', `/${db}/_bulk_docs`, { docs: branches, new_edits: false }, 201);

  const report = await replicate(couchEnd(db), referenceEnd(db));
  assert.equal(report.ok, true, JSON.stringify(report));
  const there = await everything(onReference, db);
  const here = await everything(onCouch, db);
  assert.equal(Object.keys(there).length, 202);
  for (const [id, doc] of Object.entries(here)) {
    assert.equal(there[id]?._rev, doc._rev, `${id}: the same winning revision`);
    assert.deepEqual(there[id]._conflicts, doc._conflicts, `${id}: the same branches`);
  }
  assert.equal(there.shared._rev, '2-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb');
  assert.deepEqual(there.shared._conflicts, ['2-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa']);
  const bytes = await reference.fetch(`/${db}/photo/p.bin`);
  assert.equal(bytes.status, 200);
  assert.equal(Buffer.from(await bytes.arrayBuffer()).toString('base64'), photo);
  const text = await reference.fetch(`/${db}/photo/notes.txt`);
  assert.equal(text.status, 200);
  assert.equal(await text.text(), notes, 'a gzip-encoded part is stored inflated');

  // A second run finds its checkpoint on the reference server: nothing to move.
  const again = await replicate(couchEnd(db), referenceEnd(db));
  assert.equal(again.ok, true);
  assert.equal(again.no_changes, true, JSON.stringify(again));
});

test('the reference server replicates to CouchDB: edits, a resolved conflict and a deletion arrive', { skip }, async () => {
  const db = fresh('from');
  await onReference('PUT', `/${db}`, undefined, 201);
  const docs = Array.from({ length: 150 }, (_, i) => ({ _id: `item-${String(i).padStart(3, '0')}`, n: i }));
  await onReference('POST', `/${db}/_bulk_docs`, { docs }, 201);
  await onReference('PUT', `/${db}/photo`, { _attachments: { 'p.bin': { content_type: 'application/octet-stream', data: photo } } }, 201);
  const first = await replicate(referenceEnd(db), couchEnd(db));
  assert.equal(first.ok, true, JSON.stringify(first));

  // Then: a branch grafted on the reference server and resolved there by
  // deleting the loser, an edit, and a deletion.
  const created = await onReference('GET', `/${db}/item-000`, undefined, 200);
  const edited = await onReference('PUT', `/${db}/item-000`, { ...created, n: 1000 }, 201);
  assert.match(edited.rev, /^2-/);
  const low = '0000000000000000000000000000000f';
  const sibling = { _id: 'item-000', _rev: `2-${low}`, _revisions: { start: 2, ids: [low, created._rev.split('-')[1]] }, n: -1 };
  await onReference('POST', `/${db}/_bulk_docs`, { docs: [sibling], new_edits: false }, 201);
  const branched = await onReference('GET', `/${db}/item-000?conflicts=true`, undefined, 200);
  assert.equal(branched._conflicts?.length, 1, JSON.stringify(branched));
  const losing = branched._conflicts[0];
  await onReference('DELETE', `/${db}/item-000?rev=${losing}`, undefined, 200);
  const edit = await onReference('GET', `/${db}/item-001`, undefined, 200);
  await onReference('PUT', `/${db}/item-001`, { ...edit, n: 1001 }, 201);
  const gone = await onReference('GET', `/${db}/item-002`, undefined, 200);
  await onReference('DELETE', `/${db}/item-002?rev=${gone._rev}`, undefined, 200);

  const second = await replicate(referenceEnd(db), couchEnd(db));
  assert.equal(second.ok, true, JSON.stringify(second));
  // CouchDB's counts add up over the sessions of one replication: this one
  // wrote the leaves of the three changed documents, not the database again.
  const moved = second.history[0].docs_written - first.history[0].docs_written;
  assert.ok(moved >= 3 && moved <= 5, `${moved} revisions moved: ${JSON.stringify(second.history[0])}`);
  const there = await everything(onCouch, db);
  const here = await everything(onReference, db);
  assert.deepEqual(Object.keys(there).sort(), Object.keys(here).sort());
  assert.equal(Object.keys(there).length, 150, '149 items and the photo');
  assert.equal(there['item-000']._rev, here['item-000']._rev);
  assert.equal(there['item-000'].n, 1000);
  assert.equal(there['item-000']._conflicts, undefined, 'the deleted branch is not a conflict on CouchDB either');
  assert.equal(there['item-001'].n, 1001);
  assert.equal(there['item-002'], undefined);
  const bytes = await onCouch('GET', `/${db}/photo?attachments=true`, undefined, 200);
  assert.equal(bytes._attachments['p.bin'].data, photo);
});
