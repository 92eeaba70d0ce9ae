// Attachments written through the SDK, in a real browser against the target
// server: a photo put offline is pushed when back online and read byte for
// byte by another client, which downloads it lazily (on first read) or
// eagerly (right after the pull); bad attachments are refused with a code
// and nothing written; a tab closed mid-upload loses nothing; a full disk is
// reported and the document stays as it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { sdkPage, lacks } from './harness.mjs';
import { syncSuite, fresh } from './suite.mjs';

let server;
let proxy;
let browser;
syncSuite(async (started) => {
  ({ server, proxy, browser } = started);
});

/** A fresh remote database (created up front on the target). */
async function remoteDb() {
  const db = fresh('photos');
  await server.prepare(db);
  if (server.kind === 'reference') assert.equal((await server.fetch(`/${db}`, { method: 'PUT' })).status, 201);
  return db;
}

/**
 * A page of its own browser context holding `window.db`, a client of `db`;
 * `beforeOpen(page, context)` runs before the database is opened.
 */
async function client(db, options = {}, context, beforeOpen = async () => {}) {
  const ctx = context ?? await browser.newContext();
  const page = await sdkPage(ctx, proxy.url);
  await beforeOpen(page, ctx);
  await page.evaluate(async ({ name, remote, options }) => {
    window.db = await window.tidesync.Tidesync.open({ name, remote, headers: window.remoteHeaders, live: false, ...options });
    // SHA-256 (hex) of a Blob, to compare bytes across clients.
    window.sha = async (blob) => [...new Uint8Array(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer()))]
      .map((b) => b.toString(16).padStart(2, '0')).join('');
    // `size` pseudo-random bytes (a photo's worth of entropy), as a Blob.
    window.photo = (size, seed = 1) => {
      const bytes = new Uint8Array(size);
      let x = seed;
      for (let i = 0; i < size; i += 1) { x = (x * 1103515245 + 12345) >>> 0; bytes[i] = x >>> 24; }
      return new Blob([bytes], { type: 'image/jpeg' });
    };
    window.errorOf = (work) => work.then(() => null, (e) => ({ name: e.name, code: e.code, message: e.message, details: e.details ?? null }));
  }, { name: options.name ?? fresh('device'), remote: `${proxy.url}/${db}`, options: Object.fromEntries(Object.entries(options).filter(([key]) => key !== 'name')) });
  return { context: ctx, page };
}

const MB = 1024 * 1024;
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');
const md5 = (bytes) => `md5-${createHash('md5').update(bytes).digest('base64')}`;
const attachmentRequests = (db, name) => proxy.log.filter((e) => e.method === 'GET' && e.path === `/${db}/room/${name}`);

test('a 5 MB photo put offline is pushed once online and read byte for byte by another client', { skip: lacks('offline') }, async () => {
  const db = await remoteDb();
  const a = await client(db);
  const b = await client(db);
  try {
    await a.context.setOffline(true);
    const written = await a.page.evaluate(async () => {
      await window.db.put({ _id: 'room', title: 'kitchen' });
      const photo = window.photo(5 * 1024 * 1024, 7);
      const result = await window.db.putAttachment('room', 'photo.jpg', photo);
      const offline = await window.db.sync();
      return { status: result.status, rev: result.rev, sha: await window.sha(photo), offline: offline.errors.length, list: await window.db.attachments('room') };
    });
    assert.equal(written.status, 'pending');
    assert.ok(written.offline > 0, 'the offline sync failed');
    assert.deepEqual(written.list.map((x) => [x.name, x.contentType, x.length, x.stored, x.pending]), [['photo.jpg', 'image/jpeg', 5 * MB, true, true]]);
    await a.context.setOffline(false);
    const report = await a.page.evaluate(() => window.db.sync());
    assert.deepEqual(report.errors, []);
    assert.equal(report.pushed, 1);
    // The server holds the bytes, under CouchDB's digest of them.
    const doc = await (await server.fetch(`/${db}/room`)).json();
    const bytes = Buffer.from(await (await server.fetch(`/${db}/room/photo.jpg`)).arrayBuffer());
    assert.equal(bytes.length, 5 * MB);
    assert.equal(sha256(bytes), written.sha);
    assert.equal(doc._attachments['photo.jpg'].digest, md5(bytes));
    assert.equal(doc._attachments['photo.jpg'].content_type, 'image/jpeg');
    assert.equal(doc.title, 'kitchen');
    assert.deepEqual(await a.page.evaluate(() => window.db.attachments('room').then((l) => l.map((x) => x.pending))), [false]);
    // The second client pulls the document and reads the photo.
    const read = await b.page.evaluate(async () => {
      await window.db.sync();
      const blob = await window.db.getAttachment('room', 'photo.jpg');
      return { size: blob.size, type: blob.type, sha: await window.sha(blob), doc: await window.db.get('room') };
    });
    assert.deepEqual([read.size, read.type, read.sha], [5 * MB, 'image/jpeg', written.sha]);
    assert.equal(read.doc.title, 'kitchen');
    assert.equal(read.doc._attachments, undefined, 'documents stay as the app wrote them');
  } finally {
    await a.context.close();
    await b.context.close();
  }
});

