//! The pull half of a cycle: `_changes` pages asked for after the
//! checkpoint, this cycle's own pushes left out of them.

use super::{Phase, Step, SyncSession};
use crate::{
    http::{HttpRequest, HttpResponse, Method},
    protocol::wire::{ChangeRow, ChangesResponse},
    sync::{
        answers::{protocol_issue, server_issue},
        plan::losing_leaves,
    },
};

impl SyncSession {
    pub(super) fn pull(&mut self) -> Step {
        self.phase = Phase::Pull;
        Step::Send(self.pull_request())
    }

    /// The `_changes` request for the page after `since`.
    pub(super) fn pull_request(&self) -> HttpRequest {
        let mut request = HttpRequest::new(Method::Get, "_changes");
        if let Some(since) = &self.since {
            request.query.push(("since".into(), since.to_query()));
        }
        request
            .query
            .push(("limit".into(), self.config.pull_page.to_string()));
        request.query.push(("include_docs".into(), "true".into()));
        // Documents with other live leaves name them, so that no branch made
        // by another replicator stays hidden behind the winner.
        request.query.push(("conflicts".into(), "true".into()));
        request
    }

    pub(super) fn on_changes(&mut self, response: HttpResponse) -> Step {
        if response.status != 200 {
            return self.fail(server_issue(&response), Vec::new());
        }
        let Ok(page) = serde_json::from_str::<ChangesResponse>(&response.body) else {
            return self.fail(
                protocol_issue("_changes answered with an unexpected body"),
                Vec::new(),
            );
        };
        self.phase = Phase::Pull;
        self.page_len = page.results.len();
        self.since = Some(page.last_seq.clone());
        let mut rows = page.results;
        if !self.acked.is_empty() {
            rows.retain(|row| !self.pushed_here(row));
        }
        self.page_ready(rows, page.last_seq)
    }

    /// True for a change that is this cycle's own push coming back: its only
    /// leaf is the revision the server gave that push (a document with other
    /// live leaves is applied, so that its branches reach the app).
    fn pushed_here(&self, row: &ChangeRow) -> bool {
        let branched = row
            .doc
            .as_ref()
            .is_some_and(|doc| !losing_leaves(doc).is_empty());
        match (self.acked.get(&row.id), row.changes.as_slice()) {
            (Some(acked), [only]) => only.rev == *acked && !branched,
            _ => false,
        }
    }
}
