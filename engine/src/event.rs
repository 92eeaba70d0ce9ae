//! Events the engine asks the edge to emit, after the transaction that caused
//! them has committed.

use serde::Serialize;

use crate::{model::ConflictRecord, protocol::revision::Revision, store::WriteBatch};

/// Where a change came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// A write made through this client.
    Local,
    /// A write made through another client of the same database in this
    /// browser (another tab, or a second `open()` of the same name).
    Tab,
    /// A change pulled from the server.
    Remote,
}

/// How a document's pending change ended; resolves the `synced` promise of
/// every write that coalesced into it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "lowercase")]
pub enum Settlement {
    /// The server took the change at this revision.
    Accepted {
        /// The new server revision.
        rev: Revision,
    },
    /// The server had moved on; the app must resolve.
    Conflict {
        /// Both sides.
        conflict: ConflictRecord,
    },
    /// The server refused the change for good; it is parked in the outbox.
    Rejected {
        /// What the server said.
        error: RejectReason,
    },
}

/// Why the server refused a change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RejectReason {
    /// The stable code (`rejected`).
    pub code: String,
    /// The HTTP status, when the whole request was refused.
    pub status: Option<u16>,
    /// CouchDB's error name, e.g. `forbidden`, `too_large`.
    pub error: String,
    /// CouchDB's reason.
    pub reason: String,
}

/// Something the app may want to know.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Event {
    /// A document changed locally or remotely.
    Change {
        /// The document id.
        id: String,
        /// Local or remote.
        origin: Origin,
        /// True for a deletion.
        deleted: bool,
        /// The document as it now reads (as `get()` returns it), so a list
        /// on screen can update without reading it again; absent for a
        /// deletion.
        #[serde(skip_serializing_if = "Option::is_none")]
        doc: Option<serde_json::Value>,
    },
    /// A conflict was found (or its remote side moved on).
    Conflict {
        /// Both sides.
        conflict: ConflictRecord,
    },
    /// A conflict was decided by the configured strategy instead of being
    /// recorded: the document now holds the resolution, which (unless it is the
    /// server's version unchanged) waits in the outbox as a new change based on
    /// the server's revision, and settles the document's `synced` promise when
    /// the server accepts it.
    Resolved {
        /// The document id.
        id: String,
        /// The strategy that decided: `merge`, `serverWins`, `clientWins`,
        /// `newestWins` or `priority`.
        strategy: String,
        /// JSON Pointers of the places where the two versions clashed (what a
        /// winning strategy settled); empty after a clean merge.
        clashes: Vec<String>,
    },
    /// A document's pending change was settled by the server.
    Settled {
        /// The document id.
        id: String,
        /// The writes it settles: those whose message version is at most
        /// this (an acknowledged push settles only what it carried; a later
        /// edit waits for its own push). `None` settles every write of the
        /// document (a conflict or a discard ends them all).
        through: Option<u64>,
        /// How it ended.
        settlement: Settlement,
    },
}

impl Event {
    /// The change `batch` makes to document `id`: its new state, read from
    /// the batch (a deleted document, or one the batch forgets, carries no
    /// body).
    pub fn change(id: &str, origin: Origin, batch: &WriteBatch) -> Event {
        let written = batch.put_docs.iter().rev().find(|d| d.id == id);
        let doc = written.filter(|d| !d.deleted).map(|d| d.app_json());
        Event::Change {
            id: id.to_owned(),
            origin,
            deleted: doc.is_none(),
            doc,
        }
    }
}
