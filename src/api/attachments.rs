//! Attachments from JavaScript: put a `Blob`, `File`, `ArrayBuffer` or typed
//! array on a document (offline too), read it back as a `Blob` (downloaded
//! on first read when a pull brought only its metadata, or right after the
//! pull with `attachments: 'eager'`), remove it, list them.

use std::rc::Rc;

use js_sys::{Promise, Reflect, Uint8Array};
use serde_json::Value;
use tidesync_engine::{
    attachments,
    error::EngineError,
    event::{Event, Origin},
    model::DocRecord,
    protocol::wire::DEFAULT_CONTENT_TYPE,
    store::LocalStore,
};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::{
    args::id_of, env::BrowserEnv, inner::Inner, options::AttachmentMode, promise, Tidesync,
};
use crate::{convert::to_js, error::SdkError, payloads::AttachmentInfo};

#[wasm_bindgen(module = "/src/idb/blobs.js")]
extern "C" {
    #[wasm_bindgen(js_name = attachmentBytes)]
    fn attachment_bytes(data: &JsValue) -> Promise;
    #[wasm_bindgen(js_name = blobOf)]
    fn blob_of(bytes: &[u8], content_type: &str) -> JsValue;
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
        #[wasm_bindgen(unchecked_optional_param_type = "PutAttachmentOptions")] options: Option<JsValue>,
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
        #[wasm_bindgen(unchecked_optional_param_type = "RemoveAttachmentOptions")] options: Option<JsValue>,
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

impl Inner {
    /// The Blob of attachment `name` of `id`, downloaded when not stored.
    async fn attachment_blob(self: &Rc<Self>, id: &str, name: &str) -> Result<JsValue> {
        let (doc, entry) = self.client.attachment(id, name).await?;
        if let Some(digest) = attachments::digest(&entry) {
            if let Some(blob) = self.client.store().attachment_blob(digest).await? {
                return Ok(blob);
            }
        }
        let (bytes, content_type) = self.download(&doc, name, &entry).await?;
        Ok(blob_of(&bytes, &content_type))
    }

    /// Downloads the server's bytes of `entry` (attachment `name` of `doc`
    /// at its server revision), checks them against the entry and stores
    /// them under its digest.
    async fn download(
        &self,
        doc: &DocRecord,
        name: &str,
        entry: &Value,
    ) -> Result<(Vec<u8>, String)> {
        let unavailable = |reason: &str| SdkError::AttachmentUnavailable {
            id: doc.id.clone(),
            name: name.to_owned(),
            reason: reason.to_owned(),
        };
        if attachments::is_local(entry) {
            return Err(unavailable(
                "its bytes were added here and are no longer stored",
            ));
        }
        let transport = self
            .transport
            .as_ref()
            .ok_or_else(|| unavailable("no remote is configured"))?;
        let rev = doc
            .rev
            .as_ref()
            .ok_or_else(|| unavailable("the server has no revision of the document"))?;
        let (status, bytes) = transport
            .fetch_bytes(&doc.id, name, &rev.to_string())
            .await
            .map_err(|reason| unavailable(&reason))?;
        if status != 200 {
            return Err(unavailable(&format!("the server answered {status}")));
        }
        let digest = attachments::digest(entry).unwrap_or_default().to_owned();
        if !attachments::verify(entry, &bytes) {
            return Err(SdkError::AttachmentCorrupt {
                id: doc.id.clone(),
                name: name.to_owned(),
                digest,
            });
        }
        let content_type = entry
            .get("content_type")
            .and_then(Value::as_str)
            .unwrap_or(DEFAULT_CONTENT_TYPE)
            .to_owned();
        self.client
            .store()
            .save_attachment(&digest, &content_type, &bytes)
            .await?;
        Ok((bytes, content_type))
    }

    /// Notes the documents a pull changed, whose attachments an eager
    /// client downloads once the cycle is over.
    pub(super) fn note_pulled(&self, events: &[Event]) {
        if self.attachment_mode != AttachmentMode::Eager {
            return;
        }
        let pulled = events.iter().filter_map(|event| match event {
            Event::Change {
                id,
                origin: Origin::Remote,
                deleted: false,
                ..
            } => Some(id.clone()),
            _ => None,
        });
        self.pulled.borrow_mut().extend(pulled);
    }

    /// Downloads the bytes of the attachments of the documents pulled since
    /// the last call that are not stored yet (`attachments: 'eager'`). One
    /// that fails stays to be downloaded on first read; the failure is
    /// reported as an `error` event only through that read.
    pub(super) async fn prefetch_attachments(self: &Rc<Self>) {
        let ids: std::collections::BTreeSet<String> = self.pulled.borrow_mut().drain(..).collect();
        for id in ids {
            let Ok(Some(doc)) = self.client.get(&id).await else {
                continue;
            };
            let set = doc.current_attachments().cloned().unwrap_or_default();
            for (name, entry) in &set {
                let digest = attachments::digest(entry).unwrap_or_default().to_owned();
                let stored = self.client.store().attachments_stored(&[digest]).await;
                if matches!(stored.as_deref(), Ok([false])) {
                    let _ = self.download(&doc, name, entry).await;
                }
            }
        }
    }
}
