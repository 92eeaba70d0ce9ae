//! An in-memory store: the reference backend for host tests and for apps that
//! want no persistence (server-side rendering, tests of their own).

use std::{
    cell::RefCell,
    collections::{BTreeMap, HashMap},
};

use serde_json::Value;

use super::{DocQuery, LocalStore, Snapshot, WriteBatch, META_OUTBOX_SEQ};
use crate::{
    error::StoreError,
    model::{ConflictRecord, DocRecord},
    outbox::OutboxMessage,
};

#[derive(Debug, Default)]
struct Tables {
    docs: BTreeMap<String, DocRecord>,
    outbox: BTreeMap<u64, OutboxMessage>,
    conflicts: BTreeMap<String, ConflictRecord>,
    meta: BTreeMap<String, Value>,
    attachments: HashMap<String, Vec<u8>>,
}

/// A [`LocalStore`] in a `RefCell`. Transactions are trivially atomic because
/// planning runs before any write and nothing else can interleave.
#[derive(Debug, Default)]
pub struct MemoryStore {
    tables: RefCell<Tables>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

fn next_seq(meta: &BTreeMap<String, Value>) -> u64 {
    meta.get(META_OUTBOX_SEQ)
        .and_then(Value::as_u64)
        .unwrap_or(0)
}

impl LocalStore for MemoryStore {
    async fn get_doc(&self, id: &str) -> Result<Option<DocRecord>, StoreError> {
        Ok(self.tables.borrow().docs.get(id).cloned())
    }

    async fn list_docs(&self, query: &DocQuery) -> Result<Vec<DocRecord>, StoreError> {
        let tables = self.tables.borrow();
        let docs = tables.docs.values().filter(|d| query.selects(d)).cloned();
        Ok(query.page(docs.collect()))
    }

    async fn outbox(
        &self,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let tables = self.tables.borrow();
        let start = after.map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded);
        Ok(tables
            .outbox
            .range((start, std::ops::Bound::Unbounded))
            .take(limit)
            .map(|(_, m)| m.clone())
            .collect())
    }

    async fn outbox_len(&self) -> Result<u64, StoreError> {
        Ok(self.tables.borrow().outbox.len() as u64)
    }

    async fn conflicts(&self) -> Result<Vec<ConflictRecord>, StoreError> {
        Ok(self.tables.borrow().conflicts.values().cloned().collect())
    }

    async fn get_meta(&self, key: &str) -> Result<Option<Value>, StoreError> {
        Ok(self.tables.borrow().meta.get(key).cloned())
    }

    async fn save_attachment(
        &self,
        digest: &str,
        _content_type: &str,
        bytes: &[u8],
    ) -> Result<(), StoreError> {
        let mut tables = self.tables.borrow_mut();
        tables.attachments.insert(digest.to_owned(), bytes.to_vec());
        Ok(())
    }

    async fn load_attachments(
        &self,
        digests: &[String],
    ) -> Result<HashMap<String, Vec<u8>>, StoreError> {
        let tables = self.tables.borrow();
        Ok(digests
            .iter()
            .filter_map(|d| tables.attachments.get(d).map(|b| (d.clone(), b.clone())))
            .collect())
    }

    async fn transact<T, E, F>(&self, ids: &[String], plan: F) -> Result<T, E>
    where
        F: FnOnce(Snapshot) -> Result<(WriteBatch, T), E>,
        E: From<StoreError>,
    {
        let snapshot = {
            let tables = self.tables.borrow();
            let mut snapshot = Snapshot {
                next_seq: next_seq(&tables.meta),
                ..Snapshot::default()
            };
            for id in ids {
                if let Some(doc) = tables.docs.get(id) {
                    snapshot.docs.insert(id.clone(), doc.clone());
                }
                if let Some(conflict) = tables.conflicts.get(id) {
                    snapshot.conflicts.insert(id.clone(), conflict.clone());
                }
                let messages: Vec<_> = tables
                    .outbox
                    .values()
                    .filter(|m| &m.doc_id == id)
                    .cloned()
                    .collect();
                if !messages.is_empty() {
                    snapshot.messages.insert(id.clone(), messages);
                }
            }
            snapshot
        };
        let (batch, out) = plan(snapshot)?;
        let mut tables = self.tables.borrow_mut();
        for doc in batch.put_docs {
            tables.docs.insert(doc.id.clone(), doc);
        }
        for id in batch.delete_docs {
            tables.docs.remove(&id);
        }
        for (id, seq) in batch.delete_messages {
            if tables.outbox.get(&seq).is_some_and(|m| m.doc_id == id) {
                tables.outbox.remove(&seq);
            }
        }
        for message in batch.put_messages {
            tables.outbox.insert(message.seq, message);
        }
        for conflict in batch.put_conflicts {
            tables.conflicts.insert(conflict.id.clone(), conflict);
        }
        for id in batch.delete_conflicts {
            tables.conflicts.remove(&id);
        }
        for (key, value) in batch.meta {
            tables.meta.insert(key, value);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_store_passes_the_conformance_suite() {
        futures::executor::block_on(crate::store::conformance::run_all(|| async {
            MemoryStore::new()
        }));
    }
}
