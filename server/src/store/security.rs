//! `_security` objects: stored per database, served from memory.

use std::{
    collections::HashMap,
    sync::{Arc, PoisonError},
};

use rusqlite::{params, Connection};

use super::{rows, Store, StoreError, StoreResult};
use crate::auth::security::Security;

/// Reads every stored `_security` object, by database name.
pub(super) fn load_all(conn: &Connection) -> StoreResult<HashMap<String, Arc<Security>>> {
    let mut stmt = conn.prepare(
        "SELECT dbs.name, security.body FROM security JOIN dbs ON dbs.id = security.db_id",
    )?;
    let rows = stmt
        .query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter()
        .map(|(name, body)| {
            let security = serde_json::from_str(&body)
                .map_err(|err| StoreError::Corrupt(format!("_security of {name}: {err}")))?;
            Ok((name, Arc::new(security)))
        })
        .collect()
}

impl Store {
    /// The `_security` object of `db` as last stored, from memory; `None`
    /// when none was ever stored (the database is then for admins only).
    pub fn security(&self, db: &str) -> Option<Arc<Security>> {
        self.inner
            .security
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(db)
            .cloned()
    }

    /// Stores the `_security` object of `db` (404 when `db` does not exist).
    pub async fn set_security(&self, db: &str, security: Security) -> StoreResult<()> {
        let name = db.to_owned();
        let body =
            serde_json::to_string(&security).map_err(|err| StoreError::Corrupt(err.to_string()))?;
        self.write(move |tx| {
            let db_id = rows::db_id(tx, &name)?;
            tx.prepare_cached(
                "INSERT INTO security (db_id, body) VALUES (?1, ?2)
                 ON CONFLICT (db_id) DO UPDATE SET body = excluded.body",
            )?
            .execute(params![db_id, body])?;
            Ok(())
        })
        .await?;
        self.inner
            .security
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(db.to_owned(), Arc::new(security));
        Ok(())
    }

    /// Drops the cached `_security` of a deleted database.
    pub(super) fn forget_security(&self, db: &str) {
        self.inner
            .security
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(db);
    }
}
