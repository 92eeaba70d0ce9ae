//! `GET /{db}/_socket`: a WebSocket that carries one database's sync both
//! ways (a reference-server extension, advertised as the `websocket`
//! feature). Up, the client's requests, each tunnelled to the same handlers
//! as over HTTP (so a push is a `_bulk_docs` with the same revisions and
//! conflict rules) and answered on the socket; down, those answers, every
//! change committed after `since`, and heartbeats. A live client then needs
//! no HTTP request per write.
//!
//! Frames are JSON text:
//!
//! * up: `{"type":"request","id":N,"method":"POST","path":"_bulk_docs","query":{...},"body":{...}}`,
//!   `path` relative to the database (`""` is the database itself);
//! * down: `{"type":"response","id":N,"status":201,"body":...,"retryAfter":"30"?}`,
//!   `{"type":"change","row":{...}}` (a `_changes` row), `{"type":"heartbeat"}`,
//!   and `{"type":"error","error":CODE,"reason":...}` for a frame that cannot
//!   be read (`bad_frame`, `too_large`, `unknown_message`, `bad_request`):
//!   nothing of it is written, and the socket stays open.
//!
//! A socket acts as the user who opened it: each tunnelled request is
//! authorised as that user's HTTP request would be, and a socket whose user
//! may no longer read the database gets `{"type":"error","error":"forbidden"}`
//! and is closed.

use std::{collections::BTreeMap, time::Duration};

use axum::{
    body::{to_bytes, Body},
    extract::{
        ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade},
        State,
    },
    http::{header, Method, Request},
    response::Response,
    Router,
};
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tidesync_engine::protocol::wire::ChangeRow;
use tower::ServiceExt;

use super::{
    changes::{client_id, parse_heartbeat, parse_since, Since},
    extract::{DbTarget, QueryParams},
    routes, AppState,
};
use crate::{
    auth::{authenticate::SOCKET_PROTOCOL, UserCtx},
    error::ApiError,
    sessions::LiveSession,
    store::ChangesQuery,
};

/// Each socket's read and write buffer, in bytes.
const SOCKET_BUFFER: usize = 8 * 1024;

/// The heartbeat when the client asks for none.
const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(30);

/// A frame from the client.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum Up {
    /// One HTTP request on the database, tunnelled.
    Request {
        id: u64,
        method: String,
        path: String,
        #[serde(default)]
        query: BTreeMap<String, String>,
        #[serde(default)]
        body: Option<Value>,
    },
}

/// A frame to the client.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum Down<'a> {
    Response {
        id: u64,
        status: u16,
        body: Value,
        #[serde(rename = "retryAfter", skip_serializing_if = "Option::is_none")]
        retry_after: Option<String>,
    },
    Change {
        row: &'a ChangeRow,
    },
    Heartbeat,
    Error {
        error: &'static str,
        reason: String,
    },
}

impl Down<'_> {
    fn frame(&self) -> Message {
        Message::Text(Utf8Bytes::from(
            serde_json::to_string(self).unwrap_or_default(),
        ))
    }
}

/// `GET /{db}/_socket?since=N|now&heartbeat=MS&client_id=ID`: upgrades to
/// the socket once the database is known to exist and the session fits
/// under `--max-live-feeds` (a socket is a live feed).
pub async fn open(
    State(state): State<AppState>,
    DbTarget(db): DbTarget,
    query: QueryParams,
    user: UserCtx,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    if !state.websocket {
        return Err(ApiError::missing());
    }
    let since = parse_since(&query)?;
    let heartbeat = parse_heartbeat(&query)?.unwrap_or(DEFAULT_HEARTBEAT);
    let update_seq = state.store.update_seq(&db).await?;
    let since = match since {
        Since::Seq(seq) => seq,
        Since::Now => update_seq,
    };
    let session = state
        .sessions
        .open_live(client_id(&query), &db, "websocket")?;
    // Frames up to twice the request limit are read and refused with an
    // error frame; larger ones end the socket.
    let limit = state.limits.max_request_bytes;
    // Small buffers: a thousand sockets that mostly idle should not each
    // hold the library's 128 KiB default.
    // A client that offered `tidesync` (with its credentials beside it) is
    // answered with it, as a browser requires of an offered subprotocol.
    Ok(upgrade
        .protocols([SOCKET_PROTOCOL])
        .read_buffer_size(SOCKET_BUFFER)
        .write_buffer_size(SOCKET_BUFFER)
        .max_message_size(limit.saturating_mul(2))
        .on_upgrade(move |socket| {
            let channel = Channel {
                tunnel: None,
                user,
                state,
                db,
                since,
                heartbeat,
                limit,
                session,
            };
            channel.run(socket)
        }))
}

/// One open socket.
struct Channel {
    state: AppState,
    /// The routes requests are tunnelled to, built at the socket's first
    /// request (per socket: the state must not hold its own router; a
    /// socket that only listens never builds one).
    tunnel: Option<Router>,
    /// Who opened the socket: each tunnelled request is theirs, and is
    /// authorised as it would be over HTTP.
    user: UserCtx,
    db: String,
    since: u64,
    heartbeat: Duration,
    limit: usize,
    session: LiveSession,
}

