//! `--max-document-bytes` and `--max-request-bytes`.

mod common;

use common::{assert_error, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn oversized_document_gets_413_with_its_id() {
    let server = TestServer::start_with(|config| config.max_document_bytes = 100).await;
    server.create_db("db").await;
    let answer = server
        .put("/db/big", json!({"text": "x".repeat(200)}))
        .await;
    assert_eq!(
        answer,
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({"error": "document_too_large", "reason": "big"})
        )
    );
    assert_error(
        server
            .post("/db", json!({"_id": "big2", "text": "x".repeat(200)}))
            .await,
        413,
        "document_too_large",
    );
    assert_eq!(
        server.put("/db/small", json!({"text": "x"})).await.0,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn bulk_docs_reports_oversized_documents_per_row() {
    let server = TestServer::start_with(|config| config.max_document_bytes = 100).await;
    server.create_db("db").await;
    let (status, rows) = server
        .post(
            "/db/_bulk_docs",
            json!({"docs": [
                {"_id": "a", "v": 1},
                {"_id": "big", "text": "x".repeat(200)},
                {"_id": "b", "v": 2},
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(rows[0]["ok"], true);
    assert_eq!(
        rows[1],
        json!({"id": "big", "error": "document_too_large", "reason": "big"})
    );
    assert_eq!(rows[2]["ok"], true);
    assert_eq!(server.get("/db/b").await.0, StatusCode::OK);
    assert_error(server.get("/db/big").await, 404, "not_found");
}

#[tokio::test]
async fn oversized_request_gets_too_large() {
    let server = TestServer::start_with(|config| config.max_request_bytes = 1024).await;
    server.create_db("db").await;
    let body = json!({"text": "x".repeat(4096)}).to_string();
    let expected = (
        StatusCode::PAYLOAD_TOO_LARGE,
        json!({"error": "too_large", "reason": "the request entity is too large"}),
    );
    assert_eq!(
        server
            .raw(Method::PUT, "/db/doc", "application/json", body.clone())
            .await,
        expected
    );
    assert_eq!(
        server
            .raw(
                Method::POST,
                "/db/_bulk_docs",
                "application/json",
                body.clone()
            )
            .await,
        expected
    );

    // Without a Content-Length (chunked), the limit still holds.
    let chunks: Vec<Result<String, std::io::Error>> = vec![Ok(body.clone()), Ok(body)];
    let stream = futures_util::stream::iter(chunks);
    let response = server
        .client
        .put(server.url("/db/doc2"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);

    assert_eq!(
        server.put("/db/doc", json!({"small": true})).await.0,
        StatusCode::CREATED
    );
}
