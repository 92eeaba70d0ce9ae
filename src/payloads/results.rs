//! What the API's methods resolve to: write results and their outcomes,
//! conflicts, the outbox, status, merges, and the details of an error.

use serde::Serialize;
use serde_json::Value;
use tidesync_engine::{
    event::{RejectReason as EngineReject, Settlement},
    feed::FeedTransport,
    model::{Attachments, Body, ConflictRecord, DocStatus},
    outbox::{MessageOp, MessageState, OutboxMessage},
    schedule::SyncState,
    sync::SyncIssue,
};

/// Both sides of a conflict. `null` stands for a deleted side.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Conflict {
    /// The document id.
    pub id: String,
    /// The server's version both sides started from.
    #[cfg_attr(feature = "typescript", ts(type = "{ [key: string]: Json } | null"))]
    pub base: Option<Body>,
    /// This client's version.
    #[cfg_attr(feature = "typescript", ts(type = "{ [key: string]: Json } | null"))]
    pub local: Option<Body>,
    /// The server's version now.
    #[cfg_attr(feature = "typescript", ts(type = "{ [key: string]: Json } | null"))]
    pub remote: Option<Body>,
    /// The server's revision, which a resolution is based on.
    pub remote_rev: Option<String>,
    /// When the conflict was found, in ms since the epoch.
    pub detected_at: f64,
    /// The attachments the server's revision holds (metadata only), which a
    /// resolution keeps.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "typescript",
        ts(optional, type = "{ [name: string]: AttachmentStub }")
    )]
    pub remote_attachments: Option<Attachments>,
    /// The attachments of the local side (metadata only; those without
    /// `stub` were added here and are not on the server yet): compare the
    /// digests with `remoteAttachments` to see which differ. A resolution
    /// keeps both sides' additions.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "typescript",
        ts(optional, type = "{ [name: string]: AttachmentStub }")
    )]
    pub local_attachments: Option<Attachments>,
    /// Present when the conflict is between two branches of the document on
    /// the server (made by other replicators, e.g. CouchDB's or PouchDB's)
    /// rather than with an edit made here: `remote` is the winning branch,
    /// `local` the losing one named here. Resolving (or `discardLocal`,
    /// which keeps the winner) deletes that leaf on the server, so every
    /// replica ends with one version; further branches follow one at a time.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "typescript", ts(optional, as = "Option<Vec<String>>"))]
    pub losing_revs: Vec<String>,
}

impl From<ConflictRecord> for Conflict {
    fn from(record: ConflictRecord) -> Self {
        Conflict {
            id: record.id,
            base: record.base,
            local: record.local,
            remote: record.remote,
            remote_rev: record.remote_rev.map(|rev| rev.to_string()),
            detected_at: record.detected_at,
            remote_attachments: record.remote_attachments,
            local_attachments: record.local_attachments,
            losing_revs: record.losing_revs.iter().map(ToString::to_string).collect(),
        }
    }
}

/// Why the server refused a change for good.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct RejectReason {
    /// Always `rejected`, the code of the `error` event it comes with.
    #[cfg_attr(feature = "typescript", ts(type = "\"rejected\""))]
    pub code: &'static str,
    /// The HTTP status, when the whole request was refused.
    pub status: Option<u16>,
    /// CouchDB's error name, e.g. `forbidden`.
    pub error: String,
    /// CouchDB's reason.
    pub reason: String,
}

impl From<EngineReject> for RejectReason {
    fn from(reason: EngineReject) -> Self {
        RejectReason {
            code: "rejected",
            status: reason.status,
            error: reason.error,
            reason: reason.reason,
        }
    }
}

/// How a write's change ended on the server: what its `synced` promise
/// resolves to.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(tag = "outcome", rename_all = "lowercase")]
pub enum SyncOutcome {
    /// The server took the change, at this revision (`null` when it was
    /// taken without one being known).
    Accepted {
        /// The server's revision.
        rev: Option<String>,
    },
    /// The server had moved on: the app (or a strategy) resolves.
    Conflict {
        /// Both sides.
        conflict: Conflict,
    },
    /// The server refused the change for good; it is parked in the outbox.
    Rejected {
        /// What the server said.
        error: RejectReason,
    },
    /// The change was dropped locally before it reached the server
    /// (`discardLocal`, or a never-synced document deleted).
    Discarded,
}

impl From<Settlement> for SyncOutcome {
    fn from(settlement: Settlement) -> Self {
        match settlement {
            Settlement::Accepted { rev } => SyncOutcome::Accepted {
                rev: Some(rev.to_string()),
            },
            Settlement::Conflict { conflict } => SyncOutcome::Conflict {
                conflict: conflict.into(),
            },
            Settlement::Rejected { error } => SyncOutcome::Rejected {
                error: error.into(),
            },
        }
    }
}

/// What `put`, `delete`, `resolve` and `discardLocal` resolve to.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct WriteResult {
    /// The document id (generated when the document had none).
    pub id: String,
    /// The document's `_rev` after the write: the `_rev` a later `put` names
    /// to update this version (`null` when the document is gone).
    pub rev: Option<String>,
    /// How the document stands now.
    pub status: DocStatus,
    /// Settles when the change reached the server (or was dropped). A
    /// promise is not JSON: the API sets it on the object it built from the
    /// rest, so it is never serialised.
    #[serde(skip_serializing_if = "set_in_javascript")]
    #[cfg_attr(feature = "typescript", ts(type = "Promise<SyncOutcome>"))]
    pub synced: (),
}

/// True: `WriteResult::synced` is a promise the API sets in JavaScript.
fn set_in_javascript(_: &()) -> bool {
    true
}

