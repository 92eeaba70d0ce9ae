//! `POST /{db}/_revs_diff`: the first question a replicator asks a target.

use axum::{body::Body, extract::State, http::HeaderMap, Json};
use serde_json::{Map, Value};

use super::{
    body::{parse_object, read_limited, require_json},
    extract::DbTarget,
    AppState,
};
use crate::{edit::parse_rev, error::ApiError};

/// `{"doc": ["1-a", ...], ...}` in, `{"doc": {"missing": [...],
/// "possible_ancestors": [...]}}` out. A value that is not a list of
/// revisions is a 400 (CouchDB answers 500 `function_clause` there).
pub async fn post(
    State(state): State<AppState>,
    DbTarget(db): DbTarget,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Map<String, Value>>, ApiError> {
    require_json(&headers)?;
    let bytes = read_limited(&headers, body, state.limits.max_request_bytes).await?;
    let request = parse_object(&bytes)?;
    let mut offered = Vec::with_capacity(request.len());
    for (id, revs) in request {
        let Value::Array(revs) = revs else {
            return Err(ApiError::BadRequest(format!(
                "The revisions of {id:?} must be a list of revisions"
            )));
        };
        let revs = revs
            .iter()
            .map(|rev| {
                rev.as_str()
                    .ok_or_else(ApiError::invalid_rev)
                    .and_then(parse_rev)
            })
            .collect::<Result<Vec<_>, _>>()?;
        offered.push((id, revs));
    }
    Ok(Json(state.store.revs_diff(&db, offered).await?))
}
