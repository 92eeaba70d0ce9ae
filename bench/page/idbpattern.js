// Diagnostic only, never a baseline: plain JavaScript issuing the IndexedDB
// requests tidesync issues per write (one strict readwrite transaction over
// the `docs` and `meta` stores; for fewer than 16 documents none of which this
// page has seen stored, an `add` of each record and the commit right behind,
// no read; for fewer than 16 documents whose record text the page wrote last,
// the reads and the writes sent together and the commit once the reads show
// the records unchanged; otherwise a read of each document's record, or for 16 documents
// and more one listing of the stored keys in their range, then a `put` of
// each record. A record holds the document and its outbox message as one
// JSON string, the message's body stored once with the document's, and the
// message's sequence number in `q` for the `queue` index).
// Its gap to raw IndexedDB is the cost of that storage pattern; its gap to
// tidesync is everything else (wasm, bindings, serde, revision bookkeeping).

import { request, done } from './idb.js';

const STORES = ['docs', 'meta'];
let last = 0;
// The ids this page has stored, by database (tidesync's hint of the same name),
// and the text of the records it wrote last (at most 512 per database).
const known = new Map();
const texts = new Map();

function remember(db, rec) {
  if (!texts.has(db.name)) texts.set(db.name, new Map());
  const mine = texts.get(db.name);
  if (mine.size >= 512 && !mine.has(rec.id)) mine.clear();
  mine.set(rec.id, rec.json);
}

// The writes of `docs` sent behind the reads of their records, committed if
// each record is still the text this page wrote last; false when one is not.
function writeUnchanged(db, docs, expected) {
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORES, 'readwrite', { durability: 'strict' });
    const store = tx.objectStore('docs');
    let unchanged = true;
    let left = docs.length;
    docs.forEach((doc, i) => {
      const read = store.get(doc._id);
      read.onsuccess = () => {
        if (!read.result || read.result.json !== expected[i]) unchanged = false;
        left -= 1;
        if (left === 0) (unchanged ? tx.commit() : tx.abort());
      };
    });
    let seq = Math.max(Date.now() * 1024, last + 1);
    const written = docs.map((doc) => record(doc, seq++));
    last = seq - 1;
    for (const rec of written) store.put(rec);
    tx.oncomplete = () => {
      for (const rec of written) remember(db, rec);
      resolve(true);
    };
    tx.onabort = () => (unchanged ? reject(tx.error) : resolve(false));
  });
}

// The record of `doc` as a new pending document with its outbox message.
function record(doc, seq) {
  const { _id: id, ...body } = doc;
  const now = Date.now();
  const message = { seq, version: seq, id: crypto.randomUUID(), doc_id: id, op: 'put', base_rev: null, body: null, created_at: now, attempts: 0, last_error: null, state: 'queued' };
  // Like tidesync's, a pending record has no `status` member: only conflicted
  // records are in the status index.
  return { id, q: [seq], json: JSON.stringify({ id, rev: null, base: null, local: body, status: 'pending', deleted: false, updated_at: now, messages: [message], local_bodies: [seq] }) };
}

// One transaction: read what a write needs for `docs`, then write them; or,
// for a few documents never seen stored, add them without reading.
async function writeBatch(db, docs) {
  if (!known.has(db.name)) known.set(db.name, new Set());
  const seen = known.get(db.name);
  const mine = texts.get(db.name);
  const expected = docs.map((doc) => mine?.get(doc._id));
  if (docs.length < 16 && expected.every((text) => text !== undefined)) {
    if (await writeUnchanged(db, docs, expected)) return undefined;
  }
  const tx = db.transaction(STORES, 'readwrite', { durability: 'strict' });
  const store = tx.objectStore('docs');
  if (docs.length < 16 && !docs.some((doc) => seen.has(doc._id))) {
    let seq = Math.max(Date.now() * 1024, last + 1);
    for (const doc of docs) {
      const rec = record(doc, seq);
      store.add(rec);
      remember(db, rec);
      seen.add(doc._id);
      last = seq;
      seq++;
    }
    tx.commit();
    return done(tx);
  }
  for (const doc of docs) seen.add(doc._id);
  if (docs.length >= 16) {
    const ids = docs.map((doc) => doc._id).sort();
    const range = IDBKeyRange.bound(ids[0], ids[ids.length - 1]);
    const known = new Set(await request(store.getAllKeys(range, 2 * docs.length)));
    await Promise.all(docs.filter((doc) => known.has(doc._id)).map((doc) => request(store.get(doc._id))));
  } else {
    await Promise.all(docs.map((doc) => request(store.get(doc._id))));
  }
  let seq = Math.max(Date.now() * 1024, last + 1);
  for (const doc of docs) {
    const rec = record(doc, seq);
    store.put(rec);
    remember(db, rec);
    last = seq;
    seq++;
  }
  await done(tx);
}

export const idbPattern = {
  async open(name) {
    const req = indexedDB.open(name, 1);
    req.onupgradeneeded = () => {
      const db = req.result;
      const docs = db.createObjectStore('docs', { keyPath: 'id' });
      docs.createIndex('status', 'status');
      docs.createIndex('queue', 'q', { multiEntry: true });
      db.createObjectStore('meta', { keyPath: 'key' });
    };
    return request(req);
  },
  async putEach(db, docs) {
    for (const doc of docs) await writeBatch(db, [doc]);
  },
  putAll(db, docs) {
    return writeBatch(db, docs);
  },
  async edit(db, doc) {
    await writeBatch(db, [doc]);
    return doc;
  },
  async fill(db, docs) {
    await writeBatch(db, docs);
    return docs;
  },
  getAll(db) {
    return request(db.transaction('docs').objectStore('docs').getAll());
  },
  async destroy(db) {
    const name = db.name;
    db.close();
    await request(indexedDB.deleteDatabase(name));
  },
};
