//! Row-level helpers shared by the store's operations: databases, the current
//! state of a document, and stored revisions.

use std::collections::BTreeMap;

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{Map, Value};
use tidesync_engine::{protocol::wire::AttachmentInfo, Revision};

use super::{StoreError, StoreResult};
use crate::error::ApiError;

/// The current state of a document: its winning revision and its place in `_changes`.
#[derive(Debug, Clone)]
pub(crate) struct Current {
    /// The winning revision.
    pub rev: Revision,
    /// True for a tombstone.
    pub deleted: bool,
}

/// One stored revision of a document.
#[derive(Debug, Clone)]
pub(crate) struct RevisionRow {
    /// The revision.
    pub rev: Revision,
    /// The revision it was written on top of, when known.
    pub parent: Option<Revision>,
    /// True for a tombstone.
    pub deleted: bool,
    /// The members not starting with `_`.
    pub body: Map<String, Value>,
    /// Attachment metadata (`content_type`, `revpos`, `digest`, `length`).
    pub attachments: BTreeMap<String, AttachmentInfo>,
}

/// The row id of database `name`, or 404 when it does not exist.
pub(crate) fn db_id(conn: &Connection, name: &str) -> StoreResult<i64> {
    conn.prepare_cached("SELECT id FROM dbs WHERE name = ?1")?
        .query_row([name], |row| row.get(0))
        .optional()?
        .ok_or_else(|| StoreError::Api(ApiError::no_db()))
}

/// The newest seq of a database.
pub(crate) fn update_seq(conn: &Connection, db_id: i64) -> StoreResult<u64> {
    let seq: i64 = conn
        .prepare_cached("SELECT update_seq FROM dbs WHERE id = ?1")?
        .query_row([db_id], |row| row.get(0))?;
    to_u64(seq)
}

/// Records the newest seq of a database.
pub(crate) fn set_update_seq(conn: &Connection, db_id: i64, seq: u64) -> StoreResult<()> {
    conn.prepare_cached("UPDATE dbs SET update_seq = ?2 WHERE id = ?1")?
        .execute(params![db_id, to_i64(seq)?])?;
    Ok(())
}

/// The revision a read asked for, or else the current revision of a live
/// document (404 `missing` or `deleted` otherwise), as CouchDB answers GETs.
pub(crate) fn requested_or_current(
    conn: &Connection,
    db_id: i64,
    doc_id: &str,
    rev: Option<Revision>,
) -> StoreResult<Revision> {
    if let Some(rev) = rev {
        return Ok(rev);
    }
    match current(conn, db_id, doc_id)? {
        None => Err(ApiError::missing().into()),
        Some(current) if current.deleted => Err(ApiError::deleted().into()),
        Some(current) => Ok(current.rev),
    }
}

/// The current state of a document, if it was ever written.
pub(crate) fn current(conn: &Connection, db_id: i64, doc_id: &str) -> StoreResult<Option<Current>> {
    let row: Option<(String, bool)> = conn
        .prepare_cached("SELECT rev, deleted FROM docs WHERE db_id = ?1 AND doc_id = ?2")?
        .query_row(params![db_id, doc_id], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    row.map(|(rev, deleted)| {
        Ok(Current {
            rev: parse_rev(&rev)?,
            deleted,
        })
    })
    .transpose()
}

/// Makes `rev` the current revision of a document, at `seq` in `_changes`.
pub(crate) fn set_current(
    conn: &Connection,
    db_id: i64,
    doc_id: &str,
    current: &Current,
    seq: u64,
) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO docs (db_id, doc_id, rev, deleted, seq) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (db_id, doc_id) DO UPDATE
         SET rev = excluded.rev, deleted = excluded.deleted, seq = excluded.seq",
    )?
    .execute(params![
        db_id,
        doc_id,
        current.rev.to_string(),
        current.deleted,
        to_i64(seq)?
    ])?;
    Ok(())
}

/// A stored revision, if its body is kept (stubs count as missing).
pub(crate) fn revision(
    conn: &Connection,
    db_id: i64,
    doc_id: &str,
    rev: &Revision,
) -> StoreResult<Option<RevisionRow>> {
    type Raw = (Option<String>, bool, String, Option<String>);
    let raw: Option<Raw> = conn
        .prepare_cached(
            "SELECT parent, deleted, body, attachments FROM revs
             WHERE db_id = ?1 AND doc_id = ?2 AND rev = ?3 AND stub = 0",
        )?
        .query_row(params![db_id, doc_id, rev.to_string()], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
        })
        .optional()?;
    let Some((parent, deleted, body, attachments)) = raw else {
        return Ok(None);
    };
    Ok(Some(RevisionRow {
        rev: rev.clone(),
        parent: parent.as_deref().map(parse_rev).transpose()?,
        deleted,
        body: parse_object(&body)?,
        attachments: match attachments {
            Some(text) => serde_json::from_str(&text).map_err(corrupt)?,
            None => BTreeMap::new(),
        },
    }))
}

