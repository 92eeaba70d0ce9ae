//! The plan in progress: each server answer turned into writes, one document
//! at a time, with the conflict policy consulted where a conflict appears.

use super::{Applied, ApplyContext, PushResult, RemoteDoc};
use crate::{
    event::RejectReason,
    event::{Event, Origin, Settlement},
    local::{self, WriteContext, WriteOutcome},
    merge::auto_resolve,
    model::{Body, ConflictRecord, DocRecord, DocStatus},
    outbox::{MessageOp, MessageState, OutboxMessage, SentCopy},
    protocol::{revision::Revision, wire::ChangeRow, wire::Seq},
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
            let claimed = OutboxMessage {
                state: MessageState::InFlight,
                attempts: current.attempts + 1,
                ..current
            };
            self.applied.claimed.push(claimed.clone());
            self.put_message(claimed);
        }
    }

    /// Settles one pushed message against what the store holds now, which
    /// may differ from what was pushed: a tab that took over may have
    /// re-queued it, and an edit may have coalesced into it since (invariant 3).
    pub(super) fn settle(&mut self, sent: OutboxMessage, result: PushResult) {
        // The message may have been discarded by the app while in flight.
        let Some(current) = self.current(&sent) else {
            return;
        };
        let pushed = sent.sent_copy();
        match result {
            PushResult::Ack(rev) => self.acknowledge(&current, &pushed, rev),
            PushResult::Conflict(Some(remote)) if is_own_write(&pushed, &remote) => {
                self.acknowledge(&current, &pushed, remote.rev)
            }
            PushResult::Conflict(Some(remote))
                if current
                    .sent
                    .as_ref()
                    .is_some_and(|c| is_own_write(c, &remote)) =>
            {
                // An earlier attempt, whose answer was lost, landed; the
                // edit pushed now was made after it.
                let earlier = current.sent.clone().unwrap_or(pushed);
                self.acknowledge(&current, &earlier, remote.rev)
            }
            PushResult::Conflict(Some(remote)) if self.already_based_on(&sent, &remote) => {
                // The push was based on a revision older than one this client
                // already holds as its own: not a conflict, only a stale base.
                self.put_message(OutboxMessage {
                    base_rev: Some(remote.rev),
                    state: MessageState::Queued,
                    ..current
                });
                self.applied.requeued = true;
            }
            PushResult::Conflict(remote) => self.push_conflict(&sent, remote),
            PushResult::Reject(reason) => self.reject(&current, &pushed, reason),
            PushResult::Retry(error) => {
                // The request may have reached the server: keep a copy of what
                // it carried so a replay recognises it even if edited since.
                let sent_copy = current.sent.clone().filter(|c| c.version != pushed.version);
                self.put_message(OutboxMessage {
                    state: MessageState::Queued,
                    last_error: Some(error),
                    sent: sent_copy.or(Some(pushed)),
                    ..current
                });
            }
        }
    }

    /// True when the server's side is the revision the document already
    /// holds, while the push was based on an older one.
    fn already_based_on(&self, sent: &OutboxMessage, remote: &RemoteDoc) -> bool {
        let doc_rev = self
            .snapshot
            .docs
            .get(&sent.doc_id)
            .and_then(|d| d.rev.as_ref());
        doc_rev == Some(&remote.rev) && sent.base_rev.as_ref() != Some(&remote.rev)
    }

    /// Parks a refused message. When an edit coalesced into it after the
    /// push, the refusal concerns the older version only: the writes it
    /// carried settle as rejected and the new edit is queued for its own try.
    fn reject(&mut self, current: &OutboxMessage, pushed: &SentCopy, reason: RejectReason) {
        let edited = current.version != pushed.version;
        let message = OutboxMessage {
            state: if edited {
                MessageState::Queued
            } else {
                MessageState::Rejected
            },
            last_error: Some(format!("{}: {}", reason.error, reason.reason)),
            ..current.clone()
        };
        self.put_message(message);
        self.applied
            .rejected
            .push((current.doc_id.clone(), reason.clone()));
        self.applied.events.push(Event::Settled {
            id: current.doc_id.clone(),
            through: Some(pushed.version),
            settlement: Settlement::Rejected { error: reason },
        });
    }

    /// Invariant 3: the server took `pushed` at `rev`. The message is done only
    /// if it still holds that version; an edit made since (coalesced into it,
    /// or queued behind it) stays queued, rebased on the new revision, and the
    /// document stays pending. Only the writes `pushed` carried settle.
    fn acknowledge(&mut self, current: &OutboxMessage, pushed: &SentCopy, rev: Revision) {
        let id = current.doc_id.clone();
        self.applied.pushed += 1;
        if current.version == pushed.version {
            self.drop_message(&id, current.seq);
        } else {
            self.applied.requeued = true;
        }
        let waiting: Vec<OutboxMessage> = self.snapshot.messages_of(&id).to_vec();
        for message in waiting {
            let sent = message.sent.clone().filter(|_| message.seq != current.seq);
            self.put_message(OutboxMessage {
                base_rev: Some(rev.clone()),
                sent,
                ..message
            });
        }
        if let Some(doc) = self.snapshot.docs.get(&id).cloned() {
            let waiting = !self.snapshot.messages_of(&id).is_empty();
            let status = match doc.status {
                DocStatus::Conflicted => DocStatus::Conflicted,
                _ if waiting => DocStatus::Pending,
                _ => DocStatus::Synced,
            };
            let base =
                (pushed.op == MessageOp::Put).then(|| pushed.body.clone().unwrap_or_default());
            self.put_doc(DocRecord {
                rev: Some(rev.clone()),
                base,
                status,
                ..doc
            });
        }
        self.applied.events.push(Event::Settled {
            id,
            through: Some(pushed.version),
            settlement: Settlement::Accepted { rev },
        });
    }

    fn push_conflict(&mut self, sent: &OutboxMessage, remote: Option<RemoteDoc>) {
        let Some(doc) = self.snapshot.docs.get(&sent.doc_id).cloned() else {
            self.drop_message(&sent.doc_id, sent.seq);
            return;
        };
        self.drop_messages(&sent.doc_id);
        // A server side no newer than the revision the push was based on is a
        // stale read (a lagging replica): a resolution based on it would only
        // conflict again, so such a conflict is left to the app.
        let newer = remote.as_ref().is_some_and(|r| {
            let based_on = sent.base_rev.as_ref();
            based_on.is_none_or(|b| r.rev.generation() > b.generation())
        });
        let conflict = ConflictRecord {
            id: doc.id.clone(),
            base: doc.base.clone(),
            local: (!doc.deleted).then(|| doc.local.clone()),
            remote: remote.as_ref().and_then(RemoteDoc::body_or_none),
            remote_rev: remote.map(|r| r.rev),
            detected_at: self.now,
        };
        if newer && self.try_auto_resolve(&doc, &conflict, true).is_some() {
            return;
        }
        self.record_conflict(doc, conflict);
    }

    /// Marks the document conflicted, records both sides, and settles the
    /// writes that waited on its dropped messages.
    fn record_conflict(&mut self, doc: DocRecord, conflict: ConflictRecord) {
        let id = doc.id.clone();
        self.put_doc(DocRecord {
            status: DocStatus::Conflicted,
            ..doc
        });
        self.put_conflict(conflict.clone(), true);
        let settlement = Settlement::Conflict { conflict };
        self.applied.events.push(Event::Settled {
            id,
            through: None,
            settlement,
        });
    }

    pub(super) fn pull(&mut self, row: ChangeRow) {
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
                    // The policy may decide now (a rule reads the new version);
                    // the write waiting on it was settled when it conflicted.
                    if let Some(outcome) = self.try_auto_resolve(&doc, &moved, false) {
                        self.pulled_resolution(&outcome);
                        return;
                    }
                    self.put_conflict(moved, false);
                }
            }
            DocStatus::Pending => {
                let same =
                    doc.deleted == remote.deleted && (doc.deleted || doc.local == remote.body);
                self.drop_messages(&id);
                if same {
                    // Both sides made the same change: nothing to decide, and
                    // the waiting write is in effect accepted.
                    let rev = remote.rev.clone();
                    self.put_doc(synced_doc(&id, &remote, self.now));
                    self.pulled(&id, remote.deleted);
                    let settlement = Settlement::Accepted { rev };
                    self.applied.events.push(Event::Settled {
                        id,
                        through: None,
                        settlement,
                    });
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
                if let Some(outcome) = self.try_auto_resolve(&doc, &conflict, true) {
                    self.pulled_resolution(&outcome);
                    return;
                }
                self.record_conflict(doc, conflict);
            }
        }
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
fn is_own_write(sent: &SentCopy, remote: &RemoteDoc) -> bool {
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
