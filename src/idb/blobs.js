// Attachment bytes: Blobs in the `attachments` object store, keyed by their
// digest, so the same bytes are stored once and a record names them by
// digest. Binary at rest (no base64).
const STORE = 'attachments';

function settled(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new DOMException('the transaction was aborted', 'AbortError'));
  });
}

// Stores `bytes` (copied into a Blob before anything else runs) under `digest`.
export async function saveBlob(db, digest, contentType, bytes) {
  const blob = new Blob([bytes], { type: contentType });
  const tx = db.transaction(STORE, 'readwrite', { durability: 'strict' });
  tx.objectStore(STORE).put(blob, digest);
  await settled(tx);
}

// The Blob stored under each digest (null where there is none).
export async function readBlobs(db, digests) {
  const tx = db.transaction(STORE, 'readonly');
  const store = tx.objectStore(STORE);
  const requests = digests.map((digest) => store.get(digest));
  await settled(tx);
  return requests.map((request) => request.result ?? null);
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
