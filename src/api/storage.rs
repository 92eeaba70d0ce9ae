//! What the browser lets this origin store: `storage()` and `persist()`, so
//! an app can warn its user before the disk fills (a write past the quota
//! fails with `quota_exceeded`, nothing written) and ask that its offline
//! data be kept.

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::{promise, Tidesync};
use crate::{
    convert::{from_js, to_js},
    error::SdkError,
    payloads::StorageInfo,
};
use tidesync_engine::error::StoreError;

#[wasm_bindgen(module = "/src/js/storage.js")]
extern "C" {
    #[wasm_bindgen(js_name = storageEstimate)]
    fn storage_estimate() -> Promise;
    #[wasm_bindgen(js_name = storagePersist)]
    fn storage_persist() -> Promise;
}

/// A failure of the storage manager, as a `storage` error.
fn failed(error: JsValue) -> SdkError {
    let message = js_sys::Reflect::get(&error, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .unwrap_or_else(|| "the storage manager failed".into());
    StoreError::Backend(message).into()
}

#[wasm_bindgen]
impl Tidesync {
    /// `{ usage, quota, persisted }` from `navigator.storage`: bytes this
    /// origin stores (every database of it, not only this one) and may
    /// store, and whether the browser keeps them under storage pressure;
    /// `null` where the browser cannot say.
    #[wasm_bindgen(unchecked_return_type = "Promise<StorageInfo>")]
    pub fn storage(&self) -> Promise {
        promise(&self.inner, |_| async move {
            let value = JsFuture::from(storage_estimate()).await.map_err(failed)?;
            let info: StorageInfo = from_js(&value).map_err(|m| failed(m.into()))?;
            Ok(to_js(&info))
        })
    }

    /// Asks the browser to keep this origin's data under storage pressure
    /// (`navigator.storage.persist()`); resolves to whether it will. Some
    /// browsers ask the user, others decide by how the site is used.
    #[wasm_bindgen(unchecked_return_type = "Promise<boolean>")]
    pub fn persist(&self) -> Promise {
        promise(&self.inner, |_| async move {
            let granted = JsFuture::from(storage_persist()).await.map_err(failed)?;
            Ok(JsValue::from_bool(granted.as_bool().unwrap_or(false)))
        })
    }
}
