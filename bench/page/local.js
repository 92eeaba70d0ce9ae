// Local benchmarks, run in the page: awaited single writes (new documents and
// updates, and edits of a few documents again and again), one bulk write,
// reads by id and reads of everything, for each contender adapter. Each call
// times one run and returns `{ ms }`; set-up and clean-up are not timed.
import { makeDocs, docId } from './docs.js';
import { idb, idbStrict } from './rawidb.js';
import { pouchdb } from './pouchdb.js';
import { tidesync } from './tidesync.js';
import { idbPattern } from './idbpattern.js';

export const adapters = { tidesync, idb, 'idb-strict': idbStrict, 'idb-pattern': idbPattern, pouchdb };

function adapterOf(name) {
  const adapter = adapters[name];
  if (!adapter) throw new Error(`unknown contender ${name}`);
  return adapter;
}

async function expectCount(adapter, db, n, what) {
  const got = (await adapter.getAll(db)).length;
  if (got !== n) throw new Error(`${what}: ${got} documents stored, expected ${n}`);
}

async function timedWrite(contender, { n, name }, write) {
  const adapter = adapterOf(contender);
  const docs = makeDocs('doc-', n);
  const db = await adapter.open(name);
  try {
    const t0 = performance.now();
    await write(adapter, db, docs);
    const ms = performance.now() - t0;
    await expectCount(adapter, db, n, `${contender} write`);
    return { ms };
  } finally {
    await adapter.destroy(db);
  }
}

/** `n` single writes, each awaited. */
export function writeSingle(contender, params) {
  return timedWrite(contender, params, (adapter, db, docs) => adapter.putEach(db, docs));
}

/**
 * `n` single writes of documents already stored (an edit of each), each
 * awaited: the database is filled in one bulk write first, untimed, and the
 * edits start from the documents as the contender returned them (PouchDB needs
 * their `_rev`).
 */
export async function writeUpdate(contender, { n, name }) {
  const adapter = adapterOf(contender);
  const db = await adapter.open(name);
  try {
    const stored = await adapter.fill(db, makeDocs('doc-', n));
    const edits = stored.map((doc) => ({ ...doc, score: doc.score + 1 }));
    const t0 = performance.now();
    await adapter.putEach(db, edits);
    const ms = performance.now() - t0;
    await expectCount(adapter, db, n, `${contender} update`);
    return { ms };
  } finally {
    await adapter.destroy(db);
  }
}

/**
 * `n` awaited single writes cycling over 20 stored documents: an app saving
 * the few documents its user is editing, again and again. Each contender's
 * `edit` returns the document as the next edit starts from (PouchDB's with
 * its new `_rev`).
 */
export async function writeEdit(contender, { n, name }) {
  const adapter = adapterOf(contender);
  const db = await adapter.open(name);
  try {
    const docs = await adapter.fill(db, makeDocs('doc-', 20));
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const k = i % docs.length;
      docs[k] = await adapter.edit(db, { ...docs[k], score: i });
    }
    const ms = performance.now() - t0;
    await expectCount(adapter, db, docs.length, `${contender} edit`);
    return { ms };
  } finally {
    await adapter.destroy(db);
  }
}

/** `n` single writes, all started before any is awaited. */
export function writeTogether(contender, params) {
  return timedWrite(contender, params, (adapter, db, docs) => adapter.putTogether(db, docs));
}

/** `n` documents in one bulk write. */
export function writeBulk(contender, params) {
  return timedWrite(contender, params, (adapter, db, docs) => adapter.putAll(db, docs));
}

// Databases filled once for the read benchmarks, by contender.
const filled = new Map();

/** Fills a database of `n` documents for the read benchmarks. */
export async function readSetup(contender, { n, name }) {
  const adapter = adapterOf(contender);
  const db = await adapter.open(name);
  await adapter.putAll(db, makeDocs('doc-', n));
  filled.set(contender, { adapter, db, n });
  return {};
}

function filledOf(contender) {
  const entry = filled.get(contender);
  if (!entry) throw new Error(`${contender}: readSetup first`);
  return entry;
}

/** `get` of every id, each awaited. */
export async function readGet(contender) {
  const { adapter, db, n } = filledOf(contender);
  const ids = Array.from({ length: n }, (_, i) => docId('doc-', i));
  const t0 = performance.now();
  const found = await adapter.getEach(db, ids);
  const ms = performance.now() - t0;
  if (found !== n) throw new Error(`${contender} get: ${found} found, expected ${n}`);
  return { ms };
}

/** Every document at once. */
export async function readAll(contender) {
  const { adapter, db, n } = filledOf(contender);
  const t0 = performance.now();
  const docs = await adapter.getAll(db);
  const ms = performance.now() - t0;
  if (docs.length !== n) throw new Error(`${contender} all: ${docs.length} read, expected ${n}`);
  return { ms };
}

/** Deletes the read benchmarks' databases. */
export async function readTeardown() {
  for (const { adapter, db } of filled.values()) await adapter.destroy(db);
  filled.clear();
  return {};
}
