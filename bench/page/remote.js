// What the sync benchmarks (sync.js, attachments.js) share: the timed section
// with its HTTP requests counted, the page's credentials for a server that
// wants them, and the loops that wait for a server or a client to be done.

const MAX_CYCLES = 100;

// Times `work` and counts the HTTP requests to `remote`'s origin meanwhile:
// `{ ms, requests, httpMs }`, httpMs being the sum of their durations (a
// diagnostic: concurrent requests overlap in it). The timing entries are
// dropped afterwards, so they do not pile up in the page's heap.
export async function timedWithHttp(remote, work) {
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

/** The credentials `useAuth` set, or null. */
export const currentAuth = () => auth;

export const authHeaders = () => (auth ? { Authorization: `Basic ${btoa(`${auth.username}:${auth.password}`)}` } : {});
/** PouchDB's handle of the remote database, signed in when needed. */
export const pouchRemote = (remote) => new window.PouchDB(remote, auth ? { auth } : {});

async function remoteDocCount(remote) {
  const res = await fetch(remote, { headers: authHeaders() });
  if (!res.ok) throw new Error(`GET ${remote}: ${res.status}`);
  return (await res.json()).doc_count;
}

// Polls until the server holds `n` documents; part of the timed section.
export async function untilServerHolds(remote, n) {
  for (let i = 0; i < 200; i++) {
    const count = await remoteDocCount(remote);
    if (count === n) return;
    if (count > n) throw new Error(`${remote} holds ${count} documents, expected ${n}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${remote} never reached ${n} documents`);
}

// Runs `sync()` until `enough(totals)`; throws on any reported error.
export async function syncUntil(db, enough) {
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
