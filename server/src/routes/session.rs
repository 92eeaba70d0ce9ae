//! `GET/POST/DELETE /_session`: cookie sessions, as CouchDB answers them.

use axum::{
    body::Body,
    extract::State,
    http::{header, HeaderMap},
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;
use serde_json::json;

use super::{body::read_limited, AppState};
use crate::{
    auth::{cookie, AuthenticatedBy, ClientAddr, UserCtx},
    error::ApiError,
};

/// The largest sign-in body read: a name and a password.
const MAX_SIGN_IN_BYTES: usize = 64 * 1024;

#[derive(Deserialize)]
struct SignIn {
    name: String,
    password: String,
}

/// `GET /_session`: who the caller is and how they were recognised.
pub async fn get(
    State(state): State<AppState>,
    ctx: UserCtx,
    by: Option<axum::Extension<AuthenticatedBy>>,
) -> Json<serde_json::Value> {
    let mut handlers = Vec::new();
    if state.auth.jwt_enabled() {
        handlers.push("jwt");
    }
    handlers.extend(["cookie", "default"]);
    let mut info = json!({
        "authentication_db": crate::auth::users::USERS_DB,
        "authentication_handlers": handlers,
    });
    if let Some(axum::Extension(AuthenticatedBy(Some(by)))) = by {
        info["authenticated"] = json!(by);
    }
    Json(json!({"ok": true, "userCtx": ctx, "info": info}))
}

/// `POST /_session` with `name` and `password` as JSON or as a form:
/// `{ok, name, roles}` and an `AuthSession` cookie, or 401.
pub async fn post(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = read_limited(&headers, body, MAX_SIGN_IN_BYTES).await?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let sign_in: SignIn = if content_type.starts_with("application/x-www-form-urlencoded") {
        serde_urlencoded::from_bytes(&bytes).map_err(|_| {
            ApiError::BadRequest("expected the form fields name and password".into())
        })?
    } else if content_type.starts_with("application/json") {
        serde_json::from_slice(&bytes).map_err(|_| {
            ApiError::BadRequest("expected {\"name\": ..., \"password\": ...}".into())
        })?
    } else {
        return Err(ApiError::BadContentType(
            "Content-Type must be application/json or application/x-www-form-urlencoded".to_owned(),
        ));
    };
    let (ctx, value) = state
        .auth
        .sign_in(&sign_in.name, &sign_in.password, addr)
        .await?;
    let set_cookie = cookie::set_cookie(&value, state.auth.cookie_settings());
    Ok((
        [(header::SET_COOKIE, set_cookie)],
        Json(json!({"ok": true, "name": ctx.name, "roles": ctx.roles})),
    )
        .into_response())
}

/// `DELETE /_session`: clears the cookie.
pub async fn delete(State(state): State<AppState>) -> Response {
    (
        [(
            header::SET_COOKIE,
            cookie::clear_cookie(state.auth.cookie_settings()),
        )],
        Json(json!({"ok": true})),
    )
        .into_response()
}
