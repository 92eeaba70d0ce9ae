//! The sync cycle: push the outbox in batches, fetch the server side of
//! conflicts, pull `_changes` in pages. [`session::SyncSession`] decides each
//! step; [`plan::Plan`] turns each answer into one atomic store write.

mod answers;
pub mod plan;
pub mod session;

use serde::Serialize;

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

/// A problem met during a cycle, reported in [`SyncReport::errors`]. Its
/// members are camelCase in JavaScript, as the typings declare them.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncIssue {
    /// Stable code: `network`, `timeout`, `server`, `unauthorized`, `rejected`, `protocol`, `storage`.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
    /// The document concerned, if one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The HTTP status, if one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Milliseconds the server asked to wait (`Retry-After`); `retryAfterMs`
    /// in JavaScript, like every duration of the API.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<f64>,
}

/// What one sync cycle did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
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
