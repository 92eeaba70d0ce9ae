//! [`ApiError`]: every refusal the server makes, rendered as CouchDB renders it.
//!
//! Clients branch on the status code and the `error` name, so both follow
//! CouchDB's `chttpd:error_info/1` exactly; the `reason` is for people.

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use tidesync_engine::{
    protocol::{document::DocumentError, wire::CouchError},
    IdError,
};

use crate::store::StoreError;

/// The reason CouchDB gives for a missing database.
pub const NO_DB: &str = "Database does not exist.";

/// Seconds a client refused a live feed is asked to wait before trying one
/// again (it polls meanwhile).
const LIVE_FEED_RETRY_SECS: &str = "30";

/// An error answered to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// 400 `bad_request`: malformed input of any kind without a more specific name.
    #[error("{0}")]
    BadRequest(String),
    /// 400 `illegal_docid`: a reserved, empty or non-string document id.
    #[error("{0}")]
    IllegalDocId(String),
    /// 400 `illegal_database_name`, with CouchDB's full explanation as reason.
    #[error("{0}")]
    IllegalDbName(String),
    /// 400 `doc_validation`: an unknown or mistyped `_` member.
    #[error("{0}")]
    DocValidation(String),
    /// 400 `query_parse_error`: a query parameter of the wrong type.
    #[error("{0}")]
    QueryParse(String),
    /// 404 `not_found`; the reason is `missing`, `deleted` or names what is missing.
    #[error("{0}")]
    NotFound(String),
    /// 401 `unauthorized`: no credentials, or credentials that do not verify.
    #[error("{0}")]
    Unauthorized(String),
    /// 403 `forbidden`: the caller is known but not allowed this.
    #[error("{0}")]
    Forbidden(String),
    /// 405 `method_not_allowed`, naming the methods that are.
    #[error("Only {0} allowed")]
    MethodNotAllowed(String),
    /// 409 `conflict`: the base revision is not the current one.
    #[error("Document update conflict.")]
    Conflict,
    /// 412 `file_exists`: the database is already there.
    #[error("The database could not be created, the file already exists.")]
    FileExists,
    /// 412 `missing_stub`: an attachment stub names bytes the parent does not have.
    #[error("{0}")]
    MissingStub(String),
    /// 413 `document_too_large`; the reason is the document id.
    #[error("{0}")]
    DocumentTooLarge(String),
    /// 413 `attachment_too_large`; the reason is the attachment name.
    #[error("{0}")]
    AttachmentTooLarge(String),
    /// 413 `too_large`: the request body exceeds `--max-request-bytes`.
    #[error("the request entity is too large")]
    RequestTooLarge,
    /// 415 `bad_content_type`.
    #[error("{0}")]
    BadContentType(String),
    /// 503 `too_many_live_feeds`: the server holds `--max-live-feeds` waiting
    /// `_changes` feeds already; the client should poll (`Retry-After` says
    /// when to try a live feed again).
    #[error("the server holds {0} live feeds, its most; poll instead")]
    TooManyLiveFeeds(usize),
    /// 429 `too_many_requests`: too many failed sign-ins for this name or
    /// address; `Retry-After` says in how many seconds to try again.
    #[error("too many failed sign-ins; try again in {0} s")]
    TooManyRequests(u64),
    /// 500: storage failed; the details go to the log, not the client.
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    /// A 404 for a database that does not exist.
    pub fn no_db() -> ApiError {
        ApiError::NotFound(NO_DB.to_owned())
    }

    /// A 404 `missing`.
    pub fn missing() -> ApiError {
        ApiError::NotFound("missing".to_owned())
    }

    /// A 404 `deleted`.
    pub fn deleted() -> ApiError {
        ApiError::NotFound("deleted".to_owned())
    }

    /// 415 for an endpoint that only takes JSON bodies.
    pub fn json_required() -> ApiError {
        ApiError::BadContentType("Content-Type must be application/json".to_owned())
    }

    /// 400 for a body that does not parse.
    pub fn invalid_json() -> ApiError {
        ApiError::BadRequest("invalid UTF-8 JSON".to_owned())
    }

    /// 400 for a revision that does not parse.
    pub fn invalid_rev() -> ApiError {
        ApiError::BadRequest("Invalid rev format".to_owned())
    }

    /// The HTTP status CouchDB uses for this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_)
            | ApiError::IllegalDocId(_)
            | ApiError::IllegalDbName(_)
            | ApiError::DocValidation(_)
            | ApiError::QueryParse(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict => StatusCode::CONFLICT,
            ApiError::FileExists | ApiError::MissingStub(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::DocumentTooLarge(_)
            | ApiError::AttachmentTooLarge(_)
            | ApiError::RequestTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::BadContentType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooManyLiveFeeds(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// CouchDB's stable error name.
    pub fn name(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::IllegalDocId(_) => "illegal_docid",
            ApiError::IllegalDbName(_) => "illegal_database_name",
            ApiError::DocValidation(_) => "doc_validation",
            ApiError::QueryParse(_) => "query_parse_error",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed(_) => "method_not_allowed",
            ApiError::Conflict => "conflict",
            ApiError::FileExists => "file_exists",
            ApiError::MissingStub(_) => "missing_stub",
            ApiError::DocumentTooLarge(_) => "document_too_large",
            ApiError::AttachmentTooLarge(_) => "attachment_too_large",
            ApiError::RequestTooLarge => "too_large",
            ApiError::BadContentType(_) => "bad_content_type",
            ApiError::TooManyLiveFeeds(_) => "too_many_live_feeds",
            ApiError::TooManyRequests(_) => "too_many_requests",
            ApiError::Internal(_) => "internal_server_error",
        }
    }

    /// The JSON body, also used for per-document rows of `_bulk_docs`.
    pub fn body(&self) -> CouchError {
        CouchError {
            error: self.name().to_owned(),
            reason: self.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status(), Json(self.body())).into_response();
        if let ApiError::MethodNotAllowed(allowed) = &self {
            if let Ok(value) = HeaderValue::from_str(allowed) {
                response.headers_mut().insert(header::ALLOW, value);
            }
        }
        if let ApiError::TooManyLiveFeeds(_) = &self {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(LIVE_FEED_RETRY_SECS),
            );
        }
        if let ApiError::TooManyRequests(seconds) = &self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(*seconds));
        }
        if self.status() == StatusCode::PAYLOAD_TOO_LARGE {
            // The rest of an oversized body may still be in flight: tell the
            // client the connection will not be reused, as CouchDB does.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

impl From<IdError> for ApiError {
    fn from(err: IdError) -> Self {
        match err {
            IdError::IllegalDbName(_) => ApiError::IllegalDbName(err.to_string()),
            IdError::EmptyDocId | IdError::ReservedDocId => ApiError::IllegalDocId(err.to_string()),
        }
    }
}

impl From<DocumentError> for ApiError {
    fn from(err: DocumentError) -> Self {
        match err {
            DocumentError::NotAnObject => ApiError::BadRequest(err.to_string()),
            DocumentError::IdNotString => ApiError::IllegalDocId(err.to_string()),
            DocumentError::BadRevision => ApiError::invalid_rev(),
            DocumentError::DeletedNotBool => {
                ApiError::DocValidation("Bad special document member: _deleted".to_owned())
            }
            DocumentError::AttachmentsNotObject => {
                ApiError::DocValidation("Bad special document member: _attachments".to_owned())
            }
            DocumentError::BadSpecialMember(_) => ApiError::DocValidation(err.to_string()),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Api(api) => api,
            other => {
                tracing::error!(error = %other, "storage failure");
                ApiError::Internal("The server could not complete the request.".to_owned())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_statuses_follow_couchdb() {
        assert_eq!(ApiError::Conflict.status(), StatusCode::CONFLICT);
        assert_eq!(
            ApiError::Conflict.body(),
            CouchError {
                error: "conflict".into(),
                reason: "Document update conflict.".into()
            }
        );
        assert_eq!(ApiError::FileExists.status().as_u16(), 412);
        assert_eq!(
            ApiError::RequestTooLarge.body().reason,
            "the request entity is too large"
        );
        assert_eq!(ApiError::json_required().status().as_u16(), 415);
        assert_eq!(
            ApiError::from(IdError::ReservedDocId).name(),
            "illegal_docid"
        );
        assert_eq!(
            ApiError::from(DocumentError::DeletedNotBool).to_string(),
            "Bad special document member: _deleted"
        );
    }
}
