//! The route-level middleware that decides whether the caller may make a
//! request, from the route it matched (so a request tunnelled through a
//! database's socket is judged exactly as over HTTP).
//!
//! The rules are CouchDB 3's: server admins may do anything; creating and
//! deleting databases and the server-wide lists are theirs alone; members
//! of a database read and write its documents; only its admins write
//! design documents and `_security`. The `_users` database has rules of its
//! own ([`super::users`]), and its writes pass through here to have their
//! passwords hashed, with or without authentication.

use std::collections::HashMap;

use axum::{
    body::Body,
    extract::{FromRequestParts, MatchedPath, Path, Request, State},
    http::{header, request::Parts, HeaderValue, Method},
    middleware::Next,
    response::{IntoResponse, Response},
};
use serde_json::{Map, Value};

use super::{
    security::Security,
    users::{self, name_from_id, USERS_DB, USER_PREFIX},
    UserCtx,
};
use crate::{
    error::ApiError,
    routes::{body::read_limited, AppState},
    store::{ReadOptions, StoreError},
};

/// What a request needs of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Nothing: anyone may.
    Public,
    /// A server admin.
    ServerAdmin,
    /// A member of the database.
    Member,
    /// A member; and a db admin if the body writes a design document.
    MemberWriting,
    /// An admin of the database.
    DbAdmin,
}

const NOT_SERVER_ADMIN: &str = "You are not a server admin.";
/// CouchDB's reason for a design document written by a member.
pub const NOT_DB_ADMIN: &str = "You are not a db or server admin.";

/// Marks a `_bulk_docs` request of a member who is no database admin: its
/// design documents are refused row by row (`forbidden`), the rest lands.
#[derive(Debug, Clone, Copy)]
pub struct DesignWritesRefused;

/// What a request on route `matched` with method `method` needs, given the
/// document id it names (if any).
pub fn need(method: &Method, matched: &str, id: Option<&str>) -> Need {
    let reading = method == Method::GET || method == Method::HEAD;
    let design = id.is_some_and(|id| id.starts_with("_design/"));
    match matched {
        "/" | "/_up" | "/_uuids" | "/_session" | "/_demo" | "/_demo/" | "/_demo/{*path}" => {
            Need::Public
        }
        "/{db}" | "/{db}/" => match *method {
            Method::GET | Method::HEAD => Need::Member,
            Method::POST => Need::MemberWriting,
            _ => Need::ServerAdmin,
        },
        "/{db}/_all_docs"
        | "/{db}/_bulk_get"
        | "/{db}/_changes"
        | "/{db}/_socket"
        | "/{db}/_revs_diff"
        | "/{db}/_ensure_full_commit" => Need::Member,
        "/{db}/_bulk_docs" => Need::MemberWriting,
        "/{db}/_revs_limit" if reading => Need::Member,
        "/{db}/_revs_limit" | "/{db}/_compact" => Need::DbAdmin,
        "/{db}/_security" if reading => Need::Member,
        "/{db}/_security" => Need::DbAdmin,
        "/{db}/_design/{name}" | "/{db}/_design/{name}/{*att}" if reading => Need::Member,
        "/{db}/_design/{name}" | "/{db}/_design/{name}/{*att}" => Need::DbAdmin,
        "/{db}/_local/{name}" | "/{db}/_local/{name}/{*rest}" => Need::Member,
        "/{db}/{id}" | "/{db}/{id}/{*att}" if design && !reading => Need::DbAdmin,
        "/{db}/{id}" | "/{db}/{id}/{*att}" => Need::Member,
        _ => Need::ServerAdmin,
    }
}

/// The id a route names: `_design/` and `_local/` routes add their prefix.
fn doc_id(matched: &str, params: &HashMap<String, String>) -> Option<String> {
    let name = params.get("name").map_or("", String::as_str);
    if matched.starts_with("/{db}/_design/") {
        Some(format!("_design/{name}"))
    } else if matched.starts_with("/{db}/_local/") {
        Some(format!("_local/{name}"))
    } else {
        params.get("id").cloned()
    }
}

