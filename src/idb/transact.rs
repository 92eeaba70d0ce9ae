//! [`LocalStore::transact`](tidesync_engine::store::LocalStore::transact) on
//! IndexedDB: one readwrite transaction over `docs` and `meta` reads the
//! records the engine asked for (one request each: a document's messages and
//! conflict are in its record), runs its plan synchronously, and writes one
//! record per document the batch touches.
//!
//! IndexedDB commits a transaction by itself as soon as control returns to the
//! event loop with no request pending, so between `begin_write` and `commit`
//! nothing is awaited but this transaction's own requests.

use std::{
    cell::{Cell, RefCell},
    collections::{BTreeSet, HashMap, HashSet},
};

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
use wasm_bindgen::{JsCast, JsValue};

use super::{
    error::{begin_error, from_dom, store_error},
    record::{decode_doc, encode_doc, encode_meta, StoredDoc},
    schema::{ALL_STORES, DOCS, META},
};

/// From how many documents a transaction lists the stored ids in their range
/// before reading them: below it, reading each is as quick.
const KEY_LISTING_FROM: usize = 16;

/// Outbox sequence numbers drawn from the clock: `Date.now() × 1024`, and
/// above the last one this tab used. Tabs share the database but not a
/// counter, and a stored counter would cost every write a read and a write;
/// clock-based numbers keep the queue in time order across tabs, and the
/// engine keeps each document's versions increasing whatever the clocks say.
/// They stay below 2^53 (exact as IndexedDB keys) for two more centuries.
#[derive(Debug, Default)]
pub(super) struct SeqClock {
    last: Cell<u64>,
}

impl SeqClock {
    fn next(&self) -> u64 {
        let now = (js_sys::Date::now().max(0.0) as u64).saturating_mul(1024);
        now.max(self.last.get() + 1)
    }

    /// Remembers the numbers a batch uses (its `META_OUTBOX_SEQ`), before its
    /// commit: a number skipped because the commit failed is harmless.
    fn used(&self, batch: &WriteBatch) {
        for (key, value) in &batch.meta {
            if let (true, Some(next)) = (key == META_OUTBOX_SEQ, value.as_u64()) {
                self.last.set(self.last.get().max(next.saturating_sub(1)));
            }
        }
    }
}

/// Below this many documents, a creating write (`transact_creating`) adds its
/// records without reading them first; from it on, the key listing of `load`
/// costs one request whatever the number, and a failed `add` costs one each.
const CREATE_WITHOUT_READ_BELOW: usize = KEY_LISTING_FROM;

/// The ids this tab has seen stored, so that a `put` of one of them reads its
/// record instead of first trying to create it. A hint only, never trusted for
/// correctness (another tab may create or delete a record at any time): a
/// wrong guess costs one failed request. Bounded; it starts over when full.
#[derive(Debug, Default)]
pub(super) struct KnownIds {
    ids: RefCell<HashSet<String>>,
}

impl KnownIds {
    /// How many ids the hint holds at most.
    const CAPACITY: usize = 65_536;

    fn contains(&self, id: &str) -> bool {
        self.ids.borrow().contains(id)
    }

    /// Notes that `id` is stored (`true`) or not.
    pub(super) fn note(&self, id: &str, stored: bool) {
        let mut ids = self.ids.borrow_mut();
        if !stored {
            ids.remove(id);
        } else if !ids.contains(id) {
            if ids.len() >= Self::CAPACITY {
                ids.clear();
            }
            ids.insert(id.to_owned());
        }
    }
}

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

/// The `DOMException` name of an `add` whose key exists.
const KEY_EXISTS: &str = "ConstraintError";

