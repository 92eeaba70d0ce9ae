//! Stored revisions rendered as CouchDB returns documents: body plus `_id`,
//! `_rev`, `_deleted`, `_attachments` (stubs, or data with
//! `?attachments=true`) and, when asked for, the revision tree around them:
//! `_revisions`, `_revs_info`, `_conflicts` and `_deleted_conflicts`.

use rusqlite::Connection;
use serde_json::{json, Map, Value};
use tidesync_engine::Revision;

use super::{
    attachments::load_blob,
    rows::{self, RevisionRow},
    tree::{self, Leaf},
    StoreError, StoreResult,
};
use crate::edit::encode_base64;

/// How many ancestors `_revisions` lists at most (CouchDB's default revs_limit).
const REVS_LIMIT: usize = 1000;

/// Options of document reads (`GET /{db}/{id}`, `_bulk_get`, `include_docs`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// Inline attachment bytes as base64 instead of stubs.
    pub attachments: bool,
    /// Add `_revisions`: the revision and its ancestors.
    pub revs: bool,
    /// Add `_revs_info`: the revision and its ancestors, each with whether
    /// its body is `available`, `deleted` or `missing` here.
    pub revs_info: bool,
    /// Add `_conflicts`: the live leaves that lost.
    pub conflicts: bool,
    /// Add `_deleted_conflicts`: the deleted leaves that lost.
    pub deleted_conflicts: bool,
}

/// Renders one stored revision of document `doc_id`.
pub(crate) fn render(
    conn: &Connection,
    db_id: i64,
    doc_id: &str,
    row: &RevisionRow,
    options: ReadOptions,
) -> StoreResult<Value> {
    let mut map: Map<String, Value> = row.body.clone();
    map.insert("_id".into(), Value::String(doc_id.to_owned()));
    map.insert("_rev".into(), Value::String(row.rev.to_string()));
    if row.deleted {
        map.insert("_deleted".into(), Value::Bool(true));
    }
    if !row.attachments.is_empty() {
        let mut atts = Map::new();
        for (name, meta) in &row.attachments {
            let mut info = meta.clone();
            if options.attachments {
                let digest = info.digest.as_deref().unwrap_or_default();
                info.data = Some(encode_base64(&load_blob(conn, db_id, digest)?));
                info.length = None;
            } else {
                info.stub = true;
            }
            let value =
                serde_json::to_value(info).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            atts.insert(name.clone(), value);
        }
        map.insert("_attachments".into(), Value::Object(atts));
    }
    if options.revs || options.revs_info {
        let path = revision_path(conn, db_id, doc_id, &row.rev)?;
        if options.revs {
            let ids: Vec<&str> = path.iter().map(Revision::hash).collect();
            map.insert(
                "_revisions".into(),
                json!({"start": row.rev.generation(), "ids": ids}),
            );
        }
        if options.revs_info {
            let mut infos = Vec::with_capacity(path.len());
            for rev in &path {
                let status = match rows::revision(conn, db_id, doc_id, rev)? {
                    None => "missing",
                    Some(found) if found.deleted => "deleted",
                    Some(_) => "available",
                };
                infos.push(json!({"rev": rev.to_string(), "status": status}));
            }
            map.insert("_revs_info".into(), Value::Array(infos));
        }
    }
    if options.conflicts || options.deleted_conflicts {
        let others: Vec<Leaf> = tree::leaves(conn, db_id, doc_id)?
            .into_iter()
            .filter(|leaf| leaf.rev != row.rev)
            .collect();
        let listed = |deleted: bool| -> Vec<Value> {
            others
                .iter()
                .filter(|leaf| leaf.deleted == deleted)
                .map(|leaf| Value::String(leaf.rev.to_string()))
                .collect()
        };
        let live = listed(false);
        if options.conflicts && !live.is_empty() {
            map.insert("_conflicts".into(), Value::Array(live));
        }
        let deleted = listed(true);
        if options.deleted_conflicts && !deleted.is_empty() {
            map.insert("_deleted_conflicts".into(), Value::Array(deleted));
        }
    }
    Ok(Value::Object(map))
}

/// `rev` followed by its stored ancestors, newest first.
fn revision_path(
    conn: &Connection,
    db_id: i64,
    doc_id: &str,
    rev: &Revision,
) -> StoreResult<Vec<Revision>> {
    let mut path = vec![rev.clone()];
    let mut next = rows::parent_of(conn, db_id, doc_id, rev)?.flatten();
    while let Some(parent) = next {
        if path.len() >= REVS_LIMIT {
            break;
        }
        next = rows::parent_of(conn, db_id, doc_id, &parent)?.flatten();
        path.push(parent);
    }
    Ok(path)
}
