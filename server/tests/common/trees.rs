//! The revision tree CouchDB's documentation draws for a conflict, grafted
//! the way replicators graft it, for the tree and `_revs_diff` tests.

use reqwest::StatusCode;
use serde_json::json;

use super::TestServer;

/// Database `db` holding document `d`: `1-aaa` (a stub, never sent) with
/// children `2-bbb` and `2-ccc`, `3-ddd` deleted on top of `2-ccc`, and an
/// unrelated root `1-zzz`.
pub async fn seed_conflicts(server: &TestServer) {
    server.create_db("db").await;
    let (status, rows) = server
        .post(
            "/db/_bulk_docs",
            json!({"new_edits": false, "docs": [
                {"_id": "d", "_rev": "2-bbb", "v": "b",
                 "_revisions": {"start": 2, "ids": ["bbb", "aaa"]}},
                {"_id": "d", "_rev": "2-ccc", "v": "c",
                 "_revisions": {"start": 2, "ids": ["ccc", "aaa"]}},
                {"_id": "d", "_rev": "3-ddd", "_deleted": true,
                 "_revisions": {"start": 3, "ids": ["ddd", "ccc"]}},
                {"_id": "d", "_rev": "1-zzz", "v": "z"}
            ]}),
        )
        .await;
    assert_eq!((status, rows), (StatusCode::CREATED, json!([])));
}