/// Checks the caller against the route's needs and the database's
/// `_security`, then runs the handler.
pub async fn authorise(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match check(&state, request, next).await {
        Ok(response) => response,
        Err(err) => err.into_response(),
    }
}

async fn check(state: &AppState, request: Request, next: Next) -> Result<Response, ApiError> {
    // Without admins everyone may do anything: only `_users` writes need a
    // look (their passwords are hashed all the same).
    let path = request.uri().path();
    let maybe_users = path.starts_with("/_users") || path.starts_with("/%5");
    if !state.auth.enabled() && !maybe_users {
        return Ok(next.run(request).await);
    }
    let (mut parts, body) = request.into_parts();
    let matched = parts
        .extensions
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_default();
    let params = match Path::<HashMap<String, String>>::from_request_parts(&mut parts, state).await
    {
        Ok(Path(params)) => params,
        Err(_) => HashMap::new(),
    };
    let ctx = parts
        .extensions
        .get::<UserCtx>()
        .cloned()
        .unwrap_or_else(|| state.auth.fallback_ctx());
    let db = params.get("db").cloned();
    let id = doc_id(&matched, &params);
    if db.as_deref() == Some(USERS_DB) {
        return users_db(state, &ctx, parts, body, &matched, id, next).await;
    }
    let request = Request::from_parts(parts, body);
    if ctx.is_server_admin() {
        return Ok(next.run(request).await);
    }
    let security = match db.as_deref() {
        Some(db) => state.auth.security(db),
        None => std::sync::Arc::new(Security::admin_only()),
    };
    let allowed = |need: Need| match need {
        Need::Public => Ok(()),
        Need::ServerAdmin => Err(ctx.refusal(NOT_SERVER_ADMIN)),
        Need::Member | Need::MemberWriting if security.is_member(&ctx) => Ok(()),
        Need::Member | Need::MemberWriting => Err(if ctx.is_anonymous() {
            ApiError::Unauthorized("You are not authorized to access this db.".to_owned())
        } else {
            ApiError::Forbidden("You are not allowed to access this db.".to_owned())
        }),
        Need::DbAdmin if security.is_admin(&ctx) => Ok(()),
        Need::DbAdmin => Err(ctx.refusal(NOT_DB_ADMIN)),
    };
    let need = need(request.method(), &matched, id.as_deref());
    allowed(need)?;
    if need == Need::MemberWriting && !security.is_admin(&ctx) && matched == "/{db}/_bulk_docs" {
        // As CouchDB: the batch lands, each design document in it refused on
        // its own row (the handler reads the marker).
        let mut request = request;
        request.extensions_mut().insert(DesignWritesRefused);
        return Ok(next.run(request).await);
    }
    if need == Need::MemberWriting && !security.is_admin(&ctx) {
        let (parts, body) = request.into_parts();
        let bytes = read_limited(&parts.headers, body, state.limits.max_request_bytes).await?;
        if writes_design_doc(&bytes) {
            return Err(ctx.refusal(NOT_DB_ADMIN));
        }
        return Ok(next
            .run(Request::from_parts(parts, Body::from(bytes)))
            .await);
    }
    Ok(next.run(request).await)
}

/// Whether a `POST /{db}` or `_bulk_docs` body names a design document.
fn writes_design_doc(bytes: &[u8]) -> bool {
    let is_design = |doc: &Value| {
        doc.get("_id")
            .and_then(Value::as_str)
            .is_some_and(|id| id.starts_with("_design/"))
    };
    match serde_json::from_slice::<Value>(bytes) {
        Ok(body) => {
            is_design(&body)
                || body
                    .get("docs")
                    .and_then(Value::as_array)
                    .is_some_and(|docs| docs.iter().any(is_design))
        }
        // The handler refuses it as invalid JSON; nothing gets written.
        Err(_) => false,
    }
}

