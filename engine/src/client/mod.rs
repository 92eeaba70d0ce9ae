//! The client: local operations and sync cycles over any [`LocalStore`] and
//! [`Transport`]. It is generic and pure of browser APIs, so the whole client
//! runs under `cargo test` with the memory store and a fake server; the browser
//! edge only supplies IndexedDB, fetch, ids and the clock.

mod attachments;
mod cycle;
mod upkeep;

use serde_json::Value;

use crate::{
    error::{EngineError, StoreError},
    event::Event,
    http::{HttpRequest, HttpResponse, TransportError},
    local::{self, Incoming, Stamp, WriteContext, WriteOutcome},
    merge::ConflictPolicy,
    model::{ConflictRecord, DocRecord},
    store::{DocQuery, LocalStore, Snapshot, WriteBatch},
    sync::SyncConfig,
};

/// The default of [`ClientConfig::max_attachment_bytes`]: 10 MiB, room for
/// a phone's photo, well under what CouchDB and the reference server take in
/// one request.
pub const DEFAULT_MAX_ATTACHMENT_BYTES: u64 = 10 * 1024 * 1024;

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
    /// The largest attachment accepted locally, in bytes.
    pub max_attachment_bytes: u64,
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
    /// Let a `put` without `_rev` replace a stored document (the JS
    /// `lastWriteWins` option). Off by default: such a put is refused as a
    /// conflict, as CouchDB and PouchDB refuse it, so that no write silently
    /// replaces a version its author never saw (another tab's edit, a
    /// pulled change). A `put` that names a `_rev` is checked either way.
    pub last_write_wins: bool,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            max_document_bytes: 1_000_000,
            max_attachment_bytes: DEFAULT_MAX_ATTACHMENT_BYTES,
            sync: SyncConfig::default(),
            author: None,
            stamp_updated_at: false,
            conflicts: ConflictPolicy::default(),
            last_write_wins: false,
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

    /// Writes a document locally and queues it, atomically. The write must
    /// be based on the stored version (see [`local::check_rev`]).
    pub async fn put(&self, doc: Value, env: &impl Environment) -> Result<Written, EngineError> {
        let Incoming { id, body, rev } =
            local::validate_document(doc, || env.new_id(), self.config.max_document_bytes)?;
        let ctx = self.context(env);
        let last_write_wins = self.config.last_write_wins;
        let ids = std::slice::from_ref(&id);
        let plan = |snapshot: Snapshot| {
            local::check_rev(snapshot.docs.get(&id), &id, rev.as_ref(), last_write_wins)?;
            let (batch, outcome, events) = local::plan_put(&snapshot, &id, body.clone(), &ctx);
            Ok::<_, EngineError>((batch, (outcome, events)))
        };
        // A write naming a `_rev` expects the document to exist: no guess
        // that it is absent.
        if rev.is_some() {
            self.store.transact_updating(ids, plan).await
        } else {
            self.store.transact_creating(ids, plan).await
        }
    }

    /// Writes many documents in ONE transaction: all land or none do. Every
    /// document is validated first; the first invalid one, or the first not
    /// based on its stored version, fails the whole call (its index is in the
    /// message) and nothing is written.
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
        self.write_together(items, true, env)
            .await?
            .into_iter()
            .collect()
    }

    /// Group commit: writes that were asked for separately (each `put` an app
    /// did not await before the next) in ONE transaction. Each is validated
    /// and checked against its stored version alone, and one that fails fails
    /// alone (its own `Err`) while the others are written; an `Err` of the
    /// whole call is the transaction's (a full disk, a closed database) and
    /// none is written. Every `Ok` is durable when this returns, as after
    /// [`put`](Self::put).
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
            self.write_together(items, false, env).await?
        }
        .into_iter();
        // One outcome per written item, in order: each empty slot takes the next.
        let missing = || StoreError::Backend("a write of the group has no outcome".into()).into();
        Ok(results
            .into_iter()
            .map(|slot| slot.unwrap_or_else(|| written.next().unwrap_or_else(|| Err(missing()))))
            .collect())
    }

    /// Writes validated documents in order in one transaction, each seeing
    /// the ones before it (two writes of one document coalesce as two `put`s
    /// would). A document not based on its stored version fails the whole
    /// transaction when `all_or_nothing`, else only its own result.
    async fn write_together(
        &self,
        items: Vec<Incoming>,
        all_or_nothing: bool,
        env: &impl Environment,
    ) -> Result<Vec<Result<Written, EngineError>>, EngineError> {
        let ids: Vec<String> = items.iter().map(|item| item.id.clone()).collect();
        let now = env.now();
        let message_ids: Vec<String> = items.iter().map(|_| env.new_id()).collect();
        let max_document_bytes = self.config.max_document_bytes;
        let last_write_wins = self.config.last_write_wins;
        let stamp = self.config.stamp();
        let names_rev = items.iter().any(|item| item.rev.is_some());
        // A plan may run twice (see `transact_creating`): it clones what it
        // moves into the batch, a small cost beside the requests it saves.
        let plan = |mut snapshot: Snapshot| {
            let mut batch = WriteBatch::default();
            let mut results = Vec::with_capacity(items.len());
            for (index, (item, message_id)) in items.iter().zip(&message_ids).enumerate() {
                let Incoming { id, body, rev } = item;
                let doc = snapshot.docs.get(id);
                if let Err(error) = local::check_rev(doc, id, rev.as_ref(), last_write_wins) {
                    if all_or_nothing {
                        return Err(error.at_index(index));
                    }
                    results.push(Err(error));
                    continue;
                }
                let ctx = WriteContext {
                    now,
                    message_id: message_id.clone(),
                    max_document_bytes,
                    stamp: stamp.clone(),
                };
                let (one, outcome, events) = local::plan_put(&snapshot, id, body.clone(), &ctx);
                snapshot.absorb(&one);
                batch.extend(one);
                results.push(Ok((outcome, events)));
            }
            Ok::<_, EngineError>((batch, results))
        };
        // Writes naming a `_rev` expect their documents to exist: no guess
        // that they are absent.
        if names_rev {
            self.store.transact_updating(&ids, plan).await
        } else {
            self.store.transact_creating(&ids, plan).await
        }
    }

    /// Deletes a document locally (a tombstone to push) and queues it,
    /// atomically. With `rev`, only the version it names is deleted: a stale
    /// or malformed one is refused as a `put` naming it would be.
    pub async fn delete(
        &self,
        id: &str,
        rev: Option<&str>,
        env: &impl Environment,
    ) -> Result<Written, EngineError> {
        local::validate_id(id)?;
        let rev = rev.map(|text| local::parse_rev(text, id)).transpose()?;
        let ctx = self.context(env);
        self.store
            .transact(&[id.to_owned()], |snapshot| {
                // A missing or deleted document is `not_found`, whatever the `_rev`.
                let live = snapshot.docs.get(id).filter(|doc| !doc.deleted);
                if let (Some(rev), Some(doc)) = (&rev, live) {
                    local::check_rev(Some(doc), id, Some(rev), true)?;
                }
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
                // A resolution is based on the conflict's remote revision,
                // whatever `_rev` the app's body carries.
                let incoming = local::validate_document(
                    value,
                    || id.to_owned(),
                    self.config.max_document_bytes,
                )?;
                Some(incoming.body)
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
        let ctx = self.context(env);
        self.store
            .transact(&[id.to_owned()], |snapshot| {
                let (batch, outcome, events) = local::plan_discard_local(&snapshot, id, &ctx)?;
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
