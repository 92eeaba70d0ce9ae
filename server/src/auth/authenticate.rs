//! The outer middleware that finds who a request comes from.
//!
//! Credentials are tried as CouchDB does: an `Authorization` header (Basic,
//! or Bearer when JWT keys are configured) first, then the `AuthSession`
//! cookie. Wrong Basic credentials and refused tokens are answered 401 at
//! once; a cookie that does not verify (forged, expired, of an old
//! password) is ignored and the request goes on as anonymous, so the
//! routes decide. A browser's WebSocket upgrade carries cookies from any
//! page, so with authentication on, it must come from an origin that CORS
//! lets send credentials, or from the server's own origin.

use axum::{
    extract::{Request, State},
    http::{header, HeaderMap},
    middleware::Next,
    response::{IntoResponse, Response},
};
use base64::{
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
    Engine,
};

use std::net::SocketAddr;

use axum::extract::ConnectInfo;

use super::{cookie, Auth, AuthenticatedBy, UserCtx};
use crate::{cors::CorsPolicy, error::ApiError};

/// What the middleware needs: the authentication state and the CORS policy
/// (for WebSocket origins).
#[derive(Clone)]
pub struct Gate {
    /// The server's authentication state.
    pub auth: Auth,
    /// Which origins may send credentials.
    pub cors: CorsPolicy,
}

/// Credentials in an `Authorization` header.
enum Presented {
    Basic(String, String),
    Bearer(String),
    Unreadable,
}

/// The WebSocket subprotocol the socket speaks; a client that offers it may
/// offer its credentials beside it (see [`SOCKET_AUTHORIZATION`]).
pub const SOCKET_PROTOCOL: &str = "tidesync";

/// Prefix of the subprotocol that carries an `Authorization` value
/// (base64url, no padding) on a WebSocket upgrade: browsers send no custom
/// header on a WebSocket, but may offer subprotocols. Never selected.
pub const SOCKET_AUTHORIZATION: &str = "tidesync.authorization.";

/// The `Authorization` value a WebSocket upgrade offers as a subprotocol;
/// `Some(None)` for an offer that cannot be decoded.
fn offered_authorization(headers: &HeaderMap) -> Option<Option<String>> {
    headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|p| p.trim().strip_prefix(SOCKET_AUTHORIZATION))
        .map(|encoded| {
            URL_SAFE_NO_PAD
                .decode(encoded)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
        })
}

fn presented(headers: &HeaderMap) -> Option<Presented> {
    let text = match headers.get(header::AUTHORIZATION) {
        Some(value) => match value.to_str() {
            Ok(text) => text.to_owned(),
            Err(_) => return Some(Presented::Unreadable),
        },
        None => match offered_authorization(headers)? {
            Some(text) => text,
            None => return Some(Presented::Unreadable),
        },
    };
    let text = text.as_str();
    let (scheme, rest) = text.trim().split_once(' ').unwrap_or((text, ""));
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = STANDARD
            .decode(rest)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok());
        return Some(match decoded.as_deref().and_then(|d| d.split_once(':')) {
            Some((name, password)) => Presented::Basic(name.to_owned(), password.to_owned()),
            None => Presented::Unreadable,
        });
    }
    if scheme.eq_ignore_ascii_case("bearer") && !rest.is_empty() {
        return Some(Presented::Bearer(rest.to_owned()));
    }
    Some(Presented::Unreadable)
}

fn is_socket_upgrade(request: &Request) -> bool {
    request.uri().path().ends_with("/_socket")
        && request
            .headers()
            .get(header::UPGRADE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// Whether a request's `Origin` may open a WebSocket with credentials:
/// none (not a browser), an origin CORS lets send credentials, or the
/// server's own (`Host`).
fn socket_origin_allowed(headers: &HeaderMap, cors: &CorsPolicy) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    if cors.allows_credentials(origin) {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    match (origin.to_str().ok(), host) {
        (Some(origin), Some(host)) => {
            let origin = origin.to_ascii_lowercase();
            let host = host.to_ascii_lowercase();
            origin == format!("http://{host}") || origin == format!("https://{host}")
        }
        _ => false,
    }
}

/// Finds the caller ([`UserCtx`]) and puts it in the request's extensions.
pub async fn authenticate(State(gate): State<Gate>, mut request: Request, next: Next) -> Response {
    let auth = &gate.auth;
    if !auth.enabled() {
        request.extensions_mut().insert(UserCtx::admin_party());
        request.extensions_mut().insert(AuthenticatedBy(None));
        return next.run(request).await;
    }
    if is_socket_upgrade(&request) && !socket_origin_allowed(request.headers(), &gate.cors) {
        return ApiError::Forbidden("This origin may not open a socket.".to_owned())
            .into_response();
    }
    let (mut parts, body) = request.into_parts();
    let addr = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip());
    let mut renewed = None;
    let (ctx, by) = match presented(&parts.headers) {
        Some(Presented::Basic(name, password)) => match auth.basic(&name, &password, addr).await {
            Ok(ctx) => (ctx, Some("default")),
            Err(err) => return err.into_response(),
        },
        Some(Presented::Bearer(token)) => match auth.bearer(&token) {
            Ok(ctx) => (ctx, Some("jwt")),
            Err(err) => return err.into_response(),
        },
        Some(Presented::Unreadable) => {
            return ApiError::Unauthorized(
                "The Authorization header is neither Basic nor Bearer credentials.".to_owned(),
            )
            .into_response()
        }
        None => match cookie::from_headers(&parts.headers) {
            Some(value) => match auth.session(&value).await {
                Some((ctx, renewal)) => {
                    renewed = renewal;
                    (ctx, Some("cookie"))
                }
                None => (UserCtx::anonymous(), None),
            },
            None => (UserCtx::anonymous(), None),
        },
    };
    parts.extensions.insert(ctx);
    parts.extensions.insert(AuthenticatedBy(by));
    let mut response = next.run(Request::from_parts(parts, body)).await;
    if let Some(value) = renewed {
        let headers = response.headers_mut();
        if !headers.contains_key(header::SET_COOKIE) {
            headers.insert(
                header::SET_COOKIE,
                cookie::set_cookie(&value, auth.cookie_settings()),
            );
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn authorization_headers() {
        let mut headers = HeaderMap::new();
        assert!(presented(&headers).is_none());
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic YWxpY2U6cDpw"),
        );
        assert!(
            matches!(presented(&headers), Some(Presented::Basic(n, p)) if n == "alice" && p == "p:p")
        );
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert!(matches!(presented(&headers), Some(Presented::Bearer(t)) if t == "abc"));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Digest x"));
        assert!(matches!(presented(&headers), Some(Presented::Unreadable)));
    }

    #[test]
    fn socket_origins() {
        let cors = CorsPolicy::new(&["https://app.example".to_owned()]);
        let mut headers = HeaderMap::new();
        assert!(socket_origin_allowed(&headers, &cors));
        headers.insert(header::HOST, HeaderValue::from_static("sync.example"));
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://app.example"),
        );
        assert!(socket_origin_allowed(&headers, &cors));
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://sync.example"),
        );
        assert!(socket_origin_allowed(&headers, &cors));
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(!socket_origin_allowed(&headers, &cors));
    }
}
