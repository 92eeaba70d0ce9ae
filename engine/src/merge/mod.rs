//! Conflict resolution levels 1 and 2: a three-way JSON merge, and the
//! strategies that decide a conflict without the app.
//!
//! [`merge3`] merges the local and remote versions of a document against the
//! common base, recursively: objects member by member, text through
//! diff-match-patch (module `text`), arrays as lists (module `array`). It never guesses:
//! whatever both sides changed incompatibly is reported as a clash, by path.
//! [`strategy`] turns a conflict and the app's policy into a resolution, or
//! leaves it for the app.

mod array;
mod hunks;
pub mod stamp;
pub mod strategy;
mod text;

use std::collections::BTreeSet;

use serde_json::{Map, Value};

pub use strategy::{auto_resolve, ByType, ConflictPolicy, PriorityRule, Resolution, Strategy};

/// The result of a three-way merge.
#[derive(Debug, Clone, PartialEq)]
pub struct MergeOutcome {
    /// The merged value (`None`: deleted). Where the sides clash it holds the
    /// local side, so it is a sensible starting point for a person, but it is
    /// only to be applied automatically when `clashes` is empty.
    pub merged: Option<Value>,
    /// JSON Pointers (RFC 6901) of the places both sides changed in ways that
    /// cannot be combined, e.g. `/car/color`; `""` is the whole document
    /// (deleted on one side, edited on the other). For an array it is the
    /// array itself, for a text field the field.
    pub clashes: Vec<String>,
}

impl MergeOutcome {
    /// True when the merge can be applied without asking anyone.
    pub fn is_clean(&self) -> bool {
        self.clashes.is_empty()
    }
}

/// Merges `local` and `remote`, two versions derived from `base` (`None`:
/// absent, i.e. deleted, or for the base, unknown: concurrent creations).
///
/// Rules, applied at every level:
/// - both sides equal → that value; one side equal to the base → the other side
///   (so a change on one side, a deletion included, always goes through);
/// - two objects → merged member by member (a missing base counts as `{}`);
/// - two strings → merged as text when there is a base string;
/// - two arrays → merged as lists (a missing base counts as `[]`);
/// - anything else (a deletion against an edit, a type change, two different
///   numbers or booleans, two different texts without a base) → a clash.
pub fn merge3(base: Option<&Value>, local: Option<&Value>, remote: Option<&Value>) -> MergeOutcome {
    let mut clashes = Vec::new();
    let merged = merge_value("", base, local, remote, &mut clashes);
    MergeOutcome { merged, clashes }
}

fn merge_value(
    path: &str,
    base: Option<&Value>,
    local: Option<&Value>,
    remote: Option<&Value>,
    clashes: &mut Vec<String>,
) -> Option<Value> {
    if local == remote || remote == base {
        return local.cloned();
    }
    if local == base {
        return remote.cloned();
    }
    let merged = match (base, local, remote) {
        (base, Some(Value::Object(l)), Some(Value::Object(r))) => {
            let empty = Map::new();
            let base = match base {
                Some(Value::Object(b)) => b,
                _ => &empty,
            };
            return Some(Value::Object(merge_objects(path, base, l, r, clashes)));
        }
        (base, Some(Value::Array(l)), Some(Value::Array(r))) => {
            let base: &[Value] = match base {
                Some(Value::Array(b)) => b,
                _ => &[],
            };
            array::merge_arrays(base, l, r).map(Value::Array)
        }
        (Some(Value::String(b)), Some(Value::String(l)), Some(Value::String(r))) => {
            text::merge_text(b, l, r).map(Value::String)
        }
        _ => None,
    };
    if merged.is_none() {
        clashes.push(path.to_owned());
        return local.cloned();
    }
    merged
}

fn merge_objects(
    path: &str,
    base: &Map<String, Value>,
    local: &Map<String, Value>,
    remote: &Map<String, Value>,
    clashes: &mut Vec<String>,
) -> Map<String, Value> {
    let keys: BTreeSet<&String> = base
        .keys()
        .chain(local.keys())
        .chain(remote.keys())
        .collect();
    let mut merged = Map::new();
    for key in keys {
        let child = format!("{path}/{}", escape(key));
        let value = merge_value(
            &child,
            base.get(key),
            local.get(key),
            remote.get(key),
            clashes,
        );
        if let Some(value) = value {
            merged.insert(key.clone(), value);
        }
    }
    merged
}

/// A member name as a JSON Pointer reference token.
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}
