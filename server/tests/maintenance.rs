//! `_revs_limit` (tree depth pruned on write) and `_compact` (bodies of
//! revisions that are no leaf dropped). Expected answers are CouchDB 3.5's.

mod common;

use common::{assert_error, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn edit_times(server: &TestServer, id: &str, times: u32) -> String {
    let mut rev = server.put_doc("db", id, json!({"i": 0})).await;
    for i in 1..=times {
        rev = server.put_doc("db", id, json!({"_rev": rev, "i": i})).await;
    }
    rev
}

fn revision_count(doc: &Value) -> usize {
    doc["_revisions"]["ids"].as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn revs_limit_is_read_set_and_prunes_on_write() {
    let server = TestServer::start().await;
    server.create_db("db").await;
    let (status, limit) = server.get("/db/_revs_limit").await;
    assert_eq!((status, limit), (StatusCode::OK, json!(1000)));
    edit_times(&server, "long", 5).await;
    let (_, doc) = server.get("/db/long?revs=true").await;
    assert_eq!(revision_count(&doc), 6);

    let (status, ok) = server
        .raw(Method::PUT, "/db/_revs_limit", "application/json", "3")
        .await;
    assert_eq!((status, ok), (StatusCode::OK, json!({"ok": true})));
    let (_, limit) = server.get("/db/_revs_limit").await;
    assert_eq!(limit, 3);
    // The next write prunes; the oldest kept revision becomes the root.
    let (_, doc) = server.get("/db/long").await;
    let rev = doc["_rev"].as_str().expect("rev").to_owned();
    server
        .put_doc("db", "long", json!({"_rev": rev, "i": 9}))
        .await;
    let (_, doc) = server.get("/db/long?revs=true&revs_info=true").await;
    assert_eq!(revision_count(&doc), 3);
    assert_eq!(doc["_revs_info"].as_array().map(Vec::len), Some(3));
    assert_eq!(doc["_revisions"]["start"], 7);
    // A replicated history longer than the limit is pruned too.
    server
        .put(
            "/db/graft?new_edits=false",
            json!({"_rev": "5-e", "_revisions": {"start": 5, "ids": ["e", "d", "c", "b", "a"]}}),
        )
        .await;
    let (_, doc) = server.get("/db/graft?revs=true").await;
    assert_eq!(
        doc["_revisions"],
        json!({"start": 5, "ids": ["e", "d", "c"]})
    );
    let (_, diff) = server
        .post("/db/_revs_diff", json!({"graft": ["1-a", "3-c"]}))
        .await;
    assert_eq!(diff["graft"]["missing"], json!(["1-a"]));

    for bad in ["0", "-1", "\"3\"", "x"] {
        assert_error(
            server
                .raw(Method::PUT, "/db/_revs_limit", "application/json", bad)
                .await,
            400,
            "bad_request",
        );
    }
    assert_error(server.get("/nodb/_revs_limit").await, 404, "not_found");
}

#[tokio::test]
async fn compaction_drops_bodies_of_revisions_that_are_no_leaf() {
    let server = TestServer::start().await;
    server.create_db("db").await;
    let first = server
        .put_doc(
            "db",
            "a",
            json!({"v": 1, "_attachments": {"old.txt": {"content_type": "text/plain", "data": "b2xk"}}}),
        )
        .await;
    let second = server
        .put_doc(
            "db",
            "a",
            json!({"_rev": first, "v": 2, "_attachments": {"new.txt": {"content_type": "text/plain", "data": "bmV3"}}}),
        )
        .await;
    let (_, old) = server.get(&format!("/db/a?rev={first}")).await;
    assert_eq!(old["v"], 1);

    assert_error(
        server
            .raw(Method::POST, "/db/_compact", "text/plain", "")
            .await,
        415,
        "bad_content_type",
    );
    let (status, ok) = server
        .raw(Method::POST, "/db/_compact", "application/json", "")
        .await;
    assert_eq!((status, ok), (StatusCode::ACCEPTED, json!({"ok": true})));

    assert_error(
        server.get(&format!("/db/a?rev={first}")).await,
        404,
        "not_found",
    );
    let (_, doc) = server.get("/db/a?revs_info=true").await;
    assert_eq!(doc["_rev"], second);
    assert_eq!(
        doc["_revs_info"],
        json!([{"rev": second, "status": "available"}, {"rev": first, "status": "missing"}])
    );
    let response = server
        .client
        .get(server.url("/db/a/new.txt"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.text().await.expect("body"), "new");
    // The ancestor is still in the tree: replication joins there.
    let (_, diff) = server.post("/db/_revs_diff", json!({"a": [first]})).await;
    assert_eq!(diff, json!({}));
    let (status, _) = server.put("/db/a", json!({"_rev": second, "v": 3})).await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn ensure_full_commit_answers_as_couchdb_does() {
    let server = TestServer::start().await;
    server.create_db("db").await;
    let (status, body) = server
        .raw(
            Method::POST,
            "/db/_ensure_full_commit",
            "application/json",
            "",
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body, json!({"ok": true, "instance_start_time": "0"}));
    assert_error(
        server
            .raw(
                Method::POST,
                "/nodb/_ensure_full_commit",
                "application/json",
                "",
            )
            .await,
        404,
        "not_found",
    );
}
