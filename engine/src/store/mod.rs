//! The local store: one trait, several backends, one conformance suite.
//!
//! Every change goes through [`LocalStore::transact`]: the store reads what the
//! engine needs, the engine's pure planning function computes a [`WriteBatch`],
//! and the store writes it, all in ONE transaction. That is how a local write and
//! its outbox message, or a pulled page and its checkpoint, land together or not
//! at all.

pub mod conformance;
pub mod memory;

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use crate::{
    error::StoreError,
    model::{ConflictRecord, DocRecord, DocStatus},
    outbox::OutboxMessage,
};

/// The metadata key of the pull checkpoint.
pub const META_CHECKPOINT: &str = "checkpoint";
/// The metadata key of the next outbox sequence number.
pub const META_OUTBOX_SEQ: &str = "outbox_seq";

/// What a transaction read, handed to a planning function.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// The requested documents that exist.
    pub docs: BTreeMap<String, DocRecord>,
    /// Outbox messages of the requested documents, in queue order.
    pub messages: BTreeMap<String, Vec<OutboxMessage>>,
    /// Conflicts of the requested documents.
    pub conflicts: BTreeMap<String, ConflictRecord>,
    /// A sequence number above every one the store holds: the first this
    /// transaction may give a new message or version. The memory store keeps a
    /// counter under [`META_OUTBOX_SEQ`]; a store shared by tabs may draw it
    /// from the clock instead, so a write need not read or write a counter.
    pub next_seq: u64,
}

impl Snapshot {
    /// The messages of one document (empty when it has none).
    pub fn messages_of(&self, id: &str) -> &[OutboxMessage] {
        self.messages.get(id).map_or(&[], Vec::as_slice)
    }
}

/// The writes of one transaction.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WriteBatch {
    /// Documents to insert or replace.
    pub put_docs: Vec<DocRecord>,
    /// Documents to remove entirely (local-only documents deleted before push).
    pub delete_docs: Vec<String>,
    /// Outbox messages to insert or replace (keyed by `seq`).
    pub put_messages: Vec<OutboxMessage>,
    /// Outbox messages to remove, by document id and `seq`.
    pub delete_messages: Vec<(String, u64)>,
    /// Conflicts to insert or replace.
    pub put_conflicts: Vec<ConflictRecord>,
    /// Conflicts to remove, by document id.
    pub delete_conflicts: Vec<String>,
    /// Metadata to set.
    pub meta: Vec<(String, Value)>,
}

impl Snapshot {
    /// Folds a batch into the snapshot, so several plans can run one after the
    /// other inside one transaction (a bulk write) and each sees the last.
    pub fn absorb(&mut self, batch: &WriteBatch) {
        for doc in &batch.put_docs {
            self.docs.insert(doc.id.clone(), doc.clone());
        }
        for id in &batch.delete_docs {
            self.docs.remove(id);
        }
        for (id, seq) in &batch.delete_messages {
            if let Some(list) = self.messages.get_mut(id) {
                list.retain(|m| m.seq != *seq);
            }
        }
        for message in &batch.put_messages {
            let list = self.messages.entry(message.doc_id.clone()).or_default();
            list.retain(|m| m.seq != message.seq);
            list.push(message.clone());
            list.sort_by_key(|m| m.seq);
        }
        for conflict in &batch.put_conflicts {
            self.conflicts.insert(conflict.id.clone(), conflict.clone());
        }
        for id in &batch.delete_conflicts {
            self.conflicts.remove(id);
        }
        for (key, value) in &batch.meta {
            if key == META_OUTBOX_SEQ {
                self.next_seq = value.as_u64().unwrap_or(self.next_seq);
            }
        }
    }
}

impl WriteBatch {
    /// Appends `other`; applied in order, its writes win over earlier ones.
    pub fn extend(&mut self, other: WriteBatch) {
        self.put_docs.extend(other.put_docs);
        self.delete_docs.extend(other.delete_docs);
        self.put_messages.extend(other.put_messages);
        self.delete_messages.extend(other.delete_messages);
        self.put_conflicts.extend(other.put_conflicts);
        self.delete_conflicts.extend(other.delete_conflicts);
        self.meta.extend(other.meta);
    }

