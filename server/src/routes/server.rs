//! Server-level endpoints: `GET /`, `GET /_up`, `GET /_all_dbs`, `GET /_uuids`,
//! `GET /_active_tasks`.

use axum::{
    extract::State,
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
    Json,
};
use tidesync_engine::protocol::wire::{features, Uuids, Vendor, Welcome};

use super::{extract::QueryParams, AppState};
use crate::{edit::new_uuid, error::ApiError, sessions::SessionInfo};

/// What this server offers beyond plain CouchDB reads and writes, listed in
/// `GET /` so clients can choose transports without probing.
pub const FEATURES: &[&str] = &[
    features::CHANGES_LONGPOLL,
    features::CHANGES_CONTINUOUS,
    features::CHANGES_EVENTSOURCE,
    features::ATTACHMENTS,
    features::BULK_GET,
    features::DETERMINISTIC_REVS,
    features::DOC_IDS_FILTER,
    features::LOCAL_DOCS,
    features::SESSIONS,
    features::WEBSOCKET,
];

/// The most uuids one `GET /_uuids` hands out (CouchDB's default `max_count`).
const MAX_UUIDS: u64 = 1000;

/// `GET /`: the welcome document.
pub async fn welcome(State(state): State<AppState>) -> Json<Welcome> {
    let offered = |f: &&&str| state.websocket || **f != features::WEBSOCKET;
    Json(Welcome {
        couchdb: "Welcome".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        vendor: Some(Vendor {
            name: "tidesync".to_owned(),
        }),
        features: FEATURES
            .iter()
            .filter(offered)
            .map(|f| (*f).to_owned())
            .collect(),
    })
}

/// `GET /_active_tasks`: the clients syncing now, one CouchDB-style task
/// each (`type: "tidesync_sync"`, with `database`, `client`, `transport`,
/// `started_on` and `updated_on`). Open to any caller until the server has
/// admins (it shows database names and client ids, nothing of the data).
pub async fn active_tasks(State(state): State<AppState>) -> Json<Vec<SessionInfo>> {
    Json(state.sessions.list())
}

/// `GET /_up`: a health check for scripts and load balancers.
pub async fn up() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok"}))
}

/// `GET /_all_dbs`: every database name, sorted.
pub async fn all_dbs(State(state): State<AppState>) -> Result<Json<Vec<String>>, ApiError> {
    Ok(Json(state.store.all_dbs().await?))
}

/// `GET /_uuids?count=N`: fresh 32-hex-digit identifiers, never cached.
pub async fn uuids(query: QueryParams) -> Result<Response, ApiError> {
    let count = match query.get("count") {
        None => 1,
        Some(text) => text
            .parse::<u64>()
            .map_err(|_| ApiError::BadRequest("count must be a positive integer".to_owned()))?,
    };
    if count > MAX_UUIDS {
        return Err(ApiError::BadRequest("count parameter too large".to_owned()));
    }
    let uuids = (0..count).map(|_| new_uuid()).collect();
    let mut response = Json(Uuids { uuids }).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("must-revalidate, no-cache"),
    );
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(response)
}
