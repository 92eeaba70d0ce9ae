//! What `attachments(id)` resolves to: the attachments of the version the app
//! sees, with where their bytes are.

use serde::Serialize;
use serde_json::Value;
use tidesync_engine::attachments;

/// One attachment of a document (metadata; `getAttachment` reads the bytes).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct AttachmentInfo {
    /// The attachment name.
    pub name: String,
    /// Its MIME type.
    pub content_type: String,
    /// `md5-` and the base64 MD5 of its bytes (the server's digest once it
    /// holds them; CouchDB digests the types it compresses as stored).
    pub digest: Option<String>,
    /// Its size in bytes.
    #[cfg_attr(feature = "typescript", ts(type = "number | null"))]
    pub length: Option<u64>,
    /// True when the bytes are stored locally: `getAttachment` needs no
    /// network.
    pub stored: bool,
    /// True when the attachment was added here and waits to be pushed.
    pub pending: bool,
}

impl AttachmentInfo {
    /// The info of entry `name`, its bytes `stored` locally or not.
    pub fn of(name: &str, entry: &Value, stored: bool) -> Self {
        AttachmentInfo {
            name: name.to_owned(),
            content_type: entry
                .get("content_type")
                .and_then(Value::as_str)
                .unwrap_or(tidesync_engine::protocol::wire::DEFAULT_CONTENT_TYPE)
                .to_owned(),
            digest: attachments::digest(entry).map(str::to_owned),
            length: entry.get("length").and_then(Value::as_u64),
            stored,
            pending: attachments::is_local(entry),
        }
    }
}
