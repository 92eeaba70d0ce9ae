//! Pure plans that turn the server's answers into one atomic store write each.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::{
    event::{Event, Origin, RejectReason, Settlement},
    model::{Body, ConflictRecord, DocRecord, DocStatus},
    outbox::{MessageOp, MessageState, OutboxMessage},
    protocol::{document::Document, revision::Revision, wire::ChangeRow, wire::Seq},
    store::{Snapshot, WriteBatch, META_CHECKPOINT},
};

/// The server's current side of a document, fetched after a push conflict.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteDoc {
    /// The server's revision.
    pub rev: Revision,
    /// True when the server holds a tombstone.
    pub deleted: bool,
    /// The body (empty for a tombstone).
    pub body: Body,
}

impl RemoteDoc {
    /// Reads a document as the server returned it.
    pub fn from_json(value: Value) -> Option<RemoteDoc> {
        let doc = Document::from_json(value).ok()?;
        Some(RemoteDoc {
            rev: doc.rev?,
            deleted: doc.deleted,
            body: doc.body,
        })
    }

    fn body_or_none(&self) -> Option<Body> {
        (!self.deleted).then(|| self.body.clone())
    }
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

    /// Computes the writes against what the transaction read.
    pub fn apply(self, snapshot: Snapshot, now: f64) -> (WriteBatch, Applied) {
        let mut work = Work {
            snapshot,
            batch: WriteBatch::default(),
            applied: Applied::default(),
            now,
        };
        match self {
            Plan::Claim(messages) => work.claim(messages),
            Plan::Settle(results) => results.into_iter().for_each(|(m, r)| work.settle(m, r)),
            Plan::PullPage { rows, last_seq } => {
                rows.into_iter().for_each(|row| work.pull(row));
                work.batch.meta.push((META_CHECKPOINT.into(), last_seq.0));
            }
        }
        (work.batch, work.applied)
    }
}

/// A plan in progress: the snapshot is updated as writes are decided, so two
/// rows for one document in one page see each other.
struct Work {
    snapshot: Snapshot,
    batch: WriteBatch,
    applied: Applied,
    now: f64,
}

impl Work {
    fn put_doc(&mut self, doc: DocRecord) {
        self.snapshot.docs.insert(doc.id.clone(), doc.clone());
        self.batch.put_docs.push(doc);
    }

    fn put_message(&mut self, message: OutboxMessage) {
        if let Some(list) = self.snapshot.messages.get_mut(&message.doc_id) {
            list.retain(|m| m.seq != message.seq);
            list.push(message.clone());
            list.sort_by_key(|m| m.seq);
        }
        self.batch.put_messages.push(message);
    }

    fn drop_messages(&mut self, id: &str) {
        if let Some(list) = self.snapshot.messages.remove(id) {
            self.batch
                .delete_messages
                .extend(list.iter().map(|m| m.seq));
        }
    }

    fn drop_message(&mut self, id: &str, seq: u64) {
        if let Some(list) = self.snapshot.messages.get_mut(id) {
            list.retain(|m| m.seq != seq);
        }
        self.batch.delete_messages.push(seq);
    }

    /// Records a conflict; `fresh` counts it as new (a moved remote side is not).
    fn put_conflict(&mut self, conflict: ConflictRecord, fresh: bool) {
        self.applied.conflicts += u32::from(fresh);
        self.applied.events.push(Event::Conflict {
            conflict: conflict.clone(),
        });
        self.snapshot
            .conflicts
            .insert(conflict.id.clone(), conflict.clone());
        self.batch.put_conflicts.push(conflict);
    }

    fn current(&self, message: &OutboxMessage) -> Option<OutboxMessage> {
        self.snapshot
            .messages_of(&message.doc_id)
            .iter()
            .find(|m| m.seq == message.seq)
            .cloned()
    }

