//! `POST /{db}/_compact`: drops what only history needs, so a long-lived
//! database does not grow without bound. The bodies of revisions that are no
//! leaf become stubs (their ids stay in the tree, so replication still joins
//! histories there), and attachment bytes no kept revision names are freed.

use rusqlite::params;

use super::{rows, Store, StoreResult};

/// What one compaction freed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compacted {
    /// Revision bodies dropped.
    pub bodies: usize,
    /// Attachment blobs dropped.
    pub blobs: usize,
}

impl Store {
    /// Compacts database `db` in one transaction.
    pub async fn compact(&self, db: &str) -> StoreResult<Compacted> {
        let name = db.to_owned();
        let done = self
            .write(move |tx| {
                let db_id = rows::db_id(tx, &name)?;
                let bodies = tx
                    .prepare_cached(
                        "UPDATE revs SET body = '{}', attachments = NULL, stub = 1
                         WHERE db_id = ?1 AND leaf = 0 AND stub = 0",
                    )?
                    .execute(params![db_id])?;
                let blobs = tx
                    .prepare_cached(
                        "DELETE FROM blobs WHERE db_id = ?1 AND digest NOT IN (
                             SELECT json_extract(att.value, '$.digest')
                             FROM revs, json_each(revs.attachments) AS att
                             WHERE revs.db_id = ?1 AND revs.attachments IS NOT NULL
                         )",
                    )?
                    .execute(params![db_id])?;
                Ok(Compacted { bodies, blobs })
            })
            .await?;
        tracing::info!(
            db,
            bodies = done.bodies,
            blobs = done.blobs,
            "database compacted"
        );
        Ok(done)
    }
}
