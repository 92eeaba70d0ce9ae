//! Conflicts between branches on the server: a pulled document whose tree
//! holds other live leaves (made by other replicators: CouchDB's, PouchDB's)
//! reaches the app as a conflict, so no branch is hidden behind the winner.

use super::{RemoteDoc, Work};
use crate::model::{ConflictRecord, DocStatus};

impl Work<'_> {
    /// Records `branch`, a losing leaf of the document whose winner `winner`
    /// was just applied, as a conflict: `remote` is the winner (a resolution
    /// is based on it), `local` the losing branch, and `losing_revs` names the
    /// leaf so that the resolution deletes it on the server. One branch at a
    /// time: once it is resolved, the next pull shows the next one, so no
    /// branch is deleted unseen. Left alone when the document has a conflict
    /// already or is not synced at the winner.
    pub(super) fn branch_conflict(
        &mut self,
        id: &str,
        winner: &RemoteDoc,
        branch: Option<RemoteDoc>,
    ) {
        let Some(branch) = branch.filter(|b| !b.deleted && winner.conflicts.contains(&b.rev))
        else {
            return;
        };
        let Some(doc) = self.snapshot.docs.get(id).cloned() else {
            return;
        };
        let at_winner = doc.status == DocStatus::Synced && doc.rev.as_ref() == Some(&winner.rev);
        if !at_winner || self.snapshot.conflicts.contains_key(id) {
            return;
        }
        let conflict = ConflictRecord {
            id: id.to_owned(),
            base: None,
            local: Some(branch.body),
            remote: winner.body_or_none(),
            remote_rev: Some(winner.rev.clone()),
            detected_at: self.now,
            remote_attachments: winner.attachments.clone(),
            local_attachments: branch.attachments,
            losing_revs: vec![branch.rev],
        };
        if let Some(outcome) = self.try_auto_resolve(&doc, &conflict, false) {
            self.applied.requeued |= outcome.queued;
            return;
        }
        self.put_doc(crate::model::DocRecord {
            status: DocStatus::Conflicted,
            ..doc
        });
        self.put_conflict(conflict, true);
    }
}
