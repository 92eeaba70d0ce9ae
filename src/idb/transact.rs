//! [`LocalStore::transact`](tidesync_engine::store::LocalStore::transact) on
//! IndexedDB: one readwrite transaction over `docs` and `meta` reads the
//! records the engine asked for (one request each: a document's messages and
//! conflict are in its record), runs its plan synchronously, and writes one
//! record per document the batch touches.
//!
//! IndexedDB commits a transaction by itself as soon as control returns to the
//! event loop with no request pending, so between `begin_write` and `commit`
//! nothing is awaited but this transaction's own requests.

use std::collections::{BTreeSet, HashMap, HashSet};

use indexed_db_futures::{
    database::Database,
    error::Error,
    future::VoidRequest,
    internals::SystemRepr,
    object_store::ObjectStore,
    prelude::*,
    transaction::{Transaction, TransactionDurability, TransactionMode, TransactionOptions},
    KeyRange,
};
use tidesync_engine::{
    error::StoreError,
    store::{Snapshot, WriteBatch, META_OUTBOX_SEQ},
};
use wasm_bindgen::JsCast;

mod creating;
mod seqs;
mod updating;

pub(super) use creating::{transact_creating, KnownIds};
pub(super) use seqs::SeqClock;
pub(super) use updating::transact_updating;

use super::{
    error::{begin_error, from_dom, store_error},
    record::{decode_doc, encode_doc_text, encode_meta, StoredDoc},
    schema::{ALL_STORES, DOCS, META},
};

/// From how many documents a transaction lists the stored ids in their range
/// before reading them: below it, reading each is as quick.
const KEY_LISTING_FROM: usize = 16;

/// What a transaction's plan came to: written (commit it) or nothing to write
/// (abort it, which skips waiting for a commit).
enum Planned<T> {
    Written(T),
    Unchanged(T),
}

/// Reads, plans and writes in one transaction; see the module docs.
pub(super) async fn transact<T, E, F>(
    db: &Database,
    seqs: &SeqClock,
    known: &KnownIds,
    ids: &[String],
    plan: F,
) -> Result<T, E>
where
    F: FnOnce(Snapshot) -> Result<(WriteBatch, T), E>,
    E: From<StoreError>,
{
    let tx = begin_write(db)?;
    let raw = raw_of(&tx);
    let planned = {
        let stores = Stores::of(&tx, known).map_err(|e| cause(&raw, e))?;
        read_plan_write(&stores, seqs, ids, plan, &raw).await?
    };
    Ok(finish(tx, &raw, planned).await?)
}

/// The read, plan and write of an ordinary transaction.
async fn read_plan_write<T, E, F>(
    stores: &Stores<'_>,
    seqs: &SeqClock,
    ids: &[String],
    plan: F,
    raw: &web_sys::IdbTransaction,
) -> Result<Planned<T>, E>
where
    F: FnOnce(Snapshot) -> Result<(WriteBatch, T), E>,
    E: From<StoreError>,
{
    let (snapshot, records) = stores
        .read(ids, seqs.next())
        .await
        .map_err(|e| cause(raw, e))?;
    // On `Err`, returning drops the transaction, which aborts it: nothing is written.
    let (batch, out) = plan(snapshot)?;
    if batch.is_empty() {
        return Ok(Planned::Unchanged(out));
    }
    seqs.used(&batch);
    stores
        .write(batch, records)
        .await
        .map_err(|e| cause(raw, e))?;
    Ok(Planned::Written(out))
}

/// Commits what was written, or aborts (drops) a transaction that wrote nothing.
async fn finish<T>(
    tx: Transaction<'_>,
    raw: &web_sys::IdbTransaction,
    planned: Planned<T>,
) -> Result<T, StoreError> {
    match planned {
        Planned::Unchanged(out) => Ok(out),
        Planned::Written(out) => {
            tx.commit().await.map_err(|e| cause(raw, store_error(e)))?;
            Ok(out)
        }
    }
}

