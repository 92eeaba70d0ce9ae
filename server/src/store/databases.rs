//! Databases: creation, deletion, listing and `GET /{db}` information.

use rusqlite::{params, OptionalExtension};
use serde_json::Value;
use tidesync_engine::protocol::wire::{DbInfo, Seq};

use super::{rows, Store, StoreResult};
use crate::error::ApiError;

impl Store {
    /// Creates database `name`; 412 when it exists. The caller validated the name.
    pub async fn create_db(&self, name: &str) -> StoreResult<()> {
        let name = name.to_owned();
        self.write(move |tx| {
            let inserted = tx
                .prepare_cached("INSERT OR IGNORE INTO dbs (name, update_seq) VALUES (?1, 0)")?
                .execute([&name])?;
            if inserted == 0 {
                return Err(ApiError::FileExists.into());
            }
            Ok(())
        })
        .await
    }

    /// Deletes database `name` with all its documents, and ends its feeds.
    pub async fn delete_db(&self, name: &str) -> StoreResult<()> {
        let owned = name.to_owned();
        self.write(move |tx| {
            let db_id = rows::db_id(tx, &owned)?;
            for table in ["docs", "revs", "blobs", "local_docs", "security"] {
                tx.execute(&format!("DELETE FROM {table} WHERE db_id = ?1"), [db_id])?;
            }
            tx.execute("DELETE FROM dbs WHERE id = ?1", [db_id])?;
            Ok(())
        })
        .await?;
        self.forget_security(name);
        self.notifier().close(name);
        Ok(())
    }

    /// Whether database `name` exists.
    pub async fn db_exists(&self, name: &str) -> StoreResult<bool> {
        let name = name.to_owned();
        self.read(move |tx| {
            Ok(tx
                .prepare_cached("SELECT 1 FROM dbs WHERE name = ?1")?
                .query_row([&name], |_| Ok(()))
                .optional()?
                .is_some())
        })
        .await
    }

    /// Every database name, sorted.
    pub async fn all_dbs(&self) -> StoreResult<Vec<String>> {
        self.read(|tx| {
            let mut stmt = tx.prepare_cached("SELECT name FROM dbs ORDER BY name")?;
            let names = stmt
                .query_map([], |row| row.get(0))?
                .collect::<Result<Vec<String>, _>>()?;
            Ok(names)
        })
        .await
    }

    /// `GET /{db}`: the newest seq and the document counts.
    pub async fn db_info(&self, name: &str) -> StoreResult<DbInfo> {
        let name = name.to_owned();
        self.read(move |tx| {
            let db_id = rows::db_id(tx, &name)?;
            let update_seq = rows::update_seq(tx, db_id)?;
            let (live, deleted): (i64, i64) = tx
                .prepare_cached(
                    "SELECT COALESCE(SUM(deleted = 0), 0), COALESCE(SUM(deleted != 0), 0)
                     FROM docs WHERE db_id = ?1",
                )?
                .query_row(params![db_id], |row| Ok((row.get(0)?, row.get(1)?)))?;
            Ok(DbInfo {
                db_name: name,
                update_seq: Seq(Value::from(update_seq)),
                doc_count: rows::to_u64(live)?,
                doc_del_count: rows::to_u64(deleted)?,
                instance_start_time: "0".to_owned(),
            })
        })
        .await
    }

    /// The newest seq of database `name`.
    pub async fn update_seq(&self, name: &str) -> StoreResult<u64> {
        let name = name.to_owned();
        self.read(move |tx| {
            let db_id = rows::db_id(tx, &name)?;
            rows::update_seq(tx, db_id)
        })
        .await
    }
}
