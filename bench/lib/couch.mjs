// Node-side calls to a CouchDB-API server: create, delete and seed databases
// with the benchmark documents (or photos), and read their document count.
import { makeDoc } from '../page/docs.js';
import { PHOTO_NAME, PHOTO_TYPE, makePhoto } from '../page/photos.js';

// Authorization headers by server origin, for servers that want them (CouchDB).
const authByOrigin = new Map();

/** Sends `header` as Authorization with every call to `origin`. */
export function authorize(origin, header) {
  authByOrigin.set(new URL(origin).origin, header);
}

async function call(method, url, body) {
  const auth = authByOrigin.get(new URL(url).origin);
  const res = await fetch(url, {
    method,
    headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(auth ? { authorization: auth } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok && !(method === 'DELETE' && res.status === 404)) {
    throw new Error(`${method} ${url}: ${res.status} ${text.slice(0, 200)}`);
  }
  return text ? JSON.parse(text) : null;
}

export function deleteDb(url) {
  return call('DELETE', url);
}

export async function docCount(url) {
  return (await call('GET', url)).doc_count;
}

/** A fresh database at `url` holding `n` benchmark documents. */
export function seedDb(url, n, chunk = 2000) {
  return seed(url, n, chunk, (i) => makeDoc('doc-', i));
}

/**
 * A fresh database at `url` holding `n` photo documents, each with photo `i`
 * of `bytes` bytes as an inline attachment (about 4 MiB of photos a request).
 */
export function seedPhotos(url, n, bytes) {
  const chunk = Math.max(1, Math.floor((4 * 2 ** 20) / bytes));
  return seed(url, n, chunk, (i) => {
    const photo = makePhoto(i, bytes);
    const data = Buffer.from(photo.buffer, photo.byteOffset, photo.byteLength).toString('base64');
    return { ...makeDoc('photo-', i), _attachments: { [PHOTO_NAME]: { content_type: PHOTO_TYPE, data } } };
  });
}

async function seed(url, n, chunk, makeOne) {
  await deleteDb(url);
  await call('PUT', url);
  for (let i = 0; i < n; i += chunk) {
    const docs = [];
    for (let j = i; j < Math.min(n, i + chunk); j++) docs.push(makeOne(j));
    const results = await call('POST', `${url}/_bulk_docs`, { docs });
    const failed = results.filter((r) => r.error);
    if (failed.length) throw new Error(`seeding ${url}: ${failed.length} failed, first ${JSON.stringify(failed[0])}`);
  }
  const count = await docCount(url);
  if (count !== n) throw new Error(`seeding ${url}: ${count} documents, expected ${n}`);
}