/** `room` with a small photo, pushed by a first client; returns the bytes' hash. */
async function roomWithPhoto(db) {
  const writer = await client(db);
  try {
    return await writer.page.evaluate(async () => {
      await window.db.put({ _id: 'room', title: 'hall' });
      const photo = window.photo(200_000, 3);
      await window.db.putAttachment('room', 'photo.jpg', photo);
      const report = await window.db.sync();
      if (report.errors.length) throw new Error(JSON.stringify(report.errors));
      return window.sha(photo);
    });
  } finally {
    await writer.context.close();
  }
}

test('a pull brings only the metadata; the bytes come on first read, once', { skip: lacks('offline') }, async () => {
  const db = await remoteDb();
  const sha = await roomWithPhoto(db);
  const reader = await client(db);
  try {
    await reader.page.evaluate(() => window.db.sync());
    assert.equal(attachmentRequests(db, 'photo.jpg').length, 0, 'no download during the pull');
    const listed = await reader.page.evaluate(() => window.db.attachments('room'));
    assert.deepEqual(listed.map((x) => [x.name, x.length, x.stored, x.pending]), [['photo.jpg', 200_000, false, false]]);
    assert.match(listed[0].digest, /^md5-/);
    const first = await reader.page.evaluate(async () => window.sha(await window.db.getAttachment('room', 'photo.jpg')));
    assert.equal(first, sha);
    assert.equal(attachmentRequests(db, 'photo.jpg').length, 1);
    // Stored now: read again offline, with no request.
    await reader.context.setOffline(true);
    const again = await reader.page.evaluate(async () => {
      const url = await window.db.attachmentUrl('room', 'photo.jpg');
      const viaUrl = await window.sha(await (await fetch(url)).blob());
      URL.revokeObjectURL(url);
      return { sha: await window.sha(await window.db.getAttachment('room', 'photo.jpg')), viaUrl, stored: (await window.db.attachments('room'))[0].stored };
    });
    assert.deepEqual(again, { sha, viaUrl: sha, stored: true });
    assert.equal(attachmentRequests(db, 'photo.jpg').length, 1);
  } finally {
    await reader.context.close();
  }
});

test('an eager client downloads pulled attachments with the pull, so they read offline', { skip: lacks('offline') }, async () => {
  const db = await remoteDb();
  const sha = await roomWithPhoto(db);
  const reader = await client(db, { attachments: 'eager' });
  const lazy = await client(db);
  try {
    await reader.page.evaluate(() => window.db.sync());
    assert.equal(attachmentRequests(db, 'photo.jpg').length, 1);
    await reader.context.setOffline(true);
    const read = await reader.page.evaluate(async () => ({
      stored: (await window.db.attachments('room'))[0].stored,
      sha: await window.sha(await window.db.getAttachment('room', 'photo.jpg')),
    }));
    assert.deepEqual(read, { stored: true, sha });
    // A lazy client offline cannot read what it never downloaded: a coded error.
    await lazy.page.evaluate(() => window.db.sync());
    await lazy.context.setOffline(true);
    const error = await lazy.page.evaluate(() => window.errorOf(window.db.getAttachment('room', 'photo.jpg')));
    assert.equal(error.name, 'TidesyncError');
    assert.equal(error.code, 'attachment_unavailable');
    assert.deepEqual(error.details, { id: 'room', name: 'photo.jpg' });
  } finally {
    await reader.context.close();
    await lazy.context.close();
  }
});

