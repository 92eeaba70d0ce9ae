// The PouchDB contender (the browser bundle `pouchdb.min.js`, loaded as a
// classic script that defines `window.PouchDB`), behind the same adapter shape
// as the raw IndexedDB baseline.

function checked(results) {
  const failed = results.filter((r) => r.error);
  if (failed.length) throw new Error(`PouchDB bulkDocs: ${failed.length} failed, first: ${JSON.stringify(failed[0])}`);
}

export const pouchdb = {
  async open(name) {
    return new window.PouchDB(name);
  },
  async putEach(db, docs) {
    for (const doc of docs) await db.put(doc);
  },
  putTogether(db, docs) {
    return Promise.all(docs.map((doc) => db.put(doc)));
  },
  async putAll(db, docs) {
    checked(await db.bulkDocs(docs));
  },
  async edit(db, doc) {
    const { rev } = await db.put(doc);
    return { ...doc, _rev: rev };
  },
  async fill(db, docs) {
    const results = await db.bulkDocs(docs);
    checked(results);
    return docs.map((doc, i) => ({ ...doc, _rev: results[i].rev }));
  },
  async getEach(db, ids) {
    let found = 0;
    for (const id of ids) {
      if (await db.get(id)) found++;
    }
    return found;
  },
  async getAll(db) {
    return (await db.allDocs({ include_docs: true })).rows.map((row) => row.doc);
  },
  destroy(db) {
    return db.destroy();
  },
};
