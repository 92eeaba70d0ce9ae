//! Attachments as the client keeps them: a document's set of entries by name,
//! each either a stub of bytes the server holds (`stub: true`) or a local
//! entry (`content_type`, `digest`, `length`, no `stub`) whose bytes are held
//! only by the local store, under their digest, until a push carries them.
//!
//! The bytes never live in the document record: records stay small to read
//! and write, and the same bytes put twice are stored once.

use std::collections::{BTreeSet, HashMap};

use base64::{engine::general_purpose::STANDARD, Engine as _};
use md5::{Digest, Md5};
use serde_json::{Map, Value};

use crate::{error::EngineError, model::Attachments};

/// CouchDB's attachment digest: `md5-` and the base64 of the MD5 of the bytes.
pub fn digest_of(bytes: &[u8]) -> String {
    format!("md5-{}", STANDARD.encode(Md5::digest(bytes)))
}

/// What the app gives for a new attachment, once its bytes are stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentMeta {
    /// The MIME type.
    pub content_type: String,
    /// The digest of the bytes ([`digest_of`]).
    pub digest: String,
    /// The number of bytes.
    pub length: u64,
}

impl AttachmentMeta {
    /// The local entry for these bytes: no `stub`, so a push sends them.
    pub fn local_entry(&self) -> Value {
        let mut entry = Map::new();
        entry.insert("content_type".into(), self.content_type.clone().into());
        entry.insert("digest".into(), self.digest.clone().into());
        entry.insert("length".into(), self.length.into());
        Value::Object(entry)
    }
}

/// Refuses names CouchDB refuses (empty, or starting with `_`) and names
/// that could not be a path segment of `/{db}/{id}/{name}` once encoded
/// (control characters).
pub fn validate_name(name: &str) -> Result<(), EngineError> {
    let reason = if name.is_empty() {
        Some("an attachment name cannot be empty")
    } else if name.starts_with('_') {
        Some("attachment names starting with _ are reserved")
    } else if name.chars().any(char::is_control) {
        Some("an attachment name cannot hold control characters")
    } else if name.len() > 1024 {
        Some("an attachment name is at most 1024 bytes")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(EngineError::InvalidAttachment(format!(
            "{name:?}: {reason}"
        ))),
        None => Ok(()),
    }
}

/// Refuses a content type that is not `type/subtype` (a header value).
pub fn validate_content_type(content_type: &str) -> Result<(), EngineError> {
    let valid = content_type
        .split_once('/')
        .is_some_and(|(kind, sub)| !kind.is_empty() && !sub.is_empty())
        && content_type
            .chars()
            .all(|c| c.is_ascii() && !c.is_ascii_control());
    if valid {
        Ok(())
    } else {
        Err(EngineError::InvalidAttachment(format!(
            "content type {content_type:?} is not a MIME type (type/subtype)"
        )))
    }
}

/// True when the entry's bytes are held only locally (a push must send them).
pub fn is_local(entry: &Value) -> bool {
    entry.get("stub").and_then(Value::as_bool) != Some(true)
}

/// The digest an entry names.
pub fn digest(entry: &Value) -> Option<&str> {
    entry.get("digest").and_then(Value::as_str)
}

/// The digests of the local entries of `set`: the bytes a push must read.
pub fn local_digests(set: &Attachments) -> impl Iterator<Item = &str> {
    set.values().filter(|e| is_local(e)).filter_map(digest)
}

/// The bytes a push of `set` adds to its request, base64 included.
pub fn wire_len(set: &Attachments) -> usize {
    set.values()
        .filter(|e| is_local(e))
        .map(|e| {
            let length = e.get("length").and_then(Value::as_u64).unwrap_or(0);
            usize::try_from(length)
                .unwrap_or(usize::MAX / 2)
                .div_ceil(3)
                * 4
                + 96
        })
        .sum()
}

/// `set` as `_bulk_docs` takes it: stubs as they are, and each local entry
/// with its bytes inline (base64) when `bytes` holds them. A local entry whose
/// bytes are missing goes as a stub, which the server refuses for that
/// document alone (`missing_stub`), so the change is parked, not lost.
pub fn to_wire(set: &Attachments, bytes: &HashMap<String, Vec<u8>>) -> Value {
    let wire: Map<String, Value> = set
        .iter()
        .map(|(name, entry)| {
            let inline = digest(entry)
                .filter(|_| is_local(entry))
                .and_then(|d| bytes.get(d));
            let value = match inline {
                Some(data) => {
                    let mut out = Map::new();
                    let content_type = entry.get("content_type").cloned();
                    out.insert(
                        "content_type".into(),
                        content_type
                            .unwrap_or_else(|| crate::protocol::wire::DEFAULT_CONTENT_TYPE.into()),
                    );
                    out.insert("data".into(), STANDARD.encode(data).into());
                    Value::Object(out)
                }
                None => stub_of(entry),
            };
            (name.clone(), value)
        })
        .collect();
    Value::Object(wire)
}

