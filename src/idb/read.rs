//! The reads outside `transact`: each is one readonly transaction on one store.
//!
//! A readonly transaction is dropped once its request resolved, which aborts it;
//! with nothing written that only spares waiting for its `complete` event.

use indexed_db_futures::{
    database::Database,
    prelude::*,
    transaction::{Transaction, TransactionMode},
    KeyRange,
};
use serde_json::Value;
use tidesync_engine::{
    error::StoreError,
    model::{ConflictRecord, DocRecord, DocStatus},
    outbox::OutboxMessage,
    store::DocQuery,
};

use super::{
    error::{begin_error, store_error},
    record::{decode_all, decode_doc, decode_head, decode_meta, seq_key, StoredDoc},
    schema::{DOCS, META, QUEUE_INDEX, STATUS_INDEX},
};

fn begin<'a>(db: &'a Database, store: &str) -> Result<Transaction<'a>, StoreError> {
    db.transaction(store)
        .with_mode(TransactionMode::Readonly)
        .build()
        .map_err(begin_error)
}

/// Sorts by id in Rust's order (code points), the order of the memory store.
/// IndexedDB orders strings by UTF-16 code units, which differs only for ids
/// mixing characters above U+FFFF with ones in U+E000..=U+FFFF; the input is
/// already sorted otherwise, which the merge sort detects in one pass.
fn sort_by_id<T>(records: &mut [T], id: impl Fn(&T) -> &str) {
    records.sort_by(|a, b| id(a).cmp(id(b)));
}

pub(super) async fn get_doc(db: &Database, id: &str) -> Result<Option<DocRecord>, StoreError> {
    let tx = begin(db, DOCS)?;
    let docs = tx.object_store(DOCS).map_err(store_error)?;
    let record = docs
        .get(id)
        .primitive()
        .map_err(store_error)?
        .await
        .map_err(store_error)?;
    // Its `messages` and `conflict` members are skipped, not built.
    record.as_ref().map(decode_head).transpose()
}

/// The records of one status (through the `status` index, whose entries of
/// one status are ordered by primary key, the id), or of all, decoded with
/// `decode_one`.
async fn stored_docs<T>(
    db: &Database,
    status: Option<DocStatus>,
    decode_one: fn(&wasm_bindgen::JsValue) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let tx = begin(db, DOCS)?;
    let docs = tx.object_store(DOCS).map_err(store_error)?;
    let records = match status {
        Some(status) => {
            let index = docs.index(STATUS_INDEX).map_err(store_error)?;
            let request = index.get_all().with_query(status.as_str()).primitive();
            request.map_err(store_error)?.await
        }
        None => docs.get_all().primitive().map_err(store_error)?.await,
    };
    decode_all(records.map_err(store_error)?, decode_one)
}

pub(super) async fn list_docs(
    db: &Database,
    query: &DocQuery,
) -> Result<Vec<DocRecord>, StoreError> {
    let mut docs = stored_docs(db, query.status, decode_head).await?;
    docs.retain(|doc| query.include_deleted || !doc.deleted);
    sort_by_id(&mut docs, |doc| &doc.id);
    Ok(docs)
}

/// The messages after `after`, in queue order, at most `limit`: the `queue`
/// index holds one entry per message, so its first `limit` entries past
/// `after` name the documents that hold them (a document with two messages
/// comes twice).
pub(super) async fn outbox(
    db: &Database,
    after: Option<u64>,
    limit: usize,
) -> Result<Vec<OutboxMessage>, StoreError> {
    if limit == 0 {
        // IndexedDB reads a count of 0 as "no limit".
        return Ok(Vec::new());
    }
    let count = u32::try_from(limit).unwrap_or(u32::MAX);
    let tx = begin(db, DOCS)?;
    let docs = tx.object_store(DOCS).map_err(store_error)?;
    let queue = docs.index(QUEUE_INDEX).map_err(store_error)?;
    let request = match after {
        Some(after) => queue
            .get_all()
            .with_query::<f64, _>(KeyRange::LowerBound(seq_key(after), true))
            .with_limit(count)
            .primitive(),
        None => queue.get_all().with_limit(count).primitive(),
    };
    let stored: Vec<StoredDoc> = decode_all(
        request.map_err(store_error)?.await.map_err(store_error)?,
        decode_doc,
    )?;
    let mut seen = std::collections::HashSet::new();
    let mut messages: Vec<OutboxMessage> = stored
        .into_iter()
        .filter(|s| seen.insert(s.id().to_owned()))
        .flat_map(|s| s.messages)
        .filter(|m| after.is_none_or(|a| m.seq > a))
        .collect();
    messages.sort_by(|a, b| (a.seq, &a.doc_id).cmp(&(b.seq, &b.doc_id)));
    messages.truncate(limit);
    Ok(messages)
}

/// How many messages the outbox holds: the entries of the `queue` index.
pub(super) async fn outbox_len(db: &Database) -> Result<u64, StoreError> {
    let tx = begin(db, DOCS)?;
    let docs = tx.object_store(DOCS).map_err(store_error)?;
    let queue = docs.index(QUEUE_INDEX).map_err(store_error)?;
    let count = queue
        .count()
        .primitive()
        .map_err(store_error)?
        .await
        .map_err(store_error)?;
    Ok(u64::from(count))
}

/// The conflicts, held by the conflicted documents.
pub(super) async fn conflicts(db: &Database) -> Result<Vec<ConflictRecord>, StoreError> {
    let stored = stored_docs(db, Some(DocStatus::Conflicted), decode_doc).await?;
    let mut conflicts: Vec<ConflictRecord> =
        stored.into_iter().filter_map(|s| s.conflict).collect();
    sort_by_id(&mut conflicts, |conflict| &conflict.id);
    Ok(conflicts)
}

pub(super) async fn get_meta(db: &Database, key: &str) -> Result<Option<Value>, StoreError> {
    let tx = begin(db, META)?;
    let meta = tx.object_store(META).map_err(store_error)?;
    let record = meta
        .get(key)
        .primitive()
        .map_err(store_error)?
        .await
        .map_err(store_error)?;
    record.as_ref().map(decode_meta).transpose()
}
