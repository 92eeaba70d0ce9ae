// Live delivery: how long a change another client writes to the server takes
// to reach a client that is open and syncing, for tidesync's live feed and
// PouchDB's live replication. The writer is a plain HTTP PUT from the page,
// the same for both; each latency runs from before the PUT to the client's
// change event for that document.
import { Tidesync } from '/pkg/index.js';

async function ensureDb(remote) {
  const res = await fetch(remote, { method: 'PUT' });
  if (!res.ok && res.status !== 412) throw new Error(`PUT ${remote}: ${res.status}`);
}

async function writeRemote(remote, id, v) {
  const res = await fetch(`${remote}/${encodeURIComponent(id)}`, {
    method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ v }),
  });
  if (!res.ok) throw new Error(`PUT ${id}: ${res.status}`);
}

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

// Writes `n` documents one after the other, each once the one before
// arrived; `{ ms: p50, p99, max }` of the delivery latencies.
async function measure(n, remote, arrival) {
  const latencies = [];
  for (let i = 0; i < n; i++) {
    const id = `live-${i}`;
    const arrived = arrival(id);
    const t0 = performance.now();
    await writeRemote(remote, id, i);
    await arrived;
    latencies.push(performance.now() - t0);
  }
  latencies.sort((a, b) => a - b);
  return { ms: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: latencies.at(-1) };
}

// Resolves each id's promise when `notify(id)` is called for it.
function arrivals() {
  const waiting = new Map();
  return {
    arrival: (id) => new Promise((resolve) => waiting.set(id, resolve)),
    notify: (id) => { waiting.get(id)?.(); waiting.delete(id); },
  };
}

async function until(check, what) {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`never ${what}`);
}

/** tidesync: an open client with its live feed (the one it chose), polling off. */
export async function liveTidesync({ n, name, remote }) {
  await ensureDb(remote);
  const db = await Tidesync.open({ name, remote, pollIntervalMs: 0 });
  const { arrival, notify } = arrivals();
  db.on('change', (e) => { if (e.origin === 'remote') notify(e.id); });
  try {
    let transport;
    await until(async () => ['websocket', 'stream', 'longpoll'].includes(transport = (await db.status()).transport), 'opened its feed');
    return { ...await measure(n, remote, arrival), transport };
  } finally {
    await db.destroy();
  }
}

/** PouchDB: `replicate.from` with `live: true`. */
export async function livePouchdb({ n, name, remote }) {
  await ensureDb(remote);
  const db = new window.PouchDB(name);
  const { arrival, notify } = arrivals();
  let caughtUp = false;
  const replication = db.replicate.from(remote, { live: true, retry: true })
    .on('change', (info) => { for (const doc of info.docs) notify(doc._id); })
    .on('paused', () => { caughtUp = true; });
  try {
    await until(() => caughtUp, 'caught up');
    return await measure(n, remote, arrival);
  } finally {
    replication.cancel();
    await db.destroy();
  }
}
