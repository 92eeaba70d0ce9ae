//! Attachment bytes in IndexedDB: the `attachments` object store (schema
//! v4), Blobs keyed by digest, read and written from `blobs.js` so the bytes
//! cross into wasm only when a push needs them.

use std::collections::HashMap;

use indexed_db_futures::{database::Database, internals::SystemRepr};
use js_sys::{Array, Promise, Uint8Array};
use tidesync_engine::error::StoreError;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::error::from_js;

#[wasm_bindgen(module = "/src/idb/blobs.js")]
extern "C" {
    #[wasm_bindgen(js_name = saveBlob)]
    fn save_blob(
        db: &web_sys::IdbDatabase,
        digest: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> Promise;
    #[wasm_bindgen(js_name = readBlobs)]
    fn read_blobs(db: &web_sys::IdbDatabase, digests: Array) -> Promise;
    #[wasm_bindgen(js_name = loadBytes)]
    fn load_bytes(db: &web_sys::IdbDatabase, digests: Array) -> Promise;
    #[wasm_bindgen(js_name = sweepBlobs)]
    fn sweep_blobs(db: &web_sys::IdbDatabase, older_than_ms: f64) -> Promise;
}

/// Deletes the bytes no record names, saved more than `older_than_ms` ago
/// (so bytes saved for a write still in progress, in this tab or another,
/// are spared); returns how many were deleted.
pub(super) async fn sweep(db: &Database, older_than_ms: f64) -> Result<u32, StoreError> {
    let deleted = JsFuture::from(sweep_blobs(db.as_sys(), older_than_ms))
        .await
        .map_err(|e| from_js(&e))?;
    Ok(deleted.as_f64().map_or(0, |n| n as u32))
}

fn digests_array(digests: &[String]) -> Array {
    digests.iter().map(|d| JsValue::from_str(d)).collect()
}

/// Stores `bytes` under `digest`.
pub(super) async fn save(
    db: &Database,
    digest: &str,
    content_type: &str,
    bytes: &[u8],
) -> Result<(), StoreError> {
    let saving = save_blob(db.as_sys(), digest, content_type, bytes);
    JsFuture::from(saving).await.map_err(|e| from_js(&e))?;
    Ok(())
}

/// The bytes of the digests stored, by digest.
pub(super) async fn load(
    db: &Database,
    digests: &[String],
) -> Result<HashMap<String, Vec<u8>>, StoreError> {
    if digests.is_empty() {
        return Ok(HashMap::new());
    }
    let found = JsFuture::from(load_bytes(db.as_sys(), digests_array(digests)))
        .await
        .map_err(|e| from_js(&e))?;
    let mut out = HashMap::new();
    for pair in Array::from(&found).iter() {
        let pair = Array::from(&pair);
        if let Some(digest) = pair.get(0).as_string() {
            out.insert(digest, Uint8Array::new(&pair.get(1)).to_vec());
        }
    }
    Ok(out)
}

/// The Blob stored under `digest`, if any: what `getAttachment` returns.
pub(super) async fn read(db: &Database, digest: &str) -> Result<Option<JsValue>, StoreError> {
    let digests: Array = std::iter::once(JsValue::from_str(digest)).collect();
    let found = JsFuture::from(read_blobs(db.as_sys(), digests))
        .await
        .map_err(|e| from_js(&e))?;
    let blob = Array::from(&found).get(0);
    Ok((!blob.is_null() && !blob.is_undefined()).then_some(blob))
}

/// Which of `digests` are stored.
pub(super) async fn stored(db: &Database, digests: &[String]) -> Result<Vec<bool>, StoreError> {
    if digests.is_empty() {
        return Ok(Vec::new());
    }
    let found = JsFuture::from(read_blobs(db.as_sys(), digests_array(digests)))
        .await
        .map_err(|e| from_js(&e))?;
    Ok(Array::from(&found).iter().map(|b| !b.is_null()).collect())
}
