// The tidesync contender behind the adapter shape of the raw IndexedDB
// baseline, plus the package's init output (for its wasm memory).
import init, { Tidesync } from '/pkg/index.js';

/** The init output: the wasm module's exports, `memory` among them. */
export const wasm = await init();

/** Bytes of the wasm module's linear memory right now. */
export function wasmBytes() {
  return wasm.memory.buffer.byteLength;
}

/**
 * Opens a tidesync database; `remote` set means sync only when asked, signed
 * in with `auth` (`{ username, password }`) when given, with `options` (more
 * open() options, e.g. `{ attachments: 'eager' }`) on top.
 */
export function openTidesync(name, remote, auth, options = {}) {
  const headers = auth ? { Authorization: `Basic ${btoa(`${auth.username}:${auth.password}`)}` } : {};
  return Tidesync.open(remote ? { name, remote, headers, live: false, ...options } : { name, ...options });
}

export const tidesync = {
  open(name) {
    return openTidesync(name);
  },
  async putEach(db, docs) {
    for (const doc of docs) await db.put(doc);
  },
  putTogether(db, docs) {
    return Promise.all(docs.map((doc) => db.put(doc)));
  },
  async putAll(db, docs) {
    await db.putMany(docs);
  },
  async edit(db, doc) {
    const { rev } = await db.put(doc);
    return { ...doc, _rev: rev };
  },
  async fill(db, docs) {
    const results = await db.putMany(docs);
    return docs.map((doc, i) => ({ ...doc, _rev: results[i].rev }));
  },
  async getEach(db, ids) {
    let found = 0;
    for (const id of ids) {
      if (await db.get(id)) found++;
    }
    return found;
  },
  getAll(db) {
    return db.all();
  },
  destroy(db) {
    return db.destroy();
  },
};