test('bad attachments and bad calls are refused with a code, and nothing is written', async () => {
  const db = await remoteDb();
  const { context, page } = await client(db, { maxAttachmentBytes: 1000 });
  try {
    const errors = await page.evaluate(async () => {
      const db = window.db;
      const bytes = new Uint8Array(10);
      return {
        tooLarge: await window.errorOf(db.putAttachment('room', 'big.jpg', window.photo(1001))),
        tooLargeBuffer: await window.errorOf(db.putAttachment('room', 'big.bin', new ArrayBuffer(5000))),
        reservedName: await window.errorOf(db.putAttachment('room', '_x', bytes)),
        emptyName: await window.errorOf(db.putAttachment('room', '', bytes)),
        nameNotString: await window.errorOf(db.putAttachment('room', 42, bytes)),
        notData: await window.errorOf(db.putAttachment('room', 'a.txt', 'some text')),
        badType: await window.errorOf(db.putAttachment('room', 'a.bin', bytes, { contentType: 'nonsense' })),
        badOption: await window.errorOf(db.putAttachment('room', 'a.bin', bytes, { type: 'image/png' })),
        badRev: await window.errorOf(db.putAttachment('room', 'a.bin', bytes, { rev: 'x' })),
        reservedId: await window.errorOf(db.putAttachment('_design/x', 'a.bin', bytes)),
        removeMissing: await window.errorOf(db.removeAttachment('room', 'a.bin')),
        getMissing: await window.errorOf(db.getAttachment('room', 'a.bin')),
        listMissing: await window.errorOf(db.attachments('room')),
        doc: await db.get('room'),
        pending: await db.pendingCount(),
      };
    });
    assert.equal(errors.tooLarge.code, 'attachment_too_large');
    assert.deepEqual(errors.tooLarge.details, { id: 'room', name: 'big.jpg', size: 1001, limit: 1000 });
    assert.equal(errors.tooLargeBuffer.code, 'attachment_too_large');
    for (const key of ['reservedName', 'emptyName', 'nameNotString', 'notData', 'badType']) {
      assert.equal(errors[key]?.code, 'invalid_attachment', key);
      assert.equal(errors[key].name, 'TidesyncError', key);
    }
    assert.equal(errors.badOption.code, 'invalid_options');
    assert.equal(errors.badRev.code, 'invalid_rev');
    assert.equal(errors.reservedId.code, 'invalid_id');
    for (const key of ['removeMissing', 'getMissing', 'listMissing']) assert.equal(errors[key]?.code, 'not_found', key);
    assert.equal(errors.doc, null);
    assert.equal(errors.pending, 0);
    // A document with a photo: removing another name is `not_found`, a stale
    // `_rev` is `conflict`, and neither changes it.
    const after = await page.evaluate(async () => {
      const first = await window.db.putAttachment('room', 'ok.jpg', window.photo(1000));
      await window.db.put({ _id: 'room', title: 'edited', _rev: first.rev });
      return {
        stale: await window.errorOf(window.db.putAttachment('room', 'b.jpg', window.photo(10), { rev: first.rev })),
        staleRemove: await window.errorOf(window.db.removeAttachment('room', 'ok.jpg', { rev: first.rev })),
        names: (await window.db.attachments('room')).map((x) => x.name),
      };
    });
    assert.equal(after.stale.code, 'conflict');
    assert.equal(after.staleRemove.code, 'conflict');
    assert.deepEqual(after.names, ['ok.jpg']);
  } finally {
    await context.close();
  }
});

