//! `_revs_limit` and pruning: each database keeps at most that many
//! revisions along every branch of a document's tree (CouchDB's stemming), so
//! a document edited for years does not drag its whole history along.

use rusqlite::{params, Connection};

use super::{
    rows::{self, to_i64, to_u64},
    tree::Links,
    Store, StoreResult,
};

impl Store {
    /// The `_revs_limit` of database `db`.
    pub async fn revs_limit(&self, db: &str) -> StoreResult<u64> {
        let db = db.to_owned();
        self.read(move |tx| {
            let db_id = rows::db_id(tx, &db)?;
            limit_of(tx, db_id)
        })
        .await
    }

    /// Sets the `_revs_limit` of database `db`; trees are pruned to it as
    /// their documents are next written.
    pub async fn set_revs_limit(&self, db: &str, limit: u64) -> StoreResult<()> {
        let db = db.to_owned();
        self.write(move |tx| {
            let db_id = rows::db_id(tx, &db)?;
            tx.prepare_cached("UPDATE dbs SET revs_limit = ?2 WHERE id = ?1")?
                .execute(params![db_id, to_i64(limit)?])?;
            Ok(())
        })
        .await
    }
}

fn limit_of(conn: &Connection, db_id: i64) -> StoreResult<u64> {
    let limit: i64 = conn
        .prepare_cached("SELECT revs_limit FROM dbs WHERE id = ?1")?
        .query_row([db_id], |row| row.get(0))?;
    to_u64(limit)
}

/// Prunes a document's tree after a write: revisions deeper than the limit
/// on every branch are forgotten, and the oldest kept ones become roots.
/// A tree with no more revisions than the limit is left alone unread.
pub(crate) fn prune(conn: &Connection, db_id: i64, doc_id: &str) -> StoreResult<()> {
    let limit = limit_of(conn, db_id)?;
    let size: i64 = conn
        .prepare_cached("SELECT COUNT(*) FROM revs WHERE db_id = ?1 AND doc_id = ?2")?
        .query_row(params![db_id, doc_id], |row| row.get(0))?;
    if to_u64(size)? <= limit {
        return Ok(());
    }
    let depth = usize::try_from(limit).unwrap_or(usize::MAX);
    let dropped = Links::load(conn, db_id, doc_id)?.beyond(depth);
    for rev in &dropped {
        conn.prepare_cached("DELETE FROM revs WHERE db_id = ?1 AND doc_id = ?2 AND rev = ?3")?
            .execute(params![db_id, doc_id, rev.to_string()])?;
    }
    conn.prepare_cached(
        "UPDATE revs SET parent = NULL
         WHERE db_id = ?1 AND doc_id = ?2 AND parent IS NOT NULL
           AND parent NOT IN (SELECT rev FROM revs WHERE db_id = ?1 AND doc_id = ?2)",
    )?
    .execute(params![db_id, doc_id])?;
    tracing::debug!(
        doc_id,
        dropped = dropped.len(),
        limit,
        "revision tree pruned"
    );
    Ok(())
}
