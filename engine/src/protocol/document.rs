//! A CouchDB document split into its special `_` members and its body.
//!
//! Keeping the split in one place means the server's validation and the client's
//! local model agree on which members are metadata and which are user data.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use thiserror::Error;

use super::revision::{Revision, RevisionError};
use super::wire::AttachmentInfo;

/// Why a JSON value is not an acceptable document.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DocumentError {
    /// Documents must be JSON objects.
    #[error("Document must be a JSON object")]
    NotAnObject,
    /// `_id` must be a string.
    #[error("Document id must be a string")]
    IdNotString,
    /// `_rev` must be a well-formed revision string.
    #[error("Invalid rev format")]
    BadRevision,
    /// `_deleted` must be a boolean.
    #[error("_deleted must be a boolean")]
    DeletedNotBool,
    /// `_attachments` must be an object.
    #[error("_attachments must be an object")]
    AttachmentsNotObject,
    /// A top-level member starts with `_` but is not one CouchDB knows.
    #[error("Bad special document member: {0}")]
    BadSpecialMember(String),
}

impl From<RevisionError> for DocumentError {
    fn from(_: RevisionError) -> Self {
        DocumentError::BadRevision
    }
}

/// Special members that CouchDB accepts and tidesync ignores on input.
const IGNORED_SPECIALS: &[&str] = &[
    "_revisions",
    "_revs_info",
    "_conflicts",
    "_deleted_conflicts",
    "_local_seq",
];

/// A document: metadata plus the user's body (members not starting with `_`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Document {
    /// `_id`, when the writer named one.
    pub id: Option<String>,
    /// `_rev`: the revision this write is based on (or the stored revision).
    pub rev: Option<Revision>,
    /// `_deleted`: a tombstone.
    pub deleted: bool,
    /// `_attachments`, kept as the raw JSON object.
    pub attachments: Option<Map<String, Value>>,
    /// Everything else.
    pub body: Map<String, Value>,
}

impl Document {
    /// Splits a JSON value into a document, refusing shapes CouchDB refuses.
    pub fn from_json(value: Value) -> Result<Document, DocumentError> {
        let Value::Object(map) = value else {
            return Err(DocumentError::NotAnObject);
        };
        let mut doc = Document::default();
        for (key, value) in map {
            match key.as_str() {
                "_id" => match value {
                    Value::String(id) => doc.id = Some(id),
                    _ => return Err(DocumentError::IdNotString),
                },
                "_rev" => match value {
                    Value::String(rev) => doc.rev = Some(rev.parse()?),
                    Value::Null => {}
                    _ => return Err(DocumentError::BadRevision),
                },
                "_deleted" => match value {
                    Value::Bool(deleted) => doc.deleted = deleted,
                    _ => return Err(DocumentError::DeletedNotBool),
                },
                "_attachments" => match value {
                    Value::Object(atts) => doc.attachments = Some(atts),
                    _ => return Err(DocumentError::AttachmentsNotObject),
                },
                special if special.starts_with('_') => {
                    if !IGNORED_SPECIALS.contains(&special) {
                        return Err(DocumentError::BadSpecialMember(key));
                    }
                }
                _ => {
                    doc.body.insert(key, value);
                }
            }
        }
        Ok(doc)
    }

    /// The document as CouchDB returns it: body plus `_id`, `_rev`, `_deleted`
    /// and `_attachments` where present.
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        if let Some(id) = &self.id {
            map.insert("_id".into(), Value::String(id.clone()));
        }
        if let Some(rev) = &self.rev {
            map.insert("_rev".into(), Value::String(rev.to_string()));
        }
        if self.deleted {
            map.insert("_deleted".into(), Value::Bool(true));
        }
        if let Some(atts) = &self.attachments {
            map.insert("_attachments".into(), Value::Object(atts.clone()));
        }
        for (k, v) in &self.body {
            map.insert(k.clone(), v.clone());
        }
        Value::Object(map)
    }
}

