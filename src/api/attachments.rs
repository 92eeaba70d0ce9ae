//! Attachments from JavaScript: put a `Blob`, `File`, `ArrayBuffer` or typed
//! array on a document (offline too), read it back as a `Blob` (downloaded
//! on first read when a pull brought only its metadata, or right after the
//! pull with `attachments: 'eager'`), remove it, list them.

use js_sys::{Promise, Reflect, Uint8Array};
use tidesync_engine::{attachments, error::EngineError, protocol::wire::DEFAULT_CONTENT_TYPE};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::{args::id_of, env::BrowserEnv, promise, Tidesync};
use crate::{convert::to_js, error::SdkError, payloads::AttachmentInfo};

#[wasm_bindgen(module = "/src/idb/blobs.js")]
extern "C" {
    #[wasm_bindgen(js_name = attachmentBytes)]
    fn attachment_bytes(data: &JsValue) -> Promise;
    #[wasm_bindgen(js_name = objectUrl)]
    fn object_url(blob: &JsValue) -> String;
}

type Result<T> = std::result::Result<T, SdkError>;

fn invalid(message: impl Into<String>) -> SdkError {
    EngineError::InvalidAttachment(message.into()).into()
}

/// An attachment name argument.
fn name_of(value: &JsValue) -> Result<String> {
    value
        .as_string()
        .ok_or_else(|| invalid("the attachment name must be a string"))
}

/// `{ contentType?, rev? }`: each a string when given; anything else is
/// `invalid_options`.
fn options_of(value: &JsValue, allowed: &[&str]) -> Result<(Option<String>, Option<String>)> {
    if value.is_undefined() || value.is_null() {
        return Ok((None, None));
    }
    if !value.is_object() {
        return Err(SdkError::InvalidOptions("options must be an object".into()));
    }
    let object: &js_sys::Object = value.unchecked_ref();
    for key in js_sys::Object::keys(object)
        .iter()
        .filter_map(|k| k.as_string())
    {
        if !allowed.contains(&key.as_str()) {
            let known = allowed.join(", ");
            return Err(SdkError::InvalidOptions(format!(
                "unknown option {key:?}; known: {known}"
            )));
        }
    }
    let text = |key: &str| -> Result<Option<String>> {
        let found = Reflect::get(value, &key.into()).unwrap_or(JsValue::UNDEFINED);
        if found.is_undefined() || found.is_null() {
            return Ok(None);
        }
        found
            .as_string()
            .map(Some)
            .ok_or_else(|| SdkError::InvalidOptions(format!("{key} must be a string")))
    };
    Ok((text("contentType")?, text("rev")?))
}

/// The size of `data` before reading it (a Blob's `size`, a buffer's
/// `byteLength`), so an oversize one is refused without being read.
fn declared_size(data: &JsValue) -> Option<u64> {
    ["size", "byteLength"].iter().find_map(|key| {
        let size = Reflect::get(data, &(*key).into()).ok()?.as_f64()?;
        (size.is_finite() && size >= 0.0).then_some(size as u64)
    })
}

/// How long bytes no record names are kept by default: long enough for any
/// `putAttachment` in progress (bytes saved, record not yet written), even
/// in a tab the browser froze in between.
pub(super) const SWEEP_GRACE_MS: f64 = 60.0 * 60.0 * 1000.0;

/// `{ olderThanMs? }` of `compact()`: a number of milliseconds, at least 0.
fn older_than_of(options: &JsValue) -> Result<f64> {
    if options.is_undefined() || options.is_null() {
        return Ok(SWEEP_GRACE_MS);
    }
    if !options.is_object() {
        return Err(SdkError::InvalidOptions("options must be an object".into()));
    }
    let object: &js_sys::Object = options.unchecked_ref();
    if let Some(key) = js_sys::Object::keys(object)
        .iter()
        .filter_map(|k| k.as_string())
        .find(|k| k != "olderThanMs")
    {
        return Err(SdkError::InvalidOptions(format!(
            "unknown option {key:?}; known: olderThanMs"
        )));
    }
    let value = Reflect::get(options, &"olderThanMs".into()).unwrap_or(JsValue::UNDEFINED);
    if value.is_undefined() {
        return Ok(SWEEP_GRACE_MS);
    }
    match value.as_f64() {
        Some(ms) if ms.is_finite() && ms >= 0.0 => Ok(ms),
        _ => Err(SdkError::InvalidOptions(
            "olderThanMs must be a number of milliseconds, at least 0".into(),
        )),
    }
}

