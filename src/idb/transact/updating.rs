//! Updates planned before their read: when this tab wrote every document of
//! a `put` last (it holds their record text), the write is planned against
//! those records and sent behind the reads in one transaction, which commits
//! only if each stored record is still exactly that text, and aborts (nothing
//! written) otherwise; the write is then done the ordinary way. No other tab
//! can change a record between the read and the commit: the transaction holds
//! the `docs` store. So the write skips the wait for its read, and is never
//! planned against anything but what is stored.

use indexed_db_futures::{database::Database, internals::SystemRepr};
use js_sys::{Array, Promise};
use tidesync_engine::{
    error::StoreError,
    store::{Snapshot, WriteBatch, META_OUTBOX_SEQ},
};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::{apply, snapshot_of, KnownIds, Records, SeqClock, KEY_LISTING_FROM};
use crate::idb::{
    error::from_js,
    record::{decode_doc_text, encode_doc_text},
    schema::DOCS,
};

#[wasm_bindgen(module = "/src/idb/idb.js")]
extern "C" {
    #[wasm_bindgen(js_name = putIfUnchanged)]
    fn put_if_unchanged(
        db: &web_sys::IdbDatabase,
        store: &str,
        keys: &Array,
        expected: &Array,
        records: &Array,
    ) -> Promise;
}

/// Runs `plan` against the records this tab last wrote for `ids` and writes
/// its batch if they are still what is stored; `None` when it cannot (a text
/// not held, a batch beyond `ids`, a record changed meanwhile), and the
/// caller does the write the ordinary way.
pub(super) async fn transact_cached<T, E, F>(
    db: &Database,
    seqs: &SeqClock,
    known: &KnownIds,
    ids: &[String],
    plan: &mut F,
) -> Option<Result<T, E>>
where
    F: FnMut(Snapshot) -> Result<(WriteBatch, T), E>,
    E: From<StoreError>,
{
    if ids.is_empty() || ids.len() >= KEY_LISTING_FROM {
        return None;
    }
    let texts = ids
        .iter()
        .map(|id| known.text(id))
        .collect::<Option<Vec<_>>>()?;
    let mut records = Records::with_capacity(ids.len());
    for (id, text) in ids.iter().zip(&texts) {
        // A text that does not decode is dropped: the ordinary path reads the record.
        let Ok(stored) = decode_doc_text(text) else {
            known.forget_text(id);
            return None;
        };
        records.insert(id.clone(), Some(stored));
    }
    let (batch, out) = match plan(snapshot_of(&records, seqs.next())) {
        Ok((batch, out)) if only_touches(&batch, ids) => (batch, out),
        _ => return None,
    };
    seqs.used(&batch);
    let written = match write(db, known, ids, &texts, batch, records).await {
        Ok(written) => written,
        Err(error) => return Some(Err(error.into())),
    };
    if written {
        Some(Ok(out))
    } else {
        for id in ids {
            known.forget_text(id);
        }
        None
    }
}

/// [`LocalStore::transact_updating`](tidesync_engine::store::LocalStore::transact_updating)
/// on IndexedDB: planned against the records this tab wrote last when it
/// holds them all, else the ordinary read, plan and write.
pub(in crate::idb) async fn transact_updating<T, E, F>(
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
    if let Some(out) = transact_cached(db, seqs, known, ids, &mut plan).await {
        return out;
    }
    super::transact(db, seqs, known, ids, plan).await
}

/// Whether `batch` touches only documents among `ids`, keeps each of them,
/// and sets no metadata but the outbox counter.
fn only_touches(batch: &WriteBatch, ids: &[String]) -> bool {
    batch.put_docs.iter().all(|d| ids.contains(&d.id))
        && batch.put_messages.iter().all(|m| ids.contains(&m.doc_id))
        && batch.put_conflicts.iter().all(|c| ids.contains(&c.id))
        && batch.delete_messages.iter().all(|(id, _)| ids.contains(id))
        && batch.delete_conflicts.iter().all(|id| ids.contains(id))
        && batch.delete_docs.is_empty()
        && batch.meta.iter().all(|(key, _)| key == META_OUTBOX_SEQ)
}

/// Applies `batch` to `records` and sends them behind the reads of `ids`;
/// `true` once committed, `false` when a stored record was not `expected`.
async fn write(
    db: &Database,
    known: &KnownIds,
    ids: &[String],
    expected: &[std::rc::Rc<str>],
    batch: WriteBatch,
    mut records: Records,
) -> Result<bool, StoreError> {
    apply(batch, &mut records)?;
    let (keys, texts, sent) = (Array::new(), Array::new(), Array::new());
    let mut written = Vec::with_capacity(ids.len());
    for (id, text) in ids.iter().zip(expected) {
        keys.push(&JsValue::from_str(id));
        texts.push(&JsValue::from_str(text));
    }
    for id in ids {
        if let Some(Some(stored)) = records.get_mut(id) {
            let (record, text) = encode_doc_text(stored)?;
            sent.push(&record);
            written.push((id, text));
        }
    }
    let done = put_if_unchanged(db.as_sys(), DOCS, &keys, &texts, &sent);
    let committed = JsFuture::from(done)
        .await
        .map_err(|e| from_js(&e))?
        .as_bool()
        .unwrap_or(false);
    if committed {
        for (id, text) in written {
            known.wrote(id, text);
        }
    }
    Ok(committed)
}