/// An outbox message's state as the API names it: camelCase like every other
/// name in JavaScript (the stored form, `in-flight`, stays as it is on disk).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub enum OutboxState {
    /// Waiting to be pushed; later edits coalesce into it.
    Queued,
    /// Sent, awaiting the server's answer.
    InFlight,
    /// Refused by the server for good, until retried or discarded.
    Rejected,
}

impl From<MessageState> for OutboxState {
    fn from(state: MessageState) -> Self {
        match state {
            MessageState::Queued => OutboxState::Queued,
            MessageState::InFlight => OutboxState::InFlight,
            MessageState::Rejected => OutboxState::Rejected,
        }
    }
}

/// A change waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct OutboxEntry {
    /// Position in the queue.
    #[cfg_attr(feature = "typescript", ts(type = "number"))]
    pub seq: u64,
    /// The message id.
    pub id: String,
    /// The document it changes.
    pub doc_id: String,
    /// Write or delete.
    pub op: MessageOp,
    /// The server revision the change is based on.
    pub base_rev: Option<String>,
    /// The body to write (`null` for a delete).
    #[cfg_attr(feature = "typescript", ts(type = "{ [key: string]: Json } | null"))]
    pub body: Option<Body>,
    /// When the change was first queued, in ms since the epoch.
    pub created_at: f64,
    /// Pushes tried so far.
    pub attempts: u32,
    /// The last failure, if any.
    pub last_error: Option<String>,
    /// Where the message is in its life.
    pub state: OutboxState,
}

impl From<&OutboxMessage> for OutboxEntry {
    fn from(m: &OutboxMessage) -> Self {
        OutboxEntry {
            seq: m.seq,
            id: m.id.clone(),
            doc_id: m.doc_id.clone(),
            op: m.op,
            base_rev: m.base_rev.as_ref().map(|rev| rev.to_string()),
            body: m.body.clone(),
            created_at: m.created_at,
            attempts: m.attempts,
            last_error: m.last_error.clone(),
            state: m.state.into(),
        }
    }
}

/// How other clients' changes reach this one: the database's WebSocket
/// (which carries this client's requests too), a streamed feed, long-poll
/// requests, interval polling, or none (automatic sync off, paused, offline
/// or hidden).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[cfg_attr(feature = "typescript", ts(rename = "FeedTransport"))]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// The database's WebSocket.
    Websocket,
    /// One `continuous` feed read as a stream.
    Stream,
    /// `longpoll` requests.
    Longpoll,
    /// The scheduler's interval pulls.
    Poll,
    /// No feed.
    None,
}

impl From<Option<FeedTransport>> for Transport {
    fn from(feed: Option<FeedTransport>) -> Self {
        match feed {
            Some(FeedTransport::Socket) => Transport::Websocket,
            Some(FeedTransport::Stream) => Transport::Stream,
            Some(FeedTransport::Longpoll) => Transport::Longpoll,
            Some(FeedTransport::Poll) => Transport::Poll,
            None => Transport::None,
        }
    }
}

/// What `status()` returns and the `status` event carries.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// The sync state.
    pub state: SyncState,
    /// Documents with changes not yet on the server.
    #[cfg_attr(feature = "typescript", ts(type = "number"))]
    pub pending: usize,
    /// Documents in conflict.
    #[cfg_attr(feature = "typescript", ts(type = "number"))]
    pub conflicts: usize,
    /// When the last cycle finished well, in ms since the epoch.
    pub last_sync_at: Option<f64>,
    /// What the last failed cycle met.
    pub last_error: Option<SyncIssue>,
    /// When the next retry is due, in ms since the epoch.
    pub next_retry_at: Option<f64>,
    /// How other clients' changes reach this one.
    pub transport: Transport,
}

/// The result of `mergeDocuments`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct MergeResult {
    /// The merged document (`null`: deleted).
    #[cfg_attr(feature = "typescript", ts(type = "{ [key: string]: Json } | null"))]
    pub merged: Option<Value>,
    /// JSON Pointers of the places both sides changed incompatibly.
    pub clashes: Vec<String>,
}

/// What `TidesyncError.details` carries: the parts of the message an app acts
/// on, so it need not parse the message. `{ id, size, limit }` for
/// `document_too_large`, `{ id }` for `not_found` and `not_conflicted`,
/// `{ id, rev?, current? }` for `conflict` (the `_rev` the write named and
/// the one the document has, each absent when there is none); absent for
/// other codes.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct ErrorDetails {
    /// The document concerned.
    pub id: String,
    /// The document's size in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional, type = "number"))]
    pub size: Option<usize>,
    /// The largest size accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional, type = "number"))]
    pub limit: Option<usize>,
    /// The `_rev` the write named.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub rev: Option<String>,
    /// The `_rev` the document has.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub current: Option<String>,
    /// The attachment concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub name: Option<String>,
}

impl ErrorDetails {
    /// Details naming only the document.
    pub fn of(id: &str) -> Self {
        ErrorDetails {
            id: id.to_owned(),
            size: None,
            limit: None,
            rev: None,
            current: None,
            name: None,
        }
    }
}

/// What `storage()` resolves to: `navigator.storage`'s estimate for this
/// origin, `null` where the browser cannot say.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct StorageInfo {
    /// Bytes this origin stores (all its databases, caches included).
    pub usage: Option<f64>,
    /// Bytes it may store before writes fail with `quota_exceeded`.
    pub quota: Option<f64>,
    /// Whether the browser keeps the data under storage pressure.
    pub persisted: Option<bool>,
}