/// `_attachments` as stubs: each attachment's metadata without its bytes
/// (`data`, `follows`), marked `stub: true`.
///
/// A client keeps these for the server revision it holds and sends them back
/// with an edit: CouchDB drops every attachment an update leaves out, so an
/// edit without them would delete the server's attachments.
pub fn attachment_stubs(attachments: &Map<String, Value>) -> Map<String, Value> {
    attachments
        .iter()
        .map(|(name, info)| {
            let mut stub = match info {
                Value::Object(meta) => meta.clone(),
                _ => Map::new(),
            };
            stub.remove("data");
            stub.remove("follows");
            stub.insert("stub".into(), Value::Bool(true));
            (name.clone(), Value::Object(stub))
        })
        .collect()
}

/// What a revision hash covers: the body, plus `_attachments` reduced to each
/// attachment's `content_type`, `digest` and `length` when there are any.
///
/// Leaving out `revpos`, `stub` and the data itself means a stub round trip and
/// a re-upload of the same bytes hash alike, and a client that knows the digests
/// can predict the revision a server will assign to its edit.
pub fn revision_body(
    body: &Map<String, Value>,
    attachments: &BTreeMap<String, AttachmentInfo>,
) -> Value {
    let mut map = body.clone();
    if !attachments.is_empty() {
        let reduced: Map<String, Value> = attachments
            .iter()
            .map(|(name, att)| {
                let mut entry = Map::new();
                entry.insert(
                    "content_type".into(),
                    Value::String(att.content_type.clone()),
                );
                if let Some(digest) = &att.digest {
                    entry.insert("digest".into(), Value::String(digest.clone()));
                }
                if let Some(length) = att.length {
                    entry.insert("length".into(), Value::from(length));
                }
                (name.clone(), Value::Object(entry))
            })
            .collect();
        map.insert("_attachments".into(), Value::Object(reduced));
    }
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn splits_and_joins() {
        let value = json!({"_id": "a", "_rev": "1-abc", "car": {"color": "red"}, "_revisions": {}});
        let doc = Document::from_json(value).expect("valid");
        assert_eq!(doc.id.as_deref(), Some("a"));
        assert_eq!(doc.rev.as_ref().map(Revision::generation), Some(1));
        assert_eq!(
            doc.body,
            json!({"car": {"color": "red"}})
                .as_object()
                .cloned()
                .unwrap_or_default()
        );
        assert_eq!(
            doc.to_json(),
            json!({"_id": "a", "_rev": "1-abc", "car": {"color": "red"}})
        );
    }

    #[test]
    fn refuses_bad_shapes() {
        assert_eq!(
            Document::from_json(json!([1])),
            Err(DocumentError::NotAnObject)
        );
        assert_eq!(
            Document::from_json(json!({"_id": 3})),
            Err(DocumentError::IdNotString)
        );
        assert_eq!(
            Document::from_json(json!({"_rev": "x"})),
            Err(DocumentError::BadRevision)
        );
        assert_eq!(
            Document::from_json(json!({"_rev": 1})),
            Err(DocumentError::BadRevision)
        );
        assert_eq!(
            Document::from_json(json!({"_deleted": "yes"})),
            Err(DocumentError::DeletedNotBool)
        );
        assert_eq!(
            Document::from_json(json!({"_attachments": []})),
            Err(DocumentError::AttachmentsNotObject)
        );
        assert_eq!(
            Document::from_json(json!({"_foo": 1})),
            Err(DocumentError::BadSpecialMember("_foo".into()))
        );
    }

    #[test]
    fn revision_body_reduces_attachments() {
        let body = json!({"a": 1}).as_object().cloned().unwrap_or_default();
        assert_eq!(revision_body(&body, &BTreeMap::new()), json!({"a": 1}));
        let mut atts = BTreeMap::new();
        atts.insert(
            "x.txt".to_owned(),
            AttachmentInfo {
                content_type: "text/plain".into(),
                revpos: Some(3),
                digest: Some("md5-abc".into()),
                length: Some(2),
                stub: true,
                data: None,
            },
        );
        assert_eq!(
            revision_body(&body, &atts),
            json!({"a": 1, "_attachments": {"x.txt": {"content_type": "text/plain", "digest": "md5-abc", "length": 2}}})
        );
    }
}
