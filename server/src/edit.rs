//! Incoming writes, validated and decoded before they reach storage.
//!
//! Everything CouchDB refuses without looking at stored state (bad special
//! members, reserved ids, oversized bodies, undecodable attachments) is refused
//! here, so a storage transaction only has revision checks left to make.

use std::collections::BTreeMap;

use base64::{
    alphabet,
    engine::{general_purpose::STANDARD, DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig},
    Engine,
};
use bytes::Bytes;
use serde_json::{Map, Value};
use tidesync_engine::{
    protocol::{document::Document, wire::AttachmentInfo},
    validate_doc_id, Revision,
};

use crate::{config::Limits, error::ApiError};

/// Accepts base64 with or without padding, as clients differ.
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// One write to one document.
#[derive(Debug, Clone)]
pub struct Edit {
    /// The document id.
    pub id: String,
    /// The revision the writer based its edit on (`None` for a new document).
    pub base: Option<Revision>,
    /// What changes.
    pub change: Change,
    /// The history given with `_revisions` (newest first), which replicated
    /// writes graft into the revision tree; interactive writes ignore it.
    pub revisions: Option<Vec<Revision>>,
}

/// What an [`Edit`] does.
#[derive(Debug, Clone)]
pub enum Change {
    /// Replace the document with a new body (a tombstone when `deleted`).
    Document(DocChange),
    /// Add or replace one attachment, keeping the rest of the base revision.
    PutAttachment {
        /// The attachment name.
        name: String,
        /// The new bytes.
        upload: Upload,
    },
    /// Remove one attachment, keeping the rest of the base revision.
    DeleteAttachment {
        /// The attachment name.
        name: String,
    },
}

/// A whole new revision of a document.
#[derive(Debug, Clone, Default)]
pub struct DocChange {
    /// `_deleted`.
    pub deleted: bool,
    /// The members not starting with `_`.
    pub body: Map<String, Value>,
    /// `_attachments`; a document written without it loses its attachments.
    pub attachments: BTreeMap<String, AttachmentEdit>,
}

/// One member of an incoming `_attachments`.
#[derive(Debug, Clone)]
pub enum AttachmentEdit {
    /// A stub: keep the bytes the base revision has under this name.
    Keep,
    /// New bytes.
    New(Upload),
}

/// Attachment bytes on their way in, with their digest already computed.
#[derive(Debug, Clone)]
pub struct Upload {
    /// The MIME type.
    pub content_type: String,
    /// The bytes.
    pub data: Bytes,
    /// `md5-<base64>`.
    pub digest: String,
}

impl Upload {
    /// Wraps bytes, computing their CouchDB digest.
    pub fn new(content_type: String, data: Bytes) -> Upload {
        let digest = digest_of(&data);
        Upload {
            content_type,
            data,
            digest,
        }
    }
}

/// CouchDB's attachment digest, shared with the client (which checks the
/// bytes it downloads against it).
pub use tidesync_engine::attachments::digest_of;

/// Encodes attachment bytes for inline JSON.
pub fn encode_base64(data: &[u8]) -> String {
    STANDARD.encode(data)
}

/// A fresh identifier: 32 lowercase hex digits, time-ordered like CouchDB's
/// default `sequential` algorithm so new documents cluster in `_all_docs`.
pub fn new_uuid() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

/// True for `_local/` documents, which have no history and no place in feeds.
pub fn is_local(id: &str) -> bool {
    id.starts_with("_local/")
}

