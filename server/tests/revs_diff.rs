//! What a replicator asks of a revision tree: `_revs_diff`, `open_revs`,
//! `latest`, `_bulk_get?revs=true`, and conflicts in `_changes` and
//! `_all_docs`. Expected answers are Apache CouchDB 3.5's for the same tree.

mod common;

use common::{assert_error, trees::seed_conflicts, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::json;

/// A server holding `common::trees`'s conflicted document.
async fn seeded() -> TestServer {
    let server = TestServer::start().await;
    seed_conflicts(&server).await;
    server
}

#[tokio::test]
async fn revs_diff_lists_missing_revisions_and_possible_ancestors() {
    let server = seeded().await;
    let (status, diff) = server
        .post(
            "/db/_revs_diff",
            json!({"d": ["2-bbb", "3-xyz", "5-q", "1-aaa"], "e": ["1-a"], "f": []}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        diff,
        json!({
            "e": {"missing": ["1-a"]},
            "d": {"missing": ["3-xyz", "5-q"],
                  "possible_ancestors": ["2-bbb", "1-zzz", "3-ddd"]}
        })
    );
    // Only leaves of a lower generation than a missing revision qualify.
    let (_, diff) = server.post("/db/_revs_diff", json!({"d": ["2-new"]})).await;
    assert_eq!(
        diff,
        json!({"d": {"missing": ["2-new"], "possible_ancestors": ["1-zzz"]}})
    );
    let (_, none) = server.post("/db/_revs_diff", json!({"d": ["2-ccc"]})).await;
    assert_eq!(none, json!({}));

    assert_error(
        server.post("/db/_revs_diff", json!([1])).await,
        400,
        "bad_request",
    );
    assert_error(
        server.post("/db/_revs_diff", json!({"d": ["junk"]})).await,
        400,
        "bad_request",
    );
    assert_error(
        server.post("/db/_revs_diff", json!({"d": "2-bbb"})).await,
        400,
        "bad_request",
    );
    assert_error(
        server
            .raw(Method::POST, "/db/_revs_diff", "text/plain", "{}")
            .await,
        415,
        "bad_content_type",
    );
    assert_error(
        server.post("/nodb/_revs_diff", json!({})).await,
        404,
        "not_found",
    );
}

#[tokio::test]
async fn open_revs_answers_each_leaf_or_each_listed_revision() {
    let server = seeded().await;
    let (status, all) = server.get("/db/d?open_revs=all").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        all,
        json!([
            {"ok": {"_id": "d", "_rev": "1-zzz", "v": "z"}},
            {"ok": {"_id": "d", "_rev": "2-bbb", "v": "b"}},
            {"ok": {"_id": "d", "_rev": "3-ddd", "_deleted": true}}
        ])
    );
    let (_, listed) = server
        .get("/db/d?open_revs=%5B%222-ccc%22,%221-aaa%22,%229-x%22%5D")
        .await;
    assert_eq!(
        listed,
        json!([
            {"ok": {"_id": "d", "_rev": "2-ccc", "v": "c"}},
            {"missing": "1-aaa"},
            {"missing": "9-x"}
        ])
    );
    let (_, latest) = server
        .get("/db/d?open_revs=%5B%221-aaa%22%5D&latest=true")
        .await;
    assert_eq!(
        latest,
        json!([
            {"ok": {"_id": "d", "_rev": "2-bbb", "v": "b"}},
            {"ok": {"_id": "d", "_rev": "3-ddd", "_deleted": true}}
        ])
    );
    let (_, with_revs) = server
        .get("/db/d?open_revs=%5B%222-bbb%22%5D&revs=true")
        .await;
    assert_eq!(
        with_revs[0]["ok"]["_revisions"],
        json!({"start": 2, "ids": ["bbb", "aaa"]})
    );
    assert_error(
        server.get("/db/nodoc?open_revs=all").await,
        404,
        "not_found",
    );
    let (_, absent) = server.get("/db/nodoc?open_revs=%5B%221-a%22%5D").await;
    assert_eq!(absent, json!([{"missing": "1-a"}]));
    assert_error(server.get("/db/d?open_revs=junk").await, 400, "bad_request");
    assert_error(
        server.get("/db/d?open_revs=%5B1%5D").await,
        400,
        "bad_request",
    );
    assert_error(
        server.get("/db/d?open_revs=%5B%22x%22%5D").await,
        400,
        "bad_request",
    );
}

#[tokio::test]
async fn bulk_get_gives_histories_and_latest_leaves() {
    let server = seeded().await;
    let (status, body) = server
        .post(
            "/db/_bulk_get?revs=true&latest=true",
            json!({"docs": [{"id": "d", "rev": "2-ccc"}, {"id": "d", "rev": "1-zzz"},
                            {"id": "d", "rev": "7-nope"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let results = &body["results"];
    assert_eq!(
        results[0]["docs"],
        json!([{"ok": {"_id": "d", "_rev": "3-ddd", "_deleted": true,
                       "_revisions": {"start": 3, "ids": ["ddd", "ccc", "aaa"]}}}])
    );
    assert_eq!(results[1]["docs"][0]["ok"]["_rev"], "1-zzz");
    assert_eq!(results[2]["docs"][0]["error"]["reason"], "missing");
    let (_, body) = server
        .post(
            "/db/_bulk_get",
            json!({"docs": [{"id": "d", "rev": "2-ccc"}]}),
        )
        .await;
    assert_eq!(body["results"][0]["docs"][0]["ok"]["_rev"], "2-ccc");
}

#[tokio::test]
async fn changes_and_all_docs_show_conflicts_on_included_documents() {
    let server = seeded().await;
    let (_, changes) = server
        .get("/db/_changes?include_docs=true&conflicts=true&style=all_docs")
        .await;
    assert_eq!(
        changes["results"][0]["doc"],
        json!({"_id": "d", "_rev": "2-bbb", "v": "b", "_conflicts": ["1-zzz"]})
    );
    let (_, plain) = server.get("/db/_changes?include_docs=true").await;
    assert!(plain["results"][0]["doc"].get("_conflicts").is_none());
    let (_, all) = server
        .get("/db/_all_docs?include_docs=true&conflicts=true")
        .await;
    assert_eq!(
        all["rows"],
        json!([{"id": "d", "key": "d", "value": {"rev": "2-bbb"},
                "doc": {"_id": "d", "_rev": "2-bbb", "v": "b", "_conflicts": ["1-zzz"]}}])
    );
    let (_, meta) = server.get("/db/d?meta=true").await;
    assert_eq!(meta["_conflicts"], json!(["1-zzz"]));
    assert_eq!(meta["_deleted_conflicts"], json!(["3-ddd"]));
    assert_eq!(
        meta["_revs_info"][1],
        json!({"rev": "1-aaa", "status": "missing"})
    );
}

#[tokio::test]
async fn open_revs_answers_multipart_mixed_when_only_that_is_accepted() {
    let server = seeded().await;
    server
        .put_doc(
            "db",
            "f",
            json!({"_attachments": {"a.txt": {"content_type": "text/plain", "data": "aGk="}}}),
        )
        .await;
    let response = server
        .client
        .get(server.url("/db/f?open_revs=all"))
        .header("accept", "multipart/mixed")
        .send()
        .await
        .expect("sent");
    let content_type = response.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        content_type.starts_with("multipart/mixed; boundary="),
        "{content_type}"
    );
    let text = response.text().await.expect("body");
    // The attachment travels inline, as the multipart answer carries bodies.
    assert!(text.contains(r#""data":"aGk=""#), "{text}");
    assert!(text.contains("Content-Type: application/json"), "{text}");
    let (_, missing) = server.get("/db/d?open_revs=%5B%229-x%22%5D").await;
    assert_eq!(missing, json!([{"missing": "9-x"}]));
    let response = server
        .client
        .get(server.url("/db/d?open_revs=%5B%229-x%22%5D"))
        .header("accept", "multipart/mixed")
        .send()
        .await
        .expect("sent");
    let text = response.text().await.expect("body");
    assert!(
        text.contains(r#"error="true""#) && text.contains(r#"{"missing":"9-x"}"#),
        "{text}"
    );
}
