//! Upkeep of what sync left behind: messages a closed tab left in flight go
//! back to the queue, rejected changes are re-queued when the app asks, and a
//! recorded conflict gets the policy's decision after the app's resolver
//! declined it.

use std::collections::BTreeSet;

use super::{Client, Environment, Written};
use crate::{
    error::EngineError,
    local,
    merge::{auto_resolve, ConflictPolicy},
    outbox::{plan_retry_rejected, MessageState, OutboxMessage},
    store::{LocalStore, WriteBatch},
};

impl<S: LocalStore> Client<S> {
    /// Returns messages left in flight by a session that ended mid-push (a
    /// closed tab) to the queue, so new edits coalesce into them again. Only
    /// the one client that syncs a database may call it (the tab that just
    /// became leader, before its first cycle): a message another live client
    /// is pushing is not abandoned. Returns how many were recovered.
    pub async fn recover_in_flight(&self) -> Result<u32, EngineError> {
        let all = self.store.outbox(None, usize::MAX).await?;
        let ids: BTreeSet<String> = all
            .into_iter()
            .filter(|m| m.state == MessageState::InFlight)
            .map(|m| m.doc_id)
            .collect();
        if ids.is_empty() {
            return Ok(0);
        }
        let ids: Vec<String> = ids.into_iter().collect();
        self.store
            .transact(&ids, |snapshot| {
                let mut batch = WriteBatch::default();
                for message in snapshot.messages.values().flatten() {
                    if message.state == MessageState::InFlight {
                        // Its push may have landed: keep a copy of what it
                        // carried, so a replay of a later edit recognises it.
                        batch.put_messages.push(OutboxMessage {
                            state: MessageState::Queued,
                            sent: Some(message.sent_copy()),
                            ..message.clone()
                        });
                    }
                }
                let count = u32::try_from(batch.put_messages.len()).unwrap_or(u32::MAX);
                Ok::<_, EngineError>((batch, count))
            })
            .await
    }

    /// Re-queues the rejected messages of `id`, or of every document when
    /// `id` is `None`; returns how many were re-queued.
    pub async fn retry_rejected(&self, id: Option<&str>) -> Result<u32, EngineError> {
        let ids: Vec<String> = match id {
            Some(id) => vec![id.to_owned()],
            None => {
                let all = self.store.outbox(None, usize::MAX).await?;
                let rejected = all
                    .into_iter()
                    .filter(|m| m.state == MessageState::Rejected);
                let ids: BTreeSet<String> = rejected.map(|m| m.doc_id).collect();
                ids.into_iter().collect()
            }
        };
        self.store
            .transact(&ids, |snapshot| {
                let mut batch = WriteBatch::default();
                let mut count = 0;
                for id in &ids {
                    let (one, n) = plan_retry_rejected(&snapshot, id);
                    batch.extend(one);
                    count += n;
                }
                Ok::<_, EngineError>((batch, count))
            })
            .await
    }

    /// Applies the conflict policy to a recorded conflict, for the edge's
    /// composition custom resolver → policy → app: when the policy has
    /// `custom` set, sync records every conflict; the edge offers each to the
    /// app's resolver and, when that declines, calls this. Returns the write
    /// (its events include [`Event::Resolved`]) when the policy decided, `None`
    /// when the conflict stays for the app. Fails with `not_conflicted` when
    /// the document has no conflict.
    pub async fn auto_resolve_recorded(
        &self,
        id: &str,
        env: &impl Environment,
    ) -> Result<Option<Written>, EngineError> {
        local::validate_id(id)?;
        let ctx = self.context(env);
        let policy = ConflictPolicy {
            custom: false,
            ..self.config.conflicts.clone()
        };
        self.store
            .transact(&[id.to_owned()], |snapshot| {
                let (Some(doc), Some(conflict)) =
                    (snapshot.docs.get(id), snapshot.conflicts.get(id))
                else {
                    return Err(EngineError::NotConflicted(id.to_owned()));
                };
                let Some(resolution) = auto_resolve(conflict, &policy) else {
                    return Ok((WriteBatch::default(), None));
                };
                let (batch, outcome, events) =
                    local::plan_auto_resolution(&snapshot, doc, conflict, &resolution, &ctx);
                Ok((batch, Some((outcome, events))))
            })
            .await
    }
}
