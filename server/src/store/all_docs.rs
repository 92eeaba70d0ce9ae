//! `_all_docs`: live documents in id order (raw byte collation, as CouchDB
//! uses for this view), by range or by explicit keys.

use rusqlite::{params, Connection};
use serde_json::Value;
use tidesync_engine::protocol::wire::{AllDocsResponse, AllDocsRow, AllDocsValue};

use super::{
    render::{render, ReadOptions},
    rows::{self, parse_rev, to_i64, to_u64},
    Store, StoreError, StoreResult,
};

/// What an `_all_docs` request asks for, once parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllDocsQuery {
    /// Look up exactly these ids, in this order (tombstones and missing ids get rows too).
    pub keys: Option<Vec<String>>,
    /// First id of the range (the highest when descending).
    pub start: Option<String>,
    /// Last id of the range.
    pub end: Option<String>,
    /// Whether `end` itself is included.
    pub inclusive_end: bool,
    /// Highest id first.
    pub descending: bool,
    /// At most this many rows.
    pub limit: Option<u64>,
    /// Rows to skip first.
    pub skip: u64,
    /// Add each document as `doc`.
    pub include_docs: bool,
    /// How to render included documents.
    pub doc_options: ReadOptions,
}

impl Default for AllDocsQuery {
    fn default() -> Self {
        AllDocsQuery {
            keys: None,
            start: None,
            end: None,
            inclusive_end: true,
            descending: false,
            limit: None,
            skip: 0,
            include_docs: false,
            doc_options: ReadOptions::default(),
        }
    }
}

impl Store {
    /// Answers `_all_docs` for database `db`.
    pub async fn all_docs(&self, db: &str, query: AllDocsQuery) -> StoreResult<AllDocsResponse> {
        let db = db.to_owned();
        self.read(move |tx| {
            let db_id = rows::db_id(tx, &db)?;
            let total: i64 = tx
                .prepare_cached("SELECT COUNT(*) FROM docs WHERE db_id = ?1 AND deleted = 0")?
                .query_row([db_id], |row| row.get(0))?;
            let (offset, rows) = match &query.keys {
                Some(keys) => (0, by_keys(tx, db_id, keys, &query)?),
                None => by_range(tx, db_id, &query)?,
            };
            Ok(AllDocsResponse {
                total_rows: to_u64(total)?,
                offset,
                rows,
            })
        })
        .await
    }
}

fn by_keys(
    conn: &Connection,
    db_id: i64,
    keys: &[String],
    query: &AllDocsQuery,
) -> StoreResult<Vec<AllDocsRow>> {
    let skip = usize::try_from(query.skip).unwrap_or(usize::MAX);
    let limit = query
        .limit
        .map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
    let mut out = Vec::new();
    for key in keys.iter().skip(skip).take(limit) {
        let row = match rows::current(conn, db_id, key)? {
            None => AllDocsRow {
                id: None,
                key: Value::String(key.clone()),
                value: None,
                doc: None,
                error: Some("not_found".to_owned()),
            },
            Some(current) => {
                let doc = match (query.include_docs, current.deleted) {
                    (false, _) => None,
                    (true, true) => Some(Value::Null),
                    (true, false) => Some(render_current(conn, db_id, key, &current.rev, query)?),
                };
                AllDocsRow {
                    id: Some(key.clone()),
                    key: Value::String(key.clone()),
                    value: Some(AllDocsValue {
                        rev: current.rev,
                        deleted: current.deleted,
                    }),
                    doc,
                    error: None,
                }
            }
        };
        out.push(row);
    }
    Ok(out)
}

fn by_range(
    conn: &Connection,
    db_id: i64,
    query: &AllDocsQuery,
) -> StoreResult<(u64, Vec<AllDocsRow>)> {
    let (order, start_op, end_op, before_op) = match (query.descending, query.inclusive_end) {
        (false, true) => ("ASC", ">=", "<=", "<"),
        (false, false) => ("ASC", ">=", "<", "<"),
        (true, true) => ("DESC", "<=", ">=", ">"),
        (true, false) => ("DESC", "<=", ">", ">"),
    };
    let limit = match query.limit {
        Some(limit) => to_i64(limit)?,
        None => -1,
    };
    let sql = format!(
        "SELECT doc_id, rev FROM docs
         WHERE db_id = ?1 AND deleted = 0
           AND (?2 IS NULL OR doc_id {start_op} ?2)
           AND (?3 IS NULL OR doc_id {end_op} ?3)
         ORDER BY doc_id {order} LIMIT ?4 OFFSET ?5"
    );
    let found = conn
        .prepare_cached(&sql)?
        .query_map(
            params![db_id, query.start, query.end, limit, to_i64(query.skip)?],
            |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)),
        )?
        .collect::<Result<Vec<_>, _>>()?;
    let before: i64 = conn
        .prepare_cached(&format!(
            "SELECT COUNT(*) FROM docs
             WHERE db_id = ?1 AND deleted = 0 AND ?2 IS NOT NULL AND doc_id {before_op} ?2"
        ))?
        .query_row(params![db_id, query.start], |row| row.get(0))?;

    let mut out = Vec::with_capacity(found.len());
    for (id, rev) in found {
        let rev = parse_rev(&rev)?;
        let doc = if query.include_docs {
            Some(render_current(conn, db_id, &id, &rev, query)?)
        } else {
            None
        };
        out.push(AllDocsRow {
            id: Some(id.clone()),
            key: Value::String(id),
            value: Some(AllDocsValue {
                rev,
                deleted: false,
            }),
            doc,
            error: None,
        });
    }
    Ok((to_u64(before)?.saturating_add(query.skip), out))
}

fn render_current(
    conn: &Connection,
    db_id: i64,
    id: &str,
    rev: &tidesync_engine::Revision,
    query: &AllDocsQuery,
) -> StoreResult<Value> {
    let row = rows::revision(conn, db_id, id, rev)?
        .ok_or_else(|| StoreError::Corrupt(format!("revision {rev} of {id} is missing")))?;
    render(conn, db_id, id, &row, query.doc_options)
}
