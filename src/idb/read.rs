//! The reads outside `transact`: each is one readonly transaction on one store,
//! issued by `idb.js` (one call per read) and left to complete by itself.

use indexed_db_futures::{database::Database, internals::SystemRepr};
use js_sys::{Array, Promise};
use serde_json::Value;
use tidesync_engine::{
    error::StoreError,
    model::{ConflictRecord, DocRecord, DocStatus},
    outbox::OutboxMessage,
    store::DocQuery,
};
use wasm_bindgen::{prelude::*, JsCast};
use wasm_bindgen_futures::JsFuture;

use super::{
    error::from_js,
    record::{decode_doc, decode_head, decode_meta, seq_key, StoredDoc},
    schema::{DOCS, META, QUEUE_INDEX, STATUS_INDEX},
};

#[wasm_bindgen(module = "/src/idb/idb.js")]
extern "C" {
    #[wasm_bindgen(js_name = readOne)]
    fn read_one(db: &web_sys::IdbDatabase, store: &str, key: &str) -> Promise;
    #[wasm_bindgen(js_name = readAll)]
    fn read_all(
        db: &web_sys::IdbDatabase,
        store: &str,
        index: Option<&str>,
        key: Option<&str>,
    ) -> Promise;
    #[wasm_bindgen(js_name = readAfter)]
    fn read_after(
        db: &web_sys::IdbDatabase,
        store: &str,
        index: &str,
        after: Option<f64>,
        count: u32,
    ) -> Promise;
    #[wasm_bindgen(js_name = visibleDocs, catch)]
    fn visible_docs_of(
        records: &Array,
        include_deleted: bool,
        status: Option<&str>,
    ) -> Result<Array, JsValue>;
    #[wasm_bindgen(js_name = readPage)]
    fn read_page(db: &web_sys::IdbDatabase, store: &str, query: &JsValue) -> Promise;
    #[wasm_bindgen(js_name = countIndex)]
    fn count_index(db: &web_sys::IdbDatabase, store: &str, index: &str) -> Promise;
}

/// The `DOMException` name `IDBDatabase.transaction()` throws once the
/// connection is closed.
const INVALID_STATE: &str = "InvalidStateError";

/// Awaits a read of `idb.js`. `InvalidStateError` there can only come from
/// starting the transaction on a closed connection.
async fn settled(read: Promise) -> Result<JsValue, StoreError> {
    JsFuture::from(read)
        .await
        .map_err(|error| read_error(&error))
}

/// The store error of a failed read.
fn read_error(error: &JsValue) -> StoreError {
    let closed = error
        .dyn_ref::<web_sys::DomException>()
        .is_some_and(|e| e.name() == INVALID_STATE);
    if closed {
        StoreError::Closed
    } else {
        from_js(error)
    }
}

/// The record of `key` in `store`, or `None`.
async fn one(db: &Database, store: &str, key: &str) -> Result<Option<JsValue>, StoreError> {
    let record = settled(read_one(db.as_sys(), store, key)).await?;
    Ok((!record.is_undefined()).then_some(record))
}

/// The records that may have `status`, in id order: the conflicted ones
/// through the `status` index (whose entries of one status are ordered by
/// primary key, the id), any other status or none among all of them (only
/// conflicted records are indexed; the caller checks the status it decodes).
async fn by_status(db: &Database, status: Option<DocStatus>) -> Result<Array, StoreError> {
    let (index, key) = match status {
        Some(DocStatus::Conflicted) => (Some(STATUS_INDEX), Some(DocStatus::Conflicted.as_str())),
        _ => (None, None),
    };
    let records = settled(read_all(db.as_sys(), DOCS, index, key)).await?;
    Ok(records.unchecked_into())
}

/// Decodes each record with `decode_one`, in their stored order.
fn decode_each<T>(
    records: &Array,
    decode_one: fn(&JsValue) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    records.iter().map(|record| decode_one(&record)).collect()
}

/// Sorts by id in Rust's order (code points), the order of the memory store.
/// IndexedDB orders strings by UTF-16 code units, which differs only for ids
/// mixing characters above U+FFFF with ones in U+E000..=U+FFFF; the input is
/// already sorted otherwise, which the merge sort detects in one pass.
fn sort_by_id<T>(records: &mut [T], id: impl Fn(&T) -> &str) {
    records.sort_by(|a, b| id(a).cmp(id(b)));
}

pub(super) async fn get_doc(db: &Database, id: &str) -> Result<Option<DocRecord>, StoreError> {
    one(db, DOCS, id)
        .await?
        .as_ref()
        .map(decode_head)
        .transpose()
}

