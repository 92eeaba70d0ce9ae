// Sync benchmarks, run in the page against a CouchDB-API server: replay of
// documents written offline, and the initial pull into an empty client, for
// tidesync (`sync()`) and PouchDB (`replicate.to` / `replicate.from`).
import { makeDocs } from './docs.js';
import { openTidesync } from './tidesync.js';
import { currentAuth, pouchRemote, syncUntil, timedWithHttp, untilServerHolds } from './remote.js';

export { useAuth } from './remote.js';

const CHUNK = 1000;

/** tidesync: `n` writes offline, then `sync()` until nothing is pending. */
export async function replayTidesync({ n, name, remote }) {
  const db = await openTidesync(name, remote, currentAuth());
  try {
    const docs = makeDocs('doc-', n);
    for (let i = 0; i < n; i += CHUNK) await db.putMany(docs.slice(i, i + CHUNK));
    return await timedWithHttp(remote, async () => {
      const totals = await syncUntil(db, async () => (await db.pendingCount()) === 0);
      await untilServerHolds(remote, n);
      return totals;
    });
  } finally {
    await db.destroy();
  }
}

/** PouchDB: `n` writes into a local database, then `replicate.to`. */
export async function replayPouchdb({ n, name, remote }) {
  const db = new window.PouchDB(name);
  try {
    await db.bulkDocs(makeDocs('doc-', n));
    return await timedWithHttp(remote, async () => {
      const result = await db.replicate.to(pouchRemote(remote));
      await untilServerHolds(remote, n);
      return { pushed: result.docs_written };
    });
  } finally {
    await db.destroy();
  }
}

/** tidesync: an empty client `sync()`s until it pulled the server's `n` documents. */
export async function pullTidesync({ n, name, remote }) {
  const db = await openTidesync(name, remote, currentAuth());
  try {
    const out = await timedWithHttp(remote, () => syncUntil(db, (t) => t.pulled >= n));
    const held = (await db.all()).length;
    if (held !== n) throw new Error(`tidesync pull: ${held} documents local, expected ${n}`);
    return out;
  } finally {
    await db.destroy();
  }
}

/** PouchDB: an empty local database, `replicate.from` the server. */
export async function pullPouchdb({ n, name, remote }) {
  const db = new window.PouchDB(name);
  try {
    const out = await timedWithHttp(remote, async () => ({ pulled: (await db.replicate.from(pouchRemote(remote))).docs_written }));
    const held = (await db.info()).doc_count;
    if (held !== n) throw new Error(`PouchDB pull: ${held} documents local, expected ${n}`);
    return out;
  } finally {
    await db.destroy();
  }
}
