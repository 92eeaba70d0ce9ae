//! Multipart bodies as CouchDB's replicator uses them. It writes documents
//! with attachments as `multipart/related` (the JSON document first, then one
//! part per attachment marked `"follows": true`); the parts are folded back
//! into the document as inline base64, so the write goes through the same
//! validation as any other. It reads `open_revs` as `multipart/mixed`: one
//! JSON part per revision (attachments, when asked for, inline).

use std::collections::BTreeMap;

use axum::{
    http::{header, HeaderMap, HeaderValue},
    response::{IntoResponse, Response},
};
use serde_json::{json, Value};

use super::body::parse_json;
use crate::{edit::encode_base64, error::ApiError};

/// The boundary of `multipart/mixed` answers; JSON text cannot contain it
/// at a line start.
const MIXED_BOUNDARY: &str = "tidesync-open-revs";

/// Whether `Accept` asks for `multipart/mixed` and not for JSON.
pub fn wants_mixed(headers: &HeaderMap) -> bool {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    accept.contains("multipart/mixed") && !accept.contains("application/json")
}

/// `open_revs` answers as `multipart/mixed`: `{"ok": doc}` becomes a part
/// holding the document, `{"missing": rev}` a part marked `error="true"`.
pub fn mixed(answers: &[Value]) -> Response {
    let mut body = String::new();
    for answer in answers {
        let (content_type, value) = match answer.get("ok") {
            Some(doc) => ("application/json", doc),
            None => ("application/json; error=\"true\"", answer),
        };
        body.push_str(&format!(
            "--{MIXED_BOUNDARY}\r\nContent-Type: {content_type}\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!("--{MIXED_BOUNDARY}--"));
    let content_type = HeaderValue::from_static("multipart/mixed; boundary=\"tidesync-open-revs\"");
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// Whether a content type is `multipart/related`.
pub fn is_related(content_type: &str) -> bool {
    content_type
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("multipart/related")
}

/// The document of a `multipart/related` body, with every `follows`
/// attachment given its part's bytes inline. A part sent gzip-encoded (as
/// CouchDB sends compressible types such as text and JSON) is inflated,
/// refused past `max_attachment_bytes` once inflated.
pub fn document(
    content_type: &str,
    body: &[u8],
    max_attachment_bytes: usize,
) -> Result<Value, ApiError> {
    let boundary = boundary(content_type)?;
    let mut parts = split(body, boundary.as_bytes())?.into_iter();
    let (_, first) = parts
        .next()
        .ok_or_else(|| bad("the multipart body has no document part"))?;
    let mut doc = parse_json(first)?;
    let mut named: BTreeMap<String, &[u8]> = BTreeMap::new();
    let mut unnamed: Vec<&[u8]> = Vec::new();
    for (filename, data) in parts {
        match filename {
            Some(name) => {
                named.insert(name, data);
            }
            None => unnamed.push(data),
        }
    }
    let mut unnamed = unnamed.into_iter();
    if let Some(atts) = doc.get_mut("_attachments").and_then(Value::as_object_mut) {
        for (name, att) in atts.iter_mut() {
            if att.get("follows").and_then(Value::as_bool) != Some(true) {
                continue;
            }
            let encoding = att.get("encoding").and_then(Value::as_str);
            let gzipped = match encoding {
                None | Some("identity") => false,
                Some("gzip") => true,
                Some(other) => {
                    // Storing encoded bytes as the attachment would corrupt it.
                    return Err(ApiError::BadContentType(format!(
                        "attachment {name} is sent {other}-encoded; only identity and gzip parts are accepted"
                    )));
                }
            };
            let data = named
                .remove(name)
                .or_else(|| unnamed.next())
                .ok_or_else(|| bad(&format!("no multipart part for attachment {name}")))?;
            let data = if gzipped {
                gunzip(data, max_attachment_bytes)
                    .map_err(|reason| bad(&format!("attachment {name}: {reason}")))?
            } else {
                data.to_vec()
            };
            let content_type = att.get("content_type").cloned().unwrap_or(Value::Null);
            *att = json!({"content_type": content_type, "data": encode_base64(&data)});
        }
    }
    Ok(doc)
}

/// The bytes of a gzip part, at most `limit` of them once inflated (a small
/// part must not inflate past what the server stores).
fn gunzip(data: &[u8], limit: usize) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let mut out = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    flate2::read::GzDecoder::new(data)
        .take(cap)
        .read_to_end(&mut out)
        .map_err(|e| format!("not valid gzip ({e})"))?;
    if out.len() > limit {
        return Err(format!("inflates past the {limit}-byte attachment limit"));
    }
    Ok(out)
}

fn bad(reason: &str) -> ApiError {
    ApiError::BadRequest(reason.to_owned())
}

fn boundary(content_type: &str) -> Result<String, ApiError> {
    content_type
        .split(';')
        .skip(1)
        .filter_map(|param| param.split_once('='))
        .find(|(key, _)| key.trim().eq_ignore_ascii_case("boundary"))
        .map(|(_, value)| value.trim().trim_matches('"').to_owned())
        .filter(|value| !value.is_empty())
        .ok_or_else(|| bad("multipart/related needs a boundary"))
}

/// One part of a multipart body: its attachment filename (from
/// `Content-Disposition`, when given) and its bytes.
type Part<'a> = (Option<String>, &'a [u8]);

/// The parts between `--boundary` lines.
fn split<'a>(body: &'a [u8], boundary: &[u8]) -> Result<Vec<Part<'a>>, ApiError> {
    let mut delimiter = b"--".to_vec();
    delimiter.extend_from_slice(boundary);
    let mut parts = Vec::new();
    let mut rest = match find(body, &delimiter) {
        Some(at) => &body[at + delimiter.len()..],
        None => return Err(bad("the multipart body has no boundary line")),
    };
    loop {
        if rest.starts_with(b"--") {
            return Ok(parts);
        }
        let next = find(rest, &delimiter).ok_or_else(|| bad("unterminated multipart body"))?;
        let part = &rest[..next];
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let part = part.strip_suffix(b"\r\n").unwrap_or(part);
        let (headers, data) = match part.strip_prefix(b"\r\n") {
            // No headers at all: the blank line comes first.
            Some(data) => (&b""[..], data),
            None => {
                let at = find(part, b"\r\n\r\n")
                    .ok_or_else(|| bad("a multipart part has no blank line after its headers"))?;
                (&part[..at], &part[at + 4..])
            }
        };
        parts.push((filename(&String::from_utf8_lossy(headers)), data));
        rest = &rest[next + delimiter.len()..];
    }
}

