//! The engine's sync scenarios (`tidesync_engine::scenarios`) against the
//! reference server over HTTP: the same suite the engine's fake server passes,
//! so the two stay the same CouchDB as far as the client can tell.

mod common;

use std::cell::Cell;

use common::TestServer;
use tidesync_engine::{
    client::Transport,
    http::{HttpRequest, HttpResponse, TransportError},
};

/// One remote database of the test server, reached as the SDK reaches it.
struct Database {
    client: reqwest::Client,
    url: String,
}

impl Transport for Database {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let url = if request.path.is_empty() {
            self.url.clone()
        } else {
            format!("{}/{}", self.url, request.path)
        };
        let method = reqwest::Method::from_bytes(request.method.as_str().as_bytes())
            .map_err(|e| TransportError::Network(e.to_string()))?;
        let mut builder = self.client.request(method, url).query(&request.query);
        if let Some(body) = request.body {
            builder = builder
                .header("content-type", "application/json")
                .body(body);
        }
        let response = builder
            .send()
            .await
            .map_err(|e| TransportError::Network(e.to_string()))?;
        let status = response.status().as_u16();
        let body = response
            .text()
            .await
            .map_err(|e| TransportError::Network(e.to_string()))?;
        Ok(HttpResponse {
            status,
            body,
            retry_after_ms: None,
        })
    }
}

#[tokio::test]
async fn the_reference_server_passes_the_engines_sync_scenarios() {
    let server = TestServer::start().await;
    let count = Cell::new(0);
    tidesync_engine::scenarios::run_all(|| {
        count.set(count.get() + 1);
        let url = server.url(&format!("/scenario-{}", count.get()));
        let client = server.client.clone();
        async move { Database { client, url } }
    })
    .await;
    assert_eq!(count.get(), 7, "every scenario ran");
    server.shutdown().await;
}