test('removing an attachment syncs: the server and other clients lose it', async () => {
  const db = await remoteDb();
  await roomWithPhoto(db);
  const a = await client(db);
  const b = await client(db);
  try {
    await a.page.evaluate(async () => {
      await window.db.sync();
      await window.db.putAttachment('room', 'plan.pdf', new Uint8Array([37, 80, 68, 70]), { contentType: 'application/pdf' });
      await window.db.removeAttachment('room', 'photo.jpg');
      const report = await window.db.sync();
      if (report.errors.length) throw new Error(JSON.stringify(report.errors));
    });
    const doc = await (await server.fetch(`/${db}/room`)).json();
    assert.deepEqual(Object.keys(doc._attachments), ['plan.pdf']);
    const seen = await b.page.evaluate(async () => {
      await window.db.sync();
      const blob = await window.db.getAttachment('room', 'plan.pdf');
      return { names: (await window.db.attachments('room')).map((x) => x.name), type: blob.type, bytes: [...new Uint8Array(await blob.arrayBuffer())] };
    });
    assert.deepEqual(seen, { names: ['plan.pdf'], type: 'application/pdf', bytes: [37, 80, 68, 70] });
  } finally {
    await a.context.close();
    await b.context.close();
  }
});

test('both sides add a photo: the conflict shows both, and the resolution keeps both', async () => {
  const db = await remoteDb();
  await roomWithPhoto(db);
  const a = await client(db);
  const b = await client(db);
  try {
    for (const c of [a, b]) await c.page.evaluate(() => window.db.sync());
    await b.page.evaluate(async () => {
      await window.db.putAttachment('room', 'theirs.png', window.photo(3000, 9), { contentType: 'image/png' });
      await window.db.sync();
    });
    const conflict = await a.page.evaluate(async () => {
      await window.db.putAttachment('room', 'mine.jpg', window.photo(2000, 5));
      await window.db.sync();
      return (await window.db.conflicts())[0];
    });
    assert.deepEqual(Object.keys(conflict.localAttachments).sort(), ['mine.jpg', 'photo.jpg']);
    assert.deepEqual(Object.keys(conflict.remoteAttachments).sort(), ['photo.jpg', 'theirs.png']);
    assert.equal(conflict.localAttachments['mine.jpg'].stub, undefined, 'added here, not on the server');
    assert.equal(conflict.localAttachments['photo.jpg'].digest, conflict.remoteAttachments['photo.jpg'].digest);
    const report = await a.page.evaluate(async () => {
      await window.db.resolve('room', { title: 'hall' });
      return window.db.sync();
    });
    assert.deepEqual(report.errors, []);
    const doc = await (await server.fetch(`/${db}/room`)).json();
    assert.deepEqual(Object.keys(doc._attachments).sort(), ['mine.jpg', 'photo.jpg', 'theirs.png']);
    assert.equal(doc._attachments['mine.jpg'].length, 2000);
    assert.equal(await a.page.evaluate(() => window.db.pendingCount()), 0);
  } finally {
    await a.context.close();
    await b.context.close();
  }
});