fn filename(headers: &str) -> Option<String> {
    headers
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-disposition"))
        .and_then(|(_, value)| {
            value
                .split(';')
                .filter_map(|param| param.split_once('='))
                .find(|(key, _)| key.trim().eq_ignore_ascii_case("filename"))
                .map(|(_, name)| name.trim().trim_matches('"').to_owned())
        })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_parts_into_the_document() {
        let body = b"--abc\r\nContent-Type: application/json\r\n\r\n\
{\"_id\":\"d\",\"_attachments\":{\"b.txt\":{\"follows\":true,\"content_type\":\"text/plain\"},\
\"a.txt\":{\"follows\":true,\"content_type\":\"text/plain\"}}}\r\n\
--abc\r\nContent-Disposition: attachment; filename=\"b.txt\"\r\n\r\nbee\r\n\
--abc\r\nContent-Disposition: attachment; filename=\"a.txt\"\r\n\r\nay\r\n--abc--";
        let doc = document("multipart/related; boundary=\"abc\"", body, 1024).expect("parses");
        assert_eq!(doc["_attachments"]["a.txt"]["data"], encode_base64(b"ay"));
        assert_eq!(doc["_attachments"]["b.txt"]["data"], encode_base64(b"bee"));
        assert!(document("multipart/related", body, 1024).is_err());
        assert!(document("multipart/related; boundary=zzz", body, 1024).is_err());
    }

    /// A body with one attachment part sent with `encoding` and `bytes`.
    fn encoded(encoding: &str, bytes: &[u8]) -> Vec<u8> {
        let mut body = format!(
            "--abc\r\n\r\n{{\"_attachments\":{{\"a\":{{\"follows\":true,\"encoding\":\"{encoding}\"}}}}}}\r\n--abc\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n--abc--");
        body
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(bytes).expect("compresses");
        encoder.finish().expect("compressed")
    }

    #[test]
    fn gzip_parts_are_inflated_within_the_attachment_limit() {
        let text = b"the same line again and again\n".repeat(40);
        let content_type = "multipart/related; boundary=abc";
        let doc = document(content_type, &encoded("gzip", &gzip(&text)), 4096).expect("inflates");
        assert_eq!(doc["_attachments"]["a"]["data"], encode_base64(&text));
        // Past the limit once inflated, however small the part.
        let bomb = gzip(&vec![0u8; 100_000]);
        assert!(bomb.len() < 1_000);
        assert!(matches!(
            document(content_type, &encoded("gzip", &bomb), 4096),
            Err(ApiError::BadRequest(reason)) if reason.contains("limit")
        ));
        // Not gzip at all, and an encoding the server does not know.
        assert!(matches!(
            document(content_type, &encoded("gzip", b"plain"), 4096),
            Err(ApiError::BadRequest(_))
        ));
        assert!(matches!(
            document(content_type, &encoded("deflate", b"xx"), 4096),
            Err(ApiError::BadContentType(_))
        ));
    }

    #[tokio::test]
    async fn open_revs_as_mixed_parts() {
        let answers = [
            json!({"ok": {"_id": "d", "_rev": "1-a"}}),
            json!({"missing": "2-b"}),
        ];
        let response = mixed(&answers);
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .expect("body");
        let parts = split(&bytes, MIXED_BOUNDARY.as_bytes()).expect("parts");
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].1, br#"{"_id":"d","_rev":"1-a"}"#);
        assert_eq!(parts[1].1, br#"{"missing":"2-b"}"#);
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_static("multipart/mixed"));
        assert!(wants_mixed(&headers));
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static("multipart/mixed, application/json"),
        );
        assert!(!wants_mixed(&headers));
    }
}
