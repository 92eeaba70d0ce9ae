//! Pure plans that turn the server's answers into one atomic store write each.
//!
//! Where the server's answer reveals a conflict (a refused push, a pulled change
//! over local edits), the conflict policy is consulted first: a conflict it
//! decides is written as a resolution in the same transaction instead of being
//! recorded.

mod work;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::{
    event::{Event, RejectReason},
    local::Stamp,
    merge::ConflictPolicy,
    model::{Attachments, Body},
    outbox::OutboxMessage,
    protocol::{
        document::{attachment_stubs, Document},
        revision::Revision,
        wire::ChangeRow,
        wire::Seq,
    },
    store::{Snapshot, WriteBatch},
};
use work::Work;

/// The server's current side of a document, fetched after a push conflict.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteDoc {
    /// The server's revision.
    pub rev: Revision,
    /// True when the server holds a tombstone.
    pub deleted: bool,
    /// The body (empty for a tombstone).
    pub body: Body,
    /// Its `_attachments`, as stubs (`None`: none, or a tombstone).
    pub attachments: Option<Attachments>,
    /// The other live leaves the server holds (`_conflicts`, best first):
    /// branches made by other replicators, which lost to this revision.
    pub conflicts: Vec<Revision>,
}

impl RemoteDoc {
    /// Reads a document as the server returned it.
    pub fn from_json(value: Value) -> Option<RemoteDoc> {
        let conflicts = losing_leaves(&value);
        let doc = Document::from_json(value).ok()?;
        let attachments = doc
            .attachments
            .as_ref()
            .filter(|atts| !doc.deleted && !atts.is_empty())
            .map(attachment_stubs);
        Some(RemoteDoc {
            rev: doc.rev?,
            deleted: doc.deleted,
            body: doc.body,
            attachments,
            conflicts,
        })
    }

    fn body_or_none(&self) -> Option<Body> {
        (!self.deleted).then(|| self.body.clone())
    }
}

/// The revisions of a document's `_conflicts` member (with `conflicts=true`),
/// in the server's order; members that are not revisions are left out.
pub fn losing_leaves(doc: &Value) -> Vec<Revision> {
    doc.get("_conflicts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|rev| rev.as_str()?.parse().ok())
        .collect()
}

/// The outcome of pushing one message.
#[derive(Debug, Clone, PartialEq)]
pub enum PushResult {
    /// Accepted at this revision.
    Ack(Revision),
    /// Refused because the server moved on; the server side as fetched (`None`
    /// when it could not be fetched).
    Conflict(Option<RemoteDoc>),
    /// Refused for good.
    Reject(RejectReason),
    /// Not settled (network, 5xx): stays queued with the error.
    Retry(String),
    /// Claimed but never sent (the push before it failed): back in the queue
    /// as it was, with no copy of a push that never happened.
    Unsent,
}

/// One atomic step of the cycle.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// Mark these queued messages in flight.
    Claim(Vec<OutboxMessage>),
    /// Settle pushed messages.
    Settle(Vec<(OutboxMessage, PushResult)>),
    /// Apply a pulled page and advance the checkpoint.
    PullPage {
        /// The rows.
        rows: Vec<ChangeRow>,
        /// The new checkpoint.
        last_seq: Seq,
        /// For rows whose document has other live leaves on the server
        /// (`_conflicts`), the first of those leaves as fetched, by document
        /// id: it reaches the app as a conflict with the winner.
        branches: BTreeMap<String, RemoteDoc>,
    },
}

/// What a plan did, for the session and the app.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Applied {
    /// Events to emit once the transaction has committed.
    pub events: Vec<Event>,
    /// The messages now in flight (for [`Plan::Claim`]).
    pub claimed: Vec<OutboxMessage>,
    /// Changes the server accepted.
    pub pushed: u32,
    /// Remote changes applied.
    pub pulled: u32,
    /// Conflicts found.
    pub conflicts: u32,
    /// Messages parked as rejected.
    pub rejected: Vec<(String, RejectReason)>,
    /// Conflicts decided by the policy instead of being recorded.
    pub resolved: u32,
    /// True when a pulled change left a resolution in the outbox: the push
    /// phase of this cycle is over, so it needs another round to reach the server.
    pub requeued: bool,
    /// The id of a pulled row that could not be read: the page stopped
    /// before it, and so does the pull.
    pub unreadable: Option<String>,
}

/// What applying a plan needs besides the snapshot.
pub struct ApplyContext<'a> {
    /// Milliseconds since the epoch.
    pub now: f64,
    /// How conflicts found while applying are decided.
    pub policy: &'a ConflictPolicy,
    /// What to stamp into automatic resolutions (they are writes of this client).
    pub stamp: &'a Stamp,
    /// A fresh unique id, for the outbox message of an automatic resolution.
    pub new_id: &'a dyn Fn() -> String,
}

impl std::fmt::Debug for ApplyContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApplyContext")
            .field("now", &self.now)
            .field("policy", self.policy)
            .field("stamp", self.stamp)
            .finish_non_exhaustive()
    }
}

impl Plan {
    /// The document ids the transaction must read.
    pub fn ids(&self) -> Vec<String> {
        let ids: BTreeSet<String> = match self {
            Plan::Claim(messages) => messages.iter().map(|m| m.doc_id.clone()).collect(),
            Plan::Settle(results) => results.iter().map(|(m, _)| m.doc_id.clone()).collect(),
            Plan::PullPage { rows, .. } => rows.iter().map(|r| r.id.clone()).collect(),
        };
        ids.into_iter().collect()
    }

    /// Computes the writes against what the transaction read, recording every
    /// conflict for the app (the manual policy).
    pub fn apply(self, snapshot: Snapshot, now: f64) -> (WriteBatch, Applied) {
        let ctx = ApplyContext {
            now,
            policy: &ConflictPolicy::default(),
            stamp: &Stamp::default(),
            new_id: &String::new,
        };
        self.apply_with(snapshot, &ctx)
    }

    /// Computes the writes against what the transaction read, deciding the
    /// conflicts found by `ctx.policy`.
    pub fn apply_with(self, snapshot: Snapshot, ctx: &ApplyContext<'_>) -> (WriteBatch, Applied) {
        let mut work = Work::new(snapshot, ctx);
        match self {
            Plan::Claim(messages) => work.claim(messages),
            Plan::Settle(results) => results.into_iter().for_each(|(m, r)| work.settle(m, r)),
            Plan::PullPage {
                rows,
                last_seq,
                mut branches,
            } => {
                // A row that cannot be read stops the page: the checkpoint
                // stays before it, so it is never skipped silently.
                let mut read_through = None;
                for row in rows {
                    let (seq, id) = (row.seq.clone(), row.id.clone());
                    let branch = branches.remove(&id);
                    if !work.pull(row, branch) {
                        work.unreadable(id);
                        if let Some(seq) = read_through.take() {
                            work.checkpoint(seq);
                        }
                        return work.finish();
                    }
                    read_through = Some(seq);
                }
                work.checkpoint(last_seq);
            }
        }
        work.finish()
    }
}
