// IndexedDB work done on the JavaScript side, in one module so that a page
// loads one file for it: record shapes, the reads outside `transact`, the
// updates planned before their read, the schema v2 migration, and deleting a database. Each section says which Rust
// module calls it.
//
// Each snippet is one more module a page fetches before the package starts,
// so they stay few. (The browser tests send them through
// scripts/harness-proxy.mjs: the wasm-bindgen test runner's server could
// otherwise leave one unanswered behind idle keep-alive connections.)

// ---- Records (record.rs) ----
// The shape of tidesync's IndexedDB records, built and read on the JavaScript
// side so that one call crosses the wasm boundary per record.
//
// Each record holds the fields IndexedDB indexes or keys on, plus `json`: the
// whole record serialised by serde_json. Rust reads only `json`.

// A document with its pending messages and conflict. `q` holds the sequence
// numbers of its messages, for the `queue` index (the outbox); it is left out
// when there are none, so a synced document is not in the index at all.
// Only a conflicted record carries `status`, so only conflicts have an entry
// in the `status` index: a synced or pending record costs IndexedDB one index
// entry (its queue positions) or none. Entries left by older releases for
// other statuses are never read.
export function docRecord(id, status, q, json) {
  const record = q.length ? { id, q: Array.from(q), json } : { id, json };
  if (status === CONFLICTED) record.status = status;
  return record;
}

const CONFLICTED = "conflicted";

export function metaRecord(key, json) {
  return { key, json };
}

// The `json` member of a stored record, or undefined when it has none.
export function recordJson(record) {
  const json = record == null ? undefined : record.json;
  return typeof json === "string" ? json : undefined;
}

// The documents of `records` as the app sees them (the body's members, `_id`,
// `_rev` when there is one, `_deleted` when asked for deleted ones),
// ordered by id as Rust orders strings (by code point; IndexedDB's UTF-16
// order differs only for ids with characters above U+FFFF). Parsing each
// record here with JSON.parse is quicker than copying its text into wasm.
// Throws for a record that is not tidesync's.
export function visibleDocs(records, includeDeleted, status) {
  const docs = [];
  let astral = false;
  for (const record of records) {
    const doc = visibleDoc(record, includeDeleted, status);
    if (doc === undefined) continue;
    docs.push(doc);
    astral ||= /[\uD800-\uDFFF]/.test(doc._id);
  }
  if (astral) docs.sort((a, b) => byCodePoint(a._id, b._id));
  return docs;
}

// The document of one record as the app sees it, or undefined when the
// filters leave it out. Throws for a record that is not tidesync's.
function visibleDoc(record, includeDeleted, status) {
  const json = recordJson(record);
  if (json === undefined) throw new Error("a stored record has no `json` string");
  const stored = JSON.parse(json);
  const local = stored.local;
  if (typeof stored.id !== "string" || local === null || typeof local !== "object" || Array.isArray(local)) {
    throw new Error("a stored record has no document id or object body");
  }
  if (stored.deleted && !includeDeleted) return undefined;
  if (status !== undefined && stored.status !== status) return undefined;
  // The parsed body is the document: JSON.parse made its members own data
  // properties (even one named `__proto__`), and the body has no `_` members.
  local._id = stored.id;
  // The `_rev` the engine shows (DocRecord::visible_rev): the last local
  // write's while a local change is unsynced, else the server's.
  const rev = stored.status !== "synced" && typeof stored.local_rev === "string" ? stored.local_rev : stored.rev;
  if (typeof rev === "string") local._rev = rev;
  if (stored.deleted) local._deleted = true;
  return local;
}

function byCodePoint(a, b) {
  const x = Array.from(a);
  const y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0) - y[i].codePointAt(0);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

// ---- Reads (read.rs) ----
// The reads outside `transact`, each in a readonly transaction of its own,
// issued from JavaScript: one call across the wasm boundary per read, and the
// transaction then completes by itself (a dropped Rust transaction handle
// aborts it, which costs the browser as much again as the read).

