//! One page of a `_changes` feed, read from a single snapshot.
//!
//! Each document appears once, at the seq of its latest write (a graft into
//! its revision tree counts), as in CouchDB.

use rusqlite::{params, Connection};
use serde_json::Value;
use tidesync_engine::protocol::wire::{ChangeRow, RevRef, Seq};

use super::{
    render::{render, ReadOptions},
    rows::{self, parse_rev, to_i64, to_u64},
    tree, Store, StoreError, StoreResult,
};

/// What a `_changes` request asks for, once parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangesQuery {
    /// Only changes after this seq (ignored when descending, as in CouchDB).
    pub since: u64,
    /// At most this many rows.
    pub limit: Option<u64>,
    /// Newest first.
    pub descending: bool,
    /// Add each document's current revision as `doc`.
    pub include_docs: bool,
    /// `style=all_docs`: list every leaf in `changes` (winner first), not
    /// only the winner.
    pub all_leaves: bool,
    /// How to render included documents.
    pub doc_options: ReadOptions,
    /// Only these documents (`filter=_doc_ids`).
    pub doc_ids: Option<Vec<String>>,
}

/// The rows of one page and where the next one starts.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangesPage {
    /// The changes, in seq order (reversed when descending).
    pub rows: Vec<ChangeRow>,
    /// Where to continue from.
    pub last_seq: u64,
    /// Matching changes after `last_seq` not in this page.
    pub pending: u64,
}

impl Store {
    /// Reads one page of changes of database `db`.
    pub async fn changes(&self, db: &str, query: ChangesQuery) -> StoreResult<ChangesPage> {
        let db = db.to_owned();
        self.read(move |tx| {
            let db_id = rows::db_id(tx, &db)?;
            read_page(tx, db_id, &query)
        })
        .await
    }
}

fn read_page(conn: &Connection, db_id: i64, query: &ChangesQuery) -> StoreResult<ChangesPage> {
    // `?3` is NULL without a filter, else a JSON array of the wanted ids.
    let filter = " AND (?3 IS NULL OR doc_id IN (SELECT value FROM json_each(?3)))";
    let doc_ids = query
        .doc_ids
        .as_ref()
        .map(|ids| Value::from(ids.clone()).to_string());
    let limit = match query.limit {
        Some(limit) => to_i64(limit)?,
        None => -1,
    };
    let (since, order) = if query.descending {
        (0, "DESC")
    } else {
        (to_i64(query.since)?, "ASC")
    };
    let sql = format!(
        "SELECT doc_id, rev, deleted, seq FROM docs
         WHERE db_id = ?1 AND seq > ?2{filter} ORDER BY seq {order} LIMIT ?4"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let raw = stmt
        .query_map(params![db_id, since, doc_ids, limit], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, bool>(2)?,
                row.get::<_, i64>(3)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;

    let mut page_rows = Vec::with_capacity(raw.len());
    for (id, rev, deleted, seq) in raw {
        let rev = parse_rev(&rev)?;
        let doc = if query.include_docs {
            let row = rows::revision(conn, db_id, &id, &rev)?
                .ok_or_else(|| StoreError::Corrupt(format!("revision {rev} of {id} is missing")))?;
            Some(render(conn, db_id, &id, &row, query.doc_options)?)
        } else {
            None
        };
        let changes = if query.all_leaves {
            tree::leaves(conn, db_id, &id)?
                .into_iter()
                .map(|leaf| RevRef { rev: leaf.rev })
                .collect()
        } else {
            vec![RevRef { rev }]
        };
        page_rows.push(ChangeRow {
            seq: Seq(Value::from(to_u64(seq)?)),
            id,
            changes,
            deleted,
            doc,
        });
    }

    let last_row_seq = page_rows.last().and_then(|row| row.seq.0.as_u64());
    let full = query
        .limit
        .is_some_and(|limit| page_rows.len() as u64 >= limit);
    let last_seq = match (query.descending, last_row_seq) {
        (true, Some(seq)) => seq,
        (false, Some(seq)) if full => seq,
        (false, None) if full => query.since,
        _ => rows::update_seq(conn, db_id)?,
    };
    let comparison = if query.descending { "<" } else { ">" };
    let pending: i64 = conn
        .prepare_cached(&format!(
            "SELECT COUNT(*) FROM docs WHERE db_id = ?1 AND seq {comparison} ?2{filter}"
        ))?
        .query_row(params![db_id, to_i64(last_seq)?, doc_ids], |row| row.get(0))?;
    Ok(ChangesPage {
        rows: page_rows,
        last_seq,
        pending: to_u64(pending)?,
    })
}
