//! Single-document reads and writes, including the seed walk-through.

mod common;

use common::{assert_error, assert_rev, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// The walk-through from the project's README, sent as curl sends it
/// (`-d` means application/x-www-form-urlencoded) and as JSON.
#[tokio::test]
async fn seed_walk_through() {
    for content_type in ["application/x-www-form-urlencoded", "application/json"] {
        let server = TestServer::start().await;
        let (status, body) = server.put("/agsync", Value::Null).await;
        assert_eq!((status, body), (StatusCode::CREATED, json!({"ok": true})));

        let (status, body) = server.get("/_uuids").await;
        assert_eq!(status, StatusCode::OK);
        let uuid = body["uuids"][0].as_str().expect("uuid").to_owned();
        assert_eq!(body, json!({"uuids": [uuid.clone()]}));
        assert_eq!(uuid.len(), 32);

        let path = format!("/agsync/{uuid}");
        let (status, body) = server
            .raw(
                Method::PUT,
                &path,
                content_type,
                r#"{"car": {"make":"Toyota", "color":"red"}}"#,
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{content_type}: {body}");
        assert_eq!(body["ok"], true);
        assert_eq!(body["id"], uuid.as_str());
        let rev1 = body["rev"].as_str().expect("rev").to_owned();
        assert_rev(&rev1, 1);
        assert_eq!(body.as_object().map(|m| m.len()), Some(3));

        let blue = format!(r#"{{"_rev":"{rev1}","car": {{"make":"Toyota", "color":"blue"}}}}"#);
        let (status, body) = server.raw(Method::PUT, &path, content_type, blue).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["id"], uuid.as_str());
        assert_rev(body["rev"].as_str().expect("rev"), 2);

        let yellow = format!(r#"{{"_rev":"{rev1}","car": {{"make":"Toyota", "color":"yellow"}}}}"#);
        let answer = server.raw(Method::PUT, &path, content_type, yellow).await;
        assert_eq!(
            answer,
            (
                StatusCode::CONFLICT,
                json!({"error": "conflict", "reason": "Document update conflict."})
            )
        );

        let (_, doc) = server.get(&path).await;
        assert_eq!(doc["car"]["color"], "blue");
    }
}

#[tokio::test]
async fn revisions_are_deterministic() {
    let server = TestServer::start().await;
    server.create_db("one").await;
    server.create_db("two").await;
    let a = server
        .put_doc("one", "car", json!({"car": {"make": "Toyota"}}))
        .await;
    let b = server
        .put_doc("two", "car", json!({"car": {"make": "Toyota"}}))
        .await;
    assert_eq!(a, b);
    let expected =
        tidesync_engine::Revision::next(None, &json!({"car": {"make": "Toyota"}}), false);
    assert_eq!(a, expected.to_string());
    let a2 = server
        .put_doc("one", "car", json!({"_rev": a, "n": 2}))
        .await;
    let b2 = server
        .put_doc("two", "car", json!({"_rev": b, "n": 2}))
        .await;
    assert_eq!(a2, b2);
}

#[tokio::test]
async fn get_put_and_old_revisions() {
    let server = TestServer::start().await;
    server.create_db("db").await;
    let rev1 = server.put_doc("db", "doc", json!({"v": 1})).await;
    let response = server
        .client
        .get(server.url("/db/doc"))
        .send()
        .await
        .expect("get");
    assert_eq!(response.status(), StatusCode::OK);
    let etag = response.headers()["etag"]
        .to_str()
        .expect("etag")
        .to_owned();
    assert_eq!(etag, format!("\"{rev1}\""));
    let doc: Value = response.json().await.expect("json");
    assert_eq!(doc, json!({"_id": "doc", "_rev": rev1, "v": 1}));

    let not_modified = server
        .client
        .get(server.url("/db/doc"))
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("get");
    assert_eq!(not_modified.status(), StatusCode::NOT_MODIFIED);

    let rev2 = server
        .put_doc("db", &format!("doc?rev={rev1}"), json!({"v": 2}))
        .await;
    assert_rev(&rev2, 2);
    let (_, old) = server.get(&format!("/db/doc?rev={rev1}")).await;
    assert_eq!(old, json!({"_id": "doc", "_rev": rev1, "v": 1}));
    let (_, revs) = server.get("/db/doc?revs=true").await;
    assert_eq!(revs["_revisions"]["start"], 2);
    assert_eq!(revs["_revisions"]["ids"], json!([&rev2[2..], &rev1[2..]]));
    let missing = server
        .get("/db/doc?rev=1-00000000000000000000000000000000")
        .await;
    assert_eq!(
        missing,
        (
            StatusCode::NOT_FOUND,
            json!({"error": "not_found", "reason": "missing"})
        )
    );
    assert_eq!(
        server.get("/db/nothing").await,
        (
            StatusCode::NOT_FOUND,
            json!({"error": "not_found", "reason": "missing"})
        )
    );
}

#[tokio::test]
async fn if_match_header_carries_the_revision() {
    let server = TestServer::start().await;
    server.create_db("db").await;
    let rev1 = server.put_doc("db", "doc", json!({"v": 1})).await;
    let response = server
        .client
        .put(server.url("/db/doc"))
        .header("if-match", format!("\"{rev1}\""))
        .json(&json!({"v": 2}))
        .send()
        .await
        .expect("put");
    assert_eq!(response.status(), StatusCode::CREATED);
    let stale = server
        .client
        .put(server.url("/db/doc"))
        .header("if-match", &rev1)
        .json(&json!({"v": 3}))
        .send()
        .await
        .expect("put");
    assert_eq!(stale.status(), StatusCode::CONFLICT);
    let disagreeing = server
        .client
        .put(server.url(&format!("/db/doc?rev={rev1}")))
        .header("if-match", "2-abc")
        .json(&json!({"v": 3}))
        .send()
        .await
        .expect("put");
    assert_eq!(disagreeing.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn delete_makes_a_tombstone_and_recreate_extends_it() {
    let server = TestServer::start().await;
    server.create_db("db").await;
    let rev1 = server.put_doc("db", "doc", json!({"v": 1})).await;
    assert_error(server.delete("/db/doc").await, 409, "conflict");
    let (status, body) = server.delete(&format!("/db/doc?rev={rev1}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["ok"], true);
    let tomb = body["rev"].as_str().expect("rev").to_owned();
    assert_rev(&tomb, 2);
    assert_eq!(
        server.get("/db/doc").await,
        (
            StatusCode::NOT_FOUND,
            json!({"error": "not_found", "reason": "deleted"})
        )
    );
    let (status, old) = server.get(&format!("/db/doc?rev={tomb}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(old, json!({"_id": "doc", "_rev": tomb, "_deleted": true}));
    assert_error(server.delete("/db/doc").await, 404, "not_found");
    assert_error(server.delete("/db/never").await, 404, "not_found");

    let rev3 = server.put_doc("db", "doc", json!({"v": 3})).await;
    assert_rev(&rev3, 3);
    let (_, info) = server.get("/db").await;
    assert_eq!(info["doc_count"], 1);
    assert_eq!(info["doc_del_count"], 0);

    let (status, body) = server
        .put("/db/doc", json!({"_rev": rev3, "_deleted": true}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, info) = server.get("/db").await;
    assert_eq!(info["doc_del_count"], 1);
}

#[tokio::test]
async fn post_assigns_ids_and_requires_json() {
    let server = TestServer::start().await;
    server.create_db("db").await;
    let (status, body) = server.post("/db", json!({"v": 1})).await;
    assert_eq!(status, StatusCode::CREATED);
    let id = body["id"].as_str().expect("id");
    assert_eq!(id.len(), 32);
    assert_rev(body["rev"].as_str().expect("rev"), 1);
    let (status, named) = server.post("/db/", json!({"_id": "named", "v": 1})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(named["id"], "named");
    assert_error(
        server.post("/db", json!({"_id": "named"})).await,
        409,
        "conflict",
    );

    let form = server
        .raw(
            Method::POST,
            "/db",
            "application/x-www-form-urlencoded",
            r#"{"v":1}"#,
        )
        .await;
    assert_eq!(
        form,
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            json!({"error": "bad_content_type", "reason": "Content-Type must be application/json"})
        )
    );
}

#[tokio::test]
async fn bad_input_is_refused_like_couchdb() {
    let server = TestServer::start().await;
    server.create_db("db").await;
    let cases: Vec<(&str, &str, u16, &str, Option<&str>)> = vec![
        (
            "/db/a",
            "{not json",
            400,
            "bad_request",
            Some("invalid UTF-8 JSON"),
        ),
        (
            "/db/a",
            "[1,2]",
            400,
            "bad_request",
            Some("Document must be a JSON object"),
        ),
        ("/db/a", "\"text\"", 400, "bad_request", None),
        (
            "/db/a",
            r#"{"_id": 3}"#,
            400,
            "illegal_docid",
            Some("Document id must be a string"),
        ),
        (
            "/db/a",
            r#"{"_rev": "nope"}"#,
            400,
            "bad_request",
            Some("Invalid rev format"),
        ),
        (
            "/db/a",
            r#"{"_rev": 1}"#,
            400,
            "bad_request",
            Some("Invalid rev format"),
        ),
        (
            "/db/a",
            r#"{"_deleted": "x"}"#,
            400,
            "doc_validation",
            Some("Bad special document member: _deleted"),
        ),
        (
            "/db/a",
            r#"{"_foo": 1}"#,
            400,
            "doc_validation",
            Some("Bad special document member: _foo"),
        ),
        (
            "/db/a",
            r#"{"_attachments": []}"#,
            400,
            "doc_validation",
            Some("Bad special document member: _attachments"),
        ),
        (
            "/db/_foo",
            "{}",
            400,
            "illegal_docid",
            Some("Only reserved document ids may start with underscore."),
        ),
        (
            "/db/a",
            r#"{"_id": "_bad"}"#,
            400,
            "illegal_docid",
            Some("Only reserved document ids may start with underscore."),
        ),
        ("/db/_design%2F", "{}", 400, "illegal_docid", None),
    ];
    for (path, body, status, error, reason) in cases {
        let (got_status, got) = server
            .raw(Method::PUT, path, "application/json", body)
            .await;
        assert_eq!(got_status.as_u16(), status, "{path} {body}: {got}");
        assert_eq!(got["error"], error, "{path} {body}: {got}");
        if let Some(reason) = reason {
            assert_eq!(got["reason"], reason, "{path} {body}");
        }
    }
    let multipart = server
        .raw(Method::PUT, "/db/a", "multipart/mixed; boundary=x", "--x--")
        .await;
    assert_error(multipart, 415, "bad_content_type");
    let empty_related = server
        .raw(
            Method::PUT,
            "/db/a",
            "multipart/related; boundary=x",
            "--x--",
        )
        .await;
    assert_error(empty_related, 400, "bad_request");
    assert_error(server.get("/db/a?rev=bad").await, 400, "bad_request");
    assert_error(server.delete("/db/a?rev=bad").await, 400, "bad_request");
    assert_error(
        server.post("/db", json!({"_id": 3})).await,
        400,
        "illegal_docid",
    );
    assert_error(
        server.get("/db/a?attachments=maybe").await,
        400,
        "query_parse_error",
    );
    let (_, info) = server.get("/db").await;
    assert_eq!(info["doc_count"], 0);
}