/// `_users`: admins may do anything (their writes still get passwords
/// hashed); others may only read their own user document and create or
/// update (or delete) a user document as [`users::prepare`] allows.
async fn users_db(
    state: &AppState,
    ctx: &UserCtx,
    parts: Parts,
    body: Body,
    matched: &str,
    id: Option<String>,
    next: Next,
) -> Result<Response, ApiError> {
    let method = parts.method.clone();
    let reading = method == Method::GET || method == Method::HEAD;
    let admin = ctx.is_server_admin();
    let single_doc = matched == "/{db}/{id}";
    let response = if reading {
        let own = single_doc
            && id.as_deref().and_then(name_from_id).is_some()
            && id.as_deref().and_then(name_from_id) == ctx.name.as_deref();
        if !admin && !own {
            if ctx.is_anonymous() {
                return Err(ApiError::Unauthorized(
                    "You are not authorized to access this db.".to_owned(),
                ));
            }
            if single_doc {
                return Err(ApiError::missing());
            }
            return Err(ApiError::Forbidden(
                "Only admins can access this in the users database.".to_owned(),
            ));
        }
        return Ok(next.run(Request::from_parts(parts, body)).await);
    } else if single_doc && method == Method::DELETE {
        let owner = id.as_deref().and_then(name_from_id);
        if !admin && (owner.is_none() || owner != ctx.name.as_deref()) {
            return Err(ctx.refusal("You may only delete your own user document."));
        }
        next.run(Request::from_parts(parts, body)).await
    } else if (single_doc && method == Method::PUT)
        || (matches!(matched, "/{db}" | "/{db}/") && method == Method::POST)
        || (admin && matched == "/{db}/_bulk_docs")
    {
        let bytes = read_limited(&parts.headers, body, state.limits.max_request_bytes).await?;
        let Ok(mut value) = serde_json::from_slice::<Value>(&bytes) else {
            // Not JSON: the handler answers 400 and writes nothing.
            return Ok(next
                .run(Request::from_parts(parts, Body::from(bytes)))
                .await);
        };
        let mut names = Vec::new();
        if matched == "/{db}/_bulk_docs" {
            if let Some(docs) = value.get_mut("docs").and_then(Value::as_array_mut) {
                for doc in docs.iter_mut().filter_map(Value::as_object_mut) {
                    let Some(doc_id) = doc.get("_id").and_then(Value::as_str).map(str::to_owned)
                    else {
                        continue;
                    };
                    if doc_id.starts_with(USER_PREFIX) {
                        names.push(prepare(state, ctx, doc, &doc_id).await?);
                    }
                }
            }
        } else if let Some(doc) = value.as_object_mut() {
            let doc_id = id
                .clone()
                .or_else(|| doc.get("_id").and_then(Value::as_str).map(str::to_owned))
                .unwrap_or_default();
            if doc_id.starts_with(USER_PREFIX) || !admin {
                names.push(prepare(state, ctx, doc, &doc_id).await?);
            }
        }
        let bytes = serde_json::to_vec(&value)
            .map_err(|err| ApiError::Internal(format!("re-encoding a user document: {err}")))?;
        let mut parts = parts;
        parts
            .headers
            .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
        let response = next
            .run(Request::from_parts(parts, Body::from(bytes)))
            .await;
        if response.status().is_success() && state.auth.per_user_dbs() {
            for name in names.iter().filter(|n| !n.is_empty()) {
                ensure_user_db(state, name).await;
            }
        }
        response
    } else if admin {
        next.run(Request::from_parts(parts, body)).await
    } else {
        return Err(ctx.refusal("Only admins can access this in the users database."));
    };
    state.auth.users_changed();
    Ok(response)
}

