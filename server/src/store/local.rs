//! `_local/` documents: per-replica state such as sync checkpoints.
//!
//! As in CouchDB they keep no history, no attachments and no tombstones, and
//! never appear in `_changes` or `_all_docs`. Their revisions use the same
//! `N-hash` form as other documents, so clients parse them alike.

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{Map, Value};
use tidesync_engine::Revision;

use super::{
    rows::{parse_object, parse_rev},
    writes::EditResult,
    StoreResult,
};
use crate::{
    edit::{Change, Edit},
    error::ApiError,
};

/// Applies an edit of a `_local/` document; attachments are ignored.
pub(crate) fn apply(conn: &Connection, db_id: i64, edit: Edit) -> StoreResult<EditResult> {
    let Change::Document(change) = edit.change else {
        return Ok(Err(ApiError::BadRequest(
            "Local documents cannot have attachments".to_owned(),
        )));
    };
    let current = read(conn, db_id, &edit.id)?.map(|(rev, _)| rev);
    let parent = match (current, edit.base) {
        (None, None) => None,
        (Some(current), Some(base)) if current == base => Some(current),
        _ => return Ok(Err(ApiError::Conflict)),
    };
    let body = Value::Object(change.body);
    let rev = Revision::next(parent.as_ref(), &body, change.deleted);
    if change.deleted {
        conn.prepare_cached("DELETE FROM local_docs WHERE db_id = ?1 AND doc_id = ?2")?
            .execute(params![db_id, edit.id])?;
    } else {
        conn.prepare_cached(
            "INSERT INTO local_docs (db_id, doc_id, rev, body) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (db_id, doc_id) DO UPDATE SET rev = excluded.rev, body = excluded.body",
        )?
        .execute(params![db_id, edit.id, rev.to_string(), body.to_string()])?;
    }
    Ok(Ok(rev))
}

/// The current revision and body of a `_local/` document.
pub(crate) fn read(
    conn: &Connection,
    db_id: i64,
    doc_id: &str,
) -> StoreResult<Option<(Revision, Map<String, Value>)>> {
    let row: Option<(String, String)> = conn
        .prepare_cached("SELECT rev, body FROM local_docs WHERE db_id = ?1 AND doc_id = ?2")?
        .query_row(params![db_id, doc_id], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    row.map(|(rev, body)| Ok((parse_rev(&rev)?, parse_object(&body)?)))
        .transpose()
}

/// A `_local/` document as JSON, with `_id` and `_rev`.
pub(crate) fn render(doc_id: &str, rev: &Revision, body: Map<String, Value>) -> Value {
    let mut map = body;
    map.insert("_id".into(), Value::String(doc_id.to_owned()));
    map.insert("_rev".into(), Value::String(rev.to_string()));
    Value::Object(map)
}