test('a tab closed while its photo is uploading loses nothing: the next tab pushes it once', async () => {
  const db = await remoteDb();
  const context = await browser.newContext();
  const name = fresh('device');
  const first = await client(db, { name }, context);
  // The upload is held at the proxy while the tab is closed, then reaches
  // the server: its answer has no one to go to.
  proxy.fault({ method: 'POST', path: `/${db}/_bulk_docs`, action: 'delay', delayMs: 2000 });
  const sha = await first.page.evaluate(async () => {
    const photo = window.photo(2 * 1024 * 1024, 11);
    await window.db.putAttachment('room', 'photo.jpg', photo);
    window.db.sync();
    return window.sha(photo);
  });
  const uploading = () => proxy.log.some((e) => e.path === `/${db}/_bulk_docs` && e.bytes > 2 * 1024 * 1024);
  for (let i = 0; i < 200 && !uploading(); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(uploading(), 'the upload started');
  await first.page.close();
  proxy.clearFaults();
  for (let i = 0; i < 200; i++) {
    if ((await server.fetch(`/${db}/room`)).status === 200) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const second = await client(db, { name }, context);
  try {
    const after = await second.page.evaluate(async () => {
      const report = await window.db.sync();
      return { report, pending: await window.db.pendingCount(), sha: await window.sha(await window.db.getAttachment('room', 'photo.jpg')) };
    });
    assert.deepEqual(after.report.errors, []);
    assert.equal(after.pending, 0);
    assert.equal(after.sha, sha);
    const doc = await (await server.fetch(`/${db}/room`)).json();
    assert.match(doc._rev, /^1-/, 'written once');
    const bytes = Buffer.from(await (await server.fetch(`/${db}/room/photo.jpg`)).arrayBuffer());
    assert.equal(sha256(bytes), sha);
  } finally {
    await context.close();
  }
});

test('a full disk refuses the photo with quota_exceeded and the document stays as it was', { skip: lacks('cdp') }, async () => {
  const db = await remoteDb();
  // A 3 MiB quota for the origin (set before it first opens IndexedDB, which
  // is when Chromium reads it).
  const { context, page } = await client(db, {}, undefined, async (p, ctx) => {
    const cdp = await ctx.newCDPSession(p);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: proxy.url, quotaSize: 3 * 1024 * 1024 });
  });
  try {
    const outcome = await page.evaluate(async () => {
      const written = await window.db.put({ _id: 'room', title: 'kitchen' });
      return {
        rev: written.rev,
        error: await window.errorOf(window.db.putAttachment('room', 'photo.jpg', window.photo(4 * 1024 * 1024))),
        doc: await window.db.get('room'),
        pending: await window.db.pendingCount(),
        list: await window.db.attachments('room'),
      };
    });
    assert.equal(outcome.error?.code, 'quota_exceeded', JSON.stringify(outcome.error));
    assert.equal(outcome.error.name, 'TidesyncError');
    assert.deepEqual(outcome.doc, { _id: 'room', _rev: outcome.rev, title: 'kitchen' });
    assert.equal(outcome.pending, 1, 'the document stays pending, its write queued');
    assert.deepEqual(outcome.list, []);
    // The disk stays full: a sync cannot record its progress either, says
    // so with the same code, and the document waits, readable, to be pushed.
    const after = await page.evaluate(async () => ({
      report: await window.db.sync(),
      status: (await window.db.all({ includeDeleted: true })).map((d) => d._id),
      pending: await window.db.pendingCount(),
    }));
    assert.ok(after.report.errors.some((e) => e.code === 'quota_exceeded'), JSON.stringify(after.report));
    assert.deepEqual(after.status, ['room']);
    assert.equal(after.pending, 1);
  } finally {
    await context.close();
  }
});

test('compact() deletes the bytes no document names, never those a pending change needs', async () => {
  const db = await remoteDb();
  const { context, page } = await client(db);
  try {
    const outcome = await page.evaluate(async () => {
      const first = window.photo(50_000, 1);
      const second = window.photo(50_000, 2);
      await window.db.putAttachment('room', 'a.jpg', first);
      await window.db.putAttachment('room', 'a.jpg', second);
      await window.db.putAttachment('room', 'b.jpg', window.photo(30_000, 3));
      await window.db.removeAttachment('room', 'b.jpg');
      return {
        recent: await window.db.compact(),
        swept: await window.db.compact({ olderThanMs: 0 }),
        again: await window.db.compact({ olderThanMs: 0 }),
        negative: await window.errorOf(window.db.compact({ olderThanMs: -1 })),
        unknown: await window.errorOf(window.db.compact({ older: 1 })),
        report: await window.db.sync(),
        sha: await window.sha(second),
        read: await window.sha(await window.db.getAttachment('room', 'a.jpg')),
      };
    });
    assert.equal(outcome.recent, 0, 'bytes saved within the hour are spared');
    assert.equal(outcome.swept, 2, 'the replaced and the removed photo');
    assert.equal(outcome.again, 0);
    assert.equal(outcome.negative.code, 'invalid_options');
    assert.equal(outcome.unknown.code, 'invalid_options');
    assert.deepEqual(outcome.report.errors, []);
    assert.equal(outcome.read, outcome.sha);
    const bytes = Buffer.from(await (await server.fetch(`/${db}/room/a.jpg`)).arrayBuffer());
    assert.equal(sha256(bytes), outcome.sha, 'the pending photo was kept and pushed');
    const doc = await (await server.fetch(`/${db}/room`)).json();
    assert.deepEqual(Object.keys(doc._attachments), ['a.jpg']);
  } finally {
    await context.close();
  }
});
