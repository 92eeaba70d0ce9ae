// PouchDB 9 (node, its own LevelDB adapter in a throw-away folder) replicating
// with the reference server: an existing PouchDB app pointed at it works.
// Bulk data both ways, the same document written on both sides while apart
// (a conflict both sides see, resolved and converged), attachments, and live
// replication. Runs against CouchDB instead with TIDESYNC_E2E_TARGET=couchdb.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import PouchDB from 'pouchdb';
import { startServer, appHeaders, eventually } from '../e2e/harness.mjs';

let server;
let dir;
let count = 0;

before(async () => {
  server = await startServer();
  dir = mkdtempSync(join(tmpdir(), 'tidesync-pouch-'));
});

after(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A fresh local PouchDB and a fresh remote database on the server. */
async function pair(name) {
  count += 1;
  const remoteName = `interop-${name}-${process.pid}-${count}`;
  await server.prepare(remoteName);
  const remote = new PouchDB(`${server.url}/${remoteName}`, {
    fetch: (url, opts) => {
      for (const [k, v] of Object.entries(appHeaders)) opts.headers.set(k, v);
      return PouchDB.fetch(url, opts);
    },
  });
  await remote.info(); // creates the database on the reference server
  const local = new PouchDB(join(dir, `${name}-${count}`));
  return { local, remote, remoteName };
}

const docs = (prefix, n) => Array.from({ length: n }, (_, i) => ({ _id: `${prefix}-${String(i).padStart(4, '0')}`, n: i }));

test('500 documents replicate each way', async () => {
  const { local, remote } = await pair('bulk');
  await local.bulkDocs(docs('up', 500));
  const pushed = await local.replicate.to(remote);
  assert.equal(pushed.ok, true);
  assert.equal(pushed.docs_written, 500);
  assert.equal((await remote.info()).doc_count, 500);

  await remote.bulkDocs(docs('down', 500));
  const other = new PouchDB(join(dir, `bulk-other-${count}`));
  const pulled = await other.replicate.from(remote);
  assert.equal(pulled.ok, true);
  assert.equal((await other.info()).doc_count, 1000);
  assert.equal((await other.get('down-0499')).n, 499);

  // Nothing left to move: a second run writes nothing.
  const again = await local.replicate.to(remote);
  assert.equal(again.docs_written, 0);
  await Promise.all([local.destroy(), other.destroy()]);
});

test('a document written on both sides apart conflicts on both, then converges', async () => {
  const { local, remote } = await pair('conflict');
  await local.put({ _id: 'note', text: 'from pouch' });
  await remote.put({ _id: 'note', text: 'from server' });
  await local.replicate.to(remote);
  await local.replicate.from(remote);

  const onServer = await remote.get('note', { conflicts: true });
  const onPouch = await local.get('note', { conflicts: true });
  assert.equal(onServer._conflicts.length, 1, JSON.stringify(onServer));
  assert.equal(onPouch._conflicts.length, 1, JSON.stringify(onPouch));
  // Both sides pick the same winner by the same rule.
  assert.equal(onServer._rev, onPouch._rev);
  assert.deepEqual(onServer._conflicts, onPouch._conflicts);

  // Resolve on the server: delete the losing leaf, and sync both ways.
  await remote.remove('note', onServer._conflicts[0]);
  await local.replicate.from(remote);
  await local.replicate.to(remote);
  const serverAfter = await remote.get('note', { conflicts: true });
  const pouchAfter = await local.get('note', { conflicts: true });
  assert.equal(serverAfter._conflicts, undefined);
  assert.equal(pouchAfter._conflicts, undefined);
  assert.equal(serverAfter._rev, pouchAfter._rev);
  assert.equal(serverAfter.text, pouchAfter.text);
  await local.destroy();
});

test('attachments survive the trip both ways', async () => {
  const { local, remote, remoteName } = await pair('attachments');
  const bytes = Buffer.from('tidesync attachment bytes \u00e9', 'utf8');
  await local.put({ _id: 'photo', _attachments: { 'a.txt': { content_type: 'text/plain', data: bytes } } });
  await local.replicate.to(remote);
  const raw = await server.fetch(`/${remoteName}/photo/a.txt`);
  assert.equal(raw.status, 200);
  assert.deepEqual(Buffer.from(await raw.arrayBuffer()), bytes);

  // Edit on the server keeping the attachment (a stub), then pull it back.
  const doc = await remote.get('photo');
  await remote.put({ ...doc, caption: 'edited' });
  const other = new PouchDB(join(dir, `attachments-other-${count}`));
  await other.replicate.from(remote);
  const back = await other.getAttachment('photo', 'a.txt');
  assert.deepEqual(Buffer.from(back), bytes);
  assert.equal((await other.get('photo')).caption, 'edited');
  await Promise.all([local.destroy(), other.destroy()]);
});

test('live replication picks up a change', async () => {
  const { local, remote } = await pair('live');
  const live = local.replicate.from(remote, { live: true, retry: true });
  try {
    await remote.put({ _id: 'later', v: 1 });
    await eventually(async () => (await local.get('later').catch(() => null))?.v === 1, 15000, 'the change arrives live');
  } finally {
    live.cancel();
  }
  await local.destroy();
});
