// Sync benchmarks, run in the page against a CouchDB-API server: replay of
// documents written offline, and the initial pull into an empty client, for
// tidesync (`sync()`) and PouchDB (`replicate.to` / `replicate.from`).
import { makeDocs } from './docs.js';
import { openTidesync } from './tidesync.js';

const CHUNK = 1000;
const MAX_CYCLES = 100;

// Times `work` and counts the HTTP requests to `remote`'s origin meanwhile:
// `{ ms, requests, httpMs }`, httpMs being the sum of their durations (a
// diagnostic: concurrent requests overlap in it). The timing entries are
// dropped afterwards, so they do not pile up in the page's heap.
async function timedWithHttp(remote, work) {
  const origin = new URL(remote).origin;
  performance.clearResourceTimings();
  performance.setResourceTimingBufferSize(100_000);
  const t0 = performance.now();
  const out = await work();
  const ms = performance.now() - t0;
  const entries = performance.getEntriesByType('resource').filter((e) => e.name.startsWith(origin));
  const httpMs = entries.reduce((sum, e) => sum + e.duration, 0);
  performance.clearResourceTimings();
  performance.setResourceTimingBufferSize(250);
  return { ...out, ms, requests: entries.length, httpMs: Math.round(httpMs) };
}

// The page's credentials for a server that wants them (CouchDB), set by
// `useAuth` before a run: `{ username, password }` or null.
let auth = null;

/** Signs the page's requests and clients in as `credentials` (null: none). */
export function useAuth(credentials) {
  auth = credentials;
  return { ms: 0 };
}

const authHeaders = () => (auth ? { Authorization: `Basic ${btoa(`${auth.username}:${auth.password}`)}` } : {});
/** PouchDB's handle of the remote database, signed in when needed. */
const pouchRemote = (remote) => new window.PouchDB(remote, auth ? { auth } : {});

async function remoteDocCount(remote) {
  const res = await fetch(remote, { headers: authHeaders() });
  if (!res.ok) throw new Error(`GET ${remote}: ${res.status}`);
  return (await res.json()).doc_count;
}

// Polls until the server holds `n` documents; part of the timed section.
async function untilServerHolds(remote, n) {
  for (let i = 0; i < 200; i++) {
    const count = await remoteDocCount(remote);
    if (count === n) return;
    if (count > n) throw new Error(`${remote} holds ${count} documents, expected ${n}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${remote} never reached ${n} documents`);
}

// Runs `sync()` until `enough(totals)`; throws on any reported error.
async function syncUntil(db, enough) {
  const totals = { pushed: 0, pulled: 0, cycles: 0 };
  while (totals.cycles < MAX_CYCLES) {
    const report = await db.sync();
    totals.cycles++;
    totals.pushed += report.pushed;
    totals.pulled += report.pulled;
    if (report.errors.length) throw new Error(`sync errors: ${JSON.stringify(report.errors.slice(0, 3))}`);
    if (await enough(totals)) return totals;
  }
  throw new Error(`not done after ${MAX_CYCLES} sync() calls: ${JSON.stringify(totals)}`);
}

/** tidesync: `n` writes offline, then `sync()` until nothing is pending. */
export async function replayTidesync({ n, name, remote }) {
  const db = await openTidesync(name, remote, auth);
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
  const db = await openTidesync(name, remote, auth);
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
