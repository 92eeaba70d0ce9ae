//! A storage file written before revision trees existed opens, is upgraded in
//! place, and reads and accepts writes as it did.

mod common;

use common::{assert_error, TestServer};
use reqwest::StatusCode;
use rusqlite::{params, Connection};
use serde_json::json;
use tidesync_server::store::DB_FILE;

/// The schema of the release before revision trees, as it created files.
const OLD_SCHEMA: &str = "
CREATE TABLE dbs (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
                  update_seq INTEGER NOT NULL DEFAULT 0);
CREATE TABLE docs (db_id INTEGER NOT NULL, doc_id TEXT NOT NULL, rev TEXT NOT NULL,
                   deleted INTEGER NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (db_id, doc_id));
CREATE UNIQUE INDEX docs_by_seq ON docs (db_id, seq);
CREATE TABLE revs (db_id INTEGER NOT NULL, doc_id TEXT NOT NULL, rev TEXT NOT NULL,
                   parent TEXT, deleted INTEGER NOT NULL, body TEXT NOT NULL, attachments TEXT,
                   PRIMARY KEY (db_id, doc_id, rev));
CREATE TABLE blobs (db_id INTEGER NOT NULL, digest TEXT NOT NULL, data BLOB NOT NULL,
                    PRIMARY KEY (db_id, digest));
CREATE TABLE local_docs (db_id INTEGER NOT NULL, doc_id TEXT NOT NULL, rev TEXT NOT NULL,
                         body TEXT NOT NULL, PRIMARY KEY (db_id, doc_id));
CREATE TABLE security (db_id INTEGER PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
";

const A1: &str = "1-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const A2: &str = "2-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const WON: &str = "3-cccccccccccccccccccccccccccccccc";
const LOST: &str = "2-ffffffffffffffffffffffffffffffff";

/// An old file: `lin` edited twice, `rep` replicated twice without history
/// (the old server kept the loser, unlinked, and showed no conflict).
fn write_old_file(dir: &std::path::Path) {
    std::fs::create_dir_all(dir).expect("data dir");
    let conn = Connection::open(dir.join(DB_FILE)).expect("open");
    conn.execute_batch(OLD_SCHEMA).expect("old schema");
    conn.execute(
        "INSERT INTO dbs (id, name, update_seq) VALUES (1, 'db', 3)",
        [],
    )
    .expect("db");
    let revs = [
        ("lin", A1, None, r#"{"v":1}"#),
        ("lin", A2, Some(A1), r#"{"v":2}"#),
        ("rep", WON, None, r#"{"v":"won"}"#),
        ("rep", LOST, None, r#"{"v":"lost"}"#),
    ];
    for (doc, rev, parent, body) in revs {
        conn.execute(
            "INSERT INTO revs (db_id, doc_id, rev, parent, deleted, body) VALUES (1, ?1, ?2, ?3, 0, ?4)",
            params![doc, rev, parent, body],
        )
        .expect("rev");
    }
    for (doc, rev, seq) in [("lin", A2, 2), ("rep", WON, 3)] {
        conn.execute(
            "INSERT INTO docs (db_id, doc_id, rev, deleted, seq) VALUES (1, ?1, ?2, 0, ?3)",
            params![doc, rev, seq],
        )
        .expect("doc");
    }
}

#[tokio::test]
async fn old_files_upgrade_in_place_and_work_unchanged() {
    let data = tempfile::tempdir().expect("temporary directory");
    write_old_file(data.path());
    let server = TestServer::start_at(data.path(), |_| {}).await;
    let (_, doc) = server.get("/db/lin?revs=true").await;
    assert_eq!(doc["_rev"], A2);
    assert_eq!(doc["_revisions"]["ids"].as_array().map(Vec::len), Some(2));
    let (_, doc) = server.get("/db/rep?conflicts=true").await;
    assert_eq!(doc["_rev"], WON);
    assert!(
        doc.get("_conflicts").is_none(),
        "no conflict appears: {doc}"
    );
    let (_, old) = server.get(&format!("/db/rep?rev={LOST}")).await;
    assert_eq!(old["v"], "lost");
    let (_, changes) = server.get("/db/_changes?style=all_docs").await;
    assert_eq!(changes["last_seq"], 3);
    assert_eq!(changes["results"][1]["changes"], json!([{"rev": WON}]));
    // Writes name the current revision as before.
    assert_error(
        server.put("/db/lin", json!({"_rev": A1, "v": 0})).await,
        409,
        "conflict",
    );
    let (status, _) = server.put("/db/lin", json!({"_rev": A2, "v": 3})).await;
    assert_eq!(status, StatusCode::CREATED);
    server.shutdown().await;

    // Opening again does not upgrade twice.
    let server = TestServer::start_at(data.path(), |_| {}).await;
    let (_, doc) = server.get("/db/lin").await;
    assert_eq!(doc["v"], 3);
    let (_, info) = server.get("/db").await;
    assert_eq!(info["update_seq"], 4);
    server.shutdown().await;
    let conn = Connection::open(data.path().join(DB_FILE)).expect("open");
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .expect("version");
    assert_eq!(version, 2);
    let leaves: i64 = conn
        .query_row("SELECT COUNT(*) FROM revs WHERE leaf = 1", [], |row| {
            row.get(0)
        })
        .expect("leaves");
    assert_eq!(leaves, 2, "one leaf per document");
}