pub(super) async fn list_docs(
    db: &Database,
    query: &DocQuery,
) -> Result<Vec<DocRecord>, StoreError> {
    let mut docs = decode_each(&by_status(db, query.status).await?, decode_head)?;
    sort_by_id(&mut docs, |doc| &doc.id);
    Ok(query.page(docs))
}

/// Document `id` as the app sees it, `None` when missing or deleted: built by
/// `idb.js` from the record, as [`visible_docs`] builds each.
pub(super) async fn visible_doc(db: &Database, id: &str) -> Result<Option<JsValue>, StoreError> {
    let Some(record) = one(db, DOCS, id).await? else {
        return Ok(None);
    };
    let docs = visible(&Array::of1(&record), false, None)?;
    Ok((docs.length() > 0).then(|| docs.get(0)))
}

/// The array of the documents `query` selects, as the app sees them, ordered
/// as [`list_docs`] orders them: built by `idb.js` from the records it read.
pub(super) async fn visible_docs(db: &Database, query: &DocQuery) -> Result<Array, StoreError> {
    if query.is_partial() {
        return page(db, query).await;
    }
    visible(
        &by_status(db, query.status).await?,
        query.include_deleted,
        query.status,
    )
}

/// A partial query (a range, a prefix, a page, descending) read by
/// `readPage` of `idb.js`, which stops reading once the page is full. Its
/// order is IndexedDB's (UTF-16 code units), which differs from the full
/// listing's only for ids with characters above U+FFFF.
async fn page(db: &Database, query: &DocQuery) -> Result<Array, StoreError> {
    let mut q = serde_json::Map::new();
    let mut text = |key: &str, value: &Option<String>| {
        if let Some(value) = value {
            q.insert(key.into(), value.clone().into());
        }
    };
    text("startKey", &query.start_key);
    text("endKey", &query.end_key);
    text("prefix", &query.prefix);
    q.insert("skip".into(), query.skip.into());
    if let Some(limit) = query.limit {
        q.insert("limit".into(), limit.into());
    }
    q.insert("descending".into(), query.descending.into());
    q.insert("includeDeleted".into(), query.include_deleted.into());
    if let Some(status) = query.status {
        q.insert("status".into(), status.as_str().into());
    }
    let q = crate::convert::to_js(&Value::Object(q));
    let docs = JsFuture::from(read_page(db.as_sys(), DOCS, &q))
        .await
        .map_err(|error| match error.dyn_ref::<js_sys::Error>() {
            // IndexedDB fails with a DOMException; an Error is a record
            // `readPage` could not read.
            Some(e) if !error.is_instance_of::<web_sys::DomException>() => {
                StoreError::Corrupt(String::from(e.message()))
            }
            _ => read_error(&error),
        })?;
    Ok(docs.unchecked_into())
}

/// `visibleDocs` of `idb.js`; what it throws is a record it cannot read.
fn visible(
    records: &Array,
    include_deleted: bool,
    status: Option<DocStatus>,
) -> Result<Array, StoreError> {
    visible_docs_of(records, include_deleted, status.map(DocStatus::as_str)).map_err(|error| {
        let message = error.dyn_ref::<js_sys::Error>().map_or_else(
            || "an unreadable record".to_owned(),
            |e| String::from(e.message()),
        );
        StoreError::Corrupt(message)
    })
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
    let records = settled(read_after(
        db.as_sys(),
        DOCS,
        QUEUE_INDEX,
        after.map(seq_key),
        count,
    ))
    .await?;
    let stored: Vec<StoredDoc> = decode_each(records.unchecked_ref(), decode_doc)?;
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
    let count = settled(count_index(db.as_sys(), DOCS, QUEUE_INDEX)).await?;
    // A count is a whole number far below 2^53.
    Ok(count.as_f64().unwrap_or(0.0) as u64)
}

/// The conflicts, held by the conflicted documents.
pub(super) async fn conflicts(db: &Database) -> Result<Vec<ConflictRecord>, StoreError> {
    let stored = decode_each(
        &by_status(db, Some(DocStatus::Conflicted)).await?,
        decode_doc,
    )?;
    let mut conflicts: Vec<ConflictRecord> =
        stored.into_iter().filter_map(|s| s.conflict).collect();
    sort_by_id(&mut conflicts, |conflict| &conflict.id);
    Ok(conflicts)
}

pub(super) async fn get_meta(db: &Database, key: &str) -> Result<Option<Value>, StoreError> {
    one(db, META, key)
        .await?
        .as_ref()
        .map(decode_meta)
        .transpose()
}