    fn claim(&mut self, messages: Vec<OutboxMessage>) {
        for message in messages {
            // Read again inside the transaction: a later edit may have coalesced into it.
            let Some(current) = self.current(&message) else {
                continue;
            };
            // An in-flight message seen by a new cycle belongs to a cycle that
            // died (a closed tab): it is replayed.
            if current.state == MessageState::Rejected {
                continue;
            }
            let claimed = OutboxMessage {
                state: MessageState::InFlight,
                attempts: current.attempts + 1,
                ..current
            };
            self.applied.claimed.push(claimed.clone());
            self.put_message(claimed);
        }
    }

    fn settle(&mut self, sent: OutboxMessage, result: PushResult) {
        // The message may have been discarded by the app while in flight.
        if self.current(&sent).is_none() {
            return;
        }
        match result {
            PushResult::Ack(rev) => self.acknowledge(&sent, rev),
            PushResult::Conflict(Some(remote)) if is_own_write(&sent, &remote) => {
                self.acknowledge(&sent, remote.rev)
            }
            PushResult::Conflict(remote) => self.push_conflict(&sent, remote),
            PushResult::Reject(reason) => {
                let parked = OutboxMessage {
                    state: MessageState::Rejected,
                    last_error: Some(format!("{}: {}", reason.error, reason.reason)),
                    ..sent.clone()
                };
                self.put_message(parked);
                self.applied
                    .rejected
                    .push((sent.doc_id.clone(), reason.clone()));
                let settlement = Settlement::Rejected { error: reason };
                self.applied.events.push(Event::Settled {
                    id: sent.doc_id,
                    settlement,
                });
            }
            PushResult::Retry(error) => {
                let queued = OutboxMessage {
                    state: MessageState::Queued,
                    last_error: Some(error),
                    ..sent
                };
                self.put_message(queued);
            }
        }
    }

    /// Invariant 3: the document is synced only if no newer edit waits behind
    /// the acknowledged message; a waiting one is rebased on the new revision.
    fn acknowledge(&mut self, sent: &OutboxMessage, rev: Revision) {
        self.drop_message(&sent.doc_id, sent.seq);
        self.applied.pushed += 1;
        let later: Vec<OutboxMessage> = self.snapshot.messages_of(&sent.doc_id).to_vec();
        for message in later {
            self.put_message(OutboxMessage {
                base_rev: Some(rev.clone()),
                ..message
            });
        }
        if let Some(doc) = self.snapshot.docs.get(&sent.doc_id).cloned() {
            let waiting = !self.snapshot.messages_of(&sent.doc_id).is_empty();
            let status = match doc.status {
                DocStatus::Conflicted => DocStatus::Conflicted,
                _ if waiting => DocStatus::Pending,
                _ => DocStatus::Synced,
            };
            let base = (sent.op == MessageOp::Put).then(|| sent.body.clone().unwrap_or_default());
            self.put_doc(DocRecord {
                rev: Some(rev.clone()),
                base,
                status,
                ..doc
            });
        }
        let settlement = Settlement::Accepted { rev };
        self.applied.events.push(Event::Settled {
            id: sent.doc_id.clone(),
            settlement,
        });
    }

    fn push_conflict(&mut self, sent: &OutboxMessage, remote: Option<RemoteDoc>) {
        let Some(doc) = self.snapshot.docs.get(&sent.doc_id).cloned() else {
            self.drop_message(&sent.doc_id, sent.seq);
            return;
        };
        self.drop_messages(&sent.doc_id);
        let conflict = ConflictRecord {
            id: doc.id.clone(),
            base: doc.base.clone(),
            local: (!doc.deleted).then(|| doc.local.clone()),
            remote: remote.as_ref().and_then(RemoteDoc::body_or_none),
            remote_rev: remote.map(|r| r.rev),
            detected_at: self.now,
        };
        self.put_doc(DocRecord {
            status: DocStatus::Conflicted,
            ..doc
        });
        self.put_conflict(conflict.clone(), true);
        let settlement = Settlement::Conflict { conflict };
        self.applied.events.push(Event::Settled {
            id: sent.doc_id.clone(),
            settlement,
        });
    }