#[wasm_bindgen]
impl Tidesync {
    /// Puts `data` (a `Blob`, `File`, `ArrayBuffer` or typed array) as
    /// attachment `name` of document `id`, creating the document when
    /// missing. Stored locally as binary and queued: it is pushed with the
    /// document when online. Resolves like `put`.
    #[wasm_bindgen(js_name = putAttachment, unchecked_return_type = "Promise<WriteResult>")]
    pub fn put_attachment(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Blob | ArrayBuffer | ArrayBufferView")]
        data: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "PutAttachmentOptions")] options: Option<
            JsValue,
        >,
    ) -> Promise {
        promise(&self.inner, |inner| async move {
            let id = id_of(&id)?;
            let name = name_of(&name)?;
            let (content_type, rev) = options_of(
                &options.unwrap_or(JsValue::UNDEFINED),
                &["contentType", "rev"],
            )?;
            let limit = inner.client.config().max_attachment_bytes;
            if let Some(size) = declared_size(&data).filter(|size| *size > limit) {
                return Err(EngineError::AttachmentTooLarge {
                    id,
                    name,
                    size,
                    limit,
                }
                .into());
            }
            let read = JsFuture::from(attachment_bytes(&data))
                .await
                .map_err(|e| invalid(format!("the data could not be read: {e:?}")))?;
            if read.is_null() {
                return Err(invalid(
                    "the data must be a Blob, a File, an ArrayBuffer or a typed array",
                ));
            }
            let bytes = Uint8Array::new(&Reflect::get(&read, &"bytes".into()).unwrap_or_default());
            let blob_type = Reflect::get(&read, &"type".into())
                .ok()
                .and_then(|t| t.as_string())
                .filter(|t| !t.is_empty());
            let content_type = content_type
                .or(blob_type)
                .unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_owned());
            let written = inner
                .client
                .put_attachment(
                    &id,
                    &name,
                    &content_type,
                    &bytes.to_vec(),
                    rev.as_deref(),
                    &BrowserEnv,
                )
                .await?;
            Ok(inner.written(written).await)
        })
    }

    /// The bytes of attachment `name` of `id` as a `Blob`: from local
    /// storage, or downloaded from the server (its digest checked, then
    /// stored) the first time when a pull brought only its metadata.
    #[wasm_bindgen(js_name = getAttachment, unchecked_return_type = "Promise<Blob>")]
    pub fn get_attachment(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
    ) -> Promise {
        promise(&self.inner, |inner| async move {
            let (id, name) = (id_of(&id)?, name_of(&name)?);
            inner.attachment_blob(&id, &name).await
        })
    }

    /// An object URL of the attachment (for an `<img src>`); the app calls
    /// `URL.revokeObjectURL` when done with it.
    #[wasm_bindgen(js_name = attachmentUrl, unchecked_return_type = "Promise<string>")]
    pub fn attachment_url(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
    ) -> Promise {
        promise(&self.inner, |inner| async move {
            let (id, name) = (id_of(&id)?, name_of(&name)?);
            let blob = inner.attachment_blob(&id, &name).await?;
            Ok(object_url(&blob).into())
        })
    }

    /// Removes attachment `name` of `id` (`not_found` when it has none) and
    /// queues the change. Resolves like `put`.
    #[wasm_bindgen(js_name = removeAttachment, unchecked_return_type = "Promise<WriteResult>")]
    pub fn remove_attachment(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "RemoveAttachmentOptions")] options: Option<
            JsValue,
        >,
    ) -> Promise {
        promise(&self.inner, |inner| async move {
            let (id, name) = (id_of(&id)?, name_of(&name)?);
            let (_, rev) = options_of(&options.unwrap_or(JsValue::UNDEFINED), &["rev"])?;
            let written = inner
                .client
                .remove_attachment(&id, &name, rev.as_deref(), &BrowserEnv)
                .await?;
            Ok(inner.written(written).await)
        })
    }

    /// Deletes the stored bytes of attachments no document names any more
    /// (removed, replaced, or downloaded for a revision since replaced),
    /// saved more than `olderThanMs` ago (default one hour, which spares a
    /// write in progress in another tab); resolves to how many were
    /// deleted. The tab that syncs a database also does this by itself a
    /// little after it starts.
    #[wasm_bindgen(unchecked_return_type = "Promise<number>")]
    pub fn compact(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "CompactOptions")] options: Option<JsValue>,
    ) -> Promise {
        promise(&self.inner, |inner| async move {
            let options = options.unwrap_or(JsValue::UNDEFINED);
            let older_than_ms = older_than_of(&options)?;
            let deleted = inner
                .client
                .store()
                .sweep_attachments(older_than_ms)
                .await?;
            Ok(JsValue::from(deleted))
        })
    }

    /// The attachments of document `id` (metadata, whether the bytes are
    /// stored here, whether each waits to be pushed); `not_found` when the
    /// document is missing or deleted.
    #[wasm_bindgen(unchecked_return_type = "Promise<AttachmentInfo[]>")]
    pub fn attachments(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
    ) -> Promise {
        promise(&self.inner, |inner| async move {
            let id = id_of(&id)?;
            let doc = inner
                .client
                .get(&id)
                .await?
                .filter(|doc| !doc.deleted)
                .ok_or_else(|| EngineError::NotFound(id.clone()))?;
            let set = doc.current_attachments().cloned().unwrap_or_default();
            let digests: Vec<String> = set
                .values()
                .map(|e| attachments::digest(e).unwrap_or_default().to_owned())
                .collect();
            let stored = inner.client.store().attachments_stored(&digests).await?;
            let list: Vec<AttachmentInfo> = set
                .iter()
                .zip(stored)
                .map(|((name, entry), stored)| AttachmentInfo::of(name, entry, stored))
                .collect();
            Ok(to_js(&list))
        })
    }
}
