// Attachment bytes: Blobs in the `attachments` object store, keyed by their
// digest, so the same bytes are stored once and a record names them by
// digest. Binary at rest (no base64). Each entry is `{ blob, savedAt }`
// (`{ bytes, type, savedAt }` where IndexedDB cannot keep a Blob):
// bytes are saved before the record naming them is written, so a sweep of
// bytes no record names spares those saved recently.
const STORE = 'attachments';
const DOCS = 'docs';

function settled(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = (event) => reject(event.target?.error ?? tx.error);
    tx.onabort = () => reject(tx.error ?? new DOMException('the transaction was aborted', 'AbortError'));
  });
}

async function put(db, digest, entry) {
  const tx = db.transaction(STORE, 'readwrite', { durability: 'strict' });
  tx.objectStore(STORE).put(entry, digest);
  await settled(tx);
}

// Whether this browser refused to store a Blob (WebKit in an ephemeral
// session: "Error preparing Blob/File data"), as opposed to a full disk.
let blobsRefused = false;

// Stores `bytes` (copied before anything else runs) under `digest`: as a
// Blob, or as an ArrayBuffer where IndexedDB cannot keep Blobs.
export async function saveBlob(db, digest, contentType, bytes) {
  const copy = bytes.slice();
  const savedAt = Date.now();
  if (!blobsRefused) {
    try {
      await put(db, digest, { blob: new Blob([copy], { type: contentType }), savedAt });
      return;
    } catch (error) {
      if (error?.name === 'QuotaExceededError') throw error;
      blobsRefused = true;
    }
  }
  await put(db, digest, { bytes: copy.buffer, type: contentType, savedAt });
}

// The Blob of a stored entry, whichever form it was stored in.
function blobOfEntry(entry) {
  if (entry?.blob) return entry.blob;
  if (entry?.bytes) return new Blob([entry.bytes], { type: entry.type ?? '' });
  return null;
}

// The Blob stored under each digest (null where there is none).
export async function readBlobs(db, digests) {
  const tx = db.transaction(STORE, 'readonly');
  const store = tx.objectStore(STORE);
  const requests = digests.map((digest) => store.get(digest));
  await settled(tx);
  return requests.map((request) => blobOfEntry(request.result));
}

// Deletes the bytes no document record names (a removed or replaced
// attachment, a download of a revision since gone) and saved more than
// `olderThanMs` ago; resolves to how many entries were deleted. Records
// name digests in their JSON text (current, server, conflict and outbox
// sets alike), which is read as text, not parsed.
export async function sweepBlobs(db, olderThanMs) {
  const keysTx = db.transaction(STORE, 'readonly');
  const keysRequest = keysTx.objectStore(STORE).count();
  await settled(keysTx);
  if (keysRequest.result === 0) return 0;
  const named = new Set();
  const docsTx = db.transaction(DOCS, 'readonly');
  const cursor = docsTx.objectStore(DOCS).openCursor();
  const pattern = /"digest":"([^"\\]+)"/g;
  cursor.onsuccess = () => {
    const at = cursor.result;
    if (!at) return;
    const json = typeof at.value?.json === 'string' ? at.value.json : '';
    for (const match of json.matchAll(pattern)) named.add(match[1]);
    at.continue();
  };
  await settled(docsTx);
  const before = Date.now() - olderThanMs;
  let deleted = 0;
  const tx = db.transaction(STORE, 'readwrite');
  const entries = tx.objectStore(STORE).openCursor();
  entries.onsuccess = () => {
    const at = entries.result;
    if (!at) return;
    const savedAt = at.value?.savedAt ?? 0;
    if (!named.has(at.key) && savedAt <= before) {
      at.delete();
      deleted += 1;
    }
    at.continue();
  };
  await settled(tx);
  return deleted;
}

// [digest, bytes] of each digest stored: what a push sends.
export async function loadBytes(db, digests) {
  const blobs = await readBlobs(db, digests);
  const found = [];
  for (let i = 0; i < digests.length; i += 1) {
    if (blobs[i]) found.push([digests[i], new Uint8Array(await blobs[i].arrayBuffer())]);
  }
  return found;
}

// The bytes and type of what an app passes as an attachment: a Blob (or
// File), an ArrayBuffer or a view of one. Anything else is refused.
export async function attachmentBytes(data) {
  if (typeof Blob !== 'undefined' && data instanceof Blob) {
    return { bytes: new Uint8Array(await data.arrayBuffer()), type: data.type };
  }
  if (data instanceof ArrayBuffer) return { bytes: new Uint8Array(data), type: '' };
  if (ArrayBuffer.isView(data)) {
    return { bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), type: '' };
  }
  return null;
}

export function blobOf(bytes, contentType) {
  return new Blob([bytes], { type: contentType });
}

export function objectUrl(blob) {
  return URL.createObjectURL(blob);
}