/// Stores a revision as a new leaf of its document's tree (its parent stops
/// being one); storing the same revision twice keeps the first copy.
pub(crate) fn insert_revision(
    conn: &Connection,
    db_id: i64,
    doc_id: &str,
    row: &RevisionRow,
) -> StoreResult<()> {
    let attachments = if row.attachments.is_empty() {
        None
    } else {
        Some(serde_json::to_string(&row.attachments).map_err(corrupt)?)
    };
    conn.prepare_cached(
        "INSERT OR IGNORE INTO revs
             (db_id, doc_id, rev, parent, deleted, body, attachments, leaf, stub)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, 0)",
    )?
    .execute(params![
        db_id,
        doc_id,
        row.rev.to_string(),
        row.parent.as_ref().map(Revision::to_string),
        row.deleted,
        Value::Object(row.body.clone()).to_string(),
        attachments,
    ])?;
    unmark_leaf(conn, db_id, doc_id, row.parent.as_ref())
}

/// Records an ancestor known only by id (from a replicated `_revisions`
/// history): it has a child, so it is no leaf, and it has no body.
pub(crate) fn insert_stub(
    conn: &Connection,
    db_id: i64,
    doc_id: &str,
    rev: &Revision,
    parent: Option<&Revision>,
) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO revs
             (db_id, doc_id, rev, parent, deleted, body, attachments, leaf, stub)
         VALUES (?1, ?2, ?3, ?4, 0, '{}', NULL, 0, 1)",
    )?
    .execute(params![
        db_id,
        doc_id,
        rev.to_string(),
        parent.map(Revision::to_string)
    ])?;
    unmark_leaf(conn, db_id, doc_id, parent)
}

fn unmark_leaf(
    conn: &Connection,
    db_id: i64,
    doc_id: &str,
    rev: Option<&Revision>,
) -> StoreResult<()> {
    if let Some(rev) = rev {
        conn.prepare_cached(
            "UPDATE revs SET leaf = 0 WHERE db_id = ?1 AND doc_id = ?2 AND rev = ?3 AND leaf = 1",
        )?
        .execute(params![db_id, doc_id, rev.to_string()])?;
    }
    Ok(())
}

/// Whether a revision is in a document's tree (stubs included).
pub(crate) fn has_revision(
    conn: &Connection,
    db_id: i64,
    doc_id: &str,
    rev: &Revision,
) -> StoreResult<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM revs WHERE db_id = ?1 AND doc_id = ?2 AND rev = ?3")?
        .query_row(params![db_id, doc_id, rev.to_string()], |_| Ok(()))
        .optional()?
        .is_some())
}

/// The parent of a stored revision (outer `None`: not stored).
pub(crate) fn parent_of(
    conn: &Connection,
    db_id: i64,
    doc_id: &str,
    rev: &Revision,
) -> StoreResult<Option<Option<Revision>>> {
    let parent: Option<Option<String>> = conn
        .prepare_cached("SELECT parent FROM revs WHERE db_id = ?1 AND doc_id = ?2 AND rev = ?3")?
        .query_row(params![db_id, doc_id, rev.to_string()], |row| row.get(0))
        .optional()?;
    parent
        .map(|p| p.as_deref().map(parse_rev).transpose())
        .transpose()
}

/// Parses a revision read back from the file.
pub(crate) fn parse_rev(text: &str) -> StoreResult<Revision> {
    text.parse()
        .map_err(|_| StoreError::Corrupt(format!("revision {text:?}")))
}

/// Parses a JSON object read back from the file.
pub(crate) fn parse_object(text: &str) -> StoreResult<Map<String, Value>> {
    match serde_json::from_str(text).map_err(corrupt)? {
        Value::Object(map) => Ok(map),
        _ => Err(StoreError::Corrupt(
            "document body is not an object".to_owned(),
        )),
    }
}

/// Converts a seq or count read from SQLite.
pub(crate) fn to_u64(value: i64) -> StoreResult<u64> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("negative number {value}")))
}

/// Converts a seq or count for SQLite.
pub(crate) fn to_i64(value: u64) -> StoreResult<i64> {
    i64::try_from(value).map_err(|_| StoreError::Corrupt(format!("number {value} out of range")))
}

fn corrupt(err: serde_json::Error) -> StoreError {
    StoreError::Corrupt(err.to_string())
}
