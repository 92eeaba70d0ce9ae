//! Database endpoints: `GET/HEAD/PUT/DELETE /{db}`.

use axum::{extract::State, http::StatusCode, Json};
use tidesync_engine::{
    protocol::wire::{DbInfo, Ok as OkBody},
    validate_db_name,
};

use super::{
    extract::{DbTarget, QueryParams},
    AppState,
};
use crate::error::ApiError;

/// `GET /{db}` (and `HEAD`): document counts and the newest seq.
pub async fn info(
    State(state): State<AppState>,
    DbTarget(db): DbTarget,
) -> Result<Json<DbInfo>, ApiError> {
    Ok(Json(state.store.db_info(&db).await?))
}

/// `PUT /{db}`: 201 `{"ok":true}`, 412 when it exists, 400 for an illegal name.
pub async fn create(
    State(state): State<AppState>,
    DbTarget(db): DbTarget,
) -> Result<(StatusCode, Json<OkBody>), ApiError> {
    validate_db_name(&db)?;
    state.store.create_db(&db).await?;
    tracing::info!(db = %db, "database created");
    Ok((StatusCode::CREATED, Json(OkBody { ok: true })))
}

/// `DELETE /{db}`: 200 `{"ok":true}`. A `?rev=` is refused, as CouchDB does,
/// since it means the caller meant to delete a document.
pub async fn delete(
    State(state): State<AppState>,
    DbTarget(db): DbTarget,
    query: QueryParams,
) -> Result<Json<OkBody>, ApiError> {
    if query.get("rev").is_some() {
        return Err(ApiError::BadRequest(
            "You tried to DELETE a database with a ?=rev parameter. \
             Did you mean to DELETE a document instead?"
                .to_owned(),
        ));
    }
    state.store.delete_db(&db).await?;
    tracing::info!(db = %db, "database deleted");
    Ok(Json(OkBody { ok: true }))
}
