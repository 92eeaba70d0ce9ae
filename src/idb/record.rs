//! The stored form of each record: a small JavaScript object with the fields
//! IndexedDB keys and indexes on, plus the whole record as a serde_json string.
//!
//! A JSON string crosses the wasm boundary in one copy, where a
//! serde-wasm-bindgen object graph costs one call per member; the indexed fields
//! are duplicated next to it only because IndexedDB needs them as properties.
//! The objects are built and read by `idb.js`, one call per record.
//!
//! Since schema v2 a document's record also holds its outbox messages and its
//! conflict ([`StoredDoc`]), so a local write reads and writes one record.

use serde::{de::DeserializeOwned, Deserialize, Serialize};
use tidesync_engine::{
    error::StoreError,
    model::{Attachments, Body, ConflictRecord, DocRecord, DocStatus},
    outbox::OutboxMessage,
    Revision,
};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/idb/idb.js")]
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
/// A body is stored once where the record would hold it twice (since schema
/// v3): `base_is_local` stands for a base equal to the local body (a synced
/// document), `local_bodies` lists the messages whose body is the local body
/// (a pending write) and `local_sent` those whose in-flight copy is. Values of this type always hold every body; only
/// [`encode_doc_text`] and [`decode_doc`] see the shared form.
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    attachments: Option<Attachments>,
    /// Added without a new schema version: a record written before it reads
    /// as one whose last write has no local revision (its `_rev` is the
    /// server's), and `idb.js` reads it to show the `_rev`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    local_rev: Option<Revision>,
    /// Added without a new schema version (v4 only adds a store): a record
    /// written before it has no local attachment changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    local_attachments: Option<Attachments>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<OutboxMessage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflict: Option<ConflictRecord>,
    #[serde(default, skip_serializing_if = "is_false")]
    base_is_local: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    local_bodies: Vec<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    local_sent: Vec<u64>,
}

fn is_false(flag: &bool) -> bool {
    !*flag
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
            attachments,
            local_rev,
            local_attachments,
        } = doc;
        StoredDoc {
            id,
            rev,
            base,
            local,
            status,
            deleted,
            updated_at,
            attachments,
            local_rev,
            local_attachments,
            messages,
            conflict,
            base_is_local: false,
            local_bodies: Vec::new(),
            local_sent: Vec::new(),
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
            attachments: self.attachments,
            local_rev: self.local_rev,
            local_attachments: self.local_attachments,
        };
        (doc, self.messages, self.conflict)
    }

    /// Takes out the bodies equal to the local body, marking where they were.
    fn share_bodies(&mut self) {
        if self.base.as_ref() == Some(&self.local) {
            self.base = None;
            self.base_is_local = true;
        }
        for message in &mut self.messages {
            if message.body.as_ref() == Some(&self.local) {
                message.body = None;
                self.local_bodies.push(message.seq);
            }
            if let Some(sent) = message.sent.as_mut() {
                if sent.body.as_ref() == Some(&self.local) {
                    sent.body = None;
                    self.local_sent.push(message.seq);
                }
            }
        }
    }

    /// Puts back the bodies [`share_bodies`](Self::share_bodies) took out.
    fn restore_bodies(&mut self) {
        if std::mem::take(&mut self.base_is_local) {
            self.base = Some(self.local.clone());
        }
        let shared = std::mem::take(&mut self.local_bodies);
        let sent = std::mem::take(&mut self.local_sent);
        for message in &mut self.messages {
            if shared.contains(&message.seq) {
                message.body = Some(self.local.clone());
            }
            if let (true, Some(copy)) = (sent.contains(&message.seq), message.sent.as_mut()) {
                copy.body = Some(self.local.clone());
            }
        }
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
/// messages' sequence numbers) the `queue` index. `doc` is lent mutably only
/// to share its bodies while it is written; it is left as it was. The
/// record's `json` text comes back too: an update planned before its read
/// compares it with the stored record.
pub(super) fn encode_doc_text(doc: &mut StoredDoc) -> Result<(JsValue, String), StoreError> {
    let queue: Vec<f64> = doc.messages.iter().map(|m| seq_key(m.seq)).collect();
    doc.share_bodies();
    let json = to_json(&*doc);
    doc.restore_bodies();
    let json = json?;
    Ok((
        doc_record(&doc.id, doc.status.as_str(), &queue, &json),
        json,
    ))
}

/// `{key, json}`.
pub(super) fn encode_meta(key: &str, value: &serde_json::Value) -> Result<JsValue, StoreError> {
    Ok(meta_record(key, &to_json(value)?))
}

/// Decodes one stored record; anything that is not a record with a valid
/// `json` member is [`StoreError::Corrupt`].
fn decode<T: DeserializeOwned>(record: &JsValue) -> Result<T, StoreError> {
    let json = record_json(record)
        .ok_or_else(|| StoreError::Corrupt("a stored record has no `json` string".into()))?;
    serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Decodes a document record with every body in place.
pub(super) fn decode_doc(record: &JsValue) -> Result<StoredDoc, StoreError> {
    let mut doc: StoredDoc = decode(record)?;
    doc.restore_bodies();
    Ok(doc)
}

/// Decodes a document record from its `json` text, every body in place.
pub(super) fn decode_doc_text(json: &str) -> Result<StoredDoc, StoreError> {
    let mut doc: StoredDoc =
        serde_json::from_str(json).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    doc.restore_bodies();
    Ok(doc)
}

/// Decodes the document of a record.
pub(super) fn decode_head(record: &JsValue) -> Result<DocRecord, StoreError> {
    decode_doc(record).map(|stored| stored.into_parts().0)
}

/// Decodes a metadata record's value.
pub(super) fn decode_meta(record: &JsValue) -> Result<serde_json::Value, StoreError> {
    decode(record)
}
