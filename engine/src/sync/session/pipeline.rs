//! Pushing one batch while the store claims the next: a replay alternates
//! between the network (a `_bulk_docs` request) and the store (claiming a
//! batch, settling one), and each used to wait for the other. Now the claim
//! of batch k + 1 runs while batch k is on the wire, and batch k + 1 goes out
//! as soon as batch k is settled.
//!
//! Only a batch the session can pick from messages it already read is claimed
//! this way (a read of the outbox would be one more store step), and it holds
//! no document of the batch on the wire: that document's next message waits
//! for the revision the push brings back.

use std::collections::{BTreeSet, HashMap};

use serde_json::json;

use super::{Phase, Step, SyncSession};
use crate::{
    attachments,
    http::{HttpResponse, TransportError},
    outbox::OutboxMessage,
    protocol::wire::BulkDocsRequest,
    sync::{
        answers::post,
        plan::{Applied, Plan},
    },
};

impl SyncSession {
    /// Sends `batch` (claimed), claiming the batch after it meanwhile when
    /// one can be picked from what was read.
    pub(super) fn push(&mut self, batch: Vec<OutboxMessage>) -> Step {
        let digests: BTreeSet<String> = batch
            .iter()
            .filter_map(|m| m.attachments.as_ref())
            .flat_map(attachments::local_digests)
            .map(str::to_owned)
            .collect();
        if digests.is_empty() {
            return self.push_with(batch, &HashMap::new());
        }
        self.phase = Phase::LoadingAttachments(batch);
        Step::LoadAttachments(digests.into_iter().collect())
    }

    /// Takes the bytes a [`Step::LoadAttachments`] read (by digest; a
    /// missing one goes as a stub, which the server refuses for its
    /// document alone) and pushes the batch that waited on them.
    pub fn on_attachments(&mut self, bytes: HashMap<String, Vec<u8>>) -> Step {
        match std::mem::replace(&mut self.phase, Phase::Finishing) {
            Phase::LoadingAttachments(batch) => self.push_with(batch, &bytes),
            other => {
                self.phase = other;
                self.finish()
            }
        }
    }

    fn push_with(&mut self, batch: Vec<OutboxMessage>, bytes: &HashMap<String, Vec<u8>>) -> Step {
        // One row per message, in order (the answer is read by position),
        // then the deletions of losing leaves that resolutions of branch
        // conflicts carry, whose answers need no reading: a leaf deleted
        // already is no worse, and one left behind shows up again at the
        // next pull.
        let drops = batch.iter().flat_map(|m| {
            m.drop_leaves
                .iter()
                .map(|rev| json!({"_id": m.doc_id, "_rev": rev.to_string(), "_deleted": true}))
        });
        let docs = batch
            .iter()
            .map(|m| m.to_wire_with(bytes))
            .chain(drops)
            .collect();
        let request = post(
            "_bulk_docs",
            &BulkDocsRequest {
                docs,
                new_edits: true,
            },
        );
        let mut unread = std::mem::take(&mut self.unread);
        let next = if self.one_at_a_time {
            Vec::new()
        } else {
            self.take_batch(&mut unread, &batch)
        };
        self.unread = unread;
        self.phase = Phase::Push(batch);
        if next.is_empty() {
            Step::Send(request)
        } else {
            Step::ApplyAndSend(Plan::Claim(next), request)
        }
    }

    /// Takes the claim of the next batch and the answer to the push that ran
    /// beside it: the push's answer is handled as usual, and the claimed
    /// batch waits in `next_claimed` until it is settled.
    pub(super) fn on_claimed_during_push(
        &mut self,
        applied: &Applied,
        response: Result<HttpResponse, TransportError>,
    ) -> Step {
        self.next_claimed = applied.claimed.clone();
        self.on_response(response)
    }
}