impl Channel {
    async fn run(mut self, socket: WebSocket) {
        let (mut sink, mut stream) = socket.split();
        let mut commits = self.state.store.notifier().subscribe(&self.db);
        let mut shutdown = self.state.shutdown.clone();
        commits.mark_changed();
        loop {
            let frames = tokio::select! {
                incoming = stream.next() => match incoming {
                    Some(Ok(Message::Text(text))) => vec![self.answer(text.as_str()).await],
                    Some(Ok(Message::Binary(_))) => vec![refusal("bad_frame", "binary frames are not read; send JSON text".into())],
                    Some(Ok(_)) => continue, // ping, pong: answered by the library
                    Some(Err(_)) | None => break,
                },
                changed = commits.changed() => {
                    if changed.is_err() {
                        break; // the database went away
                    }
                    if !self.state.auth.may_read(&self.db, &self.user) {
                        let reason = "You may no longer read this database.".to_owned();
                        let _ = sink.send(refusal("forbidden", reason)).await;
                        break;
                    }
                    match self.changes().await {
                        Some(frames) => frames,
                        None => break,
                    }
                }
                () = tokio::time::sleep(self.heartbeat) => vec![Down::Heartbeat.frame()],
                _ = shutdown.changed() => break,
            };
            for frame in frames {
                if sink.send(frame).await.is_err() {
                    return;
                }
            }
            self.session.touch();
        }
        let _ = sink.close().await;
    }

    /// The rows committed since the last ones sent, as change frames.
    async fn changes(&mut self) -> Option<Vec<Message>> {
        let query = ChangesQuery {
            since: self.since,
            ..ChangesQuery::default()
        };
        let page = self.state.store.changes(&self.db, query).await.ok()?;
        self.since = page.last_seq;
        Some(
            page.rows
                .iter()
                .map(|row| Down::Change { row }.frame())
                .collect(),
        )
    }

    /// The answer to one text frame.
    async fn answer(&mut self, text: &str) -> Message {
        if text.len() > self.limit {
            let reason = format!(
                "a frame of {} bytes; the most is {}",
                text.len(),
                self.limit
            );
            return refusal("too_large", reason);
        }
        let frame: Value = match serde_json::from_str(text) {
            Ok(frame) => frame,
            Err(err) => return refusal("bad_frame", format!("not JSON: {err}")),
        };
        let known = frame.get("type").and_then(Value::as_str) == Some("request");
        if !known {
            let reason = format!(
                "unknown message type {}",
                frame.get("type").unwrap_or(&Value::Null)
            );
            return refusal("unknown_message", reason);
        }
        let Up::Request {
            id,
            method,
            path,
            query,
            body,
        } = match serde_json::from_value(frame) {
            Ok(up) => up,
            Err(err) => return refusal("bad_request", format!("a request frame: {err}")),
        };
        match self.tunnelled(&method, &path, &query, body).await {
            Ok((status, body, retry_after)) => Down::Response {
                id,
                status,
                body,
                retry_after,
            }
            .frame(),
            Err(reason) => refusal("bad_request", reason),
        }
    }

    /// Runs one request on this database through the HTTP routes.
    async fn tunnelled(
        &mut self,
        method: &str,
        path: &str,
        query: &BTreeMap<String, String>,
        body: Option<Value>,
    ) -> Result<(u16, Value, Option<String>), String> {
        let method = match method {
            "GET" => Method::GET,
            "POST" => Method::POST,
            "PUT" => Method::PUT,
            "DELETE" => Method::DELETE,
            other => return Err(format!("method {other:?}: GET, POST, PUT or DELETE")),
        };
        let escapes = path.starts_with('/')
            || path.split('/').any(|part| part == ".." || part == ".")
            || path.contains(['?', '#', '\\']);
        if escapes || path == "_socket" {
            return Err(format!("path {path:?}: a path inside this database"));
        }
        if query.get("feed").is_some_and(|feed| feed != "normal") {
            return Err("a waiting _changes feed: the socket carries changes itself".into());
        }
        let mut uri = format!("/{}", encode(&self.db));
        if !path.is_empty() {
            uri.push('/');
            uri.push_str(path);
        }
        for (i, (key, value)) in query.iter().enumerate() {
            uri.push(if i == 0 { '?' } else { '&' });
            uri.push_str(&encode(key));
            uri.push('=');
            uri.push_str(&encode(value));
        }
        let mut request = Request::builder().method(method).uri(uri);
        let body = match body {
            Some(value) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(serde_json::to_vec(&value).map_err(|e| e.to_string())?)
            }
            None => Body::empty(),
        };
        let mut request = request.body(body).map_err(|e| e.to_string())?;
        request.extensions_mut().insert(self.user.clone());
        let state = self.state.clone();
        let tunnel = self.tunnel.get_or_insert_with(|| routes(state));
        let response = tunnel
            .clone()
            .oneshot(request)
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = to_bytes(response.into_body(), usize::MAX)
            .await
            .map_err(|e| e.to_string())?;
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        Ok((status, body, retry_after))
    }
}

fn refusal(error: &'static str, reason: String) -> Message {
    Down::Error { error, reason }.frame()
}

/// Percent-encodes what is not unreserved, for a path segment or a query
/// value.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
