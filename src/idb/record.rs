//! The stored form of each record: a small JavaScript object with the fields
//! IndexedDB keys and indexes on, plus the whole record as a serde_json string.
//!
//! A JSON string crosses the wasm boundary in one copy, where a
//! serde-wasm-bindgen object graph costs one call per member; the indexed fields
//! are duplicated next to it only because IndexedDB needs them as properties.
//! The objects are built and read by `records.js`, one call per record.

use serde::{de::DeserializeOwned, Serialize};
use tidesync_engine::{
    error::StoreError,
    model::{ConflictRecord, DocRecord},
    outbox::OutboxMessage,
};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/idb/records.js")]
extern "C" {
    #[wasm_bindgen(js_name = docRecord)]
    fn doc_record(id: &str, status: &str, json: &str) -> JsValue;
    #[wasm_bindgen(js_name = messageRecord)]
    fn message_record(seq: f64, doc_id: &str, json: &str) -> JsValue;
    #[wasm_bindgen(js_name = conflictRecord)]
    fn conflict_record(id: &str, json: &str) -> JsValue;
    #[wasm_bindgen(js_name = metaRecord)]
    fn meta_record(key: &str, json: &str) -> JsValue;
    #[wasm_bindgen(js_name = recordJson)]
    fn record_json(record: &JsValue) -> Option<String>;
}

/// The key of an outbox message. IndexedDB keys are JavaScript numbers (a
/// `u64` would become a BigInt, which is not a valid key); sequence numbers stay
/// far below 2^53, where the conversion is exact.
pub(super) fn seq_key(seq: u64) -> f64 {
    seq as f64
}

fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value)
        .map_err(|e| StoreError::Backend(format!("cannot encode a record: {e}")))
}

/// `{id, status, json}`: `status` feeds the `status` index.
pub(super) fn encode_doc(doc: &DocRecord) -> Result<JsValue, StoreError> {
    Ok(doc_record(&doc.id, doc.status.as_str(), &to_json(doc)?))
}

/// `{seq, docId, json}`: `seq` is the key, `docId` feeds the `docId` index.
pub(super) fn encode_message(message: &OutboxMessage) -> Result<JsValue, StoreError> {
    Ok(message_record(
        seq_key(message.seq),
        &message.doc_id,
        &to_json(message)?,
    ))
}

/// `{id, json}`.
pub(super) fn encode_conflict(conflict: &ConflictRecord) -> Result<JsValue, StoreError> {
    Ok(conflict_record(&conflict.id, &to_json(conflict)?))
}

/// `{key, json}`.
pub(super) fn encode_meta(key: &str, value: &serde_json::Value) -> Result<JsValue, StoreError> {
    Ok(meta_record(key, &to_json(value)?))
}

/// Decodes one stored record; anything that is not a record with a valid
/// `json` member is [`StoreError::Corrupt`].
pub(super) fn decode<T: DeserializeOwned>(record: &JsValue) -> Result<T, StoreError> {
    let json = record_json(record)
        .ok_or_else(|| StoreError::Corrupt("a stored record has no `json` string".into()))?;
    serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Decodes the result of a `get`: `None` when no record exists.
pub(super) fn decode_opt<T: DeserializeOwned>(
    record: Option<JsValue>,
) -> Result<Option<T>, StoreError> {
    record.as_ref().map(decode).transpose()
}

/// Decodes the results of a `getAll`, in their stored order.
pub(super) fn decode_all<T, I>(records: I) -> Result<Vec<T>, StoreError>
where
    T: DeserializeOwned,
    I: IntoIterator<Item = Result<JsValue, indexed_db_futures::error::Error>>,
{
    records
        .into_iter()
        .map(|record| decode(&record.map_err(super::error::store_error)?))
        .collect()
}