    /// True when the batch writes nothing.
    pub fn is_empty(&self) -> bool {
        self.put_docs.is_empty()
            && self.delete_docs.is_empty()
            && self.put_messages.is_empty()
            && self.delete_messages.is_empty()
            && self.put_conflicts.is_empty()
            && self.delete_conflicts.is_empty()
            && self.meta.is_empty()
    }
}

/// Which documents a listing returns, and in which order: by id, like
/// CouchDB's `_all_docs` (`startkey`, `endkey`, `skip`, `limit`,
/// `descending`), so a page of a large database is read without the rest.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DocQuery {
    /// Only documents with this status.
    pub status: Option<DocStatus>,
    /// Include tombstones.
    pub include_deleted: bool,
    /// The id to start from, included (the highest one when `descending`).
    pub start_key: Option<String>,
    /// The id to stop at, included (the lowest one when `descending`).
    pub end_key: Option<String>,
    /// Only ids that start with this.
    pub prefix: Option<String>,
    /// How many selected documents to pass over before the first returned.
    pub skip: usize,
    /// At most this many documents.
    pub limit: Option<usize>,
    /// Highest id first.
    pub descending: bool,
}

impl DocQuery {
    /// True when the query reads only part of the documents (a range, a
    /// prefix, a page) or in reverse: a store may then read just that part.
    pub fn is_partial(&self) -> bool {
        self.start_key.is_some()
            || self.end_key.is_some()
            || self.prefix.is_some()
            || self.skip > 0
            || self.limit.is_some()
            || self.descending
    }

    /// True when `id` lies in the query's range and has its prefix.
    pub fn has_id(&self, id: &str) -> bool {
        let (low, high) = if self.descending {
            (&self.end_key, &self.start_key)
        } else {
            (&self.start_key, &self.end_key)
        };
        low.as_deref().is_none_or(|low| id >= low)
            && high.as_deref().is_none_or(|high| id <= high)
            && self.prefix.as_deref().is_none_or(|p| id.starts_with(p))
    }

    /// True when the query selects `doc` (its id, status and deletion).
    pub fn selects(&self, doc: &DocRecord) -> bool {
        (self.include_deleted || !doc.deleted)
            && self.status.is_none_or(|s| doc.status == s)
            && self.has_id(&doc.id)
    }

    /// The query's page of `docs`, which are ordered by id: the ones it
    /// selects, in its order, past `skip`, at most `limit`.
    pub fn page(&self, docs: Vec<DocRecord>) -> Vec<DocRecord> {
        let selected = docs.into_iter().filter(|d| self.selects(d));
        let ordered: Box<dyn Iterator<Item = DocRecord>> = if self.descending {
            Box::new(selected.collect::<Vec<_>>().into_iter().rev())
        } else {
            Box::new(selected)
        };
        ordered
            .skip(self.skip)
            .take(self.limit.unwrap_or(usize::MAX))
            .collect()
    }
}

