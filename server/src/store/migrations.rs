//! In-place upgrades of files written by earlier releases, numbered by
//! SQLite's `user_version`, each applied once inside one transaction so a
//! crash mid-upgrade leaves the file as it was.
//!
//! Version 1 turns the linear history of `revs` into a revision tree: a
//! `leaf` flag (revisions nothing was written on top of) and a `stub` flag
//! (ancestors known by id only, whose body this server never had or has
//! dropped). Earlier releases showed only the winner in `docs`, so only that
//! revision becomes a leaf: an old file reads exactly as it did, without
//! conflicts appearing from replicated revisions whose ancestry was not kept.
//!
//! Version 2 gives each database its `_revs_limit`, the depth its trees are
//! pruned to.

use rusqlite::{Connection, TransactionBehavior};

/// Each step brings the file from version `index` to `index + 1`.
const STEPS: &[&str] = &[
    // 0 -> 1: revision trees.
    "ALTER TABLE revs ADD COLUMN leaf INTEGER NOT NULL DEFAULT 1;
     ALTER TABLE revs ADD COLUMN stub INTEGER NOT NULL DEFAULT 0;
     UPDATE revs SET leaf = EXISTS (
         SELECT 1 FROM docs
         WHERE docs.db_id = revs.db_id AND docs.doc_id = revs.doc_id AND docs.rev = revs.rev
     );
     CREATE INDEX IF NOT EXISTS revs_leaves ON revs (db_id, doc_id, leaf);",
    // 1 -> 2: each database's `_revs_limit` (CouchDB's default).
    "ALTER TABLE dbs ADD COLUMN revs_limit INTEGER NOT NULL DEFAULT 1000;",
];

/// Applies every step the file has not had yet.
pub(crate) fn upgrade(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: i64 = tx.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    let start = usize::try_from(version).unwrap_or(0);
    for (index, step) in STEPS.iter().enumerate().skip(start) {
        tracing::info!(from = index, to = index + 1, "upgrading the storage file");
        tx.execute_batch(step)?;
        tx.pragma_update(None, "user_version", index + 1)?;
    }
    tx.commit()
}
