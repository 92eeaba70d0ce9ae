// The shape of tidesync's IndexedDB records, built and read on the JavaScript
// side so that one call crosses the wasm boundary per record.
//
// Each record holds the fields IndexedDB indexes or keys on, plus `json`: the
// whole record serialised by serde_json. Rust reads only `json`.

export function docRecord(id, status, json) {
  return { id, status, json };
}

export function messageRecord(seq, docId, json) {
  return { seq, docId, json };
}

export function conflictRecord(id, json) {
  return { id, json };
}

export function metaRecord(key, json) {
  return { key, json };
}

// The `json` member of a stored record, or undefined when it has none.
export function recordJson(record) {
  const json = record == null ? undefined : record.json;
  return typeof json === "string" ? json : undefined;
}
