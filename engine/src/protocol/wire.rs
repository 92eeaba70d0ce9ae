//! JSON request and response bodies of the CouchDB endpoints tidesync uses.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::revision::Revision;

fn is_false(b: &bool) -> bool {
    !*b
}

fn default_true() -> bool {
    true
}

/// CouchDB's error body: `{"error": "conflict", "reason": "Document update conflict."}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CouchError {
    /// The stable error name (`conflict`, `not_found`, `bad_request`, ...).
    pub error: String,
    /// A human-readable explanation.
    pub reason: String,
}

/// `{"ok": true}`, returned by database creation and deletion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ok {
    /// Always true.
    pub ok: bool,
}

/// The answer to a single document write: `{"ok": true, "id": .., "rev": ..}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WriteOk {
    /// Always true.
    pub ok: bool,
    /// The document id.
    pub id: String,
    /// The revision the write produced.
    pub rev: Revision,
}

/// `GET /`: the welcome document, read by clients for feature detection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Welcome {
    /// Always `"Welcome"`.
    pub couchdb: String,
    /// The server's version.
    pub version: String,
    /// Who made the server.
    #[serde(default)]
    pub vendor: Option<Vendor>,
    /// Optional capabilities (CouchDB lists e.g. `"access-ready"`; tidesync's
    /// server lists its extensions so clients can pick transports).
    #[serde(default)]
    pub features: Vec<String>,
}

/// The `vendor` member of [`Welcome`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vendor {
    /// The vendor's name.
    pub name: String,
}

/// `GET /{db}`: database information.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DbInfo {
    /// The database name.
    pub db_name: String,
    /// The newest sequence; opaque.
    pub update_seq: Seq,
    /// Live documents.
    pub doc_count: u64,
    /// Tombstones.
    pub doc_del_count: u64,
    /// Kept for compatibility with CouchDB clients.
    #[serde(default)]
    pub instance_start_time: String,
}

/// `GET /_uuids`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Uuids {
    /// Fresh identifiers.
    pub uuids: Vec<String>,
}

/// A position in a `_changes` feed. Single-node servers send numbers and
/// clusters send strings, so the client keeps it opaque and only echoes it back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Seq(pub Value);

impl Seq {
    /// The text to put in a `since=` query parameter.
    pub fn to_query(&self) -> String {
        match &self.0 {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
}

/// `POST /{db}/_bulk_docs` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BulkDocsRequest {
    /// The documents to write.
    pub docs: Vec<Value>,
    /// False for replication writes that carry their own revisions.
    #[serde(default = "default_true")]
    pub new_edits: bool,
}

/// One row of a `_bulk_docs` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum BulkDocsResult {
    /// The write was refused.
    Error {
        /// The document id (absent when the document had none and was refused).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        /// CouchDB's error name, e.g. `conflict`, `forbidden`.
        error: String,
        /// Explanation.
        reason: String,
    },
    /// The write landed.
    Ok {
        /// Always true.
        ok: bool,
        /// The document id.
        id: String,
        /// The new revision.
        rev: Revision,
    },
}

/// A `{"rev": ..}` reference, as in `_changes` rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RevRef {
    /// The revision.
    pub rev: Revision,
}

/// One row of a `_changes` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeRow {
    /// The position of this change.
    pub seq: Seq,
    /// The document id.
    pub id: String,
    /// The leaf revisions (one, for tidesync's server).
    pub changes: Vec<RevRef>,
    /// True for a tombstone.
    #[serde(default, skip_serializing_if = "is_false")]
    pub deleted: bool,
    /// The document, with `include_docs=true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<Value>,
}

/// `GET /{db}/_changes` (normal and longpoll feeds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangesResponse {
    /// The changes, in sequence order.
    pub results: Vec<ChangeRow>,
    /// Where to continue from.
    pub last_seq: Seq,
    /// How many changes remain after this page.
    #[serde(default)]
    pub pending: u64,
}

/// One requested document of `_bulk_get`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BulkGetRef {
    /// The document id.
    pub id: String,
    /// A specific revision, or the current one when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rev: Option<String>,
}

/// `POST /{db}/_bulk_get` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BulkGetRequest {
    /// What to fetch.
    pub docs: Vec<BulkGetRef>,
}

/// `POST /{db}/_bulk_get` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BulkGetResponse {
    /// One entry per requested reference, in order.
    pub results: Vec<BulkGetResult>,
}

/// The answer for one requested reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BulkGetResult {
    /// The document id.
    pub id: String,
    /// The found revision, or an error.
    pub docs: Vec<BulkGetDoc>,
}

/// A found document or the reason it was not found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BulkGetDoc {
    /// The document.
    Ok(Value),
    /// Why it could not be returned.
    Error(BulkGetError),
}

/// The error member of a [`BulkGetDoc`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BulkGetError {
    /// The document id.
    pub id: String,
    /// The requested revision (or `"undefined"`).
    pub rev: String,
    /// Error name, e.g. `not_found`.
    pub error: String,
    /// Explanation, e.g. `missing`.
    pub reason: String,
}

/// `GET/POST /{db}/_all_docs` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AllDocsResponse {
    /// Live documents in the database.
    pub total_rows: u64,
    /// The number of rows skipped.
    pub offset: u64,
    /// The rows.
    pub rows: Vec<AllDocsRow>,
}

/// One row of `_all_docs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AllDocsRow {
    /// The document id (absent on error rows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The key (the id).
    pub key: Value,
    /// The current revision, and `deleted` for tombstones asked for by key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<AllDocsValue>,
    /// The document, with `include_docs=true` (null for tombstones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<Value>,
    /// `not_found` for a requested key that does not exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The `value` member of an [`AllDocsRow`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AllDocsValue {
    /// The current revision.
    pub rev: Revision,
    /// True for a tombstone.
    #[serde(default, skip_serializing_if = "is_false")]
    pub deleted: bool,
}

