//! What a push's answers do to the session: the `_bulk_docs` results, and the
//! `_bulk_get` of the server's side of the conflicts they report.

use super::{Phase, Step, SyncSession};
use crate::{
    event::RejectReason,
    http::HttpResponse,
    outbox::OutboxMessage,
    protocol::wire::{BulkDocsResult, BulkGetDoc, BulkGetRef, BulkGetRequest},
    sync::{
        answers::{bulk_get_answer, post, protocol_issue, reject_reason, row_id, server_issue},
        plan::{Plan, PushResult, RemoteDoc},
    },
};

impl SyncSession {
    /// Takes the answer to a `_bulk_docs` push: settles the batch, fetches
    /// the server's side of conflicts first, or isolates a refused batch.
    pub(super) fn on_pushed(&mut self, batch: Vec<OutboxMessage>, response: HttpResponse) -> Step {
        match response.status {
            200..=202 => {}
            // A 403 for the whole request refuses the user the database, not
            // a document (CouchDB refuses documents on their rows): it fails
            // the cycle below and the batch stays queued.
            400 | 413 | 415 if batch.len() > 1 => {
                // Find the culprit: the rest of the cycle pushes one message at a time.
                self.one_at_a_time = true;
                self.unread.clear();
                self.cursor = batch.first().and_then(|m| m.seq.checked_sub(1));
                self.phase = Phase::Settling;
                // The batch claimed behind it is read again one at a time too.
                let unsent = std::mem::take(&mut self.next_claimed);
                let results = batch
                    .into_iter()
                    .map(|m| (m, PushResult::Retry("isolating a refused batch".into())))
                    .chain(unsent.into_iter().map(|m| (m, PushResult::Unsent)))
                    .collect();
                return Step::Apply(Plan::Settle(results));
            }
            400 | 413 | 415 => {
                let reason = reject_reason(&response);
                self.phase = Phase::Settling;
                let results = batch
                    .into_iter()
                    .map(|m| (m, PushResult::Reject(reason.clone())))
                    .collect();
                return Step::Apply(Plan::Settle(results));
            }
            _ => return self.fail(server_issue(&response), batch),
        }
        let Ok(rows) = serde_json::from_str::<Vec<BulkDocsResult>>(&response.body) else {
            return self.fail(
                protocol_issue("_bulk_docs answered with an unexpected body"),
                batch,
            );
        };
        let mut results = Vec::with_capacity(batch.len());
        for (index, message) in batch.into_iter().enumerate() {
            let row = rows
                .get(index)
                .filter(|row| row_id(row) == Some(&message.doc_id))
                .or_else(|| rows.iter().find(|row| row_id(row) == Some(&message.doc_id)));
            let result = match row {
                Some(BulkDocsResult::Ok { rev, .. }) => {
                    self.acked.insert(message.doc_id.clone(), rev.clone());
                    PushResult::Ack(rev.clone())
                }
                Some(BulkDocsResult::Error { error, .. }) if error == "conflict" => {
                    PushResult::Conflict(None)
                }
                Some(BulkDocsResult::Error { error, reason, .. }) => {
                    PushResult::Reject(RejectReason {
                        code: "rejected".into(),
                        status: None,
                        error: error.clone(),
                        reason: reason.clone(),
                    })
                }
                None => PushResult::Retry("no result for this document".into()),
            };
            results.push((message, result));
        }
        let conflicted: Vec<BulkGetRef> = results
            .iter()
            .filter(|(_, r)| matches!(r, PushResult::Conflict(_)))
            .map(|(m, _)| BulkGetRef {
                id: m.doc_id.clone(),
                rev: None,
            })
            .collect();
        if conflicted.is_empty() {
            self.phase = Phase::Settling;
            return Step::Apply(Plan::Settle(results));
        }
        self.phase = Phase::FetchConflicts(results);
        Step::Send(post("_bulk_get", &BulkGetRequest { docs: conflicted }))
    }

    /// Takes the server's side of the conflicts a push met, then settles.
    pub(super) fn on_fetched(
        &mut self,
        mut results: Vec<(OutboxMessage, PushResult)>,
        response: HttpResponse,
    ) -> Step {
        let parsed = match bulk_get_answer(&response) {
            Ok(parsed) => parsed,
            Err(issue) => {
                let in_flight = results.into_iter().map(|(m, _)| m).collect();
                return self.fail(issue, in_flight);
            }
        };
        for (message, result) in &mut results {
            if !matches!(result, PushResult::Conflict(_)) {
                continue;
            }
            let remote = parsed
                .results
                .iter()
                .find(|r| r.id == message.doc_id)
                .and_then(|r| r.docs.first())
                .and_then(|doc| match doc {
                    BulkGetDoc::Ok(value) => RemoteDoc::from_json(value.clone()),
                    BulkGetDoc::Error(_) => None,
                });
            *result = PushResult::Conflict(remote);
        }
        self.phase = Phase::Settling;
        Step::Apply(Plan::Settle(results))
    }
}
