//! The client: local operations and sync cycles over any [`LocalStore`] and
//! [`Transport`]. It is generic and pure of browser APIs, so the whole client
//! runs under `cargo test` with the memory store and a fake server; the browser
//! edge only supplies IndexedDB, fetch, ids and the clock.

mod cycle;
mod upkeep;

use serde_json::Value;

use crate::{
    error::{EngineError, StoreError},
    event::Event,
    http::{HttpRequest, HttpResponse, TransportError},
    local::{self, Stamp, WriteContext, WriteOutcome},
    merge::ConflictPolicy,
    model::{Body, ConflictRecord, DocRecord},
    store::{DocQuery, LocalStore},
    sync::SyncConfig,
};

/// Sends requests to the remote database.
#[allow(async_fn_in_trait)]
pub trait Transport {
    /// Performs one request.
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError>;
}

/// What the client needs from its environment besides storage and network.
pub trait Environment {
    /// Milliseconds since the epoch.
    fn now(&self) -> f64;
    /// A fresh unique id (UUID v7 in the browser), for documents and messages.
    fn new_id(&self) -> String;
}

/// Client options. The defaults keep documents exactly as the app writes
/// them and leave every conflict to the app.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientConfig {
    /// The largest serialised document accepted locally, in bytes.
    pub max_document_bytes: usize,
    /// Sync tunables.
    pub sync: SyncConfig,
    /// Who writes through this client (the JS `author` option, e.g.
    /// `{"id": "u1", "role": "supervisor"}`). When set, every written body is
    /// stamped with it as `editor`, and with `updatedAt`, so that priority
    /// rules can see who edited a version and `newestWins` when.
    pub author: Option<Value>,
    /// Stamp `updatedAt` (milliseconds since the epoch) into every written body
    /// even without an author (the JS `stampUpdatedAt` option). It is also on
    /// whenever the conflict policy uses `newestWins`, which cannot work
    /// without it. Off otherwise: documents stay exactly as the app wrote them.
    pub stamp_updated_at: bool,
    /// How conflicts are decided (the JS `conflicts` option); manual by default.
    pub conflicts: ConflictPolicy,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            max_document_bytes: 1_000_000,
            sync: SyncConfig::default(),
            author: None,
            stamp_updated_at: false,
            conflicts: ConflictPolicy::default(),
        }
    }
}

impl ClientConfig {
    /// The stamps written into bodies under these options.
    pub fn stamp(&self) -> Stamp {
        Stamp {
            editor: self.author.clone(),
            updated_at: self.stamp_updated_at
                || self.author.is_some()
                || self.conflicts.uses_newest_wins(),
        }
    }
}

/// A local database bound to a store.
#[derive(Debug)]
pub struct Client<S> {
    store: S,
    config: ClientConfig,
}

/// A write's result and the events to emit for it.
pub type Written = (WriteOutcome, Vec<Event>);

impl<S: LocalStore> Client<S> {
    /// A client over `store`.
    pub fn new(store: S, config: ClientConfig) -> Self {
        Client { store, config }
    }

