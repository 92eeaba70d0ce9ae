//! Document reads: `GET /{db}/{id}` and `POST /{db}/_bulk_get`.

use rusqlite::Connection;
use serde_json::Value;
use tidesync_engine::{
    protocol::wire::{BulkGetDoc, BulkGetError},
    Revision,
};

pub use super::render::ReadOptions;
use super::{local, open_revs::latest_of, render::render, rows, Store, StoreResult};
use crate::{edit::is_local, error::ApiError};

/// One reference of a `_bulk_get` request that parsed.
#[derive(Debug, Clone)]
pub struct BulkGetRef {
    /// The document id.
    pub id: String,
    /// A specific revision, or the current one (tombstones included) when absent.
    pub rev: Option<Revision>,
}

impl Store {
    /// A document at its current revision (404 `deleted` for a tombstone) or
    /// at `rev` (tombstones included, 404 `missing` when not kept), with the
    /// revision for the ETag.
    pub async fn get_doc(
        &self,
        db: &str,
        doc_id: &str,
        rev: Option<Revision>,
        options: ReadOptions,
    ) -> StoreResult<(Value, Revision)> {
        let (db, doc_id) = (db.to_owned(), doc_id.to_owned());
        self.read(move |tx| {
            let db_id = rows::db_id(tx, &db)?;
            if is_local(&doc_id) {
                return match local::read(tx, db_id, &doc_id)? {
                    Some((current, body)) if rev.as_ref().is_none_or(|r| r == &current) => {
                        Ok((local::render(&doc_id, &current, body), current))
                    }
                    _ => Err(ApiError::missing().into()),
                };
            }
            let rev = rows::requested_or_current(tx, db_id, &doc_id, rev)?;
            let row = rows::revision(tx, db_id, &doc_id, &rev)?.ok_or_else(ApiError::missing)?;
            Ok((render(tx, db_id, &doc_id, &row, options)?, rev))
        })
        .await
    }

    /// Answers each reference of a `_bulk_get`, in order; with `latest`, a
    /// revision that has descendants is answered with the leaves below it.
    pub async fn bulk_get(
        &self,
        db: &str,
        refs: Vec<BulkGetRef>,
        latest: bool,
        options: ReadOptions,
    ) -> StoreResult<Vec<Vec<BulkGetDoc>>> {
        let db = db.to_owned();
        self.read(move |tx| {
            let db_id = rows::db_id(tx, &db)?;
            let mut answers = Vec::with_capacity(refs.len());
            for reference in refs {
                let revs = match &reference.rev {
                    Some(rev) if latest && !is_local(&reference.id) => {
                        latest_of(tx, db_id, &reference.id, vec![rev.clone()])?
                    }
                    _ => Vec::new(),
                };
                if revs.is_empty() {
                    answers.push(vec![bulk_get_one(tx, db_id, reference, options)?]);
                    continue;
                }
                let mut docs = Vec::with_capacity(revs.len());
                for rev in revs {
                    let one = BulkGetRef {
                        id: reference.id.clone(),
                        rev: Some(rev),
                    };
                    docs.push(bulk_get_one(tx, db_id, one, options)?);
                }
                answers.push(docs);
            }
            Ok(answers)
        })
        .await
    }
}

fn bulk_get_one(
    conn: &Connection,
    db_id: i64,
    reference: BulkGetRef,
    options: ReadOptions,
) -> StoreResult<BulkGetDoc> {
    let missing = |reference: &BulkGetRef| {
        BulkGetDoc::Error(BulkGetError {
            id: reference.id.clone(),
            rev: reference
                .rev
                .as_ref()
                .map_or_else(|| "undefined".to_owned(), Revision::to_string),
            error: "not_found".to_owned(),
            reason: "missing".to_owned(),
        })
    };
    if is_local(&reference.id) {
        return Ok(match local::read(conn, db_id, &reference.id)? {
            Some((current, body)) if reference.rev.as_ref().is_none_or(|r| r == &current) => {
                BulkGetDoc::Ok(local::render(&reference.id, &current, body))
            }
            _ => missing(&reference),
        });
    }
    let rev = match &reference.rev {
        Some(rev) => Some(rev.clone()),
        None => rows::current(conn, db_id, &reference.id)?.map(|c| c.rev),
    };
    let row = match rev {
        Some(rev) => rows::revision(conn, db_id, &reference.id, &rev)?,
        None => None,
    };
    Ok(match row {
        Some(row) => BulkGetDoc::Ok(render(conn, db_id, &reference.id, &row, options)?),
        None => missing(&reference),
    })
}
