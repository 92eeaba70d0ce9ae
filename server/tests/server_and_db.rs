//! Server-level endpoints and database lifecycle.

mod common;

use common::{assert_error, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn welcome_lists_vendor_and_features() {
    let server = TestServer::start().await;
    let (status, body) = server.get("/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["couchdb"], "Welcome");
    assert_eq!(body["vendor"]["name"], "tidesync");
    assert!(body["version"].is_string());
    let features: Vec<&str> = body["features"]
        .as_array()
        .expect("features")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for wanted in [
        "changes-longpoll",
        "changes-continuous",
        "changes-eventsource",
        "attachments",
        "bulk-get",
        "deterministic-revs",
    ] {
        assert!(features.contains(&wanted), "{wanted} in {features:?}");
    }
    assert_eq!(
        server.get("/_up").await,
        (StatusCode::OK, json!({"status": "ok"}))
    );
}

#[tokio::test]
async fn uuids_are_fresh_hex_and_counted() {
    let server = TestServer::start().await;
    let (status, body) = server.get("/_uuids").await;
    assert_eq!(status, StatusCode::OK);
    let uuids = body["uuids"].as_array().expect("uuids");
    assert_eq!(uuids.len(), 1);
    let uuid = uuids[0].as_str().expect("string");
    assert_eq!(uuid.len(), 32);
    assert!(uuid.bytes().all(|b| b.is_ascii_hexdigit()));

    let (_, body) = server.get("/_uuids?count=5").await;
    let many: Vec<&str> = body["uuids"]
        .as_array()
        .expect("uuids")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(many.len(), 5);
    let mut unique = many.clone();
    unique.dedup();
    assert_eq!(unique.len(), 5);

    assert_error(server.get("/_uuids?count=1001").await, 400, "bad_request");
    assert_error(server.get("/_uuids?count=x").await, 400, "bad_request");
}

#[tokio::test]
async fn database_lifecycle() {
    let server = TestServer::start().await;
    let (status, body) = server.put("/agsync", Value::Null).await;
    assert_eq!((status, body), (StatusCode::CREATED, json!({"ok": true})));

    let conflict = server.put("/agsync", Value::Null).await;
    assert_eq!(
        conflict,
        (
            StatusCode::PRECONDITION_FAILED,
            json!({"error": "file_exists", "reason": "The database could not be created, the file already exists."})
        )
    );

    let (status, info) = server.get("/agsync").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(info["db_name"], "agsync");
    assert_eq!(info["update_seq"], 0);
    assert_eq!(info["doc_count"], 0);
    assert_eq!(info["doc_del_count"], 0);

    let head = server
        .client
        .head(server.url("/agsync"))
        .send()
        .await
        .expect("head");
    assert_eq!(head.status(), StatusCode::OK);

    server.create_db("cars_2024").await;
    server.create_db("a$()+-%2Fb").await;
    let (_, all) = server.get("/_all_dbs").await;
    assert_eq!(all, json!(["a$()+-/b", "agsync", "cars_2024"]));

    let (status, body) = server.delete("/agsync").await;
    assert_eq!((status, body), (StatusCode::OK, json!({"ok": true})));
    assert_eq!(
        server.get("/agsync").await,
        (
            StatusCode::NOT_FOUND,
            json!({"error": "not_found", "reason": "Database does not exist."})
        )
    );
    let head = server
        .client
        .head(server.url("/agsync"))
        .send()
        .await
        .expect("head");
    assert_eq!(head.status(), StatusCode::NOT_FOUND);
    assert_error(server.delete("/agsync").await, 404, "not_found");
}

#[tokio::test]
async fn deleting_a_database_removes_its_documents() {
    let server = TestServer::start().await;
    server.create_db("cars").await;
    server.put_doc("cars", "a", json!({"x": 1})).await;
    server.delete("/cars").await;
    server.create_db("cars").await;
    assert_error(server.get("/cars/a").await, 404, "not_found");
    let (_, info) = server.get("/cars").await;
    assert_eq!(info["doc_count"], 0);
    assert_eq!(info["update_seq"], 0);
}

#[tokio::test]
async fn illegal_database_names() {
    let server = TestServer::start().await;
    for name in ["Agsync", "1db", "_users", "db%20name", "db.x"] {
        let (status, body) = server.put(&format!("/{name}"), Value::Null).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}: {body}");
        assert_eq!(body["error"], "illegal_database_name", "{name}");
        assert!(body["reason"]
            .as_str()
            .expect("reason")
            .starts_with("Name: '"));
    }
    let long = "a".repeat(239);
    assert_error(
        server.put(&format!("/{long}"), Value::Null).await,
        400,
        "illegal_database_name",
    );
}

#[tokio::test]
async fn unknown_databases_answer_404() {
    let server = TestServer::start().await;
    for path in [
        "/nope",
        "/nope/doc",
        "/nope/_all_docs",
        "/nope/_changes",
        "/nope/doc/att",
    ] {
        let (status, body) = server.get(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            body,
            json!({"error": "not_found", "reason": "Database does not exist."}),
            "{path}"
        );
    }
    assert_error(server.put("/nope/doc", json!({})).await, 404, "not_found");
    assert_error(
        server.post("/nope/_bulk_docs", json!({"docs": []})).await,
        404,
        "not_found",
    );
}

#[tokio::test]
async fn database_delete_with_rev_is_refused() {
    let server = TestServer::start().await;
    server.create_db("cars").await;
    assert_error(server.delete("/cars?rev=1-abc").await, 400, "bad_request");
    assert_eq!(server.get("/cars").await.0, StatusCode::OK);
}

#[tokio::test]
async fn unsupported_methods_answer_json_405() {
    let server = TestServer::start().await;
    server.create_db("cars").await;
    let (status, body) = server.json(Method::PATCH, "/cars", None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body["error"], "method_not_allowed");
    assert!(body["reason"].as_str().expect("reason").contains("GET"));
    let (status, body) = server.get("/cars/_bulk_docs").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body["reason"], "Only POST allowed");
}
