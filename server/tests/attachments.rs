//! Inline and standalone attachments.

mod common;

use common::{assert_error, assert_rev, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::json;

/// md5("hello") in base64, as CouchDB writes digests.
const HELLO_DIGEST: &str = "md5-XUFAKrxLKna5cZ2REBfFkg==";

#[tokio::test]
async fn inline_attachments_round_trip_as_stubs() {
    let server = TestServer::start().await;
    server.create_db("db").await;
    let rev1 = server
        .put_doc(
            "db",
            "doc",
            json!({"v": 1, "_attachments": {"hello.txt": {"content_type": "text/plain", "data": "aGVsbG8="}}}),
        )
        .await;
    let (_, doc) = server.get("/db/doc").await;
    assert_eq!(
        doc["_attachments"],
        json!({"hello.txt": {
            "content_type": "text/plain",
            "revpos": 1,
            "digest": HELLO_DIGEST,
            "length": 5,
            "stub": true
        }})
    );
    let (_, full) = server.get("/db/doc?attachments=true").await;
    assert_eq!(full["_attachments"]["hello.txt"]["data"], "aGVsbG8=");
    assert!(full["_attachments"]["hello.txt"].get("stub").is_none());

    // Sending the stub back keeps the bytes (and their revpos).
    let mut update = doc.clone();
    update["v"] = json!(2);
    let rev2 = server.put_doc("db", "doc", update).await;
    assert_rev(&rev2, 2);
    let (_, doc2) = server.get("/db/doc").await;
    assert_eq!(doc2["_attachments"]["hello.txt"]["revpos"], 1);
    assert_eq!(doc2["_attachments"]["hello.txt"]["digest"], HELLO_DIGEST);
    let raw = server
        .client
        .get(server.url("/db/doc/hello.txt"))
        .send()
        .await
        .expect("get");
    assert_eq!(raw.text().await.expect("text"), "hello");

    // A write without _attachments drops them, as in CouchDB.
    let rev3 = server
        .put_doc("db", "doc", json!({"_rev": rev2, "v": 3}))
        .await;
    let (_, doc3) = server.get("/db/doc").await;
    assert!(doc3.get("_attachments").is_none());
    let (_, old) = server
        .get(&format!("/db/doc?rev={rev1}&attachments=true"))
        .await;
    assert_eq!(old["_attachments"]["hello.txt"]["data"], "aGVsbG8=");

    // A stub the parent does not have is refused.
    let bad_stub = server
        .put(
            "/db/doc",
            json!({"_rev": rev3, "_attachments": {"ghost.txt": {"stub": true}}}),
        )
        .await;
    assert_error(bad_stub, 412, "missing_stub");
}

#[tokio::test]
async fn attachment_digests_enter_the_revision() {
    let server = TestServer::start().await;
    server.create_db("db").await;
    let with =
        |data: &str| json!({"_attachments": {"a": {"content_type": "text/plain", "data": data}}});
    let a = server.put_doc("db", "one", with("aGVsbG8=")).await;
    let b = server.put_doc("db", "two", with("aGVsbG8=")).await;
    let c = server.put_doc("db", "three", with("d29ybGQ=")).await;
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[tokio::test]
async fn bad_inline_attachments() {
    let server = TestServer::start().await;
    server.create_db("db").await;
    let cases = [
        json!({"_attachments": {"a": {"data": "%%%"}}}),
        json!({"_attachments": {"a": "text"}}),
        json!({"_attachments": {"a": {"content_type": "text/plain"}}}),
        json!({"_attachments": {"_a": {"data": "aGk="}}}),
        json!({"_attachments": {"a": {"follows": true}}}),
    ];
    for doc in cases {
        let answer = server.put("/db/doc", doc.clone()).await;
        assert_error(answer, 400, "bad_request");
    }
}

#[tokio::test]
async fn standalone_attachments() {
    let server = TestServer::start().await;
    server.create_db("db").await;

    // PUT on a missing document creates it.
    let (status, body) = server
        .raw(
            Method::PUT,
            "/db/doc/notes/today.txt",
            "text/plain",
            "hello",
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let rev1 = body["rev"].as_str().expect("rev").to_owned();
    assert_rev(&rev1, 1);

    let response = server
        .client
        .get(server.url("/db/doc/notes/today.txt"))
        .send()
        .await
        .expect("get");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/plain");
    assert_eq!(response.headers()["etag"], "\"XUFAKrxLKna5cZ2REBfFkg==\"");
    assert_eq!(response.text().await.expect("text"), "hello");

    // An existing document needs its revision.
    let stale = server
        .raw(Method::PUT, "/db/doc/pic.png", "image/png", vec![0u8, 1, 2])
        .await;
    assert_error(stale, 409, "conflict");
    let (status, body) = server
        .raw(
            Method::PUT,
            &format!("/db/doc/pic.png?rev={rev1}"),
            "image/png",
            vec![0u8, 1, 2],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let rev2 = body["rev"].as_str().expect("rev").to_owned();
    let bytes = server
        .client
        .get(server.url("/db/doc/pic.png"))
        .send()
        .await
        .expect("get")
        .bytes()
        .await
        .expect("bytes");
    assert_eq!(&bytes[..], &[0u8, 1, 2]);
    let (_, doc) = server.get("/db/doc").await;
    assert_eq!(doc["_attachments"]["pic.png"]["content_type"], "image/png");
    assert_eq!(doc["_attachments"]["pic.png"]["revpos"], 2);
    assert_eq!(doc["_attachments"]["notes/today.txt"]["revpos"], 1);

    // The old revision still has only the first attachment.
    let old = server
        .client
        .get(server.url(&format!("/db/doc/pic.png?rev={rev1}")))
        .send()
        .await
        .expect("get");
    assert_eq!(old.status(), StatusCode::NOT_FOUND);

    assert_error(server.delete("/db/doc/pic.png").await, 409, "conflict");
    let (status, body) = server.delete(&format!("/db/doc/pic.png?rev={rev2}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_rev(body["rev"].as_str().expect("rev"), 3);
    assert_eq!(
        server.get("/db/doc/pic.png").await,
        (
            StatusCode::NOT_FOUND,
            json!({"error": "not_found", "reason": "Document is missing attachment"})
        )
    );
    assert_error(server.delete("/db/doc/pic.png").await, 404, "not_found");
    assert_error(
        server.delete("/db/nodoc/pic.png?rev=1-abc").await,
        404,
        "not_found",
    );
    assert_error(
        server
            .raw(Method::PUT, "/db/doc/_bad", "text/plain", "x")
            .await,
        400,
        "bad_request",
    );
    assert_error(server.get("/db/_local/x/att").await, 400, "bad_request");
}

#[tokio::test]
async fn design_document_attachments() {
    let server = TestServer::start().await;
    server.create_db("db").await;
    let (status, _) = server
        .raw(
            Method::PUT,
            "/db/_design/app/index.html",
            "text/html",
            "<p>hi</p>",
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let response = server
        .client
        .get(server.url("/db/_design/app/index.html"))
        .send()
        .await
        .expect("get");
    assert_eq!(response.headers()["content-type"], "text/html");
    assert_eq!(response.text().await.expect("text"), "<p>hi</p>");
}

#[tokio::test]
async fn attachment_size_limit() {
    let server = TestServer::start_with(|config| config.max_attachment_bytes = 8).await;
    server.create_db("db").await;
    let big = server
        .raw(
            Method::PUT,
            "/db/doc/big.bin",
            "application/octet-stream",
            vec![7u8; 9],
        )
        .await;
    assert_eq!(
        big,
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({"error": "attachment_too_large", "reason": "big.bin"})
        )
    );
    let fits = server
        .raw(
            Method::PUT,
            "/db/doc/ok.bin",
            "application/octet-stream",
            vec![7u8; 8],
        )
        .await;
    assert_eq!(fits.0, StatusCode::CREATED);
    let inline = server
        .put(
            "/db/other",
            json!({"_attachments": {"big.bin": {"data": "AAAAAAAAAAAAAAAA"}}}),
        )
        .await;
    assert_error(inline, 413, "attachment_too_large");
}
