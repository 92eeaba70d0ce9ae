//! What the listeners of `on()` receive, besides conflicts and status (see
//! `results`).

use serde::Serialize;
use serde_json::Value;
use tidesync_engine::{
    event::{Origin, RejectReason},
    sync::{IssueCode, SyncIssue},
};

use super::codes::{CallbackCode, EventCode};

/// `change`: a document changed: `local` by this instance, `tab` by another
/// tab (or instance) of the same database in this browser, `remote` by a pull.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct ChangeEvent {
    /// Always `change`.
    #[serde(rename = "type")]
    #[cfg_attr(feature = "typescript", ts(type = "\"change\""))]
    pub kind: &'static str,
    /// The document id.
    pub id: String,
    /// Who changed it.
    pub origin: Origin,
    /// True for a deletion.
    pub deleted: bool,
    /// The document as `get()` now returns it; absent for a deletion.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional, type = "Doc"))]
    pub doc: Option<Value>,
}

impl ChangeEvent {
    /// The event of a change to `id`.
    pub fn new(id: String, origin: Origin, deleted: bool, doc: Option<Value>) -> Self {
        ChangeEvent {
            kind: "change",
            id,
            origin,
            deleted,
            doc,
        }
    }
}

/// `resolved`: a conflict decided automatically (`custom` for the app's
/// resolver).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct ResolvedEvent {
    /// Always `resolved`.
    #[serde(rename = "type")]
    #[cfg_attr(feature = "typescript", ts(type = "\"resolved\""))]
    pub kind: &'static str,
    /// The document id.
    pub id: String,
    /// The strategy that decided: `merge`, `serverWins`, `clientWins`,
    /// `newestWins`, `priority`, or `custom`.
    pub strategy: String,
    /// JSON Pointers of the places where the two versions clashed.
    pub clashes: Vec<String>,
}

impl ResolvedEvent {
    /// The event of `id` resolved by `strategy`.
    pub fn new(id: String, strategy: String, clashes: Vec<String>) -> Self {
        ResolvedEvent {
            kind: "resolved",
            id,
            strategy,
            clashes,
        }
    }
}

/// `error`: a change rejected for good, a failed sync cycle, or a callback
/// of the app that failed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct ErrorEvent {
    /// What went wrong.
    pub code: EventCode,
    /// Human-readable explanation.
    pub message: String,
    /// The document concerned, if one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub id: Option<String>,
    /// The HTTP status, if one (`null` for a rejection of one document in a
    /// request the server took).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub status: Option<Option<u16>>,
    /// CouchDB's error name, for a rejection.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub error: Option<String>,
    /// CouchDB's reason, for a rejection.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub reason: Option<String>,
    /// Milliseconds the server asked to wait (`Retry-After`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub retry_after_ms: Option<f64>,
}

impl ErrorEvent {
    /// The event of a callback that failed.
    pub fn callback(code: CallbackCode, id: Option<&str>, message: String) -> Self {
        ErrorEvent {
            code: EventCode::Callback(code),
            message,
            id: id.map(str::to_owned),
            status: None,
            error: None,
            reason: None,
            retry_after_ms: None,
        }
    }

    /// The event of a change of `id` the server refused for good.
    pub fn rejected(id: &str, reason: &RejectReason) -> Self {
        ErrorEvent {
            code: EventCode::Issue(IssueCode::Rejected),
            message: format!("{}: {}", reason.error, reason.reason),
            id: Some(id.to_owned()),
            status: Some(reason.status),
            error: Some(reason.error.clone()),
            reason: Some(reason.reason.clone()),
            retry_after_ms: None,
        }
    }
}

impl From<&SyncIssue> for ErrorEvent {
    fn from(issue: &SyncIssue) -> Self {
        ErrorEvent {
            code: EventCode::Issue(issue.code),
            message: issue.message.clone(),
            id: issue.id.clone(),
            status: issue.status.map(Some),
            error: None,
            reason: None,
            retry_after_ms: issue.retry_after_ms,
        }
    }
}
