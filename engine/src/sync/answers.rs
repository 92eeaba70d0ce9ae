//! Reading the server's answers: CouchDB error bodies, and the issues a sync
//! report carries for refused batches, failed requests and odd responses.

use serde::Deserialize;

use super::{IssueCode, SyncIssue};
use crate::{
    event::RejectReason,
    http::{HttpRequest, HttpResponse, Method, TransportError},
    protocol::wire::{BulkDocsResult, BulkGetResponse, CouchError},
};

/// A `_bulk_get` answer, or the issue that ends the cycle when the server
/// refused the request or answered something else.
pub(super) fn bulk_get_answer(response: &HttpResponse) -> Result<BulkGetResponse, SyncIssue> {
    if response.status != 200 {
        return Err(server_issue(response));
    }
    serde_json::from_str(&response.body)
        .map_err(|_| protocol_issue("_bulk_get answered with an unexpected body"))
}

pub(super) fn row_id(row: &BulkDocsResult) -> Option<&String> {
    match row {
        BulkDocsResult::Ok { id, .. } => Some(id),
        BulkDocsResult::Error { id, .. } => id.as_ref(),
    }
}

pub(super) fn post<T: serde::Serialize>(path: &str, body: &T) -> HttpRequest {
    let mut request = HttpRequest::new(Method::Post, path);
    request.body = serde_json::to_string(body).ok();
    request
}

pub(super) fn couch_error(response: &HttpResponse) -> Option<CouchError> {
    #[derive(Deserialize)]
    struct Loose {
        error: Option<String>,
        reason: Option<String>,
    }
    let loose: Loose = serde_json::from_str(&response.body).ok()?;
    Some(CouchError {
        error: loose.error.unwrap_or_default(),
        reason: loose.reason.unwrap_or_default(),
    })
}

pub(super) fn reject_reason(response: &HttpResponse) -> RejectReason {
    let couch = couch_error(response).unwrap_or(CouchError {
        error: "rejected".into(),
        reason: String::new(),
    });
    RejectReason {
        code: "rejected".into(),
        status: Some(response.status),
        error: couch.error,
        reason: couch.reason,
    }
}

pub(super) fn server_issue(response: &HttpResponse) -> SyncIssue {
    let code = match response.status {
        401 => IssueCode::Unauthorized,
        403 => IssueCode::Forbidden,
        _ => IssueCode::Server,
    };
    let detail = couch_error(response)
        .map(|e| format!(" ({}: {})", e.error, e.reason))
        .unwrap_or_default();
    SyncIssue {
        code,
        message: format!("the server answered {}{detail}", response.status),
        id: None,
        status: Some(response.status),
        retry_after_ms: response.retry_after_ms,
    }
}

pub(super) fn transport_issue(error: &TransportError) -> SyncIssue {
    let code = match error {
        TransportError::Network(_) => IssueCode::Network,
        TransportError::Timeout(_) => IssueCode::Timeout,
    };
    SyncIssue {
        code,
        message: error.to_string(),
        id: None,
        status: None,
        retry_after_ms: None,
    }
}

/// A `_changes` row of document `id` that could not be read: the pull
/// stopped before it (see `Applied::unreadable`).
pub(super) fn unreadable_row_issue(id: Option<String>) -> SyncIssue {
    let message = format!(
        "a _changes row of {} could not be read (no revision, or not a document); \
         the pull stopped before it and resumes there next time",
        id.as_deref().unwrap_or("?")
    );
    SyncIssue {
        id,
        ..protocol_issue(&message)
    }
}

pub(super) fn protocol_issue(message: &str) -> SyncIssue {
    SyncIssue {
        code: IssueCode::Protocol,
        message: message.into(),
        id: None,
        status: None,
        retry_after_ms: None,
    }
}