/// Checks and rewrites one user document against the stored one.
async fn prepare(
    state: &AppState,
    ctx: &UserCtx,
    doc: &mut Map<String, Value>,
    id: &str,
) -> Result<String, ApiError> {
    let stored = match state
        .store
        .get_doc(USERS_DB, id, None, ReadOptions::default())
        .await
    {
        Ok((Value::Object(stored), _)) => Some(stored),
        Ok(_) | Err(StoreError::Api(ApiError::NotFound(_))) => None,
        Err(err) => return Err(err.into()),
    };
    let owned_doc = std::mem::take(doc);
    let (ctx, id, iterations) = (ctx.clone(), id.to_owned(), state.auth.iterations());
    // Hashing a password takes PBKDF2's rounds: off the async threads.
    let (result, owned_doc) = tokio::task::spawn_blocking(move || {
        let mut owned_doc = owned_doc;
        let result = users::prepare(&mut owned_doc, &id, &ctx, stored.as_ref(), iterations);
        (result, owned_doc)
    })
    .await
    .map_err(|err| ApiError::Internal(format!("checking a user document: {err}")))?;
    *doc = owned_doc;
    let name = result?;
    Ok(if doc.get("_deleted") == Some(&Value::Bool(true)) {
        String::new()
    } else {
        name
    })
}

/// Creates user `name`'s database with them as its admin and member,
/// unless it exists (`--per-user-dbs`).
async fn ensure_user_db(state: &AppState, name: &str) {
    let db = users::user_db_name(name);
    match state.store.create_db(&db).await {
        Ok(()) => {
            if let Err(err) = state
                .store
                .set_security(&db, Security::owned_by(name))
                .await
            {
                tracing::error!(%db, error = %err, "cannot set a per-user database's _security");
            } else {
                tracing::info!(%db, user = %name, "per-user database created");
            }
        }
        Err(StoreError::Api(ApiError::FileExists)) => {}
        Err(err) => tracing::error!(%db, error = %err, "cannot create a per-user database"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needs_by_route() {
        let get = Method::GET;
        let put = Method::PUT;
        assert_eq!(need(&get, "/", None), Need::Public);
        assert_eq!(need(&get, "/_all_dbs", None), Need::ServerAdmin);
        assert_eq!(need(&put, "/{db}", None), Need::ServerAdmin);
        assert_eq!(need(&Method::DELETE, "/{db}", None), Need::ServerAdmin);
        assert_eq!(need(&get, "/{db}", None), Need::Member);
        assert_eq!(
            need(&Method::POST, "/{db}/_bulk_docs", None),
            Need::MemberWriting
        );
        assert_eq!(need(&put, "/{db}/_security", None), Need::DbAdmin);
        assert_eq!(need(&get, "/{db}/_security", None), Need::Member);
        assert_eq!(
            need(&put, "/{db}/_design/{name}", Some("_design/x")),
            Need::DbAdmin
        );
        assert_eq!(need(&put, "/{db}/{id}", Some("_design/x")), Need::DbAdmin);
        assert_eq!(
            need(&put, "/{db}/{id}/{*att}", Some("_design/x")),
            Need::DbAdmin
        );
        assert_eq!(need(&get, "/{db}/{id}", Some("_design/x")), Need::Member);
        assert_eq!(
            need(&put, "/{db}/_local/{name}", Some("_local/x")),
            Need::Member
        );
        assert_eq!(need(&get, "/unknown/{route}", None), Need::ServerAdmin);
    }

    #[test]
    fn design_documents_in_bodies() {
        assert!(writes_design_doc(br#"{"_id":"_design/x"}"#));
        assert!(writes_design_doc(
            br#"{"docs":[{"_id":"a"},{"_id":"_design/x"}]}"#
        ));
        assert!(!writes_design_doc(br#"{"docs":[{"_id":"a"}]}"#));
        assert!(!writes_design_doc(b"not json"));
    }
}
