//! The plan in progress: each server answer turned into writes, one document
//! at a time, with the conflict policy consulted where a conflict appears.

mod branches;
mod push;

use super::{Applied, ApplyContext, RemoteDoc};
use crate::{
    attachments,
    event::{Event, Origin, Settlement},
    local::{self, WriteContext, WriteOutcome},
    merge::auto_resolve,
    model::{Body, ConflictRecord, DocRecord, DocStatus},
    outbox::{MessageState, OutboxMessage},
    protocol::{wire::ChangeRow, wire::Seq},
    store::{Snapshot, WriteBatch, META_CHECKPOINT},
};

/// A plan in progress: the snapshot is updated as writes are decided, so two
/// rows for one document in one page see each other.
pub(super) struct Work<'a> {
    snapshot: Snapshot,
    batch: WriteBatch,
    applied: Applied,
    now: f64,
    ctx: &'a ApplyContext<'a>,
}

impl<'a> Work<'a> {
    pub(super) fn new(snapshot: Snapshot, ctx: &'a ApplyContext<'a>) -> Self {
        Work {
            snapshot,
            batch: WriteBatch::default(),
            applied: Applied::default(),
            now: ctx.now,
            ctx,
        }
    }

    /// Advances the pull checkpoint with the page's writes.
    /// Records a pulled row that could not be read.
    pub(super) fn unreadable(&mut self, id: String) {
        self.applied.unreadable = Some(id);
    }

    pub(super) fn checkpoint(&mut self, last_seq: Seq) {
        self.batch.meta.push((META_CHECKPOINT.into(), last_seq.0));
    }

