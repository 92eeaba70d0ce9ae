// The shape of tidesync's IndexedDB records, built and read on the JavaScript
// side so that one call crosses the wasm boundary per record.
//
// Each record holds the fields IndexedDB indexes or keys on, plus `json`: the
// whole record serialised by serde_json. Rust reads only `json`.

// A document with its pending messages and conflict. `q` holds the sequence
// numbers of its messages, for the `queue` index (the outbox); it is left out
// when there are none, so a synced document is not in the index at all.
export function docRecord(id, status, q, json) {
  return q.length ? { id, status, q: Array.from(q), json } : { id, status, json };
}

export function metaRecord(key, json) {
  return { key, json };
}

// The `json` member of a stored record, or undefined when it has none.
export function recordJson(record) {
  const json = record == null ? undefined : record.json;
  return typeof json === "string" ? json : undefined;
}
