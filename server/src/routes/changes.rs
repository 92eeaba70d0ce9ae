//! `GET/POST /{db}/_changes`: parameters and the `normal` feed; the waiting
//! feeds (`longpoll`, `continuous`, `eventsource`) live in [`super::feed`].

use std::time::Duration;

use axum::{
    body::Body,
    extract::State,
    http::HeaderMap,
    response::{IntoResponse, Response},
    Json,
};
use serde_json::Value;
use tidesync_engine::protocol::wire::{ChangesResponse, Seq};

use super::{
    body::{parse_object, read_limited, require_json},
    extract::{DbTarget, QueryParams},
    feed::{self, FeedPlan},
    AppState,
};
use crate::{
    error::ApiError,
    sessions::CLIENT_PARAM,
    store::{ChangesQuery, ReadOptions},
};

/// CouchDB's `changes_timeout`: the longest a feed waits without heartbeats.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(60);

/// How the feed is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedKind {
    /// One JSON object with the changes so far.
    Normal,
    /// One JSON object, sent once there is at least one change.
    Longpoll,
    /// One JSON row per line, until the timeout.
    Continuous,
    /// Server-sent events, until the timeout.
    EventSource,
}

impl FeedKind {
    /// The `feed` parameter that asks for it (`live` reads as `continuous`).
    pub fn name(self) -> &'static str {
        match self {
            FeedKind::Normal => "normal",
            FeedKind::Longpoll => "longpoll",
            FeedKind::Continuous => "continuous",
            FeedKind::EventSource => "eventsource",
        }
    }
}

/// `since` before it is resolved against the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Since {
    /// After this sequence.
    Seq(u64),
    /// After the last change when the feed opens.
    Now,
}

/// `GET /{db}/_changes`.
pub async fn get(
    State(state): State<AppState>,
    DbTarget(db): DbTarget,
    query: QueryParams,
) -> Result<Response, ApiError> {
    let doc_ids = match query.json(&["doc_ids"])? {
        None => None,
        Some(value) => Some(doc_id_list(value)?),
    };
    handle(state, db, &query, doc_ids).await
}

/// `POST /{db}/_changes`, with `{"doc_ids": [...]}` for `filter=_doc_ids`.
pub async fn post(
    State(state): State<AppState>,
    DbTarget(db): DbTarget,
    query: QueryParams,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    require_json(&headers)?;
    let bytes = read_limited(&headers, body, state.limits.max_request_bytes).await?;
    let doc_ids = if bytes.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        parse_object(&bytes)?
            .remove("doc_ids")
            .map(doc_id_list)
            .transpose()?
    };
    handle(state, db, &query, doc_ids).await
}

/// The id a client gave itself (`client_id`), when it is a short printable
/// token; anything else counts as none.
pub(super) fn client_id(query: &QueryParams) -> Option<String> {
    let id = query.get(CLIENT_PARAM)?;
    let fits = !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic());
    fits.then(|| id.to_owned())
}

async fn handle(
    state: AppState,
    db: String,
    query: &QueryParams,
    doc_ids: Option<Vec<String>>,
) -> Result<Response, ApiError> {
    let kind = feed_kind(query)?;
    let since = parse_since(query)?;
    let all_leaves = match query.get("style") {
        None | Some("main_only") => false,
        Some("all_docs") => true,
        Some(other) => {
            return Err(ApiError::BadRequest(format!("Invalid style: {other:?}")));
        }
    };
    let doc_ids = match query.get("filter") {
        None => None,
        Some("_doc_ids") => Some(doc_ids.ok_or_else(|| {
            ApiError::BadRequest("filter=_doc_ids needs a `doc_ids` list".to_owned())
        })?),
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "Unsupported filter {other:?}; only _doc_ids is available"
            )))
        }
    };
    let heartbeat = parse_heartbeat(query)?;
    let timeout = match (query.uint("timeout")?, heartbeat) {
        (Some(ms), Some(_)) => Some(Duration::from_millis(ms)),
        (Some(ms), None) => Some(Duration::from_millis(ms).min(MAX_TIMEOUT)),
        (None, Some(_)) => None,
        (None, None) => Some(MAX_TIMEOUT),
    };

    // Checks the database exists (404 before any streaming starts).
    let update_seq = state.store.update_seq(&db).await?;
    let changes_query = ChangesQuery {
        since: match since {
            Since::Seq(seq) => seq,
            Since::Now => update_seq,
        },
        limit: query.uint("limit")?,
        descending: query.flag("descending", false)?,
        include_docs: query.flag("include_docs", false)?,
        all_leaves,
        doc_options: ReadOptions {
            attachments: query.flag("attachments", false)?,
            conflicts: query.flag("conflicts", false)?,
            ..ReadOptions::default()
        },
        doc_ids,
    };

    let client = client_id(query);
    if kind == FeedKind::Normal || changes_query.descending {
        if let Some(client) = client {
            state.sessions.polled(client, &db);
        }
        let page = state.store.changes(&db, changes_query).await?;
        return Ok(Json(ChangesResponse {
            results: page.rows,
            last_seq: Seq(Value::from(page.last_seq)),
            pending: page.pending,
        })
        .into_response());
    }
    let session = state.sessions.open_live(client, &db, kind.name())?;
    let plan = FeedPlan {
        db,
        query: changes_query,
        kind,
        heartbeat,
        timeout,
    };
    Ok(feed::respond(state, plan, session))
}

