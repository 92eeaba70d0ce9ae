// Attachment benchmarks, run in the page against a CouchDB-API server: upload
// of `n` photos put offline as attachments of `n` documents, and their
// download into an empty client until each is a readable Blob, for tidesync
// (`sync()`, `getAttachment`) and PouchDB (`replicate.to` / `replicate.from`,
// `getAttachment`). Each run checks the bytes outside its timed section: the
// server's copies after an upload, every Blob after a download.
import { makeDocs } from './docs.js';
import { PHOTO_NAME, PHOTO_TYPE, isPhoto, makePhoto, photoId } from './photos.js';
import { openTidesync } from './tidesync.js';
import { authHeaders, currentAuth, pouchRemote, syncUntil, timedWithHttp, untilServerHolds } from './remote.js';

const photoBlob = (i, bytes) => new Blob([makePhoto(i, bytes)], { type: PHOTO_TYPE });

// Checks that `read(i)` (a Uint8Array) is photo `i` for each, and that the
// bytes add up to what was written; returns the total.
async function checkPhotos(what, n, bytes, read) {
  let total = 0;
  for (let i = 0; i < n; i++) {
    const got = await read(i);
    if (!isPhoto(got, i, bytes)) throw new Error(`${what}: ${photoId(i)}/${PHOTO_NAME} has ${got.length} bytes, not photo ${i}'s ${bytes}`);
    total += got.length;
  }
  if (total !== n * bytes) throw new Error(`${what}: ${total} bytes read back, ${n * bytes} written`);
  return total;
}

// After an upload: the server's copy of every photo, read back untimed.
function checkServer(remote, n, bytes) {
  return checkPhotos(`server ${remote}`, n, bytes, async (i) => {
    const res = await fetch(`${remote}/${encodeURIComponent(photoId(i))}/${PHOTO_NAME}`, { headers: authHeaders() });
    if (!res.ok) throw new Error(`GET ${photoId(i)}/${PHOTO_NAME}: ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
  });
}

// After a download: the Blobs the client returned, each the photo it names.
async function checkBlobs(what, blobs, n, bytes) {
  if (blobs.length !== n) throw new Error(`${what}: ${blobs.length} Blobs, expected ${n}`);
  return checkPhotos(what, n, bytes, async (i) => {
    if (!(blobs[i] instanceof Blob)) throw new Error(`${what}: ${photoId(i)} read as ${Object.prototype.toString.call(blobs[i])}, not a Blob`);
    return new Uint8Array(await blobs[i].arrayBuffer());
  });
}

// Every photo read at once (as a screen of thumbnails asks for them).
const readAll = (n, read) => Promise.all(Array.from({ length: n }, (_, i) => read(photoId(i))));

/** tidesync: `n` documents and a photo on each, offline; then `sync()` until nothing is pending. */
export async function uploadTidesync({ n, bytes, name, remote }) {
  const db = await openTidesync(name, remote, currentAuth());
  try {
    const written = await db.putMany(makeDocs('photo-', n));
    for (let i = 0; i < n; i++) {
      await db.putAttachment(photoId(i), PHOTO_NAME, photoBlob(i, bytes), { rev: written[i].rev });
    }
    const out = await timedWithHttp(remote, async () => {
      const totals = await syncUntil(db, async () => (await db.pendingCount()) === 0);
      await untilServerHolds(remote, n);
      return totals;
    });
    return { ...out, bytes: await checkServer(remote, n, bytes) };
  } finally {
    await db.destroy();
  }
}

/** PouchDB: `n` documents and a photo on each (`putAttachment`) locally, then `replicate.to`. */
export async function uploadPouchdb({ n, bytes, name, remote }) {
  const db = new window.PouchDB(name);
  try {
    const written = await db.bulkDocs(makeDocs('photo-', n));
    for (let i = 0; i < n; i++) {
      if (written[i].error) throw new Error(`PouchDB bulkDocs: ${JSON.stringify(written[i])}`);
      await db.putAttachment(photoId(i), PHOTO_NAME, written[i].rev, photoBlob(i, bytes), PHOTO_TYPE);
    }
    const out = await timedWithHttp(remote, async () => {
      const result = await db.replicate.to(pouchRemote(remote));
      await untilServerHolds(remote, n);
      return { pushed: result.docs_written };
    });
    return { ...out, bytes: await checkServer(remote, n, bytes) };
  } finally {
    await db.destroy();
  }
}

/**
 * tidesync: an empty client pulls the server's `n` photo documents with
 * `sync()`, then reads every photo. Lazy (the default): `getAttachment`
 * downloads each. Eager: `sync()` downloads them, and the reads run with the
 * network switched off, so a photo the pull left behind fails the run.
 */
export async function downloadTidesync({ n, bytes, name, remote, eager = false }) {
  const db = await openTidesync(name, remote, currentAuth(), eager ? { attachments: 'eager' } : {});
  try {
    let blobs;
    const out = await timedWithHttp(remote, async () => {
      const totals = await syncUntil(db, (t) => t.pulled >= n);
      if (eager) db.setNetworkEnabled(false);
      blobs = await readAll(n, (id) => db.getAttachment(id, PHOTO_NAME));
      return totals;
    });
    return { ...out, bytes: await checkBlobs(`tidesync${eager ? ' eager' : ''} download`, blobs, n, bytes) };
  } finally {
    await db.destroy();
  }
}

/** PouchDB: an empty local database, `replicate.from` the server, then `getAttachment` of every photo. */
export async function downloadPouchdb({ n, bytes, name, remote }) {
  const db = new window.PouchDB(name);
  try {
    let blobs;
    const out = await timedWithHttp(remote, async () => {
      const result = await db.replicate.from(pouchRemote(remote));
      blobs = await readAll(n, (id) => db.getAttachment(id, PHOTO_NAME));
      return { pulled: result.docs_written };
    });
    return { ...out, bytes: await checkBlobs('PouchDB download', blobs, n, bytes) };
  } finally {
    await db.destroy();
  }
}
