//! [`LocalStore::transact`](tidesync_engine::store::LocalStore::transact) on
//! IndexedDB: one readwrite transaction over all four stores reads what the
//! engine asked for, runs its plan synchronously, and writes the batch.
//!
//! IndexedDB commits a transaction by itself as soon as control returns to the
//! event loop with no request pending, so between `begin_write` and `commit`
//! nothing is awaited but this transaction's own requests.

use indexed_db_futures::{
    database::Database,
    error::Error,
    future::VoidRequest,
    index::Index,
    internals::SystemRepr,
    object_store::ObjectStore,
    prelude::*,
    transaction::{Transaction, TransactionDurability, TransactionMode, TransactionOptions},
};
use serde_json::Value;
use tidesync_engine::{
    error::StoreError,
    model::{DocRecord, DocStatus},
    outbox::OutboxMessage,
    store::{Snapshot, WriteBatch, META_OUTBOX_SEQ},
};
use wasm_bindgen::JsCast;

use super::{
    error::{begin_error, from_dom, store_error},
    record::{
        decode_all, decode_opt, encode_conflict, encode_doc, encode_message, encode_meta, seq_key,
    },
    schema::{ALL_STORES, CONFLICTS, DOCS, DOC_ID_INDEX, META, OUTBOX},
};

/// Reads, plans and writes in one transaction; see the module docs.
pub(super) async fn transact<T, E, F>(db: &Database, ids: &[String], plan: F) -> Result<T, E>
where
    F: FnOnce(Snapshot) -> Result<(WriteBatch, T), E>,
    E: From<StoreError>,
{
    let tx = begin_write(db)?;
    // Kept to read `transaction.error` once `commit` has consumed `tx`: an abort
    // (a full disk reported at commit, say) carries its reason only there.
    let raw: web_sys::IdbTransaction = tx
        .as_sys()
        .unchecked_ref::<web_sys::IdbTransaction>()
        .clone();
    let out = {
        let stores = Stores::of(&tx).map_err(|e| cause(&raw, e))?;
        let snapshot = stores.read(ids).await.map_err(|e| cause(&raw, e))?;
        // On `Err`, returning drops `tx`, which aborts it: nothing is written.
        let (batch, out) = plan(snapshot)?;
        if batch.is_empty() {
            // Nothing to write: dropping (aborting) skips waiting for a commit.
            return Ok(out);
        }
        stores.write(&batch).map_err(|e| cause(&raw, e))?;
        out
    };
    tx.commit().await.map_err(|e| cause(&raw, store_error(e)))?;
    Ok(out)
}

/// Starts the readwrite transaction of `transact`, asking for `strict`
/// durability: the commit resolves only once the data is flushed to disk, which
/// is the promise an offline-first write makes. Browsers that do not know the
/// option ignore it (a dictionary member they do not read).
fn begin_write(db: &Database) -> Result<Transaction<'_>, StoreError> {
    db.transaction(ALL_STORES)
        .with_mode(TransactionMode::Readwrite)
        .with_options(TransactionOptions::new().with_durability(TransactionDurability::Strict))
        .build()
        .map_err(begin_error)
}

/// The transaction's own error when it failed (the first failing request, or
/// what aborted the commit), else `fallback`, which may only be the echo of it
/// (`AbortError` on a later request).
fn cause(raw: &web_sys::IdbTransaction, fallback: StoreError) -> StoreError {
    raw.error().map_or(fallback, |e| from_dom(&e))
}

/// Sends a write without waiting for it: IndexedDB runs a transaction's
/// requests in order, and a failing one aborts the transaction, which the
/// commit then reports. Waiting for each would add a listener and a wake-up
/// per write for nothing.
fn send(request: Result<VoidRequest, Error>) -> Result<(), StoreError> {
    request.map(drop).map_err(store_error)
}

/// The object stores of one `transact` transaction.
struct Stores<'a> {
    docs: ObjectStore<'a>,
    outbox: ObjectStore<'a>,
    conflicts: ObjectStore<'a>,
    meta: ObjectStore<'a>,
}

