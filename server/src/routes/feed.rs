//! The waiting `_changes` feeds, streamed with CouchDB's exact framing.
//!
//! A task per request reads changes, then sleeps on the database's commit
//! notifier (never polling SQLite) with heartbeats and an idle timeout, and
//! writes framed chunks into the response body:
//!
//! * `longpoll`: newline heartbeats, then `{"results":[...],"last_seq":N,"pending":N}`
//!   as soon as there is a change (or empty results at the timeout);
//! * `continuous`: one JSON row per line, newline heartbeats, and a final
//!   `{"last_seq":N,"pending":N}` line when the timeout or `limit` ends it;
//! * `eventsource`: `data: <row>\nid: <seq>\n\n` per change and
//!   `event: heartbeat\ndata: \n\n` heartbeats.

use std::{convert::Infallible, time::Duration};

use axum::{
    body::Body,
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use futures_util::StreamExt;
use serde_json::Value;
use tidesync_engine::protocol::wire::{ChangeRow, ChangesEnd, ChangesResponse, Seq};
use tokio::{
    sync::{mpsc, watch},
    time::Instant,
};
use tokio_stream::wrappers::ReceiverStream;

use super::{changes::FeedKind, AppState};
use crate::{sessions::LiveSession, store::ChangesQuery};

/// How many framed chunks may wait for a slow client.
const BUFFERED_CHUNKS: usize = 16;

/// A waiting feed, with `since` already resolved.
#[derive(Debug, Clone)]
pub struct FeedPlan {
    /// The database.
    pub db: String,
    /// What to read each time.
    pub query: ChangesQuery,
    /// `Longpoll`, `Continuous` or `EventSource`.
    pub kind: FeedKind,
    /// Interval of keep-alive chunks while idle.
    pub heartbeat: Option<Duration>,
    /// How long to wait without a change before ending; `None` waits forever.
    pub timeout: Option<Duration>,
}

/// Starts the feed task and returns the streaming response; the task holds
/// the client's live `session` until it ends.
pub fn respond(state: AppState, plan: FeedPlan, session: LiveSession) -> Response {
    let content_type = match plan.kind {
        FeedKind::EventSource => "text/event-stream",
        _ => "application/json",
    };
    let (tx, rx) = mpsc::channel::<Bytes>(BUFFERED_CHUNKS);
    tokio::spawn(run(state, plan, tx, session));
    let body = Body::from_stream(ReceiverStream::new(rx).map(Ok::<Bytes, Infallible>));
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response()
}

/// Why the waiting loop stopped.
enum Wake {
    /// The database committed: read again.
    Commit,
    /// The idle timeout passed, the database went away or the server stops.
    End,
    /// The client went away: stop without a final chunk.
    Gone,
}

async fn run(state: AppState, plan: FeedPlan, tx: mpsc::Sender<Bytes>, session: LiveSession) {
    let mut commits = state.store.notifier().subscribe(&plan.db);
    let mut shutdown = state.shutdown.clone();
    let mut since = plan.query.since;
    let mut pending = 0;
    let mut sent: u64 = 0;
    let mut collected: Vec<ChangeRow> = Vec::new();
    let mut deadline = plan.timeout.map(|t| Instant::now() + t);
    loop {
        commits.borrow_and_update();
        let query = ChangesQuery {
            since,
            limit: plan.query.limit.map(|limit| limit.saturating_sub(sent)),
            ..plan.query.clone()
        };
        let page = match state.store.changes(&plan.db, query).await {
            Ok(page) => page,
            Err(err) => {
                tracing::debug!(db = %plan.db, error = %err, "changes feed ends");
                break;
            }
        };
        since = page.last_seq;
        pending = page.pending;
        if !page.rows.is_empty() {
            deadline = plan.timeout.map(|t| Instant::now() + t);
        }
        sent += page.rows.len() as u64;
        if plan.kind == FeedKind::Longpoll {
            collected.extend(page.rows);
            if !collected.is_empty() {
                break;
            }
        } else {
            for row in &page.rows {
                if tx.send(frame_row(plan.kind, row)).await.is_err() {
                    return;
                }
            }
            session.touch();
        }
        if plan.query.limit.is_some_and(|limit| sent >= limit) {
            break;
        }
        match wait(&plan, &mut commits, &mut shutdown, &tx, deadline, &session).await {
            Wake::Commit => continue,
            Wake::End => break,
            Wake::Gone => return,
        }
    }
    let last = match plan.kind {
        FeedKind::Longpoll | FeedKind::Normal => json_line(&ChangesResponse {
            results: collected,
            last_seq: Seq(Value::from(since)),
            pending,
        }),
        FeedKind::Continuous => json_line(&ChangesEnd {
            last_seq: Seq(Value::from(since)),
            pending,
        }),
        FeedKind::EventSource => return,
    };
    // The client may already be gone; nothing is left to do either way.
    let _ = tx.send(last).await;
}

/// Sleeps until a commit, sending heartbeats, until the deadline or shutdown.
async fn wait(
    plan: &FeedPlan,
    commits: &mut watch::Receiver<u64>,
    shutdown: &mut watch::Receiver<bool>,
    tx: &mpsc::Sender<Bytes>,
    deadline: Option<Instant>,
    session: &LiveSession,
) -> Wake {
    loop {
        if *shutdown.borrow() {
            return Wake::End;
        }
        let heartbeat = plan.heartbeat.unwrap_or(Duration::MAX);
        let sleep_until = deadline.unwrap_or_else(far_future);
        tokio::select! {
            changed = commits.changed() => {
                return if changed.is_ok() { Wake::Commit } else { Wake::End };
            }
            _ = tokio::time::sleep(heartbeat), if plan.heartbeat.is_some() => {
                if tx.send(heartbeat_chunk(plan.kind)).await.is_err() {
                    return Wake::Gone;
                }
                session.touch();
            }
            _ = tokio::time::sleep_until(sleep_until), if deadline.is_some() => return Wake::End,
            stopped = shutdown.changed() => {
                if stopped.is_err() {
                    return Wake::End;
                }
            }
            () = tx.closed() => return Wake::Gone,
        }
    }
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400 * 365)
}

