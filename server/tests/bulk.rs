//! `_bulk_docs`, `_bulk_get` and `_all_docs`.

mod common;

use common::{assert_error, assert_rev, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn bulk_docs_answers_each_document() {
    let server = TestServer::start().await;
    server.create_db("db").await;
    let existing = server.put_doc("db", "old", json!({"v": 1})).await;
    let (status, rows) = server
        .post(
            "/db/_bulk_docs",
            json!({"docs": [
                {"_id": "a", "v": 1},
                {"v": 2},
                {"_id": "old", "v": 2},
                {"_id": "old", "_rev": existing, "v": 3},
                {"_id": "_local/x", "v": 4},
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let rows = rows.as_array().expect("array").clone();
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[0]["ok"], true);
    assert_eq!(rows[0]["id"], "a");
    assert_rev(rows[0]["rev"].as_str().expect("rev"), 1);
    assert_eq!(rows[1]["id"].as_str().map(str::len), Some(32));
    assert_eq!(
        rows[2],
        json!({"id": "old", "error": "conflict", "reason": "Document update conflict."})
    );
    assert_rev(rows[3]["rev"].as_str().expect("rev"), 2);
    assert_eq!(rows[4]["id"], "_local/x");
    let (_, info) = server.get("/db").await;
    assert_eq!(info["doc_count"], 3);
}

#[tokio::test]
async fn bulk_docs_refuses_malformed_requests() {
    let server = TestServer::start().await;
    server.create_db("db").await;
    assert_error(
        server.post("/db/_bulk_docs", json!({})).await,
        400,
        "bad_request",
    );
    let (_, body) = server
        .post("/db/_bulk_docs", json!({"docs": {"a": 1}}))
        .await;
    assert_eq!(
        body,
        json!({"error": "bad_request", "reason": "`docs` parameter must be an array."})
    );
    assert_error(
        server.post("/db/_bulk_docs", json!([1, 2])).await,
        400,
        "bad_request",
    );
    assert_error(
        server
            .post("/db/_bulk_docs", json!({"docs": [], "new_edits": "no"}))
            .await,
        400,
        "bad_request",
    );
    assert_error(
        server
            .post("/db/_bulk_docs", json!({"docs": [{"_id": "_bad"}]}))
            .await,
        400,
        "illegal_docid",
    );
    assert_error(
        server
            .post("/db/_bulk_docs", json!({"docs": [{"_id": "ok"}, 5]}))
            .await,
        400,
        "bad_request",
    );
    assert_error(
        server
            .post("/db/_bulk_docs", json!({"docs": [{"_deleted": "x"}]}))
            .await,
        400,
        "doc_validation",
    );
    let invalid = server
        .raw(
            Method::POST,
            "/db/_bulk_docs",
            "application/json",
            "{\"docs\": [",
        )
        .await;
    assert_error(invalid, 400, "bad_request");
    let form = server
        .raw(
            Method::POST,
            "/db/_bulk_docs",
            "application/x-www-form-urlencoded",
            r#"{"docs":[]}"#,
        )
        .await;
    assert_error(form, 415, "bad_content_type");
    let (_, info) = server.get("/db").await;
    assert_eq!(info["doc_count"], 0, "refused batches write nothing");
}

#[tokio::test]
async fn bulk_docs_replicated_writes_keep_their_revisions() {
    let server = TestServer::start().await;
    server.create_db("db").await;
    let rev = "3-0123456789abcdef0123456789abcdef";
    let (status, rows) = server
        .post(
            "/db/_bulk_docs",
            json!({"new_edits": false, "docs": [{"_id": "r", "_rev": rev, "v": 1}]}),
        )
        .await;
    assert_eq!((status, rows), (StatusCode::CREATED, json!([])));
    let (_, doc) = server.get("/db/r").await;
    assert_eq!(doc["_rev"], rev);
    // Storing it again is a no-op; an older revision does not win.
    server
        .post(
            "/db/_bulk_docs",
            json!({"new_edits": false, "docs": [
                {"_id": "r", "_rev": rev, "v": 1},
                {"_id": "r", "_rev": "2-00000000000000000000000000000000", "v": 0}
            ]}),
        )
        .await;
    let (_, doc) = server.get("/db/r").await;
    assert_eq!(doc["_rev"], rev);
    let (_, old) = server
        .get("/db/r?rev=2-00000000000000000000000000000000")
        .await;
    assert_eq!(old["v"], 0);
    assert_error(
        server
            .post(
                "/db/_bulk_docs",
                json!({"new_edits": false, "docs": [{"_id": "x"}]}),
            )
            .await,
        400,
        "bad_request",
    );
}

#[tokio::test]
async fn bulk_get_returns_documents_revisions_and_errors() {
    let server = TestServer::start().await;
    server.create_db("db").await;
    let rev1 = server.put_doc("db", "a", json!({"v": 1})).await;
    let rev2 = server
        .put_doc("db", "a", json!({"_rev": rev1, "v": 2}))
        .await;
    let gone = server.put_doc("db", "gone", json!({})).await;
    let (_, tomb) = server.delete(&format!("/db/gone?rev={gone}")).await;
    let (status, body) = server
        .post(
            "/db/_bulk_get?revs=true",
            json!({"docs": [
                {"id": "a"},
                {"id": "a", "rev": rev1},
                {"id": "missing"},
                {"id": "a", "rev": "9-00000000000000000000000000000000"},
                {"id": "gone"},
                {"id": "a", "rev": "bad"},
                {"rev": rev1},
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let results = body["results"].as_array().expect("results").clone();
    assert_eq!(results.len(), 7);
    assert_eq!(results[0]["id"], "a");
    assert_eq!(results[0]["docs"][0]["ok"]["_rev"], rev2.as_str());
    assert_eq!(results[0]["docs"][0]["ok"]["_revisions"]["start"], 2);
    assert_eq!(results[1]["docs"][0]["ok"]["v"], 1);
    assert_eq!(
        results[2]["docs"][0],
        json!({"error": {"id": "missing", "rev": "undefined", "error": "not_found", "reason": "missing"}})
    );
    assert_eq!(results[3]["docs"][0]["error"]["reason"], "missing");
    assert_eq!(results[4]["docs"][0]["ok"]["_deleted"], true);
    assert_eq!(results[4]["docs"][0]["ok"]["_rev"], tomb["rev"]);
    assert_eq!(results[5]["docs"][0]["error"]["error"], "bad_request");
    assert_eq!(results[6]["docs"][0]["error"]["error"], "bad_request");

    assert_error(
        server.post("/db/_bulk_get", json!({})).await,
        400,
        "bad_request",
    );
    let form = server
        .raw(
            Method::POST,
            "/db/_bulk_get",
            "text/plain",
            r#"{"docs":[]}"#,
        )
        .await;
    assert_error(form, 415, "bad_content_type");
}

async fn seed_all_docs(server: &TestServer) {
    server.create_db("db").await;
    for id in ["b", "a", "d", "c", "e"] {
        server.put_doc("db", id, json!({"id": id})).await;
    }
    let rev = server.put_doc("db", "x", json!({})).await;
    server.delete(&format!("/db/x?rev={rev}")).await;
}

fn ids(body: &Value) -> Vec<String> {
    body["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["key"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn all_docs_ranges_and_paging() {
    let server = TestServer::start().await;
    seed_all_docs(&server).await;
    let (status, all) = server.get("/db/_all_docs").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(all["total_rows"], 5);
    assert_eq!(all["offset"], 0);
    assert_eq!(ids(&all), ["a", "b", "c", "d", "e"]);
    assert!(all["rows"][0]["value"]["rev"].is_string());
    assert!(all["rows"][0].get("doc").is_none());

    let (_, page) = server
        .get("/db/_all_docs?startkey=%22b%22&endkey=%22d%22")
        .await;
    assert_eq!(ids(&page), ["b", "c", "d"]);
    assert_eq!(page["offset"], 1);
    let (_, page) = server
        .get("/db/_all_docs?start_key=%22b%22&end_key=%22d%22&inclusive_end=false")
        .await;
    assert_eq!(ids(&page), ["b", "c"]);
    let (_, page) = server.get("/db/_all_docs?limit=2&skip=1").await;
    assert_eq!(ids(&page), ["b", "c"]);
    assert_eq!(page["offset"], 1);
    let (_, page) = server
        .get("/db/_all_docs?descending=true&startkey=%22c%22&limit=2")
        .await;
    assert_eq!(ids(&page), ["c", "b"]);
    let (_, page) = server
        .get("/db/_all_docs?key=%22c%22&include_docs=true")
        .await;
    assert_eq!(ids(&page), ["c"]);
    assert_eq!(page["rows"][0]["doc"]["id"], "c");

    assert_error(
        server.get("/db/_all_docs?startkey=b").await,
        400,
        "query_parse_error",
    );
    assert_error(
        server.get("/db/_all_docs?limit=-1").await,
        400,
        "query_parse_error",
    );
    assert_error(
        server.get("/db/_all_docs?keys=%22a%22").await,
        400,
        "bad_request",
    );
}

#[tokio::test]
async fn all_docs_by_keys() {
    let server = TestServer::start().await;
    seed_all_docs(&server).await;
    let (status, body) = server
        .post(
            "/db/_all_docs?include_docs=true",
            json!({"keys": ["c", "nope", "x", "a"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let rows = body["rows"].as_array().expect("rows").clone();
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0]["id"], "c");
    assert_eq!(rows[0]["doc"]["_id"], "c");
    assert_eq!(rows[1], json!({"key": "nope", "error": "not_found"}));
    assert_eq!(rows[2]["value"]["deleted"], true);
    assert_eq!(rows[2]["doc"], Value::Null);
    assert!(rows[2].get("doc").is_some());
    assert_eq!(rows[3]["key"], "a");

    let (_, body) = server
        .get("/db/_all_docs?keys=%5B%22e%22%2C%22a%22%5D")
        .await;
    assert_eq!(ids(&body), ["e", "a"]);
    assert_error(
        server.post("/db/_all_docs", json!({"keys": "a"})).await,
        400,
        "bad_request",
    );
    let form = server
        .raw(
            Method::POST,
            "/db/_all_docs",
            "application/x-www-form-urlencoded",
            "{}",
        )
        .await;
    assert_error(form, 415, "bad_content_type");
}
