//! Group commit: store transactions asked for together (several `put`s the
//! app did not await one by one) share one IndexedDB transaction.
//!
//! The first caller opens a group and starts its transaction; every caller
//! that asks while it reads its own documents joins, and their documents are
//! read in a second round of the same transaction. The leader then hands the
//! shared snapshot to each caller in turn. Each runs its own plan on
//! its own documents (seeing the earlier plans' writes), hands back its batch,
//! and waits for the commit: every caller's promise still resolves only once
//! its write is durable. A plan that fails writes nothing and fails alone; a
//! failed transaction fails them all. The hand-offs are microtasks, which do
//! not end an IndexedDB transaction (only a return to the event loop with no
//! request pending does).

use std::{cell::RefCell, rc::Rc};

use futures::channel::oneshot;
use tidesync_engine::{
    error::StoreError,
    store::{Snapshot, WriteBatch},
};

/// A caller's turn: the shared snapshot, where to hand it back with the
/// caller's batch, and where the commit's outcome will come.
pub(super) struct Turn {
    pub snapshot: Snapshot,
    pub reply: oneshot::Sender<(Snapshot, Option<WriteBatch>)>,
    pub committed: oneshot::Receiver<Result<(), StoreError>>,
}

/// One caller waiting to join: its ids and where its turn will come.
pub(super) struct Joiner {
    ids: Vec<String>,
    turn: oneshot::Sender<Result<Turn, StoreError>>,
}

/// The group being gathered, if any.
#[derive(Default)]
pub(super) struct Groups {
    open: RefCell<Option<Rc<RefCell<Vec<Joiner>>>>>,
}

/// What a caller is in a group.
pub(super) enum Role {
    /// It gathers the group and runs the transaction.
    Lead(Rc<RefCell<Vec<Joiner>>>),
    /// It waits for its turn.
    Join(oneshot::Receiver<Result<Turn, StoreError>>),
}

impl Groups {
    /// Joins the open group, or opens one (then the caller leads it).
    pub fn enter(&self, ids: &[String]) -> Role {
        if let Some(group) = self.open.borrow().as_ref() {
            let (turn, wait) = oneshot::channel();
            group.borrow_mut().push(Joiner {
                ids: ids.to_vec(),
                turn,
            });
            return Role::Join(wait);
        }
        let group = Rc::new(RefCell::new(Vec::new()));
        *self.open.borrow_mut() = Some(Rc::clone(&group));
        Role::Lead(group)
    }

    /// Closes the group to newcomers; returns who joined.
    pub fn close(&self, group: &Rc<RefCell<Vec<Joiner>>>) -> Vec<Joiner> {
        let mut open = self.open.borrow_mut();
        if open.as_ref().is_some_and(|g| Rc::ptr_eq(g, group)) {
            *open = None;
        }
        std::mem::take(&mut *group.borrow_mut())
    }
}

/// The ids of everyone in the group, the leader's first.
pub(super) fn all_ids(own: &[String], joiners: &[Joiner]) -> Vec<String> {
    let mut ids: Vec<String> = own.to_vec();
    for joiner in joiners {
        ids.extend(joiner.ids.iter().cloned());
    }
    ids.sort();
    ids.dedup();
    ids
}

/// The part of the shared snapshot a plan asked for.
pub(super) fn subset(shared: &Snapshot, ids: &[String]) -> Snapshot {
    let mut own = Snapshot {
        next_seq: shared.next_seq,
        ..Snapshot::default()
    };
    for id in ids {
        if let Some(doc) = shared.docs.get(id) {
            own.docs.insert(id.clone(), doc.clone());
        }
        if let Some(messages) = shared.messages.get(id) {
            own.messages.insert(id.clone(), messages.clone());
        }
        if let Some(conflict) = shared.conflicts.get(id) {
            own.conflicts.insert(id.clone(), conflict.clone());
        }
    }
    own
}

/// Runs `plan` on its part of `shared`; on success folds its batch into
/// `shared` (so later plans see it) and returns it with the plan's output.
pub(super) fn run_plan<T, E, F>(
    shared: &mut Snapshot,
    ids: &[String],
    plan: F,
) -> (Option<WriteBatch>, Result<T, E>)
where
    F: FnOnce(Snapshot) -> Result<(WriteBatch, T), E>,
{
    match plan(subset(shared, ids)) {
        Ok((batch, out)) => {
            shared.absorb(&batch);
            (Some(batch), Ok(out))
        }
        Err(error) => (None, Err(error)),
    }
}

/// Gives each joiner its turn in order; returns every batch and the senders
/// of the commit's outcome. A joiner gone before its turn is skipped; one gone
/// during its turn took the shared snapshot with it, so the rest fail.
pub(super) async fn take_turns(
    mut shared: Snapshot,
    joiners: Vec<Joiner>,
) -> (
    Vec<WriteBatch>,
    Vec<oneshot::Sender<Result<(), StoreError>>>,
) {
    let mut batches = Vec::new();
    let mut outcomes = Vec::with_capacity(joiners.len());
    let mut waiting = joiners.into_iter();
    while let Some(joiner) = waiting.next() {
        let (reply, back) = oneshot::channel();
        let (done, committed) = oneshot::channel();
        let turn = Turn {
            snapshot: shared,
            reply,
            committed,
        };
        match joiner.turn.send(Ok(turn)) {
            Ok(()) => {}
            Err(Ok(turn)) => {
                shared = turn.snapshot;
                continue;
            }
            Err(Err(_)) => return (batches, outcomes),
        }
        outcomes.push(done);
        match back.await {
            Ok((snapshot, batch)) => {
                shared = snapshot;
                batches.extend(batch);
            }
            Err(_) => {
                let lost = StoreError::Backend("a write of the group went away mid-turn".into());
                fail_all(waiting.collect(), &lost);
                return (batches, outcomes);
            }
        }
    }
    (batches, outcomes)
}

/// Tells joiners that never got a turn why.
pub(super) fn fail_all(joiners: Vec<Joiner>, error: &StoreError) {
    for joiner in joiners {
        let _ = joiner.turn.send(Err(error.clone()));
    }
}