/// The entry as a stub of the server's bytes.
pub fn stub_of(entry: &Value) -> Value {
    let mut stub = entry.as_object().cloned().unwrap_or_default();
    stub.remove("data");
    stub.remove("follows");
    stub.insert("stub".into(), Value::Bool(true));
    Value::Object(stub)
}

/// `set` once a push carrying it landed: every entry a stub.
pub fn landed(set: &Attachments) -> Attachments {
    set.iter().map(|(n, e)| (n.clone(), stub_of(e))).collect()
}

/// The local set once `server` (the set a push landed) holds some of its
/// entries: those become stubs. `None` when nothing local is left to push.
pub fn after_landing(local: &Attachments, server: &Attachments) -> Option<Attachments> {
    let rebased: Attachments = local
        .iter()
        .map(|(name, entry)| {
            let held = server
                .get(name)
                .is_some_and(|s| digest(s).is_some() && digest(s) == digest(entry));
            let entry = if held && is_local(entry) {
                stub_of(entry)
            } else {
                entry.clone()
            };
            (name.clone(), entry)
        })
        .collect();
    (rebased != *server).then_some(rebased)
}

/// Three-way merge of attachment sets by name, comparing digests: a side
/// that left an attachment as the base had it takes the other side's
/// change (or removal); when both changed one, the local side's bytes win,
/// and a local removal gives way to a remote change. So attachments added
/// on either side under different names are all kept.
pub fn merge(
    base: Option<&Attachments>,
    local: Option<&Attachments>,
    remote: Option<&Attachments>,
) -> Attachments {
    let empty = Attachments::new();
    let (base, local, remote) = (
        base.unwrap_or(&empty),
        local.unwrap_or(&empty),
        remote.unwrap_or(&empty),
    );
    let names: BTreeSet<&String> = base
        .keys()
        .chain(local.keys())
        .chain(remote.keys())
        .collect();
    let same = |a: Option<&Value>, b: Option<&Value>| a.map(digest) == b.map(digest);
    let mut merged = Attachments::new();
    for name in names {
        let (b, l, r) = (base.get(name), local.get(name), remote.get(name));
        let chosen = if same(l, b) {
            r
        } else if same(r, b) {
            l
        } else {
            l.or(r)
        };
        if let Some(entry) = chosen {
            merged.insert(name.clone(), entry.clone());
        }
    }
    merged
}

/// True when two sets name the same attachments with the same digests (an
/// absent set is an empty one).
pub fn same_digests(a: Option<&Attachments>, b: Option<&Attachments>) -> bool {
    let digests = |set: Option<&Attachments>| -> Vec<(String, Option<String>)> {
        set.map(|set| {
            set.iter()
                .map(|(name, entry)| (name.clone(), digest(entry).map(str::to_owned)))
                .collect()
        })
        .unwrap_or_default()
    };
    digests(a) == digests(b)
}

/// True when two sets name the same attachments of the same lengths: how a
/// client recognises its own push in the server's revision, where the
/// digests of compressed types are the server's own.
pub fn same_names_and_lengths(a: Option<&Attachments>, b: Option<&Attachments>) -> bool {
    let shape = |set: Option<&Attachments>| -> Vec<(String, Option<u64>)> {
        set.map(|set| {
            set.iter()
                .map(|(name, entry)| (name.clone(), entry.get("length").and_then(Value::as_u64)))
                .collect()
        })
        .unwrap_or_default()
    };
    shape(a) == shape(b)
}

/// The content types CouchDB stores gzip-compressed by default, whose
/// digests are of the compressed bytes rather than of the bytes served.
fn compressed_by_couchdb(content_type: &str) -> bool {
    let kind = content_type.split(';').next().unwrap_or("").trim();
    kind.starts_with("text/")
        || matches!(
            kind,
            "application/javascript" | "application/json" | "application/xml"
        )
}