/// Names a server lists in [`Welcome::features`] so a client can pick its
/// transports without probing: the reference server advertises each of these.
pub mod features {
    /// `_changes?feed=longpoll` answers as soon as a write lands.
    pub const CHANGES_LONGPOLL: &str = "changes-longpoll";
    /// `_changes?feed=continuous`: newline-delimited rows over one response.
    pub const CHANGES_CONTINUOUS: &str = "changes-continuous";
    /// `_changes?feed=eventsource`: a `text/event-stream` of rows.
    pub const CHANGES_EVENTSOURCE: &str = "changes-eventsource";
    /// Inline base64 `_attachments` and `/{db}/{doc}/{name}` attachment requests.
    pub const ATTACHMENTS: &str = "attachments";
    /// `POST /{db}/_bulk_get`.
    pub const BULK_GET: &str = "bulk-get";
    /// Revisions are computed with [`crate::Revision::next`] over
    /// [`crate::protocol::document::revision_body`], so a client can predict them.
    pub const DETERMINISTIC_REVS: &str = "deterministic-revs";
    /// `POST /{db}/_changes?filter=_doc_ids` with a `doc_ids` body.
    pub const DOC_IDS_FILTER: &str = "changes-doc-ids-filter";
    /// `_local/` documents, kept out of `_changes` and `_all_docs` (for checkpoints).
    pub const LOCAL_DOCS: &str = "local-docs";
    /// The server lists who syncs (`GET /_active_tasks`) from the
    /// `client_id` parameter of `_changes` requests, and caps live feeds
    /// (503 `too_many_live_feeds` past the cap).
    pub const SESSIONS: &str = "sessions";
    /// `GET /{db}/_socket`: one WebSocket carrying the database's requests
    /// up and their answers, changes and heartbeats down.
    pub const WEBSOCKET: &str = "websocket";
}

/// One member of a document's `_attachments` object.
///
/// The same shape covers the three forms CouchDB uses: a stub
/// (`stub: true`, with `digest`, `length` and `revpos`), inline data on the way
/// in (`data` as base64, usually with only `content_type`) and inline data on the
/// way out with `?attachments=true`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentInfo {
    /// The MIME type given when the attachment was written.
    #[serde(default = "default_content_type")]
    pub content_type: String,
    /// The generation of the revision that last changed the bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revpos: Option<u64>,
    /// `md5-<base64 of the MD5 of the bytes>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// Size of the bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u64>,
    /// True when only the metadata is present: a write keeps the stored bytes.
    #[serde(default, skip_serializing_if = "is_false")]
    pub stub: bool,
    /// The bytes, base64-encoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
}

/// The content type CouchDB assumes when a writer names none.
pub const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

fn default_content_type() -> String {
    DEFAULT_CONTENT_TYPE.to_owned()
}

/// The last line of a continuous `_changes` feed: where to resume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangesEnd {
    /// Where to continue from.
    pub last_seq: Seq,
    /// Changes left after `last_seq` (0 unless a `limit` stopped the feed).
    #[serde(default)]
    pub pending: u64,
}

/// `POST /{db}/_changes?filter=_doc_ids` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocIdsFilter {
    /// Only changes to these documents are reported.
    pub doc_ids: Vec<String>,
}

/// `POST /{db}/_all_docs` body.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AllDocsRequest {
    /// The ids to look up, in the order the rows should come back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys: Option<Vec<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bulk_docs_rows_round_trip() {
        let rows: Vec<BulkDocsResult> = serde_json::from_value(json!([
            {"ok": true, "id": "a", "rev": "1-abc"},
            {"id": "b", "error": "conflict", "reason": "Document update conflict."}
        ]))
        .expect("rows");
        assert!(matches!(rows[0], BulkDocsResult::Ok { .. }));
        assert!(matches!(&rows[1], BulkDocsResult::Error { error, .. } if error == "conflict"));
    }

    #[test]
    fn seq_is_opaque() {
        let n: Seq = serde_json::from_value(json!(42)).expect("number");
        let s: Seq = serde_json::from_value(json!("42-g1AAAA")).expect("string");
        assert_eq!(n.to_query(), "42");
        assert_eq!(s.to_query(), "42-g1AAAA");
    }

    #[test]
    fn bulk_get_docs() {
        let doc: BulkGetDoc = serde_json::from_value(json!({"ok": {"_id": "a"}})).expect("ok");
        assert!(matches!(doc, BulkGetDoc::Ok(_)));
        let err: BulkGetDoc = serde_json::from_value(
            json!({"error": {"id": "a", "rev": "undefined", "error": "not_found", "reason": "missing"}}),
        )
        .expect("error");
        assert!(matches!(err, BulkGetDoc::Error(_)));
    }

    #[test]
    fn attachment_forms() {
        let stub: AttachmentInfo = serde_json::from_value(json!({
            "content_type": "text/plain", "revpos": 2, "digest": "md5-abc", "length": 5, "stub": true
        }))
        .expect("stub");
        assert!(stub.stub);
        assert_eq!(stub.length, Some(5));
        let inline: AttachmentInfo =
            serde_json::from_value(json!({"data": "aGk="})).expect("inline");
        assert_eq!(inline.content_type, DEFAULT_CONTENT_TYPE);
        assert_eq!(
            serde_json::to_value(&inline).expect("json"),
            json!({"content_type": DEFAULT_CONTENT_TYPE, "data": "aGk="})
        );
    }
}
