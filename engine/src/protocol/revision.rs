//! CouchDB revisions: `N-<32 hex>`, a generation and a content hash.
//!
//! The hash is computed deterministically from the parent revision, the deleted
//! flag and the canonical JSON of the body, so the same edit on the same parent
//! yields the same revision on every replica. That determinism is what lets a
//! client recognise its own write when a replay meets a response that was lost.

use std::{fmt, str::FromStr};

use md5::{Digest, Md5};
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use thiserror::Error;

/// Why a string is not a revision.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RevisionError {
    /// The text does not have the `N-hash` shape, or N is not a positive integer.
    #[error("invalid rev format")]
    Malformed,
}

/// A document revision: generation `N` plus an opaque hash.
///
/// Revisions from other CouchDB-compatible servers may carry hashes that are not
/// 32 hex digits; parsing accepts any non-empty hash of hex digits or letters so
/// the client can talk to them, and ordering compares the generation first.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Revision {
    generation: u64,
    hash: String,
}

impl Revision {
    /// The revision that follows `parent` for a write of `body` (with `deleted`
    /// marking a tombstone). `body` should not contain `_id` or `_rev`.
    pub fn next(parent: Option<&Revision>, body: &Value, deleted: bool) -> Revision {
        Revision::hashed(parent, body.to_string().as_bytes(), deleted)
    }

    /// [`next`](Self::next) for a body held as a map (the same canonical
    /// text, without wrapping the map in a `Value`): what a local write
    /// names its new version with.
    pub fn next_of(
        parent: Option<&Revision>,
        body: &Map<String, Value>,
        deleted: bool,
    ) -> Revision {
        let text = serde_json::to_vec(body).unwrap_or_default();
        Revision::hashed(parent, &text, deleted)
    }

    fn hashed(parent: Option<&Revision>, body_text: &[u8], deleted: bool) -> Revision {
        let mut hasher = Md5::new();
        if let Some(parent) = parent {
            hasher.update(parent.to_string().as_bytes());
        }
        hasher.update([0u8, u8::from(deleted)]);
        // serde_json's map is ordered by key, so this is a canonical form.
        hasher.update(body_text);
        let digest = hasher.finalize();
        let hash = digest.iter().map(|b| format!("{b:02x}")).collect();
        Revision {
            generation: parent.map_or(1, |p| p.generation + 1),
            hash,
        }
    }

    /// The generation number `N` (1 for a new document).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The hash part after the dash.
    pub fn hash(&self) -> &str {
        &self.hash
    }
}

impl fmt::Display for Revision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.generation, self.hash)
    }
}

impl FromStr for Revision {
    type Err = RevisionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (n, hash) = s.split_once('-').ok_or(RevisionError::Malformed)?;
        if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
            return Err(RevisionError::Malformed);
        }
        let generation: u64 = n.parse().map_err(|_| RevisionError::Malformed)?;
        if generation == 0 || hash.is_empty() || !hash.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(RevisionError::Malformed);
        }
        Ok(Revision {
            generation,
            hash: hash.to_owned(),
        })
    }
}

impl Serialize for Revision {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Revision {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn same_edit_on_same_parent_gives_same_revision() {
        let body = json!({"car": {"make": "Toyota", "color": "red"}});
        let a = Revision::next(None, &body, false);
        let b = Revision::next(None, &body, false);
        assert_eq!(a, b);
        assert_eq!(a.generation(), 1);
        assert_eq!(a.hash().len(), 32);
        let child = Revision::next(Some(&a), &json!({"car": "blue"}), false);
        assert_eq!(child.generation(), 2);
        assert_ne!(
            child,
            Revision::next(Some(&a), &json!({"car": "yellow"}), false)
        );
        assert_ne!(
            child,
            Revision::next(Some(&a), &json!({"car": "blue"}), true)
        );
    }

    #[test]
    fn a_map_body_hashes_as_its_value() {
        let body = json!({"b": [1, "two"], "a": {"c": null}});
        let Value::Object(map) = body.clone() else {
            panic!("an object");
        };
        let parent = Revision::next(None, &json!({}), false);
        assert_eq!(
            Revision::next_of(Some(&parent), &map, false),
            Revision::next(Some(&parent), &body, false)
        );
        assert_ne!(
            Revision::next_of(Some(&parent), &map, true),
            Revision::next(Some(&parent), &body, false)
        );
    }

    #[test]
    fn key_order_does_not_change_the_hash() {
        let a: Value = serde_json::from_str(r#"{"a":1,"b":2}"#).expect("json");
        let b: Value = serde_json::from_str(r#"{"b":2,"a":1}"#).expect("json");
        assert_eq!(
            Revision::next(None, &a, false),
            Revision::next(None, &b, false)
        );
    }

    #[test]
    fn parses_and_rejects() {
        let rev: Revision = "3-abc123".parse().expect("valid");
        assert_eq!(rev.generation(), 3);
        assert_eq!(rev.to_string(), "3-abc123");
        for bad in [
            "",
            "3",
            "-abc",
            "0-abc",
            "x-abc",
            "3-",
            "3-ab c",
            "+3-abc",
            "99999999999999999999-a",
        ] {
            assert_eq!(
                bad.parse::<Revision>(),
                Err(RevisionError::Malformed),
                "{bad}"
            );
        }
        assert!(serde_json::from_str::<Revision>("\"1-zz\"").is_ok());
        assert!(serde_json::from_str::<Revision>("\"nope\"").is_err());
    }
}
