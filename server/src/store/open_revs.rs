//! `GET /{db}/{id}?open_revs=...`: several revisions of one document at once,
//! each answered `{"ok": doc}` or `{"missing": rev}`, which is how a
//! replicator fetches every branch of a conflicted document.

use rusqlite::Connection;
use serde_json::{json, Value};
use tidesync_engine::Revision;

use super::{
    render::{render, ReadOptions},
    rows, tree, Store, StoreResult,
};
use crate::error::ApiError;

/// Which revisions `open_revs` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenRevs {
    /// `open_revs=all`: every leaf, deleted ones too.
    All,
    /// `open_revs=["1-a", ...]`: these revisions, in this order.
    Listed(Vec<Revision>),
}

impl Store {
    /// Answers `open_revs`; with `latest`, each listed revision stands for
    /// the leaves that descend from it. 404 for `all` on a document that was
    /// never written, as CouchDB answers.
    pub async fn open_revs(
        &self,
        db: &str,
        doc_id: &str,
        which: OpenRevs,
        latest: bool,
        options: ReadOptions,
    ) -> StoreResult<Vec<Value>> {
        let (db, doc_id) = (db.to_owned(), doc_id.to_owned());
        self.read(move |tx| {
            let db_id = rows::db_id(tx, &db)?;
            let wanted = match which {
                OpenRevs::All => {
                    let mut leaves: Vec<Revision> = tree::leaves(tx, db_id, &doc_id)?
                        .into_iter()
                        .map(|leaf| leaf.rev)
                        .collect();
                    if leaves.is_empty() {
                        return Err(ApiError::missing().into());
                    }
                    leaves.sort();
                    leaves
                }
                OpenRevs::Listed(revs) if latest => latest_of(tx, db_id, &doc_id, revs)?,
                OpenRevs::Listed(revs) => revs,
            };
            wanted
                .iter()
                .map(|rev| answer(tx, db_id, &doc_id, rev, options))
                .collect()
        })
        .await
    }
}

/// Each revision replaced by the leaves below it (unknown ones stay, to be
/// answered missing), without repeats.
pub(crate) fn latest_of(
    conn: &Connection,
    db_id: i64,
    doc_id: &str,
    revs: Vec<Revision>,
) -> StoreResult<Vec<Revision>> {
    let links = tree::Links::load(conn, db_id, doc_id)?;
    let mut out: Vec<Revision> = Vec::new();
    for rev in revs {
        for found in links.leaves_under(&rev).unwrap_or_else(|| vec![rev]) {
            if !out.contains(&found) {
                out.push(found);
            }
        }
    }
    Ok(out)
}

fn answer(
    conn: &Connection,
    db_id: i64,
    doc_id: &str,
    rev: &Revision,
    options: ReadOptions,
) -> StoreResult<Value> {
    Ok(match rows::revision(conn, db_id, doc_id, rev)? {
        Some(row) => json!({"ok": render(conn, db_id, doc_id, &row, options)?}),
        None => json!({"missing": rev.to_string()}),
    })
}