/// A backend that keeps documents, the outbox, conflicts and metadata.
///
/// Futures are not `Send`: browsers run one thread, and the memory store needs none.
#[allow(async_fn_in_trait)]
pub trait LocalStore {
    /// One document by id.
    async fn get_doc(&self, id: &str) -> Result<Option<DocRecord>, StoreError>;
    /// Documents matching `query`, ordered by id.
    async fn list_docs(&self, query: &DocQuery) -> Result<Vec<DocRecord>, StoreError>;
    /// Up to `limit` outbox messages with `seq` greater than `after`, in queue
    /// order, whatever their state.
    async fn outbox(
        &self,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Vec<OutboxMessage>, StoreError>;
    /// How many outbox messages exist.
    async fn outbox_len(&self) -> Result<u64, StoreError>;
    /// All conflicts, ordered by document id.
    async fn conflicts(&self) -> Result<Vec<ConflictRecord>, StoreError>;
    /// A metadata value.
    async fn get_meta(&self, key: &str) -> Result<Option<Value>, StoreError>;
    /// Keeps attachment bytes under their digest, before any record names
    /// them (bytes are stored once however many documents name them).
    async fn save_attachment(
        &self,
        digest: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> Result<(), StoreError>;
    /// The bytes of those of `digests` the store holds, by digest: what a
    /// push reads to send attachments added locally.
    async fn load_attachments(
        &self,
        digests: &[String],
    ) -> Result<HashMap<String, Vec<u8>>, StoreError>;
    /// Reads the documents `ids` (with their messages and conflicts) and the next
    /// outbox sequence, hands them to `plan`, and writes the batch it returns, all
    /// in one transaction. When `plan` fails nothing is written.
    ///
    /// A store may leave out the messages and the conflict of a document that
    /// is absent or synced: the engine keeps neither for such a document (a
    /// synced document has no local change left, and deleting a document's
    /// record deletes its messages), so reading them would only cost time.
    async fn transact<T, E, F>(&self, ids: &[String], plan: F) -> Result<T, E>
    where
        F: FnOnce(Snapshot) -> Result<(WriteBatch, T), E>,
        E: From<StoreError>;

    /// [`transact`](Self::transact) for a write that usually creates its
    /// documents (a `put` of a new id): a store may first run `plan` as if
    /// none of `ids` existed and write that batch without reading, keeping it
    /// only where the store confirms, in the same transaction, that the
    /// document was indeed absent (IndexedDB's `add`); where one existed it
    /// reads that record and runs `plan` again. So `plan` may run twice and
    /// must depend on its snapshot only. The outcome is the one of
    /// `transact`; only the number of requests differs.
    async fn transact_creating<T, E, F>(&self, ids: &[String], plan: F) -> Result<T, E>
    where
        F: FnMut(Snapshot) -> Result<(WriteBatch, T), E>,
        E: From<StoreError>,
    {
        self.transact(ids, plan).await
    }

    /// [`transact`](Self::transact) for a write that updates documents it
    /// expects to exist (a `put` naming a `_rev`): a store may plan it
    /// against records it holds a copy of and keep the batch only where the
    /// stored records prove unchanged in the same transaction, else read
    /// them and run `plan` again. Never guesses that a document is absent.
    async fn transact_updating<T, E, F>(&self, ids: &[String], plan: F) -> Result<T, E>
    where
        F: FnMut(Snapshot) -> Result<(WriteBatch, T), E>,
        E: From<StoreError>,
    {
        self.transact(ids, plan).await
    }
}

/// Several clients over one store, as the tabs of one origin share one
/// IndexedDB database: each holds an `Rc` of the same backend.
impl<S: LocalStore> LocalStore for std::rc::Rc<S> {
    async fn get_doc(&self, id: &str) -> Result<Option<DocRecord>, StoreError> {
        (**self).get_doc(id).await
    }

    async fn list_docs(&self, query: &DocQuery) -> Result<Vec<DocRecord>, StoreError> {
        (**self).list_docs(query).await
    }

    async fn outbox(
        &self,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        (**self).outbox(after, limit).await
    }

    async fn outbox_len(&self) -> Result<u64, StoreError> {
        (**self).outbox_len().await
    }

    async fn conflicts(&self) -> Result<Vec<ConflictRecord>, StoreError> {
        (**self).conflicts().await
    }

    async fn get_meta(&self, key: &str) -> Result<Option<Value>, StoreError> {
        (**self).get_meta(key).await
    }

    async fn save_attachment(
        &self,
        digest: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> Result<(), StoreError> {
        (**self).save_attachment(digest, content_type, bytes).await
    }

    async fn load_attachments(
        &self,
        digests: &[String],
    ) -> Result<HashMap<String, Vec<u8>>, StoreError> {
        (**self).load_attachments(digests).await
    }

    async fn transact<T, E, F>(&self, ids: &[String], plan: F) -> Result<T, E>
    where
        F: FnOnce(Snapshot) -> Result<(WriteBatch, T), E>,
        E: From<StoreError>,
    {
        (**self).transact(ids, plan).await
    }

    async fn transact_creating<T, E, F>(&self, ids: &[String], plan: F) -> Result<T, E>
    where
        F: FnMut(Snapshot) -> Result<(WriteBatch, T), E>,
        E: From<StoreError>,
    {
        (**self).transact_creating(ids, plan).await
    }

    async fn transact_updating<T, E, F>(&self, ids: &[String], plan: F) -> Result<T, E>
    where
        F: FnMut(Snapshot) -> Result<(WriteBatch, T), E>,
        E: From<StoreError>,
    {
        (**self).transact_updating(ids, plan).await
    }
}
