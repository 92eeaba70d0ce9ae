//! Single documents: `GET/HEAD/PUT/DELETE /{db}/{id}` and `POST /{db}`.

use axum::{
    body::Body,
    extract::State,
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde_json::Value;
use tidesync_engine::{protocol::wire::WriteOk, validate_doc_id, Revision};

use super::{
    body::{parse_json, read_limited, require_json},
    extract::{if_match, DbTarget, DocTarget, QueryParams},
    multipart, AppState,
};
use crate::{
    edit::{merge_if_match, parse_rev, Change, DocChange, Edit},
    error::ApiError,
    store::{OpenRevs, ReadOptions},
};

/// `GET /{db}/{id}` (and `HEAD`): the current revision, or `?rev=`.
pub async fn get(
    State(state): State<AppState>,
    target: DocTarget,
    query: QueryParams,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let options = read_options(&query)?;
    if let Some(which) = open_revs(&query)? {
        let latest = query.flag("latest", false)?;
        // A multipart answer carries attachment bodies, as CouchDB's does.
        let mixed = multipart::wants_mixed(&headers);
        let options = ReadOptions {
            attachments: options.attachments || mixed,
            ..options
        };
        let answers = state
            .store
            .open_revs(&target.db, &target.id, which, latest, options)
            .await?;
        if mixed {
            return Ok(multipart::mixed(&answers));
        }
        return Ok(Json(answers).into_response());
    }
    let (doc, rev) = state
        .store
        .get_doc(&target.db, &target.id, query.rev()?, options)
        .await?;
    let etag = etag(&rev);
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|value| value.as_bytes() == etag.as_bytes());
    if unchanged {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    Ok(([(header::ETAG, etag)], Json(doc)).into_response())
}

/// The options of a document read; `meta=true` stands for the three
/// revision-tree members at once, as in CouchDB. `atts_since` (the revisions
/// a replicator already has) inlines every attachment: more than CouchDB
/// sends, never less.
fn read_options(query: &QueryParams) -> Result<ReadOptions, ApiError> {
    let meta = query.flag("meta", false)?;
    Ok(ReadOptions {
        attachments: query.flag("attachments", false)? || query.get("atts_since").is_some(),
        revs: query.flag("revs", false)?,
        revs_info: meta || query.flag("revs_info", false)?,
        conflicts: meta || query.flag("conflicts", false)?,
        deleted_conflicts: meta || query.flag("deleted_conflicts", false)?,
    })
}

/// `open_revs=all` or `open_revs=["1-a", ...]`, refused as CouchDB refuses it.
/// The answer is JSON unless `Accept` asks for `multipart/mixed` only.
fn open_revs(query: &QueryParams) -> Result<Option<OpenRevs>, ApiError> {
    let Some(text) = query.get("open_revs") else {
        return Ok(None);
    };
    if text == "all" {
        return Ok(Some(OpenRevs::All));
    }
    let value: Value = serde_json::from_str(text).map_err(|_| ApiError::invalid_json())?;
    let Value::Array(items) = value else {
        return Err(ApiError::invalid_rev());
    };
    let revs = items
        .iter()
        .map(|item| {
            item.as_str()
                .ok_or_else(ApiError::invalid_rev)
                .and_then(parse_rev)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(OpenRevs::Listed(revs)))
}

/// `PUT /{db}/{id}`: create or update. Any content type is read as JSON, as
/// CouchDB does (so plain `curl -d` works), except `multipart/related`: the
/// document with its attachments as parts, as CouchDB's replicator sends it.
pub async fn put(
    State(state): State<AppState>,
    target: DocTarget,
    query: QueryParams,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    check_doc_id(&target.id)?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let related = multipart::is_related(&content_type);
    if !related
        && content_type
            .trim_start()
            .to_ascii_lowercase()
            .starts_with("multipart/")
    {
        return Err(ApiError::BadContentType(
            "Only multipart/related documents are supported".to_owned(),
        ));
    }
    let bytes = read_limited(&headers, body, state.limits.max_request_bytes).await?;
    let doc = if related {
        multipart::document(&content_type, &bytes, state.limits.max_attachment_bytes)?
    } else {
        parse_json(&bytes)?
    };
    let edit = Edit::from_json(doc, Some(&target.id), &state.limits)?;
    if !query.flag("new_edits", true)? {
        let edit = edit.with_request_rev(query.rev()?, None)?;
        let named = edit.revisions.as_ref().and_then(|path| path.first());
        let rev = named.or(edit.base.as_ref()).cloned().ok_or_else(|| {
            ApiError::BadRequest(
                "When `new_edits: false`, the document needs `_rev` specified".to_owned(),
            )
        })?;
        let refusals = state.store.apply_replicated(&target.db, vec![edit]).await?;
        if let Some((_, refusal)) = refusals.into_iter().next() {
            return Err(refusal);
        }
        return Ok(write_response(StatusCode::CREATED, target.id, rev));
    }
    let edit = edit.with_request_rev(query.rev()?, if_match(&headers)?)?;
    let deleted = matches!(&edit.change, Change::Document(change) if change.deleted);
    let rev = apply_single(&state, &target.db, edit).await?;
    let status = if deleted {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok(write_response(status, target.id, rev))
}

/// `DELETE /{db}/{id}?rev=`: writes a tombstone; 404 when there is nothing to delete.
pub async fn delete(
    State(state): State<AppState>,
    target: DocTarget,
    query: QueryParams,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    check_doc_id(&target.id)?;
    let base = merge_if_match(query.rev()?, if_match(&headers)?)?;
    state
        .store
        .get_doc(&target.db, &target.id, None, ReadOptions::default())
        .await?;
    let edit = Edit {
        id: target.id.clone(),
        base,
        change: Change::Document(DocChange {
            deleted: true,
            ..DocChange::default()
        }),
        revisions: None,
    };
    let rev = apply_single(&state, &target.db, edit).await?;
    Ok(write_response(StatusCode::OK, target.id, rev))
}

/// `POST /{db}`: create a document, with a server-assigned id unless it names one.
pub async fn post(
    State(state): State<AppState>,
    DbTarget(db): DbTarget,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    require_json(&headers)?;
    let bytes = read_limited(&headers, body, state.limits.max_request_bytes).await?;
    let edit = Edit::from_json(parse_json(&bytes)?, None, &state.limits)?;
    let id = edit.id.clone();
    let rev = apply_single(&state, &db, edit).await?;
    Ok(write_response(StatusCode::CREATED, id, rev))
}

/// Applies one edit and returns its revision or its refusal.
pub(crate) async fn apply_single(
    state: &AppState,
    db: &str,
    edit: Edit,
) -> Result<Revision, ApiError> {
    state
        .store
        .apply_edits(db, vec![edit])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::Internal("the write produced no result".to_owned()))?
}

/// Document ids in URLs follow CouchDB's rules, including that `_design/` and
/// `_local/` need a name after the prefix.
pub(crate) fn check_doc_id(id: &str) -> Result<(), ApiError> {
    if id == "_design/" || id == "_local/" {
        return Err(ApiError::IllegalDocId(format!(
            "Illegal document id `{id}`"
        )));
    }
    validate_doc_id(id)?;
    Ok(())
}

/// `{"ok":true,"id":..,"rev":..}` with the new revision as ETag.
pub(crate) fn write_response(status: StatusCode, id: String, rev: Revision) -> Response {
    let etag = etag(&rev);
    (
        status,
        [(header::ETAG, etag)],
        Json(WriteOk { ok: true, id, rev }),
    )
        .into_response()
}

/// A revision as an HTTP entity tag.
pub(crate) fn etag(rev: &Revision) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{rev}\"")).unwrap_or(HeaderValue::from_static("\"\""))
}