function read(db, store, index, act) {
  return new Promise((resolve, reject) => {
    // Inside the executor, a throw (a closed connection) rejects.
    const tx = db.transaction(store, "readonly");
    const source = index ? tx.objectStore(store).index(index) : tx.objectStore(store);
    const request = act(source);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

// The record of `key`, or undefined.
export function readOne(db, store, key) {
  return read(db, store, null, (source) => source.get(key));
}

// The records of `store` (or of its `index` at `key` when given), in key order.
export function readAll(db, store, index, key) {
  return read(db, store, index, (source) => source.getAll(key));
}

// At most `count` records of `index` past `after` (from the start when it is
// undefined), in key order.
export function readAfter(db, store, index, after, count) {
  const range = after === undefined ? undefined : IDBKeyRange.lowerBound(after, true);
  return read(db, store, index, (source) => source.getAll(range, count));
}

// How many entries `index` holds.
export function countIndex(db, store, index) {
  return read(db, store, index, (source) => source.count());
}

// ---- A page of documents (read.rs) ----
// `all()` with a range, a prefix, a page or descending order: the records are
// read in key order a chunk at a time (getAll; a cursor when descending) and
// the read stops once the page is full, so a page of a large database costs
// about its own size, not the database's. `q` holds `startKey`, `endKey`,
// `prefix` (strings or undefined), `skip`, `limit` (undefined: no limit),
// `descending`, `includeDeleted` and `status`. Resolves to the documents, in
// IndexedDB's key order (UTF-16 code units). A record that is not tidesync's
// rejects with an Error.
export function readPage(db, storeName, q) {
  return new Promise((resolve, reject) => {
    const range = pageRange(q);
    if (range === null) return resolve([]);
    const store = db.transaction(storeName, "readonly").objectStore(storeName);
    const docs = [];
    let skipped = 0;
    // True once the page is full.
    const take = (record) => {
      const doc = visibleDoc(record, q.includeDeleted, q.status);
      if (doc === undefined) return false;
      if (skipped < q.skip) skipped++;
      else docs.push(doc);
      return q.limit !== undefined && docs.length >= q.limit;
    };
    const guarded = (step) => () => {
      try { step(); } catch (error) { reject(error); }
    };
    if (q.limit === 0) return resolve(docs);
    if (q.descending) {
      const request = store.openCursor(range, "prev");
      request.onerror = () => reject(request.error);
      request.onsuccess = guarded(() => {
        const cursor = request.result;
        if (cursor === null || take(cursor.value)) return resolve(docs);
        cursor.continue();
      });
      return undefined;
    }
    const wanted = q.limit === undefined ? Infinity : q.skip + q.limit;
    // The page and an eighth more, for records the filters leave out.
    const chunk = Math.min(PAGE_CHUNK, Math.max(32, wanted + Math.ceil(wanted / 8)));
    const next = (from) => {
      const request = store.getAll(from, chunk);
      request.onerror = () => reject(request.error);
      request.onsuccess = guarded(() => {
        const records = request.result;
        for (const record of records) if (take(record)) return resolve(docs);
        const rest = records.length < chunk ? null : after(records[records.length - 1].id, range);
        if (rest === null) return resolve(docs);
        next(rest);
      });
    };
    next(range);
    return undefined;
  });
}

// Most records one request of `readPage` reads.
const PAGE_CHUNK = 4096;

// The key range of a page query (undefined: every key), or null when it
// holds no key. A prefix bounds it by the prefix and the first string past
// every string that starts with it.
function pageRange(q) {
  let low = q.descending ? q.endKey : q.startKey;
  let high = q.descending ? q.startKey : q.endKey;
  let highOpen = false;
  if (q.prefix !== undefined) {
    if (low === undefined || low < q.prefix) low = q.prefix;
    const end = prefixEnd(q.prefix);
    if (end !== undefined && (high === undefined || high >= end)) {
      high = end;
      highOpen = true;
    }
  }
  if (low !== undefined && high !== undefined) {
    if (low > high || (low === high && highOpen)) return null;
    return IDBKeyRange.bound(low, high, false, highOpen);
  }
  if (low !== undefined) return IDBKeyRange.lowerBound(low);
  if (high !== undefined) return IDBKeyRange.upperBound(high, highOpen);
  return undefined;
}

// The least string greater than every string starting with `prefix`, in
// UTF-16 code unit order (undefined when there is none: only U+FFFF units).
function prefixEnd(prefix) {
  let end = prefix;
  while (end.length > 0 && end.charCodeAt(end.length - 1) === 0xffff) end = end.slice(0, -1);
  if (end.length === 0) return undefined;
  return end.slice(0, -1) + String.fromCharCode(end.charCodeAt(end.length - 1) + 1);
}

// The part of `range` past `key`, or null when nothing is left.
function after(key, range) {
  if (range === undefined || range.upper === undefined) return IDBKeyRange.lowerBound(key, true);
  if (key >= range.upper) return null;
  return IDBKeyRange.bound(key, range.upper, true, range.upperOpen);
}

// ---- Updates planned before their read (transact/updating.rs) ----
// Writes `records` to `store` in one readwrite transaction, provided the
// stored record of each of `keys` still has the `json` text in `expected`
// (what the write was planned against). The reads and the writes go out
// together; once the reads are checked the transaction is committed, or
// aborted when one differed, which undoes the writes. Resolves true once
// committed, false when a record differed; rejects on any other failure.
export function putIfUnchanged(db, store, keys, expected, records) {
  return new Promise((resolve, reject) => {
    let tx;
    try {
      tx = db.transaction(store, "readwrite", { durability: "strict" });
    } catch (error) {
      reject(error);
      return;
    }
    const docs = tx.objectStore(store);
    let unchanged = true;
    let left = keys.length;
    keys.forEach((key, index) => {
      const read = docs.get(key);
      read.onsuccess = () => {
        const record = read.result;
        if (!record || record.json !== expected[index]) unchanged = false;
        left -= 1;
        if (left === 0) {
          if (unchanged) tx.commit();
          else tx.abort();
        }
      };
    });
    for (const record of records) docs.put(record);
    tx.oncomplete = () => resolve(true);
    tx.onabort = () => {
      if (unchanged) reject(tx.error || new DOMException("transaction aborted", "AbortError"));
      else resolve(false);
    };
  });
}

// ---- Migration to schema v2 (schema.rs) ----
// Schema v2, run inside the `versionchange` transaction: each outbox message
// and conflict moves into its document's record (the outbox becomes the
// `queue` index over `docs`), then the `outbox` and `conflicts` stores go.
// Any failure aborts the transaction, which leaves the database at v1 with all
// its data; the reason is kept for `migrationError()`.

let lastError = null;

/** Why the last migration failed, or null. */
export function migrationError() {
  return lastError;
}

function fail(tx, reason) {
  lastError = reason;
  try { tx.abort(); } catch { /* already aborted */ }
}

function request(tx, req, then) {
  req.onsuccess = () => {
    try { then(req.result); } catch (e) { fail(tx, String(e?.message ?? e)); }
  };
}

export function toV2(db, tx) {
  lastError = null;
  const docs = tx.objectStore('docs');
  docs.createIndex('queue', 'q', { multiEntry: true });
  const outbox = tx.objectStore('outbox');
  const conflicts = tx.objectStore('conflicts');
  request(tx, outbox.getAll(), (messages) => {
    request(tx, conflicts.getAll(), (found) => {
      const byDoc = new Map();
      const entry = (id) => {
        if (!byDoc.has(id)) byDoc.set(id, { messages: [], conflict: undefined });
        return byDoc.get(id);
      };
      // The records' JSON is spliced as text, never parsed here: a
      // JavaScript number would round the large integers serde_json keeps.
      const json = (record, what) => {
        if (typeof record?.json !== 'string' || !record.json.startsWith('{') || !record.json.endsWith('}')) {
          throw new Error(`a stored ${what} is corrupt`);
        }
        return record.json;
      };
      for (const record of messages) entry(record.docId).messages.push([record.seq, json(record, 'outbox message')]);
      for (const record of found) entry(record.id).conflict = json(record, 'conflict');
      for (const [id, extra] of byDoc) {
        request(tx, docs.get(id), (record) => {
          if (!record) throw new Error(`an outbox message or conflict of ${id} has no document`);
          extra.messages.sort((a, b) => a[0] - b[0]);
          let text = json(record, 'document').slice(0, -1);
          if (extra.messages.length) text += `,"messages":[${extra.messages.map((m) => m[1]).join(',')}]`;
          if (extra.conflict) text += `,"conflict":${extra.conflict}`;
          const q = extra.messages.map((m) => m[0]);
          const next = { id, status: record.status, json: `${text}}` };
          if (q.length) next.q = q;
          docs.put(next);
        });
      }
      db.deleteObjectStore('outbox');
      db.deleteObjectStore('conflicts');
    });
  });
}

// ---- Deletion (mod.rs) ----
// Deletes an IndexedDB database. A `blocked` event only says that some
// connection has not closed yet; tidesync's own connections close themselves
// (at once, or once their last transaction ends), so the deletion is given
// `graceMs` to complete before it is reported as blocked by another tab.
export function deleteDatabase(name, graceMs) {
  return new Promise((resolve, reject) => {
    const request = indexedDB.deleteDatabase(name);
    let timer;
    request.onsuccess = () => { clearTimeout(timer); resolve(); };
    request.onerror = () => { clearTimeout(timer); reject(request.error); };
    request.onblocked = () => {
      clearTimeout(timer);
      timer = setTimeout(() => reject(Object.assign(new Error('blocked'), { name: 'BlockedError' })), graceMs);
    };
  });
}

// Resolves once `tx` commits, rejects with its error once it aborts; leaves
// the transaction to commit by itself (no `commit()`). Listeners are added,
// not set, so the wrapper's own handlers stay.
export function settled(tx) {
  return new Promise((resolve, reject) => {
    tx.addEventListener('complete', () => resolve());
    tx.addEventListener('abort', () => reject(tx.error ?? new DOMException('the transaction was aborted', 'AbortError')));
  });
}
