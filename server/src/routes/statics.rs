//! The demo page and the built npm package, served from folders on disk at
//! `/_demo/` and `/_demo/pkg/`, so the demo runs from the same origin as the
//! database. Database names cannot start with `_`, so these never collide.

use std::path::{Component, Path, PathBuf};

use axum::{
    extract::{Path as UrlPath, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};

use super::AppState;
use crate::error::ApiError;

/// Where the static folders are.
#[derive(Debug, Clone)]
pub struct StaticDirs {
    /// Served at `/_demo/`.
    pub demo: PathBuf,
    /// Served at `/_demo/pkg/`.
    pub pkg: PathBuf,
}

/// `/_demo` → `/_demo/`, so relative links in the page resolve inside it.
pub async fn redirect() -> Response {
    (
        StatusCode::MOVED_PERMANENTLY,
        [(header::LOCATION, HeaderValue::from_static("/_demo/"))],
    )
        .into_response()
}

/// `/_demo/`: the demo's `index.html`.
pub async fn index(State(state): State<AppState>) -> Response {
    serve(&state.statics.demo, "").await
}

/// `/_demo/{path}`: a file of the demo, or of the package under `pkg/`.
pub async fn file(State(state): State<AppState>, UrlPath(path): UrlPath<String>) -> Response {
    match path.strip_prefix("pkg/") {
        Some(rest) => serve(&state.statics.pkg, rest).await,
        None if path == "pkg" => serve(&state.statics.pkg, "").await,
        None => serve(&state.statics.demo, &path).await,
    }
}

async fn serve(root: &Path, relative: &str) -> Response {
    let Some(mut path) = safe_join(root, relative) else {
        return ApiError::missing().into_response();
    };
    if tokio::fs::metadata(&path).await.is_ok_and(|m| m.is_dir()) {
        path.push("index.html");
    }
    match tokio::fs::read(&path).await {
        Ok(bytes) => {
            let content_type = content_type_for(&path);
            (
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_str(&content_type)
                            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
                    ),
                    (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
                ],
                bytes,
            )
                .into_response()
        }
        Err(err) => {
            tracing::debug!(path = %path.display(), error = %err, "static file not served");
            ApiError::missing().into_response()
        }
    }
}

/// Joins a URL path under `root`, refusing anything that could leave it.
fn safe_join(root: &Path, relative: &str) -> Option<PathBuf> {
    let mut path = root.to_path_buf();
    for part in relative.split('/') {
        if part.is_empty() {
            continue;
        }
        if part.contains('\\') || part.contains('\0') {
            return None;
        }
        let mut components = Path::new(part).components();
        match (components.next(), components.next()) {
            (Some(Component::Normal(name)), None) => path.push(name),
            _ => return None,
        }
    }
    Some(path)
}

/// The MIME type to serve a file with; browsers insist on `application/wasm`
/// for streaming compilation and on a JavaScript type for modules.
fn content_type_for(path: &Path) -> String {
    match path.extension().and_then(|e| e.to_str()) {
        Some("wasm") => "application/wasm".to_owned(),
        Some("js" | "mjs") => "text/javascript".to_owned(),
        Some("html") => "text/html; charset=utf-8".to_owned(),
        _ => mime_guess::from_path(path)
            .first_or_octet_stream()
            .essence_str()
            .to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_safely() {
        let root = Path::new("/srv/demo");
        assert_eq!(
            safe_join(root, "a/b.js"),
            Some(PathBuf::from("/srv/demo/a/b.js"))
        );
        assert_eq!(safe_join(root, ""), Some(PathBuf::from("/srv/demo")));
        assert_eq!(safe_join(root, "../etc/passwd"), None);
        assert_eq!(safe_join(root, "a/../../x"), None);
        assert_eq!(safe_join(root, "./x"), None);
        assert_eq!(safe_join(root, "a\\..\\x"), None);
    }

    #[test]
    fn mime_types() {
        assert_eq!(content_type_for(Path::new("x.wasm")), "application/wasm");
        assert_eq!(content_type_for(Path::new("x.js")), "text/javascript");
        assert_eq!(content_type_for(Path::new("x.mjs")), "text/javascript");
        assert_eq!(content_type_for(Path::new("x.css")), "text/css");
        assert_eq!(
            content_type_for(Path::new("x.unknownext")),
            "application/octet-stream"
        );
    }
}
