//! Creating writes: a `put` of a document this tab has not seen stored is
//! sent with `add` and no read (see `transact_creating`).

use std::{
    cell::{Cell, RefCell},
    collections::{HashMap, HashSet},
    rc::Rc,
};

use indexed_db_futures::{database::Database, error::Error, prelude::*};
use tidesync_engine::{
    error::StoreError,
    store::{Snapshot, WriteBatch, META_OUTBOX_SEQ},
};
use wasm_bindgen::{prelude::wasm_bindgen, JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(module = "/src/idb/idb.js")]
extern "C" {
    /// Resolves once the transaction commits by itself, rejects once it aborts.
    fn settled(tx: &web_sys::IdbTransaction) -> js_sys::Promise;
}

use super::{
    apply, begin_write, cause, raw_of, send, transact, Records, SeqClock, Stores, KEY_LISTING_FROM,
};
use crate::idb::{error::store_error, record::encode_doc_text};

/// Below this many documents, a creating write (`transact_creating`) adds its
/// records without reading them first; from it on, the key listing of `load`
/// costs one request whatever the number, and a failed `add` costs one each.
const CREATE_WITHOUT_READ_BELOW: usize = KEY_LISTING_FROM;

/// What this tab knows of stored records: the ids it has seen stored, so
/// that a `put` of one of them reads its record instead of first trying to
/// create it, and the text of the records it wrote last, so that the next
/// update of one is planned before its read returns (see `updating`). Hints
/// only, never trusted for correctness (another tab may change or delete a
/// record at any time): a wrong guess costs a failed transaction, redone the
/// ordinary way. Bounded; each starts over when full.
#[derive(Debug, Default)]
pub(in crate::idb) struct KnownIds {
    ids: RefCell<HashSet<String>>,
    texts: RefCell<HashMap<String, Rc<str>>>,
    text_bytes: Cell<usize>,
}

impl KnownIds {
    /// How many ids the hint holds at most.
    const CAPACITY: usize = 65_536;
    /// How many record texts it keeps at most, and their total bytes.
    const TEXTS: usize = 512;
    const TEXT_BYTES: usize = 1 << 20;

    pub(super) fn contains(&self, id: &str) -> bool {
        self.ids.borrow().contains(id)
    }

    /// Notes that `id` is stored (`true`) or not.
    pub(in crate::idb) fn note(&self, id: &str, stored: bool) {
        let mut ids = self.ids.borrow_mut();
        if !stored {
            ids.remove(id);
            self.forget_text(id);
        } else if !ids.contains(id) {
            if ids.len() >= Self::CAPACITY {
                ids.clear();
            }
            ids.insert(id.to_owned());
        }
    }

    /// Notes that this tab wrote `id` with record text `text`.
    pub(super) fn wrote(&self, id: &str, text: String) {
        self.note(id, true);
        self.forget_text(id);
        let mut texts = self.texts.borrow_mut();
        if texts.len() >= Self::TEXTS || self.text_bytes.get() + text.len() > Self::TEXT_BYTES {
            texts.clear();
            self.text_bytes.set(0);
        }
        self.text_bytes.set(self.text_bytes.get() + text.len());
        texts.insert(id.to_owned(), Rc::from(text));
    }

    /// The record text this tab last wrote for `id`, if it still holds it.
    pub(super) fn text(&self, id: &str) -> Option<Rc<str>> {
        self.texts.borrow().get(id).cloned()
    }

    /// Drops the record text of `id` (it may no longer be what is stored).
    pub(super) fn forget_text(&self, id: &str) {
        if let Some(text) = self.texts.borrow_mut().remove(id) {
            self.text_bytes
                .set(self.text_bytes.get().saturating_sub(text.len()));
        }
    }
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
pub(in crate::idb) async fn transact_creating<T, E, F>(
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
    // Ids this tab has seen stored are updates: planned against the records
    // it wrote last when it holds them, else read first.
    let guessable = !ids.is_empty()
        && ids.len() < CREATE_WITHOUT_READ_BELOW
        && !ids.iter().any(|id| known.contains(id));
    if !guessable {
        return super::transact_updating(db, seqs, known, ids, plan).await;
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
    let several = batch.put_docs.len() > 1;
    Stores::of(&tx, known)
        .and_then(|stores| stores.create(batch))
        .map_err(|e| cause(&raw, e))?;
    // One record: committed right behind its `add` (one round trip less).
    // Several: left to commit by themselves, because Firefox commits the
    // records added before a refused `add` once `commit()` was called, where
    // the transaction must abort as a whole; without it, it does.
    let finished = if several {
        let ended = JsFuture::from(settled(&raw)).await;
        drop(tx);
        ended.map(drop).map_err(Error::from)
    } else {
        tx.commit().await
    };
    match finished {
        Ok(()) => Ok(out),
        Err(error) if key_exists(&raw, &error) => {
            // One existed (another tab's, or one this tab never saw).
            for id in ids {
                known.note(id, true);
                known.forget_text(id);
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

impl Stores<'_> {
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
                let (record, text) = encode_doc_text(stored)?;
                send(self.docs.add(record).primitive())?;
                self.known.wrote(id, text);
            }
        }
        Ok(())
    }
}