/// True when downloaded `bytes` are the ones `entry` describes: the digest
/// matches, or (for the types CouchDB compresses, whose digests cover the
/// compressed form) the length does.
pub fn verify(entry: &Value, bytes: &[u8]) -> bool {
    if digest(entry) == Some(digest_of(bytes).as_str()) {
        return true;
    }
    let content_type = entry
        .get("content_type")
        .and_then(Value::as_str)
        .unwrap_or("");
    let length = entry.get("length").and_then(Value::as_u64);
    compressed_by_couchdb(content_type) && length == u64::try_from(bytes.len()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn set(value: Value) -> Attachments {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn digests_like_couchdb() {
        assert_eq!(digest_of(b"hello"), "md5-XUFAKrxLKna5cZ2REBfFkg==");
    }

    #[test]
    fn names_and_types_are_checked() {
        assert!(validate_name("photo.jpg").is_ok());
        for bad in ["", "_x", "a\nb"] {
            assert!(validate_name(bad).is_err(), "{bad:?}");
        }
        assert!(validate_content_type("image/jpeg").is_ok());
        for bad in ["", "jpeg", "/x", "image/", "a/b\r\n"] {
            assert!(validate_content_type(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn local_entries_go_inline_and_stubs_stay_stubs() {
        let s = set(json!({
            "new.txt": {"content_type": "text/plain", "digest": "md5-a", "length": 2},
            "old.png": {"content_type": "image/png", "digest": "md5-b", "length": 9, "revpos": 1, "stub": true},
            "lost.bin": {"content_type": "application/octet-stream", "digest": "md5-c", "length": 1}
        }));
        let bytes = HashMap::from([("md5-a".to_owned(), b"hi".to_vec())]);
        assert_eq!(
            to_wire(&s, &bytes),
            json!({
                "new.txt": {"content_type": "text/plain", "data": "aGk="},
                "old.png": {"content_type": "image/png", "digest": "md5-b", "length": 9, "revpos": 1, "stub": true},
                "lost.bin": {"content_type": "application/octet-stream", "digest": "md5-c", "length": 1, "stub": true}
            })
        );
        assert_eq!(
            local_digests(&s).collect::<Vec<_>>(),
            vec!["md5-c", "md5-a"]
        );
        assert_eq!(wire_len(&s), 4 + 96 + 4 + 96);
    }

    #[test]
    fn landing_turns_pushed_entries_into_stubs() {
        let pushed = set(json!({"a": {"digest": "md5-a", "length": 1}}));
        let server = landed(&pushed);
        assert_eq!(server["a"]["stub"], true);
        assert_eq!(after_landing(&pushed, &server), None);
        let newer = set(json!({"a": {"digest": "md5-a", "length": 1}, "b": {"digest": "md5-b"}}));
        let left = after_landing(&newer, &server).expect("b is still local");
        assert!(!is_local(&left["a"]));
        assert!(is_local(&left["b"]));
    }

    #[test]
    fn merge_keeps_both_sides_additions() {
        let base = set(
            json!({"kept": {"digest": "k"}, "gone": {"digest": "g"}, "edited": {"digest": "e1"}}),
        );
        let local = set(
            json!({"kept": {"digest": "k"}, "edited": {"digest": "e1"}, "mine": {"digest": "m"}}),
        );
        let remote = set(
            json!({"kept": {"digest": "k"}, "gone": {"digest": "g"}, "edited": {"digest": "e2"}, "theirs": {"digest": "t"}}),
        );
        let merged = merge(Some(&base), Some(&local), Some(&remote));
        let names: Vec<&String> = merged.keys().collect();
        assert_eq!(names, ["edited", "kept", "mine", "theirs"]);
        assert_eq!(merged["edited"]["digest"], "e2");
        // Both changed one name: the local bytes win; a local removal gives
        // way to a remote change.
        let local = set(json!({"edited": {"digest": "e3"}}));
        let merged = merge(Some(&base), Some(&local), Some(&remote));
        assert_eq!(merged["edited"]["digest"], "e3");
        assert!(merged.contains_key("theirs") && !merged.contains_key("kept"));
    }

    #[test]
    fn downloads_are_verified() {
        let entry = json!({"content_type": "image/png", "digest": digest_of(b"png"), "length": 3});
        assert!(verify(&entry, b"png"));
        assert!(!verify(&entry, b"pnG"));
        // CouchDB digests text/* as stored (gzipped): the length is checked.
        let text = json!({"content_type": "text/plain", "digest": "md5-other", "length": 3});
        assert!(verify(&text, b"abc"));
        assert!(!verify(&text, b"abcd"));
    }
}
