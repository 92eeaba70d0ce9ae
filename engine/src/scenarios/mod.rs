//! The sync scenarios every server the client syncs with must pass, spoken
//! only through [`Transport`]: natively against the engine's fake server and
//! against the reference server (HTTP, in its own tests), so the fake cannot
//! drift from the server it stands for. Each scenario panics (assert) on the
//! first difference, which both harnesses report as a failure.
//!
//! Clients here are engines over the memory store with a deterministic clock;
//! "another client" is a plain `_bulk_docs` write through the same transport,
//! and "another replicator" a `new_edits: false` one.

mod branches;
mod device;
mod flows;

use std::future::Future;

pub use device::{Remote, ScenarioClient};

use crate::client::Transport;

/// Runs every scenario, each against a fresh, empty remote database from
/// `fresh` (the database need not exist: the client creates it).
pub async fn run_all<T, F, Fut>(mut fresh: F)
where
    T: Transport,
    F: FnMut() -> Fut,
    Fut: Future<Output = T>,
{
    flows::two_clients_converge(&fresh().await).await;
    flows::a_stale_update_conflicts_and_its_resolution_converges(&fresh().await).await;
    flows::a_lost_answer_is_recognised_without_a_second_revision(&fresh().await).await;
    flows::a_paged_pull_brings_everything_once(&fresh().await).await;
    flows::own_pushes_are_not_pulled_back(&fresh().await).await;
    branches::a_branch_is_a_conflict_and_its_resolution_deletes_it(&fresh().await).await;
    branches::a_winner_of_a_lower_generation_is_applied(&fresh().await).await;
}
