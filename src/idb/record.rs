//! The stored form of each record: a small JavaScript object with the fields
//! IndexedDB keys and indexes on, plus the whole record as a serde_json string.
//!
//! A JSON string crosses the wasm boundary in one copy, where a
//! serde-wasm-bindgen object graph costs one call per member; the indexed fields
//! are duplicated next to it only because IndexedDB needs them as properties.
//! The objects are built and read by `records.js`, one call per record.
//!
//! Since schema v2 a document's record also holds its outbox messages and its
//! conflict ([`StoredDoc`]), so a local write reads and writes one record.

use serde::{de::DeserializeOwned, Deserialize, Serialize};
use tidesync_engine::{
    error::StoreError,
    model::{Body, ConflictRecord, DocRecord, DocStatus},
    outbox::OutboxMessage,
    Revision,
};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/idb/records.js")]
extern "C" {
    #[wasm_bindgen(js_name = docRecord)]
    fn doc_record(id: &str, status: &str, q: &[f64], json: &str) -> JsValue;
    #[wasm_bindgen(js_name = metaRecord)]
    fn meta_record(key: &str, json: &str) -> JsValue;
    #[wasm_bindgen(js_name = recordJson)]
    fn record_json(record: &JsValue) -> Option<String>;
}

/// A document as stored: the engine's [`DocRecord`] members at the top level
/// (so a v1 record, which holds only those, reads as one with nothing
/// pending), plus its outbox messages in queue order and its conflict.
///
/// This is the stored type, apart from the engine's: a change to the model
/// must not change what is on disk without a migration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct StoredDoc {
    id: String,
    rev: Option<Revision>,
    base: Option<Body>,
    local: Body,
    status: DocStatus,
    deleted: bool,
    updated_at: f64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<OutboxMessage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflict: Option<ConflictRecord>,
}

impl StoredDoc {
    /// A stored document from its parts.
    pub fn new(
        doc: DocRecord,
        messages: Vec<OutboxMessage>,
        conflict: Option<ConflictRecord>,
    ) -> Self {
        let DocRecord {
            id,
            rev,
            base,
            local,
            status,
            deleted,
            updated_at,
        } = doc;
        StoredDoc {
            id,
            rev,
            base,
            local,
            status,
            deleted,
            updated_at,
            messages,
            conflict,
        }
    }

    /// The document id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The document, its messages and its conflict.
    pub fn into_parts(self) -> (DocRecord, Vec<OutboxMessage>, Option<ConflictRecord>) {
        let doc = DocRecord {
            id: self.id,
            rev: self.rev,
            base: self.base,
            local: self.local,
            status: self.status,
            deleted: self.deleted,
            updated_at: self.updated_at,
        };
        (doc, self.messages, self.conflict)
    }
}

/// The key of an outbox message in the `queue` index. IndexedDB keys are
/// JavaScript numbers (a `u64` would become a BigInt, which is not a valid
/// key); sequence numbers stay far below 2^53, where the conversion is exact.
pub(super) fn seq_key(seq: u64) -> f64 {
    seq as f64
}

fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value)
        .map_err(|e| StoreError::Backend(format!("cannot encode a record: {e}")))
}

/// `{id, status, q?, json}`: `status` feeds the `status` index, `q` (the
/// messages' sequence numbers) the `queue` index.
pub(super) fn encode_doc(doc: &StoredDoc) -> Result<JsValue, StoreError> {
    let queue: Vec<f64> = doc.messages.iter().map(|m| seq_key(m.seq)).collect();
    Ok(doc_record(
        &doc.id,
        doc.status.as_str(),
        &queue,
        &to_json(doc)?,
    ))
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
