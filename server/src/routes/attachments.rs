//! Attachments as raw bytes: `GET/PUT/DELETE /{db}/{id}/{name}`.

use axum::{
    body::Body,
    extract::State,
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use tidesync_engine::protocol::wire::DEFAULT_CONTENT_TYPE;

use super::{
    body::read_limited,
    docs::{apply_single, check_doc_id, write_response},
    extract::{if_match, AttTarget, QueryParams},
    AppState,
};
use crate::{
    edit::{is_local, merge_if_match, validate_attachment_name, Change, Edit, Upload},
    error::ApiError,
};

/// `GET /{db}/{id}/{name}` (and `HEAD`): the bytes with their content type.
pub async fn get(
    State(state): State<AppState>,
    target: AttTarget,
    query: QueryParams,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let att = state
        .store
        .get_attachment(&target.db, &target.id, &target.name, query.rev()?)
        .await?;
    let etag = HeaderValue::from_str(&format!("\"{}\"", att.digest.trim_start_matches("md5-")))
        .unwrap_or(HeaderValue::from_static("\"\""));
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|value| value == etag)
    {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    let content_type = HeaderValue::from_str(&att.content_type)
        .unwrap_or(HeaderValue::from_static(DEFAULT_CONTENT_TYPE));
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::ETAG, etag),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("must-revalidate"),
            ),
        ],
        att.data,
    )
        .into_response())
}

/// `PUT /{db}/{id}/{name}?rev=`: store the body as the attachment. A missing
/// document is created; an existing one needs its current revision.
pub async fn put(
    State(state): State<AppState>,
    target: AttTarget,
    query: QueryParams,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    check_doc_id(&target.id)?;
    if is_local(&target.id) {
        return local_refused().await.map(IntoResponse::into_response);
    }
    validate_attachment_name(&target.name)?;
    let base = merge_if_match(query.rev()?, if_match(&headers)?)?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or(DEFAULT_CONTENT_TYPE)
        .to_owned();
    let data: Bytes = read_limited(&headers, body, state.limits.max_request_bytes).await?;
    if data.len() > state.limits.max_attachment_bytes {
        return Err(ApiError::AttachmentTooLarge(target.name));
    }
    let edit = Edit {
        id: target.id.clone(),
        base,
        change: Change::PutAttachment {
            name: target.name,
            upload: Upload::new(content_type, data),
        },
        revisions: None,
    };
    let rev = apply_single(&state, &target.db, edit).await?;
    Ok(write_response(StatusCode::CREATED, target.id, rev))
}

/// `DELETE /{db}/{id}/{name}?rev=`: a new revision without the attachment.
pub async fn delete(
    State(state): State<AppState>,
    target: AttTarget,
    query: QueryParams,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    check_doc_id(&target.id)?;
    let base = merge_if_match(query.rev()?, if_match(&headers)?)?;
    let edit = Edit {
        id: target.id.clone(),
        base,
        change: Change::DeleteAttachment { name: target.name },
        revisions: None,
    };
    let rev = apply_single(&state, &target.db, edit).await?;
    Ok(write_response(StatusCode::OK, target.id, rev))
}

/// `/{db}/_local/{name}/...`: local documents have no attachments.
pub async fn local_refused() -> Result<StatusCode, ApiError> {
    Err(ApiError::BadRequest(
        "Local documents do not have attachments".to_owned(),
    ))
}