fn frame_row(kind: FeedKind, row: &ChangeRow) -> Bytes {
    let json = serde_json::to_string(row).unwrap_or_default();
    match kind {
        FeedKind::EventSource => Bytes::from(format!("data: {json}\nid: {}\n\n", row.seq.0)),
        _ => Bytes::from(format!("{json}\n")),
    }
}

fn heartbeat_chunk(kind: FeedKind) -> Bytes {
    match kind {
        FeedKind::EventSource => Bytes::from_static(b"event: heartbeat\ndata: \n\n"),
        _ => Bytes::from_static(b"\n"),
    }
}

fn json_line<T: serde::Serialize>(value: &T) -> Bytes {
    let mut text = serde_json::to_string(value).unwrap_or_default();
    text.push('\n');
    Bytes::from(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tidesync_engine::protocol::wire::RevRef;

    #[test]
    fn framing() {
        let row = ChangeRow {
            seq: Seq(Value::from(7)),
            id: "a".into(),
            changes: vec![RevRef {
                rev: "1-abc".parse().expect("rev"),
            }],
            deleted: true,
            doc: None,
        };
        let expected_json = r#"{"seq":7,"id":"a","changes":[{"rev":"1-abc"}],"deleted":true}"#;
        assert_eq!(
            frame_row(FeedKind::Continuous, &row),
            format!("{expected_json}\n")
        );
        assert_eq!(
            frame_row(FeedKind::EventSource, &row),
            format!("data: {expected_json}\nid: 7\n\n")
        );
        assert_eq!(
            heartbeat_chunk(FeedKind::EventSource),
            "event: heartbeat\ndata: \n\n"
        );
        assert_eq!(heartbeat_chunk(FeedKind::Continuous), "\n");
    }
}
