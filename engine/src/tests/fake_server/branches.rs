//! Revision-tree branches in the fake server, as other replicators make them
//! on CouchDB: leaves grafted with their own revisions, the winner chosen as
//! CouchDB chooses (live before deleted, then the higher generation, then
//! the higher hash), `_conflicts` on request, and losing leaves that can be
//! read by revision, edited or deleted.

use serde_json::{json, Value};

use super::{FakeServer, Stored};
use crate::{
    model::Body,
    protocol::{document::Document, revision::Revision},
};

impl FakeServer {
    /// Adds the leaf `rev` to `id` as a replicator would (`new_edits=false`),
    /// beside the leaves there; the winner is chosen again.
    pub fn graft_as_replicator(&self, id: &str, rev: &str, body: Value, deleted: bool) {
        let Ok(rev) = rev.parse::<Revision>() else {
            panic!("not a revision: {rev}")
        };
        self.exists.set(true);
        self.seq.set(self.seq.get() + 1);
        let leaf = Stored {
            rev,
            deleted,
            body: body.as_object().cloned().unwrap_or_default(),
            attachments: Body::new(),
            seq: self.seq.get(),
        };
        self.branches
            .borrow_mut()
            .entry(id.to_owned())
            .or_default()
            .push(leaf);
        self.elect(id);
    }

    /// A replicated write (`new_edits: false`): `doc` keeps its own `_rev`.
    pub(super) fn graft(&self, doc: Value) {
        let id = doc
            .get("_id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let Ok(parsed) = Document::from_json(doc) else {
            return;
        };
        let Some(rev) = parsed.rev else { return };
        self.graft_as_replicator(
            &id,
            &rev.to_string(),
            Value::Object(parsed.body),
            parsed.deleted,
        );
    }

    /// `GET /{db}/{id}`, with `_conflicts` when asked for.
    pub(super) fn get_doc(&self, id: &str, conflicts: bool) -> (u16, Value) {
        let docs = self.docs.borrow();
        let Some(stored) = docs.get(id).filter(|d| !d.deleted) else {
            return (404, json!({"error": "not_found", "reason": "missing"}));
        };
        let mut doc = Self::json_of(stored, id);
        let losing = self.losing_leaves(id);
        if conflicts && !losing.is_empty() {
            doc["_conflicts"] = json!(losing);
        }
        (200, doc)
    }

    /// Every live leaf of `id`, the winner first.
    pub fn live_leaves(&self, id: &str) -> Vec<Revision> {
        let winner = self
            .docs
            .borrow()
            .get(id)
            .filter(|d| !d.deleted)
            .map(|d| d.rev.clone());
        winner.into_iter().chain(self.losing_leaves(id)).collect()
    }

    /// The live leaves that lose to the winner, best first (`_conflicts`).
    pub(super) fn losing_leaves(&self, id: &str) -> Vec<Revision> {
        let mut revs: Vec<Revision> = self
            .branches
            .borrow()
            .get(id)
            .into_iter()
            .flatten()
            .filter(|leaf| !leaf.deleted)
            .map(|leaf| leaf.rev.clone())
            .collect();
        revs.sort_by(|a, b| b.cmp(a));
        revs
    }

    /// The leaf `rev` of `id`, winning or not.
    pub(super) fn leaf(&self, id: &str, rev: &str) -> Option<Stored> {
        let rev: Revision = rev.parse().ok()?;
        let winner = self.docs.borrow().get(id).filter(|d| d.rev == rev).cloned();
        winner.or_else(|| {
            let branches = self.branches.borrow();
            branches
                .get(id)?
                .iter()
                .find(|leaf| leaf.rev == rev)
                .cloned()
        })
    }

    /// A write naming a losing leaf: an edit or deletion of that branch.
    /// `None` when `doc` names no losing leaf (an ordinary write).
    pub(super) fn write_branch(&self, id: &str, doc: &Document) -> Option<Value> {
        let rev = doc.rev.as_ref()?;
        let mut branches = self.branches.borrow_mut();
        let leaves = branches.get_mut(id)?;
        let index = leaves
            .iter()
            .position(|leaf| &leaf.rev == rev && !leaf.deleted)?;
        let next = Revision::next(Some(rev), &Value::Object(doc.body.clone()), doc.deleted);
        self.seq.set(self.seq.get() + 1);
        self.writes.set(self.writes.get() + 1);
        leaves[index] = Stored {
            rev: next.clone(),
            deleted: doc.deleted,
            body: if doc.deleted {
                Body::new()
            } else {
                doc.body.clone()
            },
            attachments: Body::new(),
            seq: self.seq.get(),
        };
        drop(branches);
        self.elect(id);
        Some(json!({"ok": true, "id": id, "rev": next}))
    }

    /// Chooses the winner among every leaf of `id`, as CouchDB does; the
    /// document moves to the latest seq.
    pub(super) fn elect(&self, id: &str) {
        let mut docs = self.docs.borrow_mut();
        let mut branches = self.branches.borrow_mut();
        let Some(losers) = branches.get_mut(id) else {
            return;
        };
        let mut leaves: Vec<Stored> = std::mem::take(losers);
        leaves.extend(docs.remove(id));
        leaves.sort_by(|a, b| (!b.deleted, &b.rev).cmp(&(!a.deleted, &a.rev)));
        let mut leaves = leaves.into_iter();
        if let Some(mut winner) = leaves.next() {
            winner.seq = self.seq.get();
            docs.insert(id.to_owned(), winner);
        }
        *losers = leaves.collect();
    }
}
