//! `POST /{db}/_bulk_docs` and `POST /{db}/_bulk_get`.

use axum::{
    body::Body,
    extract::{Extension, State},
    http::{HeaderMap, StatusCode},
    Json,
};
use serde_json::Value;
use tidesync_engine::protocol::wire::{
    BulkDocsResult, BulkGetDoc, BulkGetError, BulkGetResponse, BulkGetResult,
};

use super::{
    body::{parse_object, read_limited, require_json},
    extract::{DbTarget, QueryParams},
    AppState,
};
use crate::{
    auth::access::{DesignWritesRefused, NOT_DB_ADMIN},
    edit::{parse_rev, Edit},
    error::ApiError,
    store::{BulkGetRef, ReadOptions},
};

/// `POST /{db}/_bulk_docs`: many writes in one transaction, each answered on
/// its own row. Invalid documents refuse the whole request as in CouchDB;
/// oversized documents, and design documents of a member who is no database
/// admin, get an error row so the rest of the batch still lands.
pub async fn bulk_docs(
    State(state): State<AppState>,
    DbTarget(db): DbTarget,
    refused: Option<Extension<DesignWritesRefused>>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Vec<BulkDocsResult>>), ApiError> {
    require_json(&headers)?;
    let bytes = read_limited(&headers, body, state.limits.max_request_bytes).await?;
    let mut request = parse_object(&bytes)?;
    let docs = match request.remove("docs") {
        None => {
            return Err(ApiError::BadRequest(
                "POST body must include `docs` parameter.".to_owned(),
            ))
        }
        Some(Value::Array(docs)) => docs,
        Some(_) => {
            return Err(ApiError::BadRequest(
                "`docs` parameter must be an array.".to_owned(),
            ))
        }
    };
    let new_edits = match request.get("new_edits") {
        None => true,
        Some(Value::Bool(flag)) => *flag,
        Some(_) => {
            return Err(ApiError::BadRequest(
                "`new_edits` parameter must be a boolean.".to_owned(),
            ))
        }
    };

    // Each slot is either an edit to apply or a row already decided.
    let mut slots: Vec<Result<Edit, BulkDocsResult>> = Vec::with_capacity(docs.len());
    for doc in docs {
        let named_id = doc.get("_id").and_then(Value::as_str).map(str::to_owned);
        if refused.is_some()
            && named_id
                .as_deref()
                .is_some_and(|id| id.starts_with("_design/"))
        {
            let err = ApiError::Forbidden(NOT_DB_ADMIN.to_owned());
            slots.push(Err(error_row(named_id, &err)));
            continue;
        }
        match Edit::from_json(doc, None, &state.limits) {
            Ok(edit) => {
                if !new_edits && edit.base.is_none() {
                    return Err(ApiError::BadRequest(
                        "When `new_edits: false`, the document needs `_rev` specified".to_owned(),
                    ));
                }
                slots.push(Ok(edit));
            }
            Err(ApiError::DocumentTooLarge(id)) => {
                let err = ApiError::DocumentTooLarge(id.clone());
                slots.push(Err(error_row(Some(id), &err)));
            }
            Err(err @ ApiError::AttachmentTooLarge(_)) => {
                slots.push(Err(error_row(named_id, &err)));
            }
            Err(err) => return Err(err),
        }
    }
    let edits: Vec<Edit> = slots
        .iter()
        .filter_map(|s| s.as_ref().ok().cloned())
        .collect();

    if !new_edits {
        let refusals = state.store.apply_replicated(&db, edits).await?;
        let mut rows: Vec<BulkDocsResult> = slots.into_iter().filter_map(Result::err).collect();
        rows.extend(
            refusals
                .iter()
                .map(|(id, err)| error_row(Some(id.clone()), err)),
        );
        return Ok((StatusCode::CREATED, Json(rows)));
    }

    let mut results = state.store.apply_edits(&db, edits).await?.into_iter();
    let rows = slots
        .into_iter()
        .map(|slot| match slot {
            Err(row) => row,
            Ok(edit) => match results.next() {
                Some(Ok(rev)) => BulkDocsResult::Ok {
                    ok: true,
                    id: edit.id,
                    rev,
                },
                Some(Err(err)) => error_row(Some(edit.id), &err),
                None => error_row(Some(edit.id), &ApiError::Internal("no result".to_owned())),
            },
        })
        .collect();
    Ok((StatusCode::CREATED, Json(rows)))
}

fn error_row(id: Option<String>, err: &ApiError) -> BulkDocsResult {
    let body = err.body();
    BulkDocsResult::Error {
        id,
        error: body.error,
        reason: body.reason,
    }
}

/// `POST /{db}/_bulk_get`: many documents (or specific revisions) at once.
/// Without a `rev`, tombstones are returned too, as replication needs them.
pub async fn bulk_get(
    State(state): State<AppState>,
    DbTarget(db): DbTarget,
    query: QueryParams,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<BulkGetResponse>, ApiError> {
    require_json(&headers)?;
    let options = ReadOptions {
        attachments: query.flag("attachments", false)?,
        revs: query.flag("revs", false)?,
        ..ReadOptions::default()
    };
    let latest = query.flag("latest", false)?;
    let bytes = read_limited(&headers, body, state.limits.max_request_bytes).await?;
    let request = parse_object(&bytes)?;
    let Some(Value::Array(docs)) = request.get("docs") else {
        return Err(ApiError::BadRequest(
            "Missing JSON list of 'docs'.".to_owned(),
        ));
    };

    // Parse each reference; refusals keep their place in the answer.
    let mut slots: Vec<Result<BulkGetRef, BulkGetResult>> = Vec::with_capacity(docs.len());
    for entry in docs {
        let id = entry.get("id").and_then(Value::as_str).map(str::to_owned);
        let raw_rev = entry.get("rev");
        let refusal = |id: &str, rev: String, reason: &str| BulkGetResult {
            id: id.to_owned(),
            docs: vec![BulkGetDoc::Error(BulkGetError {
                id: id.to_owned(),
                rev,
                error: "bad_request".to_owned(),
                reason: reason.to_owned(),
            })],
        };
        let Some(id) = id else {
            slots.push(Err(refusal(
                "",
                "undefined".to_owned(),
                "document id missed",
            )));
            continue;
        };
        let rev = match raw_rev {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) => match parse_rev(text) {
                Ok(rev) => Some(rev),
                Err(_) => {
                    slots.push(Err(refusal(&id, text.clone(), "Invalid rev format")));
                    continue;
                }
            },
            Some(other) => {
                slots.push(Err(refusal(&id, other.to_string(), "Invalid rev format")));
                continue;
            }
        };
        slots.push(Ok(BulkGetRef { id, rev }));
    }
    let refs: Vec<BulkGetRef> = slots
        .iter()
        .filter_map(|s| s.as_ref().ok().cloned())
        .collect();
    let mut found = state
        .store
        .bulk_get(&db, refs, latest, options)
        .await?
        .into_iter();
    let results = slots
        .into_iter()
        .map(|slot| match slot {
            Err(result) => result,
            Ok(reference) => BulkGetResult {
                id: reference.id,
                docs: found.next().unwrap_or_default(),
            },
        })
        .collect();
    Ok(Json(BulkGetResponse { results }))
}