impl Edit {
    /// Validates a JSON document written with `POST /{db}`, `PUT /{db}/{id}`
    /// (`url_id`) or `_bulk_docs`. Documents without an id get a fresh one.
    pub fn from_json(
        value: Value,
        url_id: Option<&str>,
        limits: &Limits,
    ) -> Result<Edit, ApiError> {
        let revisions = crate::revisions::parse_revisions(&value)?;
        let doc = Document::from_json(value)?;
        if let Some(id) = &doc.id {
            validate_doc_id(id)?;
        }
        let id = match (url_id, doc.id) {
            (Some(url_id), _) => {
                validate_doc_id(url_id)?;
                url_id.to_owned()
            }
            (None, Some(id)) => id,
            (None, None) => new_uuid(),
        };
        let size = serde_json::to_vec(&doc.body).map_or(usize::MAX, |bytes| bytes.len());
        if size > limits.max_document_bytes {
            return Err(ApiError::DocumentTooLarge(id));
        }
        let attachments = match doc.attachments {
            Some(map) => parse_attachments(map, limits)?,
            None => BTreeMap::new(),
        };
        Ok(Edit {
            id,
            base: doc.rev,
            change: Change::Document(DocChange {
                deleted: doc.deleted,
                body: doc.body,
                attachments,
            }),
            revisions,
        })
    }

    /// Folds in a revision given outside the body (`?rev=` or `If-Match`),
    /// refusing disagreement the way CouchDB does.
    pub fn with_request_rev(
        mut self,
        query_rev: Option<Revision>,
        if_match: Option<Revision>,
    ) -> Result<Edit, ApiError> {
        if let (Some(body_rev), Some(query_rev)) = (&self.base, &query_rev) {
            if body_rev != query_rev {
                return Err(ApiError::BadRequest(
                    "Document rev from request body and query string have different values"
                        .to_owned(),
                ));
            }
        }
        let explicit = self.base.take().or(query_rev);
        self.base = merge_if_match(explicit, if_match)?;
        Ok(self)
    }
}

/// Combines `?rev=` with `If-Match`: either may be given, or both if they agree.
pub fn merge_if_match(
    explicit: Option<Revision>,
    if_match: Option<Revision>,
) -> Result<Option<Revision>, ApiError> {
    match (explicit, if_match) {
        (Some(explicit), Some(etag)) if explicit != etag => Err(ApiError::BadRequest(
            "Document rev and etag have different values".to_owned(),
        )),
        (explicit, etag) => Ok(explicit.or(etag)),
    }
}

/// Parses a revision from a query parameter or header.
pub fn parse_rev(text: &str) -> Result<Revision, ApiError> {
    text.trim()
        .trim_matches('"')
        .parse()
        .map_err(|_| ApiError::invalid_rev())
}

/// CouchDB refuses attachment names starting with `_`.
pub fn validate_attachment_name(name: &str) -> Result<(), ApiError> {
    if name.is_empty() {
        return Err(ApiError::BadRequest(
            "Attachment name must not be empty".to_owned(),
        ));
    }
    if name.starts_with('_') {
        return Err(ApiError::BadRequest(format!(
            "Attachment name '{name}' starts with prohibited character '_'"
        )));
    }
    Ok(())
}

fn parse_attachments(
    map: Map<String, Value>,
    limits: &Limits,
) -> Result<BTreeMap<String, AttachmentEdit>, ApiError> {
    let mut edits = BTreeMap::new();
    for (name, value) in map {
        validate_attachment_name(&name)?;
        if !value.is_object() {
            return Err(ApiError::BadRequest(format!(
                "Attachment {name} must be a JSON object"
            )));
        }
        if value.get("follows").and_then(Value::as_bool) == Some(true) {
            return Err(ApiError::BadRequest(format!(
                "Attachment {name} uses `follows`; send attachments inline as base64 `data`"
            )));
        }
        let info: AttachmentInfo = serde_json::from_value(value)
            .map_err(|err| ApiError::BadRequest(format!("Invalid attachment {name}: {err}")))?;
        let edit = if info.stub {
            AttachmentEdit::Keep
        } else if let Some(data) = info.data {
            AttachmentEdit::New(Upload::new(
                info.content_type,
                decode_inline(&name, &data, limits)?,
            ))
        } else {
            return Err(ApiError::BadRequest(format!(
                "Attachment {name} has neither `data` nor `stub`"
            )));
        };
        edits.insert(name, edit);
    }
    Ok(edits)
}