    fn pull(&mut self, row: ChangeRow) {
        let Some(remote) = remote_of(&row) else {
            return;
        };
        let id = row.id;
        let body = remote.body_or_none();
        let Some(doc) = self.snapshot.docs.get(&id).cloned() else {
            self.put_doc(synced_doc(&id, &remote, self.now));
            self.pulled(&id, remote.deleted);
            return;
        };
        let stale = doc
            .rev
            .as_ref()
            .is_some_and(|rev| rev.generation() >= remote.rev.generation());
        if doc.rev.as_ref() == Some(&remote.rev) || stale {
            return; // our own echo, or a change the feed repeated
        }
        match doc.status {
            DocStatus::Synced => {
                self.put_doc(synced_doc(&id, &remote, self.now));
                self.pulled(&id, remote.deleted);
            }
            DocStatus::Conflicted => {
                let conflict = self.snapshot.conflicts.get(&id).cloned();
                if let Some(conflict) =
                    conflict.filter(|c| c.remote_rev.as_ref() != Some(&remote.rev))
                {
                    let moved = ConflictRecord {
                        remote: body,
                        remote_rev: Some(remote.rev),
                        ..conflict
                    };
                    self.put_conflict(moved, false);
                }
            }
            DocStatus::Pending => {
                let same =
                    doc.deleted == remote.deleted && (doc.deleted || doc.local == remote.body);
                self.drop_messages(&id);
                if same {
                    // Both sides made the same change: nothing to decide.
                    self.put_doc(synced_doc(&id, &remote, self.now));
                    self.pulled(&id, remote.deleted);
                    return;
                }
                let conflict = ConflictRecord {
                    id: id.clone(),
                    base: doc.base.clone(),
                    local: (!doc.deleted).then(|| doc.local.clone()),
                    remote: body,
                    remote_rev: Some(remote.rev),
                    detected_at: self.now,
                };
                self.put_doc(DocRecord {
                    status: DocStatus::Conflicted,
                    ..doc
                });
                self.put_conflict(conflict, true);
            }
        }
    }

    fn pulled(&mut self, id: &str, deleted: bool) {
        self.applied.pulled += 1;
        self.applied.events.push(Event::Change {
            id: id.to_owned(),
            origin: Origin::Remote,
            deleted,
        });
    }
}

/// Invariant 4: a replay whose first attempt reached the server finds the
/// server at the next generation holding exactly what we sent.
fn is_own_write(sent: &OutboxMessage, remote: &RemoteDoc) -> bool {
    let expected_generation = sent.base_rev.as_ref().map_or(1, |r| r.generation() + 1);
    if remote.rev.generation() != expected_generation {
        return false;
    }
    match sent.op {
        MessageOp::Delete => remote.deleted,
        MessageOp::Put => !remote.deleted && sent.body.as_ref() == Some(&remote.body),
    }
}

fn remote_of(row: &ChangeRow) -> Option<RemoteDoc> {
    let rev = row.changes.first()?.rev.clone();
    let mut remote = match &row.doc {
        Some(doc) => RemoteDoc::from_json(doc.clone())?,
        None => RemoteDoc {
            rev: rev.clone(),
            deleted: row.deleted,
            body: Body::new(),
        },
    };
    remote.deleted |= row.deleted;
    if remote.deleted {
        remote.body = Body::new();
    }
    Some(remote)
}

fn synced_doc(id: &str, remote: &RemoteDoc, now: f64) -> DocRecord {
    DocRecord {
        id: id.to_owned(),
        rev: Some(remote.rev.clone()),
        base: remote.body_or_none(),
        local: remote.body.clone(),
        status: DocStatus::Synced,
        deleted: remote.deleted,
        updated_at: now,
    }
}
