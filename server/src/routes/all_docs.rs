//! `GET/POST /{db}/_all_docs`.

use axum::{body::Body, extract::State, http::HeaderMap, Json};
use serde_json::Value;
use tidesync_engine::protocol::wire::AllDocsResponse;

use super::{
    body::{parse_object, read_limited, require_json},
    extract::{DbTarget, QueryParams},
    AppState,
};
use crate::{
    error::ApiError,
    store::{AllDocsQuery, ReadOptions},
};

/// `GET /{db}/_all_docs`: by range, or by `keys` given as a JSON array.
pub async fn get(
    State(state): State<AppState>,
    DbTarget(db): DbTarget,
    query: QueryParams,
) -> Result<Json<AllDocsResponse>, ApiError> {
    let keys = match query.json(&["keys"])? {
        None => None,
        Some(Value::Array(keys)) => Some(string_keys(keys)?),
        Some(_) => {
            return Err(ApiError::BadRequest(
                "`keys` parameter must be an array.".to_owned(),
            ))
        }
    };
    let parsed = parse_query(&query, keys)?;
    Ok(Json(state.store.all_docs(&db, parsed).await?))
}

/// `POST /{db}/_all_docs`: `{"keys": [...]}` in the body; other options may
/// be given in the body too (as JSON values) or in the query string.
pub async fn post(
    State(state): State<AppState>,
    DbTarget(db): DbTarget,
    query: QueryParams,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<AllDocsResponse>, ApiError> {
    require_json(&headers)?;
    let bytes = read_limited(&headers, body, state.limits.max_request_bytes).await?;
    let mut request = parse_object(&bytes)?;
    let keys = match request.remove("keys") {
        None | Some(Value::Null) => None,
        Some(Value::Array(keys)) => Some(string_keys(keys)?),
        Some(_) => {
            return Err(ApiError::BadRequest(
                "`keys` body member must be an array.".to_owned(),
            ))
        }
    };
    // Body options are JSON values, which is how the query string encodes them too.
    let mut merged = query;
    merged.0.extend(
        request
            .into_iter()
            .map(|(name, value)| (name, value.to_string())),
    );
    let parsed = parse_query(&merged, keys)?;
    Ok(Json(state.store.all_docs(&db, parsed).await?))
}

fn parse_query(query: &QueryParams, keys: Option<Vec<String>>) -> Result<AllDocsQuery, ApiError> {
    let key = string_param(query, &["key"])?;
    let (start, end) = match key {
        Some(key) => (Some(key.clone()), Some(key)),
        None => (
            string_param(query, &["startkey", "start_key"])?,
            string_param(query, &["endkey", "end_key"])?,
        ),
    };
    Ok(AllDocsQuery {
        keys,
        start,
        end,
        inclusive_end: query.flag("inclusive_end", true)?,
        descending: query.flag("descending", false)?,
        limit: query.uint("limit")?,
        skip: query.uint("skip")?.unwrap_or(0),
        include_docs: query.flag("include_docs", false)?,
        doc_options: ReadOptions {
            attachments: query.flag("attachments", false)?,
            conflicts: query.flag("conflicts", false)?,
            ..ReadOptions::default()
        },
    })
}

/// A JSON-encoded key parameter; document ids are strings, so keys must be too.
fn string_param(query: &QueryParams, names: &[&str]) -> Result<Option<String>, ApiError> {
    match query.json(names)? {
        None => Ok(None),
        Some(Value::String(key)) => Ok(Some(key)),
        Some(other) => Err(ApiError::QueryParse(format!(
            "{} must be a JSON string, got {other}",
            names[0]
        ))),
    }
}

fn string_keys(keys: Vec<Value>) -> Result<Vec<String>, ApiError> {
    keys.into_iter()
        .map(|key| match key {
            Value::String(key) => Ok(key),
            other => Err(ApiError::QueryParse(format!(
                "keys must be strings, got {other}"
            ))),
        })
        .collect()
}
