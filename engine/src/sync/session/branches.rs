//! The other live leaves that a pulled page's documents hold on the server
//! (`_conflicts`, asked for with `conflicts=true`): fetched with `_bulk_get`
//! before the page is applied, so that the page, the conflicts its branches
//! make and its checkpoint land in one transaction, and a failed fetch leaves
//! the checkpoint before the page.

use std::collections::BTreeMap;

use super::{Phase, Step, SyncSession};
use crate::{
    http::HttpResponse,
    protocol::wire::{BulkGetDoc, BulkGetRef, BulkGetRequest, ChangeRow, Seq},
    sync::{
        answers::{bulk_get_answer, post},
        plan::{losing_leaves, Plan, RemoteDoc},
    },
};

impl SyncSession {
    /// Applies a pulled page, first fetching the best losing leaf of each
    /// document in it that has some.
    pub(super) fn page_ready(&mut self, rows: Vec<ChangeRow>, last_seq: Seq) -> Step {
        let wanted: Vec<BulkGetRef> = rows
            .iter()
            .filter(|row| !row.deleted)
            .filter_map(|row| {
                let first = losing_leaves(row.doc.as_ref()?).into_iter().next()?;
                Some(BulkGetRef {
                    id: row.id.clone(),
                    rev: Some(first.to_string()),
                })
            })
            .collect();
        if wanted.is_empty() {
            return self.apply_page(rows, last_seq, BTreeMap::new());
        }
        self.phase = Phase::FetchBranches { rows, last_seq };
        Step::Send(post("_bulk_get", &BulkGetRequest { docs: wanted }))
    }

    /// Takes the fetched branches and applies the page that waited on them.
    /// A leaf the server could not return (compacted, or gone meanwhile) is
    /// left for the next change of its document.
    pub(super) fn on_branches(
        &mut self,
        rows: Vec<ChangeRow>,
        last_seq: Seq,
        response: HttpResponse,
    ) -> Step {
        let parsed = match bulk_get_answer(&response) {
            Ok(parsed) => parsed,
            Err(issue) => return self.fail(issue, Vec::new()),
        };
        let branches = parsed
            .results
            .into_iter()
            .filter_map(|result| {
                let doc = result.docs.into_iter().find_map(|doc| match doc {
                    BulkGetDoc::Ok(value) => RemoteDoc::from_json(value),
                    BulkGetDoc::Error(_) => None,
                })?;
                Some((result.id, doc))
            })
            .collect();
        self.apply_page(rows, last_seq, branches)
    }

    fn apply_page(
        &mut self,
        rows: Vec<ChangeRow>,
        last_seq: Seq,
        branches: BTreeMap<String, RemoteDoc>,
    ) -> Step {
        self.phase = Phase::Pull;
        let plan = Plan::PullPage {
            rows,
            last_seq,
            branches,
        };
        if self.page_len >= self.config.pull_page.max(1) {
            // A full page: there may be more, so fetch the next one meanwhile.
            Step::ApplyAndSend(plan, self.pull_request())
        } else {
            Step::Apply(plan)
        }
    }
}