/// The transaction's DOM object, kept to read `transaction.error` once
/// `commit` has consumed `tx`: an abort (a full disk reported at commit, say)
/// carries its reason only there.
fn raw_of(tx: &Transaction<'_>) -> web_sys::IdbTransaction {
    tx.as_sys()
        .unchecked_ref::<web_sys::IdbTransaction>()
        .clone()
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

/// The object stores of one `transact` transaction, and the hint of stored
/// ids it keeps up to date.
struct Stores<'a> {
    docs: ObjectStore<'a>,
    meta: ObjectStore<'a>,
    known: &'a KnownIds,
}

/// What the transaction holds of each document it read: the stored record
/// (`None`: no such document).
type Records = HashMap<String, Option<StoredDoc>>;

impl<'a> Stores<'a> {
    fn of(tx: &'a Transaction<'_>, known: &'a KnownIds) -> Result<Self, StoreError> {
        let store = |name| tx.object_store(name).map_err(store_error);
        Ok(Self {
            docs: store(DOCS)?,
            meta: store(META)?,
            known,
        })
    }

    /// Reads the records of `ids`: one request each, all sent before the
    /// first is awaited, and the last one sent awaited first (requests of a
    /// transaction complete in order, so the others are then done and resolve
    /// at their first poll, without a listener of their own). For many ids,
    /// one key listing first tells which exist, so a bulk write of new
    /// documents (or a first pull) reads none.
    async fn load(&self, ids: &[&String], records: &mut Records) -> Result<(), StoreError> {
        let existing = if ids.len() >= KEY_LISTING_FROM {
            self.existing(ids).await?
        } else {
            None
        };
        let mut requests = Vec::with_capacity(ids.len());
        for id in ids {
            if existing.as_ref().is_some_and(|known| !known.contains(*id)) {
                records.insert((*id).clone(), None);
                continue;
            }
            let request = self
                .docs
                .get(id.as_str())
                .primitive()
                .map_err(store_error)?;
            requests.push(((*id).clone(), request));
        }
        let mut done = Vec::with_capacity(requests.len());
        for (id, request) in requests.into_iter().rev() {
            done.push((id, request.await.map_err(store_error)?));
        }
        for (id, record) in done {
            let stored = record.as_ref().map(decode_doc).transpose()?;
            if stored.is_some() {
                self.known.note(&id, true);
            }
            records.insert(id, stored);
        }
        Ok(())
    }

    /// The ids of stored documents between the least and greatest of `ids`
    /// (in IndexedDB's order, UTF-16 code units), or `None` when that range
    /// holds too many to be worth listing.
    async fn existing(&self, ids: &[&String]) -> Result<Option<HashSet<String>>, StoreError> {
        let utf16 = |a: &&&String, b: &&&String| a.encode_utf16().cmp(b.encode_utf16());
        let (Some(low), Some(high)) = (ids.iter().min_by(utf16), ids.iter().max_by(utf16)) else {
            return Ok(None);
        };
        let limit = ids.len().saturating_mul(2);
        let keys = self
            .docs
            .get_all_keys::<String>()
            .with_query::<&str, _>(KeyRange::Bound(low.as_str(), false, high.as_str(), false))
            .with_limit(u32::try_from(limit).unwrap_or(u32::MAX))
            .primitive()
            .map_err(store_error)?
            .await
            .map_err(store_error)?;
        let keys: HashSet<String> = keys.collect::<Result<_, _>>().map_err(store_error)?;
        Ok((keys.len() < limit).then_some(keys))
    }

    /// The snapshot of `ids`: each document with its messages and conflict,
    /// one read each.
    async fn read(&self, ids: &[String], next_seq: u64) -> Result<(Snapshot, Records), StoreError> {
        let mut records = Records::with_capacity(ids.len());
        let unique: Vec<&String> = ids.iter().collect();
        self.load(&unique, &mut records).await?;
        Ok((snapshot_of(&records, next_seq), records))
    }