/// [`LocalStore::transact_creating`](tidesync_engine::store::LocalStore::transact_creating)
/// on IndexedDB. For a few ids none of which this tab has seen stored, `plan`
/// runs first on an empty snapshot, and its records go out with `add` and the
/// commit right behind them, so the write costs one round trip to the storage
/// process and no read. IndexedDB refuses an `add` whose key exists, inside
/// the transaction, so no other tab can create the document between the check
/// and the write; the refusal aborts the whole transaction, and the write is
/// done again the ordinary way (read, plan, write). When the first plan fails
/// or writes beyond its ids, it is an ordinary `transact` from the start.
pub(super) async fn transact_creating<T, E, F>(
    db: &Database,
    seqs: &SeqClock,
    known: &KnownIds,
    ids: &[String],
    mut plan: F,
) -> Result<T, E>
where
    F: FnMut(Snapshot) -> Result<(WriteBatch, T), E>,
    E: From<StoreError>,
{
    let guessable = !ids.is_empty()
        && ids.len() < CREATE_WITHOUT_READ_BELOW
        && !ids.iter().any(|id| known.contains(id));
    if !guessable {
        return transact(db, seqs, known, ids, plan).await;
    }
    let guess = Snapshot {
        next_seq: seqs.next(),
        ..Snapshot::default()
    };
    let (batch, out) = match plan(guess) {
        Ok((batch, out)) if only_creates(&batch, ids) => (batch, out),
        _ => return transact(db, seqs, known, ids, plan).await,
    };
    let tx = begin_write(db)?;
    let raw = raw_of(&tx);
    seqs.used(&batch);
    Stores::of(&tx, known)
        .and_then(|stores| stores.create(batch))
        .map_err(|e| cause(&raw, e))?;
    match tx.commit().await {
        Ok(()) => Ok(out),
        Err(error) if key_exists(&raw, &error) => {
            // One existed (another tab's, or one this tab never saw).
            for id in ids {
                known.note(id, true);
            }
            transact(db, seqs, known, ids, plan).await
        }
        Err(error) => Err(cause(&raw, store_error(error)).into()),
    }
}

/// Whether a creating transaction failed because a key it added exists: the
/// transaction's error says so, or the failed request's when the commit
/// reports that one first.
fn key_exists(raw: &web_sys::IdbTransaction, error: &Error) -> bool {
    let named = |e: &JsValue| {
        e.dyn_ref::<web_sys::DomException>()
            .is_some_and(|e| e.name() == KEY_EXISTS)
    };
    raw.error().is_some_and(|e| e.name() == KEY_EXISTS)
        || match error {
            Error::DomException(e) => named(e.as_ref()),
            Error::Unknown(e) => named(e.as_ref()),
            _ => false,
        }
}

/// Whether `batch` only creates documents among `ids` (each with its messages
/// and conflict) and sets no metadata but the outbox counter: what a creating
/// write may send with `add` before knowing that its documents are absent.
fn only_creates(batch: &WriteBatch, ids: &[String]) -> bool {
    let created: HashSet<&String> = batch.put_docs.iter().map(|d| &d.id).collect();
    !created.is_empty()
        && created.iter().all(|id| ids.contains(id))
        && batch
            .put_messages
            .iter()
            .all(|m| created.contains(&m.doc_id))
        && batch.put_conflicts.iter().all(|c| created.contains(&c.id))
        && batch.delete_docs.is_empty()
        && batch.delete_messages.is_empty()
        && batch.delete_conflicts.is_empty()
        && batch.meta.iter().all(|(key, _)| key == META_OUTBOX_SEQ)
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

    /// Sends the records of a batch that only creates documents (see
    /// `only_creates`) with `add`, without waiting: one that exists aborts the
    /// transaction, which its commit reports.
    fn create(&self, batch: WriteBatch) -> Result<(), StoreError> {
        let mut records: Records = batch
            .put_docs
            .iter()
            .map(|d| (d.id.clone(), None))
            .collect();
        apply(batch, &mut records)?;
        for (id, stored) in &mut records {
            if let Some(stored) = stored {
                send(self.docs.add(encode_doc(stored)?).primitive())?;
                self.known.note(id, true);
            }
        }
        Ok(())
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
        Ok((snapshot, records))
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
                    send(self.docs.put(encode_doc(stored)?).primitive())?;
                    self.known.note(id, true);
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