impl<'a> Stores<'a> {
    fn of(tx: &'a Transaction<'_>) -> Result<Self, StoreError> {
        let store = |name| tx.object_store(name).map_err(store_error);
        Ok(Self {
            docs: store(DOCS)?,
            outbox: store(OUTBOX)?,
            conflicts: store(CONFLICTS)?,
            meta: store(META)?,
        })
    }

    /// Reads the snapshot of `ids` in two rounds. First every document and the
    /// outbox sequence; then messages and conflicts, only of documents that can
    /// have them: the engine never keeps either for an absent or synced
    /// document (see [`LocalStore::transact`]), and skipping those reads halves
    /// the requests of a typical write. In each round every request goes out
    /// before the first is awaited, and the last one sent is awaited first:
    /// requests of a transaction complete in order, so by then all are done and
    /// the others resolve at their first poll, without a listener of their own.
    ///
    /// [`LocalStore::transact`]: tidesync_engine::store::LocalStore::transact
    async fn read(&self, ids: &[String]) -> Result<Snapshot, StoreError> {
        let mut docs = Vec::with_capacity(ids.len());
        for id in ids {
            docs.push((
                id,
                self.docs
                    .get(id.as_str())
                    .primitive()
                    .map_err(store_error)?,
            ));
        }
        let next_seq = self
            .meta
            .get(META_OUTBOX_SEQ)
            .primitive()
            .map_err(store_error)?;
        let next_seq: Option<Value> = decode_opt(next_seq.await.map_err(store_error)?)?;
        let mut snapshot = Snapshot {
            next_seq: next_seq.as_ref().and_then(Value::as_u64).unwrap_or(0),
            ..Snapshot::default()
        };
        for (id, doc) in docs {
            let doc: Option<DocRecord> = decode_opt(doc.await.map_err(store_error)?)?;
            if let Some(doc) = doc {
                snapshot.docs.insert(id.clone(), doc);
            }
        }
        let unsettled: Vec<&String> = snapshot
            .docs
            .values()
            .filter(|d| d.status != DocStatus::Synced)
            .map(|d| &d.id)
            .collect();
        if unsettled.is_empty() {
            return Ok(snapshot);
        }
        let by_doc: Index<'_> = self.outbox.index(DOC_ID_INDEX).map_err(store_error)?;
        let mut pending = Vec::with_capacity(unsettled.len());
        for id in unsettled {
            let key = id.as_str();
            pending.push((
                id.clone(),
                self.conflicts.get(key).primitive().map_err(store_error)?,
                by_doc
                    .get_all()
                    .with_query(key)
                    .primitive()
                    .map_err(store_error)?,
            ));
        }
        let mut round = Vec::with_capacity(pending.len());
        for (id, conflict, messages) in pending.into_iter().rev() {
            // Awaited from the last sent: see above.
            let messages: Vec<OutboxMessage> = decode_all(messages.await.map_err(store_error)?)?;
            round.push((id, conflict, messages));
        }
        for (id, conflict, messages) in round {
            if let Some(conflict) = decode_opt(conflict.await.map_err(store_error)?)? {
                snapshot.conflicts.insert(id.clone(), conflict);
            }
            // The index orders one document's entries by primary key: by seq.
            if !messages.is_empty() {
                snapshot.messages.insert(id, messages);
            }
        }
        Ok(snapshot)
    }

    /// Sends the batch's writes in the memory store's order (deletions of
    /// messages before insertions, so a batch may delete and reuse a seq).
    fn write(&self, batch: &WriteBatch) -> Result<(), StoreError> {
        for doc in &batch.put_docs {
            send(self.docs.put(encode_doc(doc)?).primitive())?;
        }
        for id in &batch.delete_docs {
            send(self.docs.delete(id.as_str()).primitive())?;
        }
        for &seq in &batch.delete_messages {
            send(self.outbox.delete(seq_key(seq)).primitive())?;
        }
        for message in &batch.put_messages {
            send(self.outbox.put(encode_message(message)?).primitive())?;
        }
        for conflict in &batch.put_conflicts {
            send(self.conflicts.put(encode_conflict(conflict)?).primitive())?;
        }
        for id in &batch.delete_conflicts {
            send(self.conflicts.delete(id.as_str()).primitive())?;
        }
        for (key, value) in &batch.meta {
            send(self.meta.put(encode_meta(key, value)?).primitive())?;
        }
        Ok(())
    }
}
