//! Document ids with special meaning: `_design/`, `_local/` and encoded `/`.

mod common;

use common::{assert_error, assert_rev, TestServer};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn design_local_and_encoded_ids() {
    let server = TestServer::start().await;
    server.create_db("db").await;
    let design = server
        .put_doc("db", "_design/app", json!({"views": {}}))
        .await;
    let (_, doc) = server.get("/db/_design%2Fapp").await;
    assert_eq!(doc["_id"], "_design/app");
    assert_eq!(doc["_rev"], design.as_str());

    let local = server
        .put_doc("db", "_local/checkpoint", json!({"seq": 5}))
        .await;
    assert_rev(&local, 1);
    let (_, doc) = server.get("/db/_local/checkpoint").await;
    assert_eq!(
        doc,
        json!({"_id": "_local/checkpoint", "_rev": local, "seq": 5})
    );
    assert_error(
        server.put("/db/_local/checkpoint", json!({"seq": 6})).await,
        409,
        "conflict",
    );
    let local2 = server
        .put_doc("db", "_local/checkpoint", json!({"_rev": local, "seq": 6}))
        .await;
    assert_rev(&local2, 2);
    let (status, _) = server
        .delete(&format!("/db/_local/checkpoint?rev={local2}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_error(server.get("/db/_local/checkpoint").await, 404, "not_found");

    let slash = server.put_doc("db", "a%2Fb", json!({"v": 1})).await;
    let (_, doc) = server.get("/db/a%2Fb").await;
    assert_eq!(doc["_id"], "a/b");
    assert_eq!(doc["_rev"], slash.as_str());
    let (_, doc) = server.get("/db/caf%C3%A9").await;
    assert_eq!(doc["error"], "not_found");

    // _local documents stay out of _all_docs and _changes.
    server.put_doc("db", "_local/other", json!({})).await;
    let (_, all) = server.get("/db/_all_docs").await;
    let ids: Vec<&str> = all["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert_eq!(ids, ["_design/app", "a/b"]);
    let (_, changes) = server.get("/db/_changes").await;
    assert_eq!(changes["results"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn url_id_wins_over_body_id() {
    let server = TestServer::start().await;
    server.create_db("db").await;
    let (status, body) = server
        .put("/db/url-id", json!({"_id": "body-id", "v": 1}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body["id"], "url-id");
    assert_error(server.get("/db/body-id").await, 404, "not_found");
}