    /// Applies the batch to the records it touches (reading any the plan did
    /// not ask for first) in the memory store's order, and sends one write per
    /// record. The batch is taken, not copied: its documents and messages
    /// move into the records.
    async fn write(&self, mut batch: WriteBatch, mut records: Records) -> Result<(), StoreError> {
        let touched: BTreeSet<String> = batch
            .put_docs
            .iter()
            .map(|d| &d.id)
            .chain(&batch.delete_docs)
            .chain(batch.delete_messages.iter().map(|(id, _)| id))
            .chain(batch.put_messages.iter().map(|m| &m.doc_id))
            .chain(batch.put_conflicts.iter().map(|c| &c.id))
            .chain(&batch.delete_conflicts)
            .cloned()
            .collect();
        let missing: Vec<&String> = touched
            .iter()
            .filter(|id| !records.contains_key(*id))
            .collect();
        self.load(&missing, &mut records).await?;
        let meta = std::mem::take(&mut batch.meta);
        apply(batch, &mut records)?;
        for id in &touched {
            match records.get_mut(id) {
                Some(Some(stored)) => {
                    let (record, text) = encode_doc_text(stored)?;
                    send(self.docs.put(record).primitive())?;
                    self.known.wrote(id, text);
                }
                _ => {
                    send(self.docs.delete(id.as_str()).primitive())?;
                    self.known.note(id, false);
                }
            }
        }
        for (key, value) in &meta {
            // The outbox counter is the clock's (see `SeqClock`), not stored.
            if key != META_OUTBOX_SEQ {
                send(self.meta.put(encode_meta(key, value)?).primitive())?;
            }
        }
        Ok(())
    }
}

/// The snapshot of the stored `records`: each document with its messages and
/// conflict.
fn snapshot_of(records: &Records, next_seq: u64) -> Snapshot {
    let mut snapshot = Snapshot {
        next_seq,
        ..Snapshot::default()
    };
    for stored in records.values().flatten() {
        let (doc, messages, conflict) = stored.clone().into_parts();
        if !messages.is_empty() {
            snapshot.messages.insert(doc.id.clone(), messages);
        }
        if let Some(conflict) = conflict {
            snapshot.conflicts.insert(doc.id.clone(), conflict);
        }
        snapshot.docs.insert(doc.id.clone(), doc);
    }
    snapshot
}

/// Applies a batch to stored records, as the memory store applies it to its
/// tables: documents, then message deletions before insertions (so a batch
/// may delete and reuse a seq), then conflicts. A message or conflict needs
/// its document's record: the engine never writes one without it.
fn apply(batch: WriteBatch, records: &mut Records) -> Result<(), StoreError> {
    for doc in batch.put_docs {
        let slot = records.entry(doc.id.clone()).or_default();
        let (messages, conflict) = match slot.take() {
            Some(old) => (old.messages, old.conflict),
            None => (Vec::new(), None),
        };
        *slot = Some(StoredDoc::new(doc, messages, conflict));
    }
    for id in batch.delete_docs {
        records.insert(id, None);
    }
    let orphan = |id: &str| StoreError::Backend(format!("no document {id} to hold its change"));
    for (id, seq) in &batch.delete_messages {
        if let Some(Some(stored)) = records.get_mut(id) {
            stored.messages.retain(|m| m.seq != *seq);
        }
    }
    for message in batch.put_messages {
        let Some(Some(stored)) = records.get_mut(&message.doc_id) else {
            return Err(orphan(&message.doc_id));
        };
        stored.messages.retain(|m| m.seq != message.seq);
        stored.messages.push(message);
        stored.messages.sort_by_key(|m| m.seq);
    }
    for conflict in batch.put_conflicts {
        let Some(Some(stored)) = records.get_mut(&conflict.id) else {
            return Err(orphan(&conflict.id));
        };
        stored.conflict = Some(conflict);
    }
    for id in &batch.delete_conflicts {
        if let Some(Some(stored)) = records.get_mut(id) {
            stored.conflict = None;
        }
    }
    Ok(())
}