fn feed_kind(query: &QueryParams) -> Result<FeedKind, ApiError> {
    match query.get("feed") {
        None | Some("normal") => Ok(FeedKind::Normal),
        Some("longpoll") => Ok(FeedKind::Longpoll),
        Some("continuous" | "live") => Ok(FeedKind::Continuous),
        Some("eventsource") => Ok(FeedKind::EventSource),
        Some(_) => Err(ApiError::BadRequest(
            "Supported `feed` types: normal, continuous, live, longpoll, eventsource".to_owned(),
        )),
    }
}

pub(super) fn parse_since(query: &QueryParams) -> Result<Since, ApiError> {
    match query.get("since") {
        None => Ok(Since::Seq(0)),
        Some("now") => Ok(Since::Now),
        Some(text) => text
            .trim_matches('"')
            .parse::<u64>()
            .map(Since::Seq)
            .map_err(|_| {
                ApiError::BadRequest("Malformed sequence supplied in 'since' parameter.".to_owned())
            }),
    }
}

pub(super) fn parse_heartbeat(query: &QueryParams) -> Result<Option<Duration>, ApiError> {
    match query.get("heartbeat") {
        None | Some("false") => Ok(None),
        Some("true") => Ok(Some(MAX_TIMEOUT)),
        Some(text) => match text.parse::<u64>() {
            Ok(ms) if ms > 0 => Ok(Some(Duration::from_millis(ms))),
            _ => Err(ApiError::QueryParse(format!(
                "Invalid heartbeat value {text:?}: expected milliseconds or true"
            ))),
        },
    }
}

fn doc_id_list(value: Value) -> Result<Vec<String>, ApiError> {
    let refuse =
        || ApiError::BadRequest("`doc_ids` filter parameter is not a list of doc ids.".to_owned());
    match value {
        Value::Array(items) => items
            .into_iter()
            .map(|item| match item {
                Value::String(id) => Ok(id),
                _ => Err(refuse()),
            })
            .collect(),
        _ => Err(refuse()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> QueryParams {
        QueryParams::from_pairs(pairs)
    }

    #[test]
    fn parses_feed_parameters() {
        assert_eq!(
            feed_kind(&params(&[("feed", "live")])),
            Ok(FeedKind::Continuous)
        );
        assert!(feed_kind(&params(&[("feed", "x")])).is_err());
        assert_eq!(parse_since(&params(&[("since", "now")])), Ok(Since::Now));
        assert_eq!(parse_since(&params(&[("since", "12")])), Ok(Since::Seq(12)));
        assert!(parse_since(&params(&[("since", "abc")])).is_err());
        assert_eq!(
            parse_heartbeat(&params(&[("heartbeat", "true")])),
            Ok(Some(MAX_TIMEOUT))
        );
        assert_eq!(
            parse_heartbeat(&params(&[("heartbeat", "250")])),
            Ok(Some(Duration::from_millis(250)))
        );
        assert!(parse_heartbeat(&params(&[("heartbeat", "0")])).is_err());
        assert!(doc_id_list(serde_json::json!(["a", 1])).is_err());
    }
}
