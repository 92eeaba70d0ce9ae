//! CORS for browser clients and the static demo folders.

mod common;

use common::TestServer;
use reqwest::{Method, StatusCode};

async fn preflight(server: &TestServer, origin: &str) -> reqwest::Response {
    server
        .client
        .request(Method::OPTIONS, server.url("/db/doc"))
        .header("origin", origin)
        .header("access-control-request-method", "PUT")
        .header("access-control-request-headers", "content-type,if-match")
        .send()
        .await
        .expect("preflight")
}

#[tokio::test]
async fn local_origins_are_allowed_by_default() {
    let server = TestServer::start().await;
    let response = preflight(&server, "http://localhost:8080").await;
    assert!(response.status().is_success());
    let headers = response.headers();
    assert_eq!(
        headers["access-control-allow-origin"],
        "http://localhost:8080"
    );
    assert_eq!(headers["access-control-allow-credentials"], "true");
    let methods = headers["access-control-allow-methods"]
        .to_str()
        .expect("methods");
    for method in ["GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS"] {
        assert!(methods.contains(method), "{method} in {methods}");
    }
    let allowed = headers["access-control-allow-headers"]
        .to_str()
        .expect("headers")
        .to_ascii_lowercase();
    for header in ["content-type", "accept", "authorization", "if-match"] {
        assert!(allowed.contains(header), "{header} in {allowed}");
    }

    let response = server
        .client
        .get(server.url("/"))
        .header("origin", "http://127.0.0.1:3000")
        .send()
        .await
        .expect("get");
    let headers = response.headers();
    assert_eq!(
        headers["access-control-allow-origin"],
        "http://127.0.0.1:3000"
    );
    assert_eq!(headers["access-control-expose-headers"], "ETag");
}

#[tokio::test]
async fn other_origins_get_no_cors_headers() {
    let server = TestServer::start().await;
    for origin in [
        "https://evil.example",
        "http://localhost.evil.example",
        "null",
    ] {
        let response = preflight(&server, origin).await;
        assert!(
            response
                .headers()
                .get("access-control-allow-origin")
                .is_none(),
            "{origin}"
        );
        assert!(response
            .headers()
            .get("access-control-allow-credentials")
            .is_none());
        let response = server
            .client
            .get(server.url("/"))
            .header("origin", origin)
            .send()
            .await
            .expect("get");
        assert!(response
            .headers()
            .get("access-control-allow-origin")
            .is_none());
    }
}

#[tokio::test]
async fn configured_origins_replace_the_defaults() {
    let server = TestServer::start_with(|config| {
        config.cors_origins = vec!["https://app.example".to_owned()];
    })
    .await;
    let response = preflight(&server, "https://app.example").await;
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    assert_eq!(
        response.headers()["access-control-allow-credentials"],
        "true"
    );
    let response = preflight(&server, "http://localhost:8080").await;
    assert!(response
        .headers()
        .get("access-control-allow-origin")
        .is_none());
}

#[tokio::test]
async fn static_folders_are_served_with_the_right_types() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let demo = dir.path().join("www");
    let pkg = dir.path().join("pkg");
    std::fs::create_dir_all(demo.join("css")).expect("demo dir");
    std::fs::create_dir_all(&pkg).expect("pkg dir");
    std::fs::write(demo.join("index.html"), "<h1>demo</h1>").expect("write");
    std::fs::write(demo.join("app.mjs"), "export {}").expect("write");
    std::fs::write(demo.join("css/site.css"), "body{}").expect("write");
    std::fs::write(dir.path().join("secret.txt"), "secret").expect("write");
    std::fs::write(pkg.join("tidesync_bg.wasm"), [0u8, 97, 115, 109]).expect("write");
    std::fs::write(pkg.join("tidesync.js"), "export default 1").expect("write");

    let www = demo.clone();
    let pkg_dir = pkg.clone();
    let server = TestServer::start_with(move |config| {
        config.static_dir = www;
        config.pkg_dir = pkg_dir;
    })
    .await;
    let get = |path: &'static str| {
        let client = server.client.clone();
        let url = server.url(path);
        async move { client.get(url).send().await.expect("get") }
    };

    let index = get("/_demo/").await;
    assert_eq!(index.status(), StatusCode::OK);
    assert!(index.headers()["content-type"]
        .to_str()
        .expect("type")
        .starts_with("text/html"));
    assert_eq!(index.text().await.expect("text"), "<h1>demo</h1>");
    assert_eq!(
        get("/_demo/app.mjs").await.headers()["content-type"],
        "text/javascript"
    );
    assert_eq!(
        get("/_demo/css/site.css").await.headers()["content-type"],
        "text/css"
    );
    let wasm = get("/_demo/pkg/tidesync_bg.wasm").await;
    assert_eq!(wasm.headers()["content-type"], "application/wasm");
    assert_eq!(
        &wasm.bytes().await.expect("bytes")[..],
        &[0u8, 97, 115, 109]
    );
    assert_eq!(
        get("/_demo/pkg/tidesync.js").await.headers()["content-type"],
        "text/javascript"
    );

    assert_eq!(
        get("/_demo/missing.js").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get("/_demo/%2e%2e%2fsecret.txt").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get("/_demo/pkg/%2e%2e%2f%2e%2e%2fsecret.txt")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let redirect = no_redirects
        .get(server.url("/_demo"))
        .send()
        .await
        .expect("get");
    assert!(redirect.status().is_redirection());
    assert_eq!(redirect.headers()["location"], "/_demo/");
}

#[tokio::test]
async fn missing_static_folders_answer_404() {
    let server = TestServer::start_with(|config| {
        config.static_dir = "/nonexistent/tidesync-demo".into();
        config.pkg_dir = "/nonexistent/tidesync-pkg".into();
    })
    .await;
    let response = server
        .client
        .get(server.url("/_demo/"))
        .send()
        .await
        .expect("get");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = server
        .client
        .get(server.url("/_demo/pkg/tidesync.js"))
        .send()
        .await
        .expect("get");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    // The server itself is fine.
    assert_eq!(server.get("/").await.0, StatusCode::OK);
}