    /// The store, for reads the client does not wrap.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The options.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    fn context(&self, env: &impl Environment) -> WriteContext {
        WriteContext {
            now: env.now(),
            message_id: env.new_id(),
            max_document_bytes: self.config.max_document_bytes,
            stamp: self.config.stamp(),
        }
    }

    /// Writes a document locally and queues it, atomically.
    pub async fn put(&self, doc: Value, env: &impl Environment) -> Result<Written, EngineError> {
        let (id, body) =
            local::validate_document(doc, || env.new_id(), self.config.max_document_bytes)?;
        let ctx = self.context(env);
        self.store
            .transact_creating(std::slice::from_ref(&id), |snapshot| {
                let (batch, outcome, events) = local::plan_put(&snapshot, &id, body.clone(), &ctx);
                Ok::<_, EngineError>((batch, (outcome, events)))
            })
            .await
    }

    /// Writes many documents in ONE transaction: all land or none do. Every
    /// document is validated first; the first invalid one fails the whole call
    /// (its index is in the message) and nothing is written.
    pub async fn put_many(
        &self,
        docs: Vec<Value>,
        env: &impl Environment,
    ) -> Result<Vec<Written>, EngineError> {
        let mut items = Vec::with_capacity(docs.len());
        for (index, doc) in docs.into_iter().enumerate() {
            let item =
                local::validate_document(doc, || env.new_id(), self.config.max_document_bytes)
                    .map_err(|e| e.at_index(index))?;
            items.push(item);
        }
        self.write_together(items, env).await
    }

    /// Group commit: writes that were asked for separately (each `put` an app
    /// did not await before the next) in ONE transaction. Each is validated
    /// alone, and one that is invalid fails alone (its own `Err`) while the
    /// others are written; an `Err` of the whole call is the transaction's
    /// (a full disk, a closed database) and none is written. Every `Ok` is
    /// durable when this returns, as after [`put`](Self::put).
    pub async fn put_each(
        &self,
        docs: Vec<Value>,
        env: &impl Environment,
    ) -> Result<Vec<Result<Written, EngineError>>, EngineError> {
        let mut results: Vec<Option<Result<Written, EngineError>>> = Vec::with_capacity(docs.len());
        let mut items = Vec::with_capacity(docs.len());
        for doc in docs {
            match local::validate_document(doc, || env.new_id(), self.config.max_document_bytes) {
                Ok(item) => {
                    items.push(item);
                    results.push(None);
                }
                Err(error) => results.push(Some(Err(error))),
            }
        }
        let mut written = if items.is_empty() {
            Vec::new()
        } else {
            self.write_together(items, env).await?
        }
        .into_iter();
        // One outcome per written item, in order: each empty slot takes the next.
        let missing = || StoreError::Backend("a write of the group has no outcome".into()).into();
        Ok(results
            .into_iter()
            .map(|slot| slot.unwrap_or_else(|| written.next().ok_or_else(missing)))
            .collect())
    }

    /// Writes validated documents in order in one transaction, each seeing
    /// the ones before it (two writes of one document coalesce as two `put`s
    /// would).
    async fn write_together(
        &self,
        items: Vec<(String, Body)>,
        env: &impl Environment,
    ) -> Result<Vec<Written>, EngineError> {
        let ids: Vec<String> = items.iter().map(|(id, _)| id.clone()).collect();
        let now = env.now();
        let message_ids: Vec<String> = items.iter().map(|_| env.new_id()).collect();
        let max_document_bytes = self.config.max_document_bytes;
        let stamp = self.config.stamp();
        // A plan may run twice (see `transact_creating`): it clones what it
        // moves into the batch, a small cost beside the requests it saves.
        self.store
            .transact_creating(&ids, |mut snapshot| {
                let mut batch = crate::store::WriteBatch::default();
                let mut results = Vec::with_capacity(items.len());
                for ((id, body), message_id) in items.iter().zip(&message_ids) {
                    let ctx = WriteContext {
                        now,
                        message_id: message_id.clone(),
                        max_document_bytes,
                        stamp: stamp.clone(),
                    };
                    let (one, outcome, events) = local::plan_put(&snapshot, id, body.clone(), &ctx);
                    snapshot.absorb(&one);
                    batch.extend(one);
                    results.push((outcome, events));
                }
                Ok::<_, EngineError>((batch, results))
            })
            .await
    }

    /// Deletes a document locally (a tombstone to push) and queues it, atomically.
    pub async fn delete(&self, id: &str, env: &impl Environment) -> Result<Written, EngineError> {
        local::validate_id(id)?;
        let ctx = self.context(env);
        self.store
            .transact(&[id.to_owned()], |snapshot| {
                let (batch, outcome, events) = local::plan_delete(&snapshot, id, &ctx)?;
                Ok((batch, (outcome, events)))
            })
            .await
    }

    /// Resolves a conflict with `body` (`None` for a deletion), as a new change
    /// based on the remote revision.
    pub async fn resolve(
        &self,
        id: &str,
        body: Option<Value>,
        env: &impl Environment,
    ) -> Result<Written, EngineError> {
        local::validate_id(id)?;
        let body = match body {
            None => None,
            Some(value) => {
                let (_, body) = local::validate_document(
                    value,
                    || id.to_owned(),
                    self.config.max_document_bytes,
                )?;
                Some(body)
            }
        };
        let ctx = self.context(env);
        self.store
            .transact(&[id.to_owned()], |snapshot| {
                let (batch, outcome, events) = local::plan_resolve(&snapshot, id, body, &ctx)?;
                Ok((batch, (outcome, events)))
            })
            .await
    }

    /// Drops local changes to a document (its conflict, its queued or parked messages).
    pub async fn discard_local(
        &self,
        id: &str,
        env: &impl Environment,
    ) -> Result<Written, EngineError> {
        local::validate_id(id)?;
        let now = env.now();
        self.store
            .transact(&[id.to_owned()], |snapshot| {
                let (batch, outcome, events) = local::plan_discard_local(&snapshot, id, now)?;
                Ok((batch, (outcome, events)))
            })
            .await
    }

    /// One document, tombstones included.
    pub async fn get(&self, id: &str) -> Result<Option<DocRecord>, EngineError> {
        local::validate_id(id)?;
        Ok(self.store.get_doc(id).await?)
    }

    /// Documents matching `query`.
    pub async fn all(&self, query: &DocQuery) -> Result<Vec<DocRecord>, EngineError> {
        Ok(self.store.list_docs(query).await?)
    }

    /// Outbox messages not yet accepted by the server (queued, in flight or parked).
    pub async fn pending_count(&self) -> Result<u64, EngineError> {
        Ok(self.store.outbox_len().await?)
    }

    /// Open conflicts.
    pub async fn conflicts(&self) -> Result<Vec<ConflictRecord>, EngineError> {
        Ok(self.store.conflicts().await?)
    }
}

/// Turns a stored record into the JSON document the app sees: the body plus
/// `_id`, `_rev` and `_deleted`.
pub fn document_json(doc: &DocRecord) -> Value {
    doc.app_json()
}
