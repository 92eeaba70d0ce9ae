//! Cross-origin access for browser clients served from other origins.
//!
//! An allowed origin is echoed back with credentials allowed; any other origin
//! gets no CORS headers at all, so browsers block it. With no `--cors-origin`
//! the allowed origins are http://localhost:PORT and http://127.0.0.1:PORT
//! (and http://[::1]:PORT), which is what local development needs.

use axum::{
    extract::{Request, State},
    http::{header, HeaderMap, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// Methods offered to cross-origin callers.
const ALLOW_METHODS: &str = "GET, HEAD, PUT, POST, DELETE, OPTIONS";
/// Request headers cross-origin callers may send.
const ALLOW_HEADERS: &str = "Content-Type, Accept, Authorization, If-Match";
/// Response headers cross-origin callers may read.
const EXPOSE_HEADERS: &str = "ETag";
/// How long browsers may cache a preflight answer, in seconds.
const MAX_AGE: &str = "600";

/// Which origins may call the server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorsPolicy {
    origins: Vec<String>,
    any: bool,
}

/// How a request's origin is treated.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Grant {
    /// Echo this origin and allow credentials.
    Credentialed(HeaderValue),
    /// `Access-Control-Allow-Origin: *`, without credentials.
    Anyone,
    /// No CORS headers.
    Denied,
}

impl CorsPolicy {
    /// A policy from the `--cors-origin` values; `*` allows every origin
    /// without credentials, and an empty list allows local development origins.
    pub fn new(origins: &[String]) -> CorsPolicy {
        let any = origins.iter().any(|o| o == "*");
        let origins = origins
            .iter()
            .filter(|o| o.as_str() != "*")
            .map(|o| o.trim_end_matches('/').to_ascii_lowercase())
            .collect();
        CorsPolicy { origins, any }
    }

    /// Whether `origin` may make requests with credentials (cookies,
    /// `Authorization`).
    pub fn allows_credentials(&self, origin: &HeaderValue) -> bool {
        matches!(self.grant(origin), Grant::Credentialed(_))
    }

    fn grant(&self, origin: &HeaderValue) -> Grant {
        let Ok(text) = origin.to_str() else {
            return Grant::Denied;
        };
        let listed = if self.origins.is_empty() && !self.any {
            is_local_dev_origin(text)
        } else {
            self.origins.iter().any(|o| o.eq_ignore_ascii_case(text))
        };
        if listed {
            Grant::Credentialed(origin.clone())
        } else if self.any {
            Grant::Anyone
        } else {
            Grant::Denied
        }
    }
}

/// `http://localhost[:port]`, `http://127.0.0.1[:port]` or `http://[::1][:port]`.
pub fn is_local_dev_origin(origin: &str) -> bool {
    let Some(rest) = origin.strip_prefix("http://") else {
        return false;
    };
    ["localhost", "127.0.0.1", "[::1]"].iter().any(|host| {
        rest.strip_prefix(host).is_some_and(|after| {
            after.is_empty()
                || after.strip_prefix(':').is_some_and(|port| {
                    !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())
                })
        })
    })
}

/// Middleware answering preflights and decorating every other response.
pub async fn cors(State(policy): State<CorsPolicy>, request: Request, next: Next) -> Response {
    let origin = request.headers().get(header::ORIGIN).cloned();
    let Some(origin) = origin else {
        return next.run(request).await;
    };
    let grant = policy.grant(&origin);
    let is_preflight = request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if is_preflight {
        let mut response = StatusCode::NO_CONTENT.into_response();
        let headers = response.headers_mut();
        if grant != Grant::Denied {
            add_origin(headers, &grant);
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static(ALLOW_METHODS),
            );
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static(ALLOW_HEADERS),
            );
            headers.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static(MAX_AGE),
            );
        }
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
        return response;
    }
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if grant != Grant::Denied {
        add_origin(headers, &grant);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSE_HEADERS),
        );
    }
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    response
}

fn add_origin(headers: &mut HeaderMap, grant: &Grant) {
    match grant {
        Grant::Credentialed(origin) => {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        Grant::Anyone => {
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            );
        }
        Grant::Denied => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_dev_origins() {
        for ok in [
            "http://localhost",
            "http://localhost:8080",
            "http://127.0.0.1:5984",
            "http://[::1]:3000",
        ] {
            assert!(is_local_dev_origin(ok), "{ok}");
        }
        for bad in [
            "https://localhost:8080",
            "http://localhost.evil.example",
            "http://localhost:",
            "http://localhost:80x",
            "http://127.0.0.1.evil.example",
            "null",
        ] {
            assert!(!is_local_dev_origin(bad), "{bad}");
        }
    }

    #[test]
    fn grants() {
        let origin = |s: &'static str| HeaderValue::from_static(s);
        let default = CorsPolicy::new(&[]);
        assert!(matches!(
            default.grant(&origin("http://localhost:1")),
            Grant::Credentialed(_)
        ));
        assert_eq!(default.grant(&origin("https://app.example")), Grant::Denied);
        let listed = CorsPolicy::new(&["https://app.example/".to_owned()]);
        assert!(matches!(
            listed.grant(&origin("https://app.example")),
            Grant::Credentialed(_)
        ));
        assert_eq!(listed.grant(&origin("http://localhost:1")), Grant::Denied);
        let any = CorsPolicy::new(&["*".to_owned(), "https://app.example".to_owned()]);
        assert_eq!(any.grant(&origin("https://other.example")), Grant::Anyone);
        assert!(matches!(
            any.grant(&origin("https://app.example")),
            Grant::Credentialed(_)
        ));
    }
}
