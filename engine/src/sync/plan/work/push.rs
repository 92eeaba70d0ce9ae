//! Settling pushed messages: each server answer to a push, checked against
//! what the store holds now (a tab that took over may have re-queued the
//! message, an edit may have coalesced into it since).

use super::Work;
use crate::{
    attachments,
    event::{Event, RejectReason, Settlement},
    model::{Attachments, ConflictRecord, DocRecord, DocStatus},
    outbox::{MessageOp, MessageState, OutboxMessage, SentCopy},
    protocol::revision::Revision,
    sync::plan::{PushResult, RemoteDoc},
};

impl Work<'_> {
    /// Settles one pushed message against what the store holds now, which
    /// may differ from what was pushed: a tab that took over may have
    /// re-queued it, and an edit may have coalesced into it since (invariant 3).
    pub(in crate::sync::plan) fn settle(&mut self, sent: OutboxMessage, result: PushResult) {
        // The message may have been discarded by the app while in flight.
        let Some(current) = self.current(&sent) else {
            return;
        };
        let pushed = sent.sent_copy();
        self.settle_against(current, pushed, &sent, result);
        self.fold_later_edit(&sent.doc_id);
    }

    fn settle_against(
        &mut self,
        current: OutboxMessage,
        pushed: SentCopy,
        sent: &OutboxMessage,
        result: PushResult,
    ) {
        match result {
            PushResult::Ack(rev) => {
                let landed = Landed {
                    rev,
                    attachments: sent.attachments.clone(),
                };
                self.acknowledge(&current, &pushed, landed)
            }
            PushResult::Conflict(Some(remote)) if is_own_write(&pushed, &remote) => {
                self.acknowledge(&current, &pushed, Landed::from(remote))
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
                self.acknowledge(&current, &earlier, Landed::from(remote))
            }
            PushResult::Conflict(Some(remote)) if self.already_based_on(sent, &remote) => {
                // The push was based on a revision older than one this client
                // already holds as its own: not a conflict, only a stale base.
                self.put_message(OutboxMessage {
                    base_rev: Some(remote.rev),
                    state: MessageState::Queued,
                    ..current
                });
                self.applied.requeued = true;
            }
            PushResult::Conflict(remote) => self.push_conflict(sent, remote),
            PushResult::Reject(reason) => self.reject(&current, &pushed, reason),
            PushResult::Unsent => self.put_message(OutboxMessage {
                state: MessageState::Queued,
                attempts: current.attempts.saturating_sub(1),
                ..current
            }),
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

    /// Folds an edit queued behind the settled message into it. An edit made
    /// while a message is in flight gets a message of its own; once the
    /// first is answered without being done (re-queued, to be retried, or
    /// acknowledged for an older version), the two would go out one after
    /// the other in whatever order a pass meets them, and the older body
    /// could land last. Each carries the whole document, so one message, in
    /// the first one's place in the queue and with its record of what may
    /// have landed, carrying the newest edit, says all of it.
    fn fold_later_edit(&mut self, id: &str) {
        let messages = self.snapshot.messages_of(id);
        let (Some(first), Some(last)) = (messages.first(), messages.last()) else {
            return;
        };
        if messages.len() < 2 || messages.iter().any(|m| m.state == MessageState::InFlight) {
            return;
        }
        let newer_base = last.base_rev.as_ref().map(Revision::generation)
            > first.base_rev.as_ref().map(Revision::generation);
        let folded = OutboxMessage {
            op: last.op,
            body: last.body.clone(),
            version: messages
                .iter()
                .map(|m| m.version)
                .max()
                .unwrap_or(last.version),
            base_rev: if newer_base {
                last.base_rev.clone()
            } else {
                first.base_rev.clone()
            },
            state: MessageState::Queued,
            sent: first.sent.clone().or_else(|| last.sent.clone()),
            ..first.clone()
        };
        let later: Vec<u64> = messages[1..].iter().map(|m| m.seq).collect();
        for seq in later {
            self.drop_message(id, seq);
        }
        self.put_message(folded);
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
    fn acknowledge(&mut self, current: &OutboxMessage, pushed: &SentCopy, landed: Landed) {
        let Landed { rev, attachments } = landed;
        let id = current.doc_id.clone();
        self.applied.pushed += 1;
        if current.version == pushed.version {
            self.drop_message(&id, current.seq);
        } else {
            self.applied.requeued = true;
        }
        let waiting: Vec<OutboxMessage> = self.snapshot.messages_of(&id).to_vec();
        for message in waiting {
            // The answered message is out of the air, its attempt known to
            // have landed; the others keep what they were.
            let answered = message.seq == current.seq;
            self.put_message(OutboxMessage {
                base_rev: Some(rev.clone()),
                sent: message.sent.clone().filter(|_| !answered),
                state: if answered {
                    MessageState::Queued
                } else {
                    message.state
                },
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
            let attachments = attachments
                .filter(|_| pushed.op == MessageOp::Put)
                .map(|set| attachments::landed(&set));
            let local_attachments = doc.local_attachments.as_ref().and_then(|local| {
                attachments::after_landing(
                    local,
                    attachments.as_ref().unwrap_or(&Attachments::new()),
                )
            });
            self.put_doc(DocRecord {
                rev: Some(rev.clone()),
                base,
                status,
                attachments,
                local_attachments,
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
            remote_attachments: remote.as_ref().and_then(|r| r.attachments.clone()),
            local_attachments: doc.current_attachments().cloned(),
            remote_rev: remote.map(|r| r.rev),
            detected_at: self.now,
            losing_revs: Vec::new(),
        };
        if newer && self.try_auto_resolve(&doc, &conflict, true).is_some() {
            return;
        }
        self.record_conflict(doc, conflict);
    }

    /// Marks the document conflicted, records both sides, and settles the
    /// writes that waited on its dropped messages.
    pub(super) fn record_conflict(&mut self, doc: DocRecord, conflict: ConflictRecord) {
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
}

/// A push that landed: the revision the server gave it and the attachment
/// stubs that revision holds (what the push carried, or what the server
/// showed when the landing was found through a conflict).
struct Landed {
    rev: Revision,
    attachments: Option<Attachments>,
}

impl From<RemoteDoc> for Landed {
    fn from(remote: RemoteDoc) -> Self {
        Landed {
            rev: remote.rev,
            attachments: remote.attachments,
        }
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
        MessageOp::Put => {
            !remote.deleted
                && sent.body.as_ref() == Some(&remote.body)
                && attachments::same_names_and_lengths(
                    sent.attachments.as_ref(),
                    remote.attachments.as_ref(),
                )
        }
    }
}
