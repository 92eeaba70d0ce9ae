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