    /// The writes and what they did.
    pub(super) fn finish(self) -> (WriteBatch, Applied) {
        (self.batch, self.applied)
    }

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
                .extend(list.iter().map(|m| (id.to_owned(), m.seq)));
        }
    }

    fn drop_message(&mut self, id: &str, seq: u64) {
        if let Some(list) = self.snapshot.messages.get_mut(id) {
            list.retain(|m| m.seq != seq);
        }
        self.batch.delete_messages.push((id.to_owned(), seq));
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

    pub(super) fn claim(&mut self, messages: Vec<OutboxMessage>) {
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
            // The local version's attachments, or else the stubs of the
            // revision the push is based on: the server drops any attachment
            // the new revision leaves out.
            let doc = self.snapshot.docs.get(&current.doc_id);
            let attachments = doc
                .and_then(|doc| doc.local_attachments.clone())
                .or_else(|| {
                    doc.filter(|doc| doc.rev.is_some() && doc.rev == current.base_rev)
                        .and_then(|doc| doc.attachments.clone())
                });
            let claimed = OutboxMessage {
                state: MessageState::InFlight,
                attempts: current.attempts + 1,
                attachments,
                ..current
            };
            self.applied.claimed.push(claimed.clone());
            self.put_message(claimed);
        }
    }

    /// Applies one pulled row; false when the row cannot be read (no
    /// revision, or a document that is not one), which the caller must not
    /// move the checkpoint past. `branch` is the first other live leaf the
    /// server holds for the document, when it has any.
    ///
    /// A row whose revision differs from the one stored is applied whatever
    /// its generation: on CouchDB the winner can move to a leaf of the same or
    /// a lower generation (a conflict branch added, or the winner deleted),
    /// and `_changes` always names the winner as it is now.
    pub(super) fn pull(&mut self, row: ChangeRow, branch: Option<RemoteDoc>) -> bool {
        let Some(remote) = remote_of(&row) else {
            return false;
        };
        let id = row.id;
        let body = remote.body_or_none();
        let Some(doc) = self.snapshot.docs.get(&id).cloned() else {
            self.put_doc(synced_doc(&id, &remote, self.now));
            self.pulled(&id);
            self.branch_conflict(&id, &remote, branch);
            return true;
        };
        if doc.rev.as_ref() == Some(&remote.rev) {
            // Our own echo, or a change the feed repeated; a branch beside
            // it still reaches the app.
            if doc.status == DocStatus::Synced {
                self.branch_conflict(&id, &remote, branch);
            }
            return true;
        }
        match doc.status {
            DocStatus::Synced => {
                self.put_doc(synced_doc(&id, &remote, self.now));
                self.pulled(&id);
                self.branch_conflict(&id, &remote, branch);
            }
            DocStatus::Conflicted => {
                let conflict = self.snapshot.conflicts.get(&id).cloned();
                if let Some(conflict) =
                    conflict.filter(|c| c.remote_rev.as_ref() != Some(&remote.rev))
                {
                    let moved = ConflictRecord {
                        remote: body,
                        remote_rev: Some(remote.rev),
                        remote_attachments: remote.attachments,
                        ..conflict
                    };
                    // The policy may decide now (a rule reads the new version);
                    // the write waiting on it was settled when it conflicted.
                    if let Some(outcome) = self.try_auto_resolve(&doc, &moved, false) {
                        self.pulled_resolution(&outcome);
                        return true;
                    }
                    self.put_conflict(moved, false);
                }
            }
            DocStatus::Pending => {
                let same = doc.deleted == remote.deleted
                    && (doc.deleted
                        || (doc.local == remote.body
                            && attachments::same_digests(
                                doc.current_attachments(),
                                remote.attachments.as_ref(),
                            )));
                self.drop_messages(&id);
                if same {
                    // Both sides made the same change: nothing to decide, and
                    // the waiting write is in effect accepted.
                    let rev = remote.rev.clone();
                    self.put_doc(synced_doc(&id, &remote, self.now));
                    self.pulled(&id);
                    let settlement = Settlement::Accepted { rev };
                    self.applied.events.push(Event::Settled {
                        id,
                        through: None,
                        settlement,
                    });
                    return true;
                }
                let conflict = ConflictRecord {
                    id: id.clone(),
                    base: doc.base.clone(),
                    local: (!doc.deleted).then(|| doc.local.clone()),
                    remote: body,
                    remote_rev: Some(remote.rev),
                    detected_at: self.now,
                    remote_attachments: remote.attachments,
                    local_attachments: doc.current_attachments().cloned(),
                    losing_revs: Vec::new(),
                };
                if let Some(outcome) = self.try_auto_resolve(&doc, &conflict, true) {
                    self.pulled_resolution(&outcome);
                    return true;
                }
                self.record_conflict(doc, conflict);
            }
        }
        true
    }

    /// Decides `conflict` by the policy, unless the edge's custom resolver must
    /// see it first. A decided conflict is written as a resolution (its events
    /// included) instead of being recorded. When the resolution is the server's
    /// version, nothing is left to push, so a write waiting on the document
    /// (`settle`) is settled as accepted at the server's revision; otherwise the
    /// acknowledgement of the resolution settles it.
    fn try_auto_resolve(
        &mut self,
        doc: &DocRecord,
        conflict: &ConflictRecord,
        settle: bool,
    ) -> Option<WriteOutcome> {
        if self.ctx.policy.custom {
            return None;
        }
        let resolution = auto_resolve(conflict, self.ctx.policy)?;
        let write = WriteContext {
            now: self.now,
            message_id: (self.ctx.new_id)(),
            max_document_bytes: usize::MAX,
            stamp: self.ctx.stamp.clone(),
        };
        let (batch, outcome, events) =
            local::plan_auto_resolution(&self.snapshot, doc, conflict, &resolution, &write);
        self.snapshot.absorb(&batch);
        self.batch.extend(batch);
        self.applied.events.extend(events);
        self.applied.resolved += 1;
        if let (true, false, Some(rev)) = (settle, outcome.queued, conflict.remote_rev.clone()) {
            let settlement = Settlement::Accepted { rev };
            self.applied.events.push(Event::Settled {
                id: doc.id.clone(),
                through: None,
                settlement,
            });
        }
        Some(outcome)
    }

    /// Counts a pulled change that was merged into local edits.
    fn pulled_resolution(&mut self, outcome: &WriteOutcome) {
        self.applied.pulled += 1;
        self.applied.requeued |= outcome.queued;
    }

    fn pulled(&mut self, id: &str) {
        self.applied.pulled += 1;
        let change = Event::change(id, Origin::Remote, &self.batch);
        self.applied.events.push(change);
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
            attachments: None,
            conflicts: Vec::new(),
        },
    };
    remote.deleted |= row.deleted;
    if remote.deleted {
        remote.body = Body::new();
        remote.attachments = None;
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
        attachments: remote.attachments.clone(),
        local_rev: None,
        local_attachments: None,
    }
}
