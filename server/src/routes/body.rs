//! Request bodies: size-limited reading, content-type checks and JSON parsing
//! with CouchDB's error answers.

use axum::{
    body::Body,
    http::{header, HeaderMap},
};
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use serde_json::{Map, Value};

use crate::error::ApiError;

/// How much of an oversized body is read and thrown away before answering 413,
/// so the client sees the answer instead of a reset connection.
const MAX_DRAIN_BYTES: usize = 64 * 1024 * 1024;

/// Reads the whole body, refusing with 413 `too_large` beyond `limit` bytes.
pub async fn read_limited(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Bytes, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let mut body = body;
    if declared.is_some_and(|len| len > limit as u64) {
        drain(&mut body, MAX_DRAIN_BYTES).await;
        return Err(ApiError::RequestTooLarge);
    }
    let mut buf = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|err| ApiError::BadRequest(format!("unreadable request body: {err}")))?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > limit {
                drain(&mut body, MAX_DRAIN_BYTES).await;
                return Err(ApiError::RequestTooLarge);
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(buf.freeze())
}

async fn drain(body: &mut Body, budget: usize) {
    let mut seen = 0usize;
    while seen < budget {
        match body.frame().await {
            Some(Ok(frame)) => {
                seen += frame.data_ref().map_or(0, Bytes::len);
            }
            _ => break,
        }
    }
}

/// Whether the request says its body is JSON.
pub fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

/// 415 unless the request body is declared as JSON, for the endpoints where
/// CouchDB insists (`POST /{db}`, `_bulk_docs`, `_bulk_get`, `_all_docs`, `_changes`).
pub fn require_json(headers: &HeaderMap) -> Result<(), ApiError> {
    if is_json(headers) {
        Ok(())
    } else {
        Err(ApiError::json_required())
    }
}

/// Parses a JSON body (any JSON value).
pub fn parse_json(bytes: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes).map_err(|_| ApiError::invalid_json())
}

/// Parses a JSON body that must be an object.
pub fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match parse_json(bytes)? {
        Value::Object(map) => Ok(map),
        _ => Err(ApiError::BadRequest(
            "Request body must be a JSON object".to_owned(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[tokio::test]
    async fn limits_bodies() {
        let headers = HeaderMap::new();
        let ok = read_limited(&headers, Body::from("12345"), 5)
            .await
            .expect("fits");
        assert_eq!(&ok[..], b"12345");
        let too_big = read_limited(&headers, Body::from("123456"), 5).await;
        assert_eq!(too_big, Err(ApiError::RequestTooLarge));
    }

    #[test]
    fn content_types() {
        let mut headers = HeaderMap::new();
        assert!(require_json(&headers).is_err());
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        assert!(require_json(&headers).is_ok());
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        assert_eq!(require_json(&headers), Err(ApiError::json_required()));
    }

    #[test]
    fn json_errors() {
        assert_eq!(parse_json(b"{nope"), Err(ApiError::invalid_json()));
        assert!(matches!(parse_object(b"[1]"), Err(ApiError::BadRequest(_))));
        assert!(parse_object(b"{\"a\":1}").is_ok());
    }
}
