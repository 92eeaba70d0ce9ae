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
    model::{ConflictRecord, DocRecord},
    outbox::OutboxMessage,
    store::DocQuery,
};

use super::{
    error::{begin_error, store_error},
    record::{decode_all, decode_opt, seq_key},
    schema::{CONFLICTS, DOCS, META, OUTBOX, STATUS_INDEX},
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
    decode_opt(record)
}

/// With a status, reads through the `status` index (entries of one status are
/// ordered by primary key, the id); without, the whole store in id order.
pub(super) async fn list_docs(
    db: &Database,
    query: &DocQuery,
) -> Result<Vec<DocRecord>, StoreError> {
    let tx = begin(db, DOCS)?;
    let docs = tx.object_store(DOCS).map_err(store_error)?;
    let records = match query.status {
        Some(status) => {
            let index = docs.index(STATUS_INDEX).map_err(store_error)?;
            let request = index.get_all().with_query(status.as_str()).primitive();
            request.map_err(store_error)?.await
        }
        None => docs.get_all().primitive().map_err(store_error)?.await,
    };
    let mut docs: Vec<DocRecord> = decode_all(records.map_err(store_error)?)?;
    if !query.include_deleted {
        docs.retain(|doc| !doc.deleted);
    }
    sort_by_id(&mut docs, |doc| &doc.id);
    Ok(docs)
}

/// `getAll` on a key range open below `after`, capped at `limit`.
pub(super) async fn outbox(
    db: &Database,
    after: Option<u64>,
    limit: usize,
) -> Result<Vec<OutboxMessage>, StoreError> {
    if limit == 0 {
        // IndexedDB reads a count of 0 as "no limit".
        return Ok(Vec::new());
    }
    let limit = u32::try_from(limit).unwrap_or(u32::MAX);
    let tx = begin(db, OUTBOX)?;
    let outbox = tx.object_store(OUTBOX).map_err(store_error)?;
    let request = match after {
        Some(after) => outbox
            .get_all()
            .with_query::<f64, _>(KeyRange::LowerBound(seq_key(after), true))
            .with_limit(limit)
            .primitive(),
        None => outbox.get_all().with_limit(limit).primitive(),
    };
    decode_all(request.map_err(store_error)?.await.map_err(store_error)?)
}

pub(super) async fn outbox_len(db: &Database) -> Result<u64, StoreError> {
    let tx = begin(db, OUTBOX)?;
    let outbox = tx.object_store(OUTBOX).map_err(store_error)?;
    let count = outbox
        .count()
        .primitive()
        .map_err(store_error)?
        .await
        .map_err(store_error)?;
    Ok(u64::from(count))
}

pub(super) async fn conflicts(db: &Database) -> Result<Vec<ConflictRecord>, StoreError> {
    let tx = begin(db, CONFLICTS)?;
    let conflicts = tx.object_store(CONFLICTS).map_err(store_error)?;
    let records = conflicts
        .get_all()
        .primitive()
        .map_err(store_error)?
        .await
        .map_err(store_error)?;
    let mut conflicts: Vec<ConflictRecord> = decode_all(records)?;
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
    decode_opt(record)
}
