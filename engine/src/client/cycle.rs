//! The sync cycle: the [`SyncSession`]'s steps run against the store and the
//! transport, one plan per store transaction; a pull page or a push batch
//! shares its turn with the request that follows it (`Step::ApplyAndSend`).

use super::{Client, Environment, Transport};
use crate::{
    error::EngineError,
    event::Event,
    local::Stamp,
    protocol::wire::Seq,
    store::{LocalStore, META_CHECKPOINT},
    sync::{
        plan::{Applied, ApplyContext, Plan},
        session::{Step, SyncSession},
        IssueCode, SyncReport,
    },
};

impl<S: LocalStore> Client<S> {
    /// Runs one sync cycle: push the outbox, fetch conflicting server sides, pull
    /// changes. Events are handed to `emit` after each transaction commits.
    /// Network and server failures end the cycle and are reported in the
    /// [`SyncReport`]; only local storage failures are returned as errors.
    ///
    /// Conflicts are decided by the configured policy as they are found. A
    /// resolution made while pulling is pushed by one more round in the same
    /// call, so the server has it when `sync` returns (a resolution made then
    /// waits for the next call).
    pub async fn sync(
        &self,
        transport: &impl Transport,
        env: &impl Environment,
        remote_known: bool,
        mut emit: impl FnMut(Vec<Event>),
    ) -> Result<(SyncReport, bool), EngineError> {
        let (mut report, remote_ready, requeued) =
            self.cycle(transport, env, remote_known, &mut emit).await?;
        // Rejections do not stop a cycle; any other error did, and the next call
        // will retry anyway.
        let completed = report.errors.iter().all(|e| e.code == IssueCode::Rejected);
        if requeued && remote_ready && completed {
            let (again, _, _) = self.cycle(transport, env, true, &mut emit).await?;
            report.pushed += again.pushed;
            report.pulled += again.pulled;
            report.conflicts += again.conflicts;
            report.errors.extend(again.errors);
        }
        Ok((report, remote_ready))
    }

    /// One push-then-pull round; also says whether pulling queued a resolution.
    async fn cycle(
        &self,
        transport: &impl Transport,
        env: &impl Environment,
        remote_known: bool,
        emit: &mut impl FnMut(Vec<Event>),
    ) -> Result<(SyncReport, bool, bool), EngineError> {
        let checkpoint = self.store.get_meta(META_CHECKPOINT).await?.map(Seq);
        let mut session = SyncSession::new(self.config.sync.clone(), checkpoint, remote_known);
        let stamp = self.config.stamp();
        let new_id = || env.new_id();
        let mut requeued = false;
        let mut step = session.start();
        loop {
            step = match step {
                Step::LoadOutbox { after, limit } => {
                    let messages = self.store.outbox(after, limit).await?;
                    session.on_outbox(messages)
                }
                Step::LoadAttachments(digests) => {
                    let bytes = self.store.load_attachments(&digests).await?;
                    session.on_attachments(bytes)
                }
                Step::Send(request) => {
                    let response = transport.send(request).await;
                    session.on_response(response)
                }
                Step::Apply(plan) => {
                    let applied = self.apply_plan(plan, env, &stamp, &new_id).await?;
                    requeued |= applied.requeued;
                    let next = session.on_applied(&applied);
                    if !applied.events.is_empty() {
                        emit(applied.events);
                    }
                    next
                }
                Step::ApplyAndSend(plan, request) => {
                    let (applied, response) = futures::future::join(
                        self.apply_plan(plan, env, &stamp, &new_id),
                        transport.send(request),
                    )
                    .await;
                    let applied = applied?;
                    requeued |= applied.requeued;
                    let next = session.on_applied_and_response(&applied, response);
                    if !applied.events.is_empty() {
                        emit(applied.events);
                    }
                    next
                }
                Step::Done(report) => return Ok((report, session.remote_ready(), requeued)),
            };
        }
    }

    /// Runs one plan of the cycle in one store transaction.
    async fn apply_plan(
        &self,
        plan: Plan,
        env: &impl Environment,
        stamp: &Stamp,
        new_id: &dyn Fn() -> String,
    ) -> Result<Applied, EngineError> {
        let ids = plan.ids();
        let ctx = ApplyContext {
            now: env.now(),
            policy: &self.config.conflicts,
            stamp,
            new_id,
        };
        self.store
            .transact(&ids, |snapshot| {
                Ok::<_, EngineError>(plan.apply_with(snapshot, &ctx))
            })
            .await
    }
}
