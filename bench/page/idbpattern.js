// Diagnostic only, never a baseline: plain JavaScript issuing the IndexedDB
// requests tidesync issues per write (one strict readwrite transaction over
// four stores; reads of the document and the outbox sequence (its conflict and
// queued messages are read only for a document with local changes, which a new
// document is not); writes of the document record, an outbox record and the
// sequence, each record carrying its JSON string). Its gap to raw IndexedDB is
// the cost of that storage pattern; its gap to tidesync is everything else
// (wasm, bindings, serde, revision bookkeeping).

import { request, done } from './idb.js';

const STORES = ['docs', 'outbox', 'conflicts', 'meta'];

// One transaction: read what a write needs for `docs`, then write them.
async function writeBatch(db, docs) {
  const tx = db.transaction(STORES, 'readwrite', { durability: 'strict' });
  const [store, outbox, , meta] = STORES.map((s) => tx.objectStore(s));
  const reads = docs.map((doc) => request(store.get(doc._id)));
  const seqRecord = await request(meta.get('outbox_seq'));
  await Promise.all(reads);
  let seq = seqRecord ? JSON.parse(seqRecord.json) : 0;
  for (const doc of docs) {
    const { _id: id, ...body } = doc;
    const now = Date.now();
    store.put({ id, status: 'pending', json: JSON.stringify({ id, rev: null, base: null, local: body, status: 'pending', deleted: false, updated_at: now }) });
    outbox.put({ seq, docId: id, json: JSON.stringify({ seq, id: crypto.randomUUID(), doc_id: id, op: 'put', base_rev: null, body, created_at: now, attempts: 0, last_error: null, state: 'queued' }) });
    seq++;
  }
  meta.put({ key: 'outbox_seq', json: JSON.stringify(seq) });
  await done(tx);
}

export const idbPattern = {
  async open(name) {
    const req = indexedDB.open(name, 1);
    req.onupgradeneeded = () => {
      const db = req.result;
      db.createObjectStore('docs', { keyPath: 'id' }).createIndex('status', 'status');
      db.createObjectStore('outbox', { keyPath: 'seq' }).createIndex('docId', 'docId');
      db.createObjectStore('conflicts', { keyPath: 'id' });
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
  getAll(db) {
    return request(db.transaction('docs').objectStore('docs').getAll());
  },
  async destroy(db) {
    const name = db.name;
    db.close();
    await request(indexedDB.deleteDatabase(name));
  },
};
