// Attachments another client put on a document survive this client's edits,
// in a real browser against the target server: CouchDB keeps only the
// attachments an update names, so the SDK sends back the stubs of the
// revision each edit is based on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sdkPage } from './harness.mjs';
import { syncSuite, fresh } from './suite.mjs';

let server;
let proxy;
let browser;
let context;
syncSuite(async (started) => {
  ({ server, proxy, browser } = started);
  context = await browser.newContext();
});

const photo = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 1, 2, 3, 254, 255]);

/** A fresh remote database holding `room` with a photo, written straight to the server. */
async function roomWithPhoto() {
  const db = fresh('attachments');
  await server.prepare(db);
  if (server.kind === 'reference') assert.equal((await server.fetch(`/${db}`, { method: 'PUT' })).status, 201);
  const res = await server.fetch(`/${db}/room`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'kitchen', _attachments: { 'photo.png': { content_type: 'image/png', data: photo.toString('base64') } } }),
  });
  assert.equal(res.status, 201, await res.text());
  return db;
}

async function serverDoc(db, id) {
  const res = await server.fetch(`/${db}/${id}`);
  assert.equal(res.status, 200);
  return res.json();
}

async function client(db, options = '{}') {
  const page = await sdkPage(context, proxy.url);
  await page.evaluate(async ({ name, remote, options }) => {
    // eslint-disable-next-line no-new-func
    const extra = new Function(`return (${options});`)();
    window.db = await window.tidesync.Tidesync.open({ name, remote, headers: window.remoteHeaders, live: false, ...extra });
  }, { name: fresh(`${db}-client`), remote: `${proxy.url}/${db}`, options });
  return page;
}

const sync = (page) => page.evaluate(() => window.db.sync());
const put = (page, doc) => page.evaluate((d) => window.edit(d).then((r) => r.status), doc);

test('a photo put on the server survives an edit of its document, bytes and digest unchanged', async () => {
  const db = await roomWithPhoto();
  const before = await serverDoc(db, 'room');
  const page = await client(db);
  try {
    assert.equal((await sync(page)).pulled, 1);
    await put(page, { _id: 'room', title: 'kitchen, tiled' });
    const report = await sync(page);
    assert.deepEqual(report.errors, []);
    assert.equal(report.pushed, 1);
    const after = await serverDoc(db, 'room');
    assert.equal(after.title, 'kitchen, tiled');
    assert.notEqual(after._rev, before._rev);
    assert.deepEqual(Object.keys(after._attachments ?? {}), ['photo.png']);
    assert.equal(after._attachments['photo.png'].digest, before._attachments['photo.png'].digest);
    const bytes = Buffer.from(await (await server.fetch(`/${db}/room/photo.png`)).arrayBuffer());
    assert.deepEqual(bytes, photo);
    // The app sees its document, not the server's attachment metadata.
    assert.deepEqual(await page.evaluate(() => window.db.get('room').then((d) => Object.keys(d).sort())), ['_id', '_rev', 'title']);
  } finally {
    await page.close();
  }
});

/** Another client adds notes to `room` (keeping the photo) and retitles it. */
async function addNotesOnServer(db, title) {
  const current = await serverDoc(db, 'room');
  const res = await server.fetch(`/${db}/room?rev=${current._rev}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      title,
      _attachments: { 'photo.png': { stub: true }, 'notes.txt': { content_type: 'text/plain', data: Buffer.from('grout cracked').toString('base64') } },
    }),
  });
  assert.equal(res.status, 201, await res.text());
}

test('an attachment added on the server while this client edited offline survives the merged resolution', async () => {
  const db = await roomWithPhoto();
  const page = await client(db, "{ conflicts: { strategy: 'merge' } }");
  try {
    await sync(page);
    await put(page, { _id: 'room', title: 'kitchen', floor: 'oak' });
    await addNotesOnServer(db, 'kitchen');
    for (let i = 0; i < 3; i++) assert.deepEqual((await sync(page)).errors, []);
    const after = await serverDoc(db, 'room');
    assert.equal(after.floor, 'oak');
    assert.deepEqual(Object.keys(after._attachments ?? {}).sort(), ['notes.txt', 'photo.png']);
    assert.equal(await page.evaluate(() => window.db.get('room').then((d) => d.floor)), 'oak');
    assert.equal(await page.evaluate(() => window.db.pendingCount()), 0);
  } finally {
    await page.close();
  }
});

test('a conflict shows the server side\'s attachments, and the app\'s resolution keeps them', async () => {
  const db = await roomWithPhoto();
  const page = await client(db);
  try {
    await sync(page);
    await put(page, { _id: 'room', title: 'mine' });
    await addNotesOnServer(db, 'theirs');
    await sync(page);
    const [conflict] = await page.evaluate(() => window.db.conflicts());
    assert.equal(conflict.remote.title, 'theirs');
    assert.deepEqual(Object.keys(conflict.remoteAttachments).sort(), ['notes.txt', 'photo.png']);
    assert.equal(conflict.remoteAttachments['notes.txt'].stub, true);
    assert.equal(conflict.remoteAttachments['notes.txt'].content_type, 'text/plain');
    assert.match(conflict.remoteAttachments['photo.png'].digest, /^md5-/);
    await page.evaluate(() => window.db.resolve('room', { title: 'both' }));
    assert.deepEqual((await sync(page)).errors, []);
    const after = await serverDoc(db, 'room');
    assert.equal(after.title, 'both');
    assert.deepEqual(Object.keys(after._attachments ?? {}).sort(), ['notes.txt', 'photo.png']);
  } finally {
    await page.close();
  }
});
