//! Per-database upkeep: `GET/PUT /{db}/_revs_limit`, `POST /{db}/_compact`
//! and `POST /{db}/_ensure_full_commit`.

use axum::{
    body::Body,
    extract::State,
    http::{HeaderMap, StatusCode},
    Json,
};
use serde_json::{json, Value};

use super::{
    body::{parse_json, read_limited, require_json},
    extract::DbTarget,
    AppState,
};
use crate::error::ApiError;

/// `GET /{db}/_revs_limit`: the number alone, as CouchDB answers.
pub async fn get_revs_limit(
    State(state): State<AppState>,
    DbTarget(db): DbTarget,
) -> Result<Json<u64>, ApiError> {
    Ok(Json(state.store.revs_limit(&db).await?))
}

/// `PUT /{db}/_revs_limit` with a positive integer body. Anything else is a
/// 400 (CouchDB answers 500 `function_clause` to a number it cannot use).
pub async fn put_revs_limit(
    State(state): State<AppState>,
    DbTarget(db): DbTarget,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let bytes = read_limited(&headers, body, state.limits.max_request_bytes).await?;
    let limit = parse_json(&bytes)?
        .as_u64()
        .filter(|limit| *limit > 0)
        .ok_or_else(|| ApiError::BadRequest("_revs_limit must be a positive integer".to_owned()))?;
    state.store.set_revs_limit(&db, limit).await?;
    Ok(Json(json!({"ok": true})))
}

/// `POST /{db}/_compact`: done before answering, though CouchDB's 202 is kept.
pub async fn compact(
    State(state): State<AppState>,
    DbTarget(db): DbTarget,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    require_json(&headers)?;
    state.store.compact(&db).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({"ok": true}))))
}

/// `POST /{db}/_ensure_full_commit`, which CouchDB's replicator calls before
/// each checkpoint. Every commit here is durable already (`synchronous=FULL`),
/// so it only checks the database exists and answers as CouchDB does.
pub async fn ensure_full_commit(
    State(state): State<AppState>,
    DbTarget(db): DbTarget,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    state.store.update_seq(&db).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"ok": true, "instance_start_time": "0"})),
    ))
}
