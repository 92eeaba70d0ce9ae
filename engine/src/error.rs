//! Errors of the engine, each with the stable code JavaScript sees.

use serde::Serialize;
use thiserror::Error;

/// A failure of a store backend (IndexedDB, memory).
#[derive(Debug, Clone, PartialEq, Error)]
pub enum StoreError {
    /// The browser refused to store more data.
    #[error("storage quota exceeded: {0}")]
    QuotaExceeded(String),
    /// The store was closed.
    #[error("the local database is closed")]
    Closed,
    /// Deleting the database waits on a connection another tab keeps open.
    #[error("{0}")]
    Blocked(String),
    /// Any other backend failure, with the backend's words.
    #[error("local storage failed: {0}")]
    Backend(String),
    /// The database could not be upgraded to this version's layout; it keeps
    /// its old layout and data.
    #[error("the local database could not be upgraded: {0}")]
    Migration(String),
    /// A stored record could not be decoded.
    #[error("a stored record is corrupt: {0}")]
    Corrupt(String),
}

/// Why an operation of the engine failed.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum EngineError {
    /// The value is not an acceptable document.
    #[error("invalid document: {0}")]
    InvalidDocument(String),
    /// The document id is not acceptable.
    #[error("invalid document id: {0}")]
    InvalidId(String),
    /// The document is larger than the configured limit.
    #[error("document {id} is {size} bytes, over the limit of {limit}")]
    DocumentTooLarge {
        /// The document id.
        id: String,
        /// Its serialised size.
        size: usize,
        /// The configured limit.
        limit: usize,
    },
    /// No such document.
    #[error("document not found: {0}")]
    NotFound(String),
    /// A `put` was not based on the document's current version: it names a
    /// `_rev` that is not the current one, names one for a document that
    /// does not exist, or names none for one that does (unless the client
    /// writes last-writer-wins). Nothing was written.
    #[error("{}", conflict_message(.id, .rev.as_deref(), .current.as_deref()))]
    Conflict {
        /// The document id.
        id: String,
        /// The `_rev` the write named (`None`: it named none).
        rev: Option<String>,
        /// The `_rev` the document has now (`None`: it does not exist).
        current: Option<String>,
    },
    /// A `_rev` that is not a revision (`N-hash`).
    #[error("invalid _rev: {0}")]
    InvalidRev(String),
    /// The operation needs a conflicted document and this one is not.
    #[error("document {0} has no conflict to resolve")]
    NotConflicted(String),
    /// An attachment name or content type that cannot be synced.
    #[error("invalid attachment: {0}")]
    InvalidAttachment(String),
    /// An attachment larger than the configured limit.
    #[error("attachment {name} of {id} is {size} bytes, over the limit of {limit}")]
    AttachmentTooLarge {
        /// The document id.
        id: String,
        /// The attachment name.
        name: String,
        /// Its size in bytes.
        size: u64,
        /// The configured limit.
        limit: u64,
    },
    /// The local store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl EngineError {
    /// The same error, naming the position of the document in a bulk write.
    pub fn at_index(self, index: usize) -> EngineError {
        match self {
            EngineError::InvalidDocument(m) => {
                EngineError::InvalidDocument(format!("document {index}: {m}"))
            }
            EngineError::InvalidId(m) => EngineError::InvalidId(format!("document {index}: {m}")),
            EngineError::InvalidRev(m) => EngineError::InvalidRev(format!("document {index}: {m}")),
            other => other,
        }
    }

    /// The stable code surfaced to JavaScript as `error.code`.
    pub fn code(&self) -> ErrorCode {
        match self {
            EngineError::InvalidDocument(_) => ErrorCode::InvalidDocument,
            EngineError::InvalidId(_) => ErrorCode::InvalidId,
            EngineError::DocumentTooLarge { .. } => ErrorCode::DocumentTooLarge,
            EngineError::NotFound(_) => ErrorCode::NotFound,
            EngineError::Conflict { .. } => ErrorCode::Conflict,
            EngineError::InvalidRev(_) => ErrorCode::InvalidRev,
            EngineError::NotConflicted(_) => ErrorCode::NotConflicted,
            EngineError::InvalidAttachment(_) => ErrorCode::InvalidAttachment,
            EngineError::AttachmentTooLarge { .. } => ErrorCode::AttachmentTooLarge,
            EngineError::Store(StoreError::QuotaExceeded(_)) => ErrorCode::QuotaExceeded,
            EngineError::Store(StoreError::Closed) => ErrorCode::Closed,
            EngineError::Store(StoreError::Blocked(_)) => ErrorCode::Blocked,
            EngineError::Store(StoreError::Migration(_)) => ErrorCode::MigrationFailed,
            EngineError::Store(_) => ErrorCode::Storage,
        }
    }
}

/// The stable codes of [`EngineError`]: what a local operation reports to
/// JavaScript (`TidesyncError.code`, and a sync issue's code when local
/// storage stopped a cycle). One enum, so the package's TypeScript union is
/// generated from the codes the engine can produce and cannot miss one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[cfg_attr(feature = "typescript", ts(rename = "LocalErrorCode"))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// A document that is not a JSON object, or holds what JSON cannot carry.
    InvalidDocument,
    /// A missing, empty or non-string `_id`, or one CouchDB reserves.
    InvalidId,
    /// A document over `maxDocumentBytes`.
    DocumentTooLarge,
    /// No such document.
    NotFound,
    /// A write naming a version other than the current one (or none, over a
    /// live document).
    Conflict,
    /// A `_rev` that is not a revision.
    InvalidRev,
    /// A resolution of a document that has no conflict.
    NotConflicted,
    /// An attachment name CouchDB refuses (empty, starting with `_`) or a
    /// content type that is not a MIME type.
    InvalidAttachment,
    /// An attachment over `maxAttachmentBytes`.
    AttachmentTooLarge,
    /// The browser refused to store more data.
    QuotaExceeded,
    /// The database was closed.
    Closed,
    /// Deleting the database waits on another tab.
    Blocked,
    /// The stored data could not be upgraded to this release's layout.
    MigrationFailed,
    /// Any other failure of local storage.
    Storage,
}

impl ErrorCode {
    /// The code as JavaScript sees it, e.g. `invalid_rev`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidDocument => "invalid_document",
            ErrorCode::InvalidId => "invalid_id",
            ErrorCode::DocumentTooLarge => "document_too_large",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Conflict => "conflict",
            ErrorCode::InvalidRev => "invalid_rev",
            ErrorCode::NotConflicted => "not_conflicted",
            ErrorCode::InvalidAttachment => "invalid_attachment",
            ErrorCode::AttachmentTooLarge => "attachment_too_large",
            ErrorCode::QuotaExceeded => "quota_exceeded",
            ErrorCode::Closed => "closed",
            ErrorCode::Blocked => "blocked",
            ErrorCode::MigrationFailed => "migration_failed",
            ErrorCode::Storage => "storage",
        }
    }
}

fn conflict_message(id: &str, rev: Option<&str>, current: Option<&str>) -> String {
    match (rev, current) {
        (Some(rev), Some(current)) => format!(
            "document {id} is at revision {current}, not {rev}: it changed since it was read"
        ),
        (Some(rev), None) => format!("document {id} does not exist, so it has no revision {rev}"),
        (None, Some(current)) => format!(
            "document {id} exists (revision {current}): name its _rev to update it, \
             or open with lastWriteWins"
        ),
        (None, None) => format!("document {id} changed since it was read"),
    }
}
