//! `GET/PUT /{db}/_security`: who administers a database and who may use it.

use axum::{body::Body, extract::State, http::HeaderMap, Json};
use tidesync_engine::protocol::wire::Ok as OkBody;

use super::{
    body::{parse_json, read_limited},
    extract::DbTarget,
    AppState,
};
use crate::{auth::security::Security, error::ApiError};

/// `GET /{db}/_security`: the stored object, or CouchDB 3's admin-only
/// default when none was stored.
pub async fn get(
    State(state): State<AppState>,
    DbTarget(db): DbTarget,
) -> Result<Json<Security>, ApiError> {
    if !state.store.db_exists(&db).await? {
        return Err(ApiError::no_db());
    }
    Ok(Json(state.auth.security(&db).as_ref().clone()))
}

/// `PUT /{db}/_security`: replaces the object; `{}` opens the database to
/// everyone, as in CouchDB.
pub async fn put(
    State(state): State<AppState>,
    DbTarget(db): DbTarget,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<OkBody>, ApiError> {
    let bytes = read_limited(&headers, body, state.limits.max_request_bytes).await?;
    let security = Security::from_json(parse_json(&bytes)?)?;
    state.store.set_security(&db, security).await?;
    tracing::info!(db = %db, "_security changed");
    Ok(Json(OkBody { ok: true }))
}
