// The raw IndexedDB baseline: one object store keyed by `_id` holding the
// documents as they are (structured clone), written and read with the plain
// IndexedDB API and the browser's default transaction durability. The strict
// adapter exists only as a diagnostic row (tidesync commits its transactions
// with strict durability); it is never the baseline.

import { request, done } from './idb.js';

const STORE = 'docs';

function adapter(durability) {
  const writeTx = (db) => db.transaction(STORE, 'readwrite', { durability });
  return {
    async open(name) {
      const req = indexedDB.open(name, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: '_id' });
      return request(req);
    },
    /** One transaction per document, each awaited until committed. */
    async putEach(db, docs) {
      for (const doc of docs) {
        const tx = writeTx(db);
        tx.objectStore(STORE).put(doc);
        await done(tx);
      }
    },
    /** One transaction per document, all started before any is awaited. */
    putTogether(db, docs) {
      return Promise.all(docs.map((doc) => {
        const tx = writeTx(db);
        tx.objectStore(STORE).put(doc);
        return done(tx);
      }));
    },
    /** All documents in one transaction. */
    async putAll(db, docs) {
      const tx = writeTx(db);
      const store = tx.objectStore(STORE);
      for (const doc of docs) store.put(doc);
      await done(tx);
    },
    /** Writes one edited document in its own transaction; returns it. */
    async edit(db, doc) {
      await this.putEach(db, [doc]);
      return doc;
    },
    /** Stores `docs` in one transaction; returns them as an app would edit them. */
    async fill(db, docs) {
      await this.putAll(db, docs);
      return docs;
    },
    /** One readonly transaction per id, each awaited; returns how many were found. */
    async getEach(db, ids) {
      let found = 0;
      for (const id of ids) {
        if (await request(db.transaction(STORE).objectStore(STORE).get(id))) found++;
      }
      return found;
    },
    /** Every document with one `getAll`. */
    getAll(db) {
      return request(db.transaction(STORE).objectStore(STORE).getAll());
    },
    async destroy(db) {
      const name = db.name;
      db.close();
      await request(indexedDB.deleteDatabase(name));
    },
  };
}

/** The baseline: the browser's default durability. */
export const idb = adapter('default');
/** Diagnostic only: strict durability, as tidesync asks for. */
export const idbStrict = adapter('strict');
