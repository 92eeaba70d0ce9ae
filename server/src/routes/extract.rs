//! Extractors that turn paths, query strings and headers into typed values,
//! answering malformed input with CouchDB's JSON errors.
//!
//! Document ids reach the handlers from three route shapes: `/{db}/{id}` (with
//! `/` percent-encoded), `/{db}/_design/{name}` and `/{db}/_local/{name}`;
//! [`DocTarget`] and [`AttTarget`] hide the difference.

use std::collections::HashMap;

use axum::{
    extract::{FromRequestParts, MatchedPath, Path, Query},
    http::{header, request::Parts, HeaderMap},
};
use serde_json::Value;
use tidesync_engine::Revision;

use crate::{edit::parse_rev, error::ApiError};

/// The query string as ordered pairs.
#[derive(Debug, Clone, Default)]
pub struct QueryParams(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
            .map(|Query(pairs)| QueryParams(pairs))
            .map_err(|err| ApiError::BadRequest(err.body_text()))
    }
}

impl QueryParams {
    /// The last value of a parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The first of several spellings that is present (`startkey` / `start_key`).
    pub fn get_any(&self, names: &[&str]) -> Option<&str> {
        names.iter().find_map(|name| self.get(name))
    }

    /// A boolean parameter; absent means `default`.
    pub fn flag(&self, name: &str, default: bool) -> Result<bool, ApiError> {
        match self.get(name) {
            None => Ok(default),
            Some("true") => Ok(true),
            Some("false") => Ok(false),
            Some(other) => Err(ApiError::QueryParse(format!(
                "Invalid boolean parameter: {name}={other:?}"
            ))),
        }
    }

    /// A non-negative integer parameter.
    pub fn uint(&self, name: &str) -> Result<Option<u64>, ApiError> {
        self.get(name)
            .map(|text| {
                text.parse::<u64>().map_err(|_| {
                    ApiError::QueryParse(format!(
                        "Invalid value for positive integer: {name}={text:?}"
                    ))
                })
            })
            .transpose()
    }

    /// A JSON-encoded parameter (`keys=["a"]`, `startkey="a"`).
    pub fn json(&self, names: &[&str]) -> Result<Option<Value>, ApiError> {
        self.get_any(names)
            .map(|text| {
                serde_json::from_str(text).map_err(|_| {
                    ApiError::QueryParse(format!(
                        "Invalid JSON in query parameter {}: {text:?}",
                        names[0]
                    ))
                })
            })
            .transpose()
    }

    /// `?rev=`, parsed.
    pub fn rev(&self) -> Result<Option<Revision>, ApiError> {
        self.get("rev").map(parse_rev).transpose()
    }
}

/// The `If-Match` header as a revision.
pub fn if_match(headers: &HeaderMap) -> Result<Option<Revision>, ApiError> {
    headers
        .get(header::IF_MATCH)
        .map(|value| {
            value
                .to_str()
                .map_err(|_| ApiError::invalid_rev())
                .and_then(parse_rev)
        })
        .transpose()
}

/// The database and document a request is about.
#[derive(Debug, Clone)]
pub struct DocTarget {
    /// The database name.
    pub db: String,
    /// The document id, with its `_design/` or `_local/` prefix.
    pub id: String,
}

/// The database, document and attachment a request is about.
#[derive(Debug, Clone)]
pub struct AttTarget {
    /// The database name.
    pub db: String,
    /// The document id.
    pub id: String,
    /// The attachment name (may contain `/`).
    pub name: String,
}

async fn path_params<S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
) -> Result<(String, HashMap<String, String>), ApiError> {
    let matched = MatchedPath::from_request_parts(parts, state)
        .await
        .map(|m| m.as_str().to_owned())
        .unwrap_or_default();
    let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
        .await
        .map_err(|err| ApiError::BadRequest(err.body_text()))?;
    Ok((matched, params))
}

fn doc_id_from(
    matched: &str,
    params: &HashMap<String, String>,
) -> Result<(String, String), ApiError> {
    let db = params.get("db").cloned().ok_or_else(ApiError::missing)?;
    let id = if matched.starts_with("/{db}/_design/") {
        format!("_design/{}", params.get("name").map_or("", String::as_str))
    } else if matched.starts_with("/{db}/_local/") {
        format!("_local/{}", params.get("name").map_or("", String::as_str))
    } else {
        params.get("id").cloned().ok_or_else(ApiError::missing)?
    };
    Ok((db, id))
}

impl<S: Send + Sync> FromRequestParts<S> for DocTarget {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let (matched, params) = path_params(parts, state).await?;
        let (db, id) = doc_id_from(&matched, &params)?;
        Ok(DocTarget { db, id })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for AttTarget {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let (matched, params) = path_params(parts, state).await?;
        let (db, id) = doc_id_from(&matched, &params)?;
        let name = params.get("att").cloned().ok_or_else(ApiError::missing)?;
        Ok(AttTarget { db, id, name })
    }
}

/// The database a request is about.
#[derive(Debug, Clone)]
pub struct DbTarget(pub String);

impl<S: Send + Sync> FromRequestParts<S> for DbTarget {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let (_, params) = path_params(parts, state).await?;
        params
            .get("db")
            .cloned()
            .map(DbTarget)
            .ok_or_else(ApiError::missing)
    }
}

#[cfg(test)]
impl QueryParams {
    /// Parameters from literal pairs, for tests of the handlers that read them.
    pub(crate) fn from_pairs(pairs: &[(&str, &str)]) -> QueryParams {
        QueryParams(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> QueryParams {
        QueryParams::from_pairs(pairs)
    }

    #[test]
    fn typed_parameters() {
        let q = params(&[("a", "true"), ("n", "5"), ("bad", "x"), ("k", "[\"a\"]")]);
        assert_eq!(q.flag("a", false), Ok(true));
        assert_eq!(q.flag("missing", true), Ok(true));
        assert!(q.flag("bad", false).is_err());
        assert_eq!(q.uint("n"), Ok(Some(5)));
        assert!(q.uint("bad").is_err());
        assert_eq!(q.json(&["k"]), Ok(Some(serde_json::json!(["a"]))));
        assert!(q.json(&["bad"]).is_err());
    }

    #[test]
    fn ids_by_route_shape() {
        let mut p = HashMap::new();
        p.insert("db".to_owned(), "d".to_owned());
        p.insert("name".to_owned(), "x".to_owned());
        assert_eq!(
            doc_id_from("/{db}/_design/{name}", &p).expect("id").1,
            "_design/x"
        );
        assert_eq!(
            doc_id_from("/{db}/_local/{name}", &p).expect("id").1,
            "_local/x"
        );
        p.insert("id".to_owned(), "a/b".to_owned());
        assert_eq!(doc_id_from("/{db}/{id}", &p).expect("id").1, "a/b");
    }
}
