//! Shared by the HTTP tests: a server running in-process on an ephemeral port
//! with its data in a temporary directory, and small request helpers.

#![allow(dead_code)]

pub mod auth;
pub mod hostile;
pub mod trees;

use std::{path::Path, time::Duration};

use reqwest::{Client, Method, StatusCode};
use serde_json::Value;
use tempfile::TempDir;
use tidesync_server::{Config, Server};
use tokio::{sync::oneshot, task::JoinHandle};

/// A running server; stops when dropped.
pub struct TestServer {
    pub base: String,
    pub client: Client,
    pub dir: TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl TestServer {
    /// A server with default settings.
    pub async fn start() -> TestServer {
        TestServer::start_with(|_| {}).await
    }

    /// A server whose configuration `adjust` may change first.
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> TestServer {
        let dir = tempfile::tempdir().expect("temporary directory");
        let mut config = Config::ephemeral(dir.path().join("data"));
        adjust(&mut config);
        let server = Server::bind(&config).await.expect("server binds");
        let base = format!("http://{}", server.local_addr());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.await;
            };
            server.run(shutdown).await.expect("server runs");
        });
        TestServer {
            base,
            client: Client::new(),
            dir,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// A server storing its data in `data` (which outlives it), as
    /// `adjust` configures it: for restarts over the same data.
    pub async fn start_at(data: &Path, adjust: impl FnOnce(&mut Config)) -> TestServer {
        let data = data.to_path_buf();
        TestServer::start_with(move |config| {
            config.data_dir = data;
            adjust(config);
        })
        .await
    }

    /// Stops the server and waits until it has.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(15), task)
                .await
                .expect("server stops in time")
                .expect("server task");
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Sends a request with an optional JSON body and returns status and JSON.
    pub async fn json(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.client.request(method, self.url(path));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status();
        let text = response.text().await.expect("body");
        let value = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON body, got {text:?}"))
        };
        (status, value)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.json(Method::GET, path, None).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.json(Method::PUT, path, Some(body)).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.json(Method::POST, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.json(Method::DELETE, path, None).await
    }

    /// Sends a raw body with the given content type.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> (StatusCode, Value) {
        let response = self
            .client
            .request(method, self.url(path))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("request sent");
        let status = response.status();
        let text = response.text().await.expect("body");
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }

    /// Creates a database, asserting success.
    pub async fn create_db(&self, name: &str) {
        let (status, body) = self.put(&format!("/{name}"), Value::Null).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    /// Writes a document, asserting success, and returns its new revision.
    pub async fn put_doc(&self, db: &str, id: &str, doc: Value) -> String {
        let (status, body) = self.put(&format!("/{db}/{id}"), doc).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["rev"].as_str().expect("rev").to_owned()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Asserts a CouchDB error answer.
pub fn assert_error(actual: (StatusCode, Value), status: u16, error: &str) {
    assert_eq!(actual.0.as_u16(), status, "status of {}", actual.1);
    assert_eq!(actual.1["error"], error, "error name in {}", actual.1);
}

/// Asserts `N-<32 lowercase hex>` with the given generation.
pub fn assert_rev(rev: &str, generation: u64) {
    let (n, hash) = rev.split_once('-').expect("N-hash");
    assert_eq!(n, generation.to_string(), "generation of {rev}");
    assert_eq!(hash.len(), 32, "hash length of {rev}");
    assert!(
        hash.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
        "{rev}"
    );
}

/// Reads a streaming response until `done` holds for the text so far, or
/// until the stream ends or `limit` passes; returns the text.
pub async fn read_stream_until(
    response: &mut reqwest::Response,
    limit: Duration,
    done: impl Fn(&str) -> bool,
) -> String {
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + limit;
    while !done(&text) {
        match tokio::time::timeout_at(deadline, response.chunk()).await {
            Ok(Ok(Some(chunk))) => text.push_str(&String::from_utf8_lossy(&chunk)),
            Ok(Ok(None)) | Err(_) => break,
            Ok(Err(err)) => panic!("stream failed: {err}"),
        }
    }
    text
}
