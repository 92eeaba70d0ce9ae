//! The SQLite schema and the connection settings that make commits durable.
//!
//! One file holds every database. A document's current state (its winning
//! revision) lives in `docs` (whose `seq` column is the `_changes` feed: each
//! document once, at its latest write), its revision tree in `revs` (every
//! revision with its `parent`, whether it is a `leaf`, and its body unless it
//! is a `stub` known only by id), attachment bytes once per digest in
//! `blobs`, and `_local/` documents, which have no history, in `local_docs`.
//! A database's `_security` object is in `security` (no row: admins only),
//! and server-wide values such as the session secret in `meta`.

use std::time::Duration;

use rusqlite::Connection;

/// Tables and indexes, created on first open.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS dbs (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    update_seq INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS docs (
    db_id INTEGER NOT NULL,
    doc_id TEXT NOT NULL,
    rev TEXT NOT NULL,
    deleted INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (db_id, doc_id)
);
CREATE UNIQUE INDEX IF NOT EXISTS docs_by_seq ON docs (db_id, seq);
CREATE TABLE IF NOT EXISTS revs (
    db_id INTEGER NOT NULL,
    doc_id TEXT NOT NULL,
    rev TEXT NOT NULL,
    parent TEXT,
    deleted INTEGER NOT NULL,
    body TEXT NOT NULL,
    attachments TEXT,
    PRIMARY KEY (db_id, doc_id, rev)
);
CREATE TABLE IF NOT EXISTS blobs (
    db_id INTEGER NOT NULL,
    digest TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (db_id, digest)
);
CREATE TABLE IF NOT EXISTS local_docs (
    db_id INTEGER NOT NULL,
    doc_id TEXT NOT NULL,
    rev TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (db_id, doc_id)
);
CREATE TABLE IF NOT EXISTS security (
    db_id INTEGER PRIMARY KEY,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
";

/// How long a connection waits for another process's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Applies the settings every connection needs: WAL so readers never block the
/// writer, `synchronous=FULL` so an acknowledged commit survives a power cut.
pub(crate) fn configure(conn: &Connection) -> rusqlite::Result<()> {
    let mode: String =
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(%mode, "SQLite refused WAL mode; continuing with it");
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    Ok(())
}

/// Creates the tables if they do not exist yet, then upgrades files written
/// by earlier releases in place (see [`super::migrations`]).
pub(crate) fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    conn.execute_batch(SCHEMA)?;
    super::migrations::upgrade(conn)
}
