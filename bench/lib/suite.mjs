// The benchmarks: what each one runs in the page, against which baseline, and
// how runs interleave (every run measures every contender, in a rotating order,
// so slow drifts of the machine hit them alike).
import { BenchPage } from './page.mjs';
import { summary, speedup } from './stats.mjs';
import { deleteDb, seedDb, seedPhotos } from './couch.mjs';

const stamp = Date.now().toString(36);

function rotate(list, by) {
  const k = by % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

/** Runs one timed benchmark; a failure is recorded in `error`, never thrown. */
async function timed(ctx, def) {
  const result = {
    id: def.id, title: def.title, docs: def.docs, bytes: def.bytes ?? null, baseline: def.baseline, latency: !!def.latency, error: null,
    contenders: def.contenders.map((c) => ({ id: c.id, label: c.label, diagnostic: !!c.diagnostic, crossServer: !!c.crossServer, ms: [], extra: [] })),
  };
  const byId = new Map(result.contenders.map((c) => [c.id, c]));
  let page;
  try {
    page = await BenchPage.open(ctx.browser, ctx.pageUrl, ctx.timeoutMs);
    await def.setup?.(page);
    // An untimed warm-up per contender (JIT, wasm tiers, IndexedDB files), where cheap.
    for (const c of def.contenders) if (c.warmArgs) await page.call(c.fn, ...c.warmArgs());
    for (let run = 0; run < ctx.runs; run++) {
      for (const c of rotate(def.contenders, run)) {
        await c.before?.(run);
        const { ms, ...extra } = await page.call(c.fn, ...c.args(run));
        await c.after?.(run);
        byId.get(c.id).ms.push(ms);
        byId.get(c.id).extra.push(extra);
        ctx.log(`${def.id} run ${run + 1}/${ctx.runs} ${c.id}: ${ms.toFixed(1)} ms`);
      }
    }
    await def.teardown?.(page);
  } catch (e) {
    result.error = e.message;
    ctx.log(`${def.id} FAILED: ${e.message}`);
  } finally {
    await page?.close().catch(() => {});
  }
  if (!result.error) {
    const base = byId.get(def.baseline);
    for (const c of result.contenders) c.stats = summary(c.ms);
    for (const c of result.contenders) c.speedup = speedup(c.stats, base.stats);
  }
  return result;
}

function local(ctx, id, title, fn) {
  const single = fn !== 'writeBulk';
  const name = (c, run) => `${id}-${c}-${run}-${stamp}`;
  const contender = (c, label, extra = {}) => ({
    id: c, label, fn, ...extra,
    args: (run) => [c, { n: ctx.n, name: name(c, run) }],
    warmArgs: () => [c, { n: Math.min(ctx.n, 200), name: name(c, 'warm') }],
  });
  return timed(ctx, {
    id, title, docs: ctx.n, baseline: 'idb',
    contenders: [
      contender('tidesync', single ? 'tidesync put' : 'tidesync putMany'),
      contender('idb', single ? 'raw IndexedDB, 1 tx per put' : 'raw IndexedDB, 1 tx'),
      contender('idb-strict', 'raw IndexedDB, strict durability', { diagnostic: true }),
      contender('idb-pattern', "raw IndexedDB, tidesync's request pattern", { diagnostic: true }),
      contender('pouchdb', single ? 'PouchDB put' : 'PouchDB bulkDocs'),
    ],
  });
}

/** Puts the app starts together (group commit), against raw IndexedDB doing the same. */
function together(ctx) {
  const name = (c, run) => `writes-together-${c}-${run}-${stamp}`;
  const contender = (c, label) => ({
    id: c, label, fn: 'writeTogether',
    args: (run) => [c, { n: ctx.n, name: name(c, run) }],
    warmArgs: () => [c, { n: Math.min(ctx.n, 200), name: name(c, 'warm') }],
  });
  return timed(ctx, {
    id: 'writes.together', title: `local writes: ${ctx.n} puts started together, then awaited`, docs: ctx.n, baseline: 'idb',
    contenders: [
      contender('tidesync', 'tidesync put (group commit)'),
      contender('idb', 'raw IndexedDB, 1 tx per put'),
      contender('pouchdb', 'PouchDB put'),
    ],
  });
}

function reads(ctx, id, title, fn, labels) {
  const contenders = Object.keys(labels);
  return timed(ctx, {
    id, title, docs: ctx.n, baseline: 'idb',
    contenders: contenders.map((c) => ({ id: c, label: labels[c], fn, args: () => [c], warmArgs: () => [c] })),
    async setup(page) {
      for (const c of contenders) await page.call('readSetup', c, { n: ctx.n, name: `${id}-${c}-${stamp}` });
    },
    teardown: (page) => page.call('readTeardown'),
  });
}

function replay(ctx) {
  const remote = (server, c, run) => `${server}/replay-${c}-${run}-${stamp}`;
  const contender = (id, label, fn, server, extra = {}) => ({
    id, label, fn, ...extra,
    args: (run) => [{ n: ctx.n, name: `replay-${id}-${run}-${stamp}`, remote: remote(server, id, run) }],
    after: (run) => deleteDb(remote(server, id, run)),
  });
  return timed(ctx, {
    id: 'replay', title: `replay: ${ctx.n} offline writes until the server holds them`, docs: ctx.n, baseline: 'pouchdb',
    contenders: [
      contender('tidesync', 'tidesync sync() → pouchdb-server', 'replayTidesync', ctx.pouch),
      contender('pouchdb', 'PouchDB replicate.to → pouchdb-server', 'replayPouchdb', ctx.pouch),
      contender('tidesync-own', 'tidesync sync() → tidesync-server', 'replayTidesync', ctx.tide, { crossServer: true }),
    ],
  });
}

function pull(ctx) {
  const source = (server) => `${server}/pull-source-${stamp}`;
  const contender = (id, label, fn, server) => ({
    id, label, fn, crossServer: server === ctx.tide, args: (run) => [{ n: ctx.n, name: `pull-${id}-${run}-${stamp}`, remote: source(server) }],
  });
  return timed(ctx, {
    id: 'pull', title: `initial pull: ${ctx.n} server documents into an empty client`, docs: ctx.n, baseline: 'pouchdb',
    contenders: [
      contender('tidesync', 'tidesync sync() ← pouchdb-server', 'pullTidesync', ctx.pouch),
      contender('pouchdb', 'PouchDB replicate.from ← pouchdb-server', 'pullPouchdb', ctx.pouch),
      contender('tidesync-own', 'tidesync sync() ← tidesync-server', 'pullTidesync', ctx.tide),
    ],
    async setup() {
      await seedDb(source(ctx.pouch), ctx.n);
      await seedDb(source(ctx.tide), ctx.n);
    },
    async teardown() {
      await deleteDb(source(ctx.pouch));
      await deleteDb(source(ctx.tide));
    },
  });
}

/** Live delivery latency: a change PUT on the server until an open client has it. */
function live(ctx) {
  const n = ctx.smoke ? 5 : 100;
  const remote = (server, c, run) => `${server}/live-${c}-${run}-${stamp}`;
  const contender = (id, label, fn, server, extra = {}) => ({
    id, label, fn, ...extra,
    args: (run) => [{ n, name: `live-${id}-${run}-${stamp}`, remote: remote(server, id, run) }],
    after: (run) => deleteDb(remote(server, id, run)),
  });
  return timed(ctx, {
    id: 'live', title: `live delivery: ${n} changes, each PUT on the server until an open client has it`, docs: n, baseline: 'pouchdb', latency: true,
    contenders: [
      contender('tidesync', 'tidesync live feed ← pouchdb-server', 'liveTidesync', ctx.pouch),
      contender('pouchdb', 'PouchDB live replicate.from ← pouchdb-server', 'livePouchdb', ctx.pouch),
      contender('tidesync-own', 'tidesync live feed ← tidesync-server', 'liveTidesync', ctx.tide, { crossServer: true }),
    ],
  });
}

// "20 photos of 1 MiB": the photos of the attachment benchmarks.
function photosLabel(ctx) {
  const size = ctx.photoBytes >= 2 ** 20 && ctx.photoBytes % 2 ** 20 === 0 ? `${ctx.photoBytes / 2 ** 20} MiB` : `${ctx.photoBytes / 1024} KiB`;
  return `${ctx.photos} photos of ${size}`;
}

/** Upload of photos put offline as attachments, until the server holds them (MB/s). */
function attachmentsUpload(ctx) {
  const n = ctx.photos;
  const remote = (server, c, run) => `${server}/attachments-up-${c}-${run}-${stamp}`;
  const contender = (id, label, fn, server, extra = {}) => ({
    id, label, fn, ...extra,
    args: (run) => [{ n, bytes: ctx.photoBytes, name: `attachments-up-${id}-${run}-${stamp}`, remote: remote(server, id, run) }],
    after: (run) => deleteDb(remote(server, id, run)),
  });
  return timed(ctx, {
    id: 'attachments.upload', title: `attachment upload: ${photosLabel(ctx)} put offline, until the server holds them`,
    docs: n, bytes: n * ctx.photoBytes, baseline: 'pouchdb',
    contenders: [
      contender('tidesync', 'tidesync sync() → pouchdb-server', 'uploadTidesync', ctx.pouch),
      contender('pouchdb', 'PouchDB putAttachment, replicate.to → pouchdb-server', 'uploadPouchdb', ctx.pouch),
      contender('tidesync-own', 'tidesync sync() → tidesync-server', 'uploadTidesync', ctx.tide, { crossServer: true }),
    ],
  });
}

/**
 * Download of photos on the server into an empty client, until each is a
 * Blob there (MB/s). Every run pulls from a database of its own, seeded
 * before it, so no run reads what the browser's HTTP cache kept of another.
 */
function attachmentsDownload(ctx) {
  const n = ctx.photos;
  const source = (server, c, run) => `${server}/attachments-down-${c}-${run}-${stamp}`;
  const contender = (id, label, fn, server, options = {}) => ({
    id, label, fn, crossServer: server === ctx.tide,
    args: (run) => [{ n, bytes: ctx.photoBytes, name: `attachments-down-${id}-${run}-${stamp}`, remote: source(server, id, run), ...options }],
    before: (run) => seedPhotos(source(server, id, run), n, ctx.photoBytes),
    after: (run) => deleteDb(source(server, id, run)),
  });
  return timed(ctx, {
    id: 'attachments.download', title: `attachment download: ${photosLabel(ctx)} on the server, until each is a Blob in an empty client`,
    docs: n, bytes: n * ctx.photoBytes, baseline: 'pouchdb',
    contenders: [
      contender('tidesync', 'tidesync sync(), getAttachment (lazy) ← pouchdb-server', 'downloadTidesync', ctx.pouch),
      contender('tidesync-eager', "tidesync attachments: 'eager', sync() ← pouchdb-server", 'downloadTidesync', ctx.pouch, { eager: true }),
      contender('pouchdb', 'PouchDB replicate.from, getAttachment ← pouchdb-server', 'downloadPouchdb', ctx.pouch),
      contender('tidesync-own', 'tidesync sync(), getAttachment (lazy) ← tidesync-server', 'downloadTidesync', ctx.tide),
      contender('tidesync-eager-own', "tidesync attachments: 'eager', sync() ← tidesync-server", 'downloadTidesync', ctx.tide, { eager: true }),
    ],
  });
}

/**
 * Replay and pull against Apache CouchDB (`ctx.couch`), tidesync and PouchDB
 * on the same database server, PouchDB the baseline.
 */
async function onCouch(ctx) {
  const { url, username, password } = ctx.couch;
  const signIn = (page) => page.call('useAuth', { username, password });
  const replayDb = (c, run) => `${url}/replay-couch-${c}-${run}-${stamp}`;
  const replayed = (id, label, fn) => ({
    id, label, fn,
    args: (run) => [{ n: ctx.n, name: `replay-couch-${id}-${run}-${stamp}`, remote: replayDb(id, run) }],
    after: (run) => deleteDb(replayDb(id, run)),
  });
  const source = `${url}/pull-couch-source-${stamp}`;
  const pulled = (id, label, fn) => ({
    id, label, fn, args: (run) => [{ n: ctx.n, name: `pull-couch-${id}-${run}-${stamp}`, remote: source }],
  });
  return [
    await timed(ctx, {
      id: 'replay.couchdb', title: `replay on CouchDB: ${ctx.n} offline writes until CouchDB holds them`, docs: ctx.n, baseline: 'pouchdb',
      contenders: [
        replayed('tidesync', 'tidesync sync() → CouchDB', 'replayTidesync'),
        replayed('pouchdb', 'PouchDB replicate.to → CouchDB', 'replayPouchdb'),
      ],
      setup: signIn,
    }),
    await timed(ctx, {
      id: 'pull.couchdb', title: `initial pull on CouchDB: ${ctx.n} documents into an empty client`, docs: ctx.n, baseline: 'pouchdb',
      contenders: [
        pulled('tidesync', 'tidesync sync() ← CouchDB', 'pullTidesync'),
        pulled('pouchdb', 'PouchDB replicate.from ← CouchDB', 'pullPouchdb'),
      ],
      async setup(page) { await signIn(page); await seedDb(source, ctx.n); },
      teardown: () => deleteDb(source),
    }),
  ];
}

/** Every timed benchmark, in order (those `ctx.wants`). */
export async function timedBenchmarks(ctx) {
  const all = [
    ['writes.single', () => local(ctx, 'writes.single', `local writes: ${ctx.n} awaited single puts`, 'writeSingle')],
    ['writes.update', () => local(ctx, 'writes.update', `local writes: ${ctx.n} awaited single puts over stored documents (updates)`, 'writeUpdate')],
    ['writes.edit', () => local(ctx, 'writes.edit', `local writes: ${ctx.n} awaited single puts cycling over 20 stored documents (edits)`, 'writeEdit')],
    ['writes.bulk', () => local(ctx, 'writes.bulk', `local writes: ${ctx.n} documents in one bulk write`, 'writeBulk')],
    ['writes.together', () => together(ctx)],
    ['reads.get', () => reads(ctx, 'reads.get', `reads: get of ${ctx.n} ids, each awaited`, 'readGet',
      { tidesync: 'tidesync get', idb: 'raw IndexedDB get, 1 tx each', pouchdb: 'PouchDB get' })],
    ['reads.all', () => reads(ctx, 'reads.all', `reads: all ${ctx.n} documents at once`, 'readAll',
      { tidesync: 'tidesync all()', idb: 'raw IndexedDB getAll', pouchdb: 'PouchDB allDocs include_docs' })],
    ['replay', () => replay(ctx)],
    ['pull', () => pull(ctx)],
    ['live', () => live(ctx)],
    ['attachments.upload', () => attachmentsUpload(ctx)],
    ['attachments.download', () => attachmentsDownload(ctx)],
  ];
  const results = [];
  for (const [id, run] of all) if (ctx.wants(id)) results.push(await run());
  if (ctx.couch && ctx.wants('couchdb')) results.push(...await onCouch(ctx));
  return results;
}