fn decode_inline(name: &str, data: &str, limits: &Limits) -> Result<Bytes, ApiError> {
    if data.len() / 4 * 3 > limits.max_attachment_bytes.saturating_add(3) {
        return Err(ApiError::AttachmentTooLarge(name.to_owned()));
    }
    let compact: String;
    let text = if data.bytes().any(|b| b.is_ascii_whitespace()) {
        compact = data.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        compact.as_str()
    } else {
        data
    };
    let bytes = LENIENT_BASE64
        .decode(text)
        .map_err(|_| ApiError::BadRequest(format!("Invalid attachment data for {name}")))?;
    if bytes.len() > limits.max_attachment_bytes {
        return Err(ApiError::AttachmentTooLarge(name.to_owned()));
    }
    Ok(Bytes::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Limits};
    use serde_json::json;

    fn limits() -> Limits {
        let mut limits = Limits::from(&Config::ephemeral("unused"));
        limits.max_document_bytes = 64;
        limits.max_attachment_bytes = 4;
        limits
    }

    #[test]
    fn digests_like_couchdb() {
        // md5("hello") = 5d41402abc4b2a76b9719d911017c592
        assert_eq!(digest_of(b"hello"), "md5-XUFAKrxLKna5cZ2REBfFkg==");
    }

    #[test]
    fn validates_documents() {
        let edit = Edit::from_json(json!({"_id": "a", "x": 1}), None, &limits()).expect("valid");
        assert_eq!(edit.id, "a");
        let url = Edit::from_json(json!({"x": 1}), Some("b"), &limits()).expect("valid");
        assert_eq!(url.id, "b");
        let generated = Edit::from_json(json!({}), None, &limits()).expect("valid");
        assert_eq!(generated.id.len(), 32);
        let big = json!({"_id": "big", "x": "y".repeat(100)});
        assert_eq!(
            Edit::from_json(big, None, &limits()).map(|e| e.id),
            Err(ApiError::DocumentTooLarge("big".into()))
        );
        assert!(matches!(
            Edit::from_json(json!({"_id": "_x"}), None, &limits()),
            Err(ApiError::IllegalDocId(_))
        ));
    }

    #[test]
    fn decodes_attachments() {
        let doc = json!({"_attachments": {
            "a": {"content_type": "text/plain", "data": "aGk="},
            "b": {"stub": true},
        }});
        let edit = Edit::from_json(doc, Some("d"), &limits()).expect("valid");
        let Change::Document(change) = edit.change else {
            panic!("not a document change");
        };
        assert!(matches!(&change.attachments["a"], AttachmentEdit::New(u) if &u.data[..] == b"hi"));
        assert!(matches!(change.attachments["b"], AttachmentEdit::Keep));
        let big = json!({"_attachments": {"a": {"data": "aGVsbG8gd29ybGQ="}}});
        assert_eq!(
            Edit::from_json(big, Some("d"), &limits()).map(|e| e.id),
            Err(ApiError::AttachmentTooLarge("a".into()))
        );
        let bad = json!({"_attachments": {"a": {"data": "!!"}}});
        assert!(matches!(
            Edit::from_json(bad, Some("d"), &limits()),
            Err(ApiError::BadRequest(_))
        ));
    }

    #[test]
    fn request_revs_must_agree() {
        let one: Revision = "1-a".parse().expect("rev");
        let two: Revision = "2-b".parse().expect("rev");
        let edit = Edit::from_json(json!({"_rev": "1-a"}), Some("d"), &limits()).expect("valid");
        assert!(edit
            .clone()
            .with_request_rev(Some(two.clone()), None)
            .is_err());
        assert!(edit
            .clone()
            .with_request_rev(None, Some(two.clone()))
            .is_err());
        let merged = edit
            .with_request_rev(Some(one.clone()), Some(one.clone()))
            .expect("agree");
        assert_eq!(merged.base, Some(one));
        assert_eq!(merge_if_match(None, Some(two.clone())), Ok(Some(two)));
    }
}
