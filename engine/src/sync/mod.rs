//! The sync cycle: push the outbox in batches, fetch the server side of
//! conflicts, pull `_changes` in pages. [`session::SyncSession`] decides each
//! step; [`plan::Plan`] turns each answer into one atomic store write.

mod answers;
pub mod plan;
pub mod session;

use serde::Serialize;

use crate::error::ErrorCode;

/// Tunables of a sync cycle.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncConfig {
    /// Most documents in one `_bulk_docs` request.
    pub batch_docs: usize,
    /// Most bytes in one `_bulk_docs` request (a larger single document is sent alone).
    pub batch_bytes: usize,
    /// `_changes` page size.
    pub pull_page: usize,
    /// Create the remote database when it does not exist.
    pub create_remote: bool,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            batch_docs: 500,
            batch_bytes: 1_000_000,
            pull_page: 1000,
            create_remote: true,
        }
    }
}

/// A problem met during a cycle, reported in [`SyncReport::errors`]. JS
/// receives it as it serialises (camelCase members), and the package's
/// declaration of it is generated from this type.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct SyncIssue {
    /// What went wrong, as a stable code.
    pub code: IssueCode,
    /// Human-readable explanation.
    pub message: String,
    /// The document concerned, if one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub id: Option<String>,
    /// The HTTP status, if one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub status: Option<u16>,
    /// Milliseconds the server asked to wait (`Retry-After`); `retryAfterMs`
    /// in JavaScript, like every duration of the API.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub retry_after_ms: Option<f64>,
}

/// Codes of a [`SyncIssue`]: what stopped a cycle (the transport, the
/// server, its answer, local storage) or a change the server refused for
/// good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[cfg_attr(feature = "typescript", ts(rename = "SyncIssueCode"))]
#[serde(rename_all = "snake_case")]
pub enum IssueCode {
    /// The request never got an answer (offline, refused, reset).
    Network,
    /// The request took longer than `requestTimeoutMs`.
    Timeout,
    /// The server answered with an error status.
    Server,
    /// The server asked for credentials (401).
    Unauthorized,
    /// The server refused this user the whole database (403): the changes
    /// stay queued, not parked, for when access is granted or the app
    /// signs in as someone else.
    Forbidden,
    /// The server's answer made no sense as CouchDB's.
    Protocol,
    /// The server refused a change for good.
    Rejected,
    /// Local storage failed during the cycle.
    #[serde(untagged)]
    Local(ErrorCode),
}

impl IssueCode {
    /// The code as JavaScript sees it, e.g. `network`.
    pub fn as_str(self) -> &'static str {
        match self {
            IssueCode::Network => "network",
            IssueCode::Timeout => "timeout",
            IssueCode::Server => "server",
            IssueCode::Unauthorized => "unauthorized",
            IssueCode::Forbidden => "forbidden",
            IssueCode::Protocol => "protocol",
            IssueCode::Rejected => "rejected",
            IssueCode::Local(code) => code.as_str(),
        }
    }
}

/// What one sync cycle did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct SyncReport {
    /// Changes the server accepted.
    pub pushed: u32,
    /// Remote changes applied locally.
    pub pulled: u32,
    /// Conflicts found.
    pub conflicts: u32,
    /// Rejections and the failure that stopped the cycle, if any.
    pub errors: Vec<SyncIssue>,
}
