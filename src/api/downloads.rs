//! Attachment bytes on their way in from the server: a read of bytes not
//! stored yet downloads them (checked against their digest, then stored),
//! an eager client downloads what each pull brought, and the syncing tab
//! sweeps the bytes no document names any more.

use std::rc::Rc;

use js_sys::Promise;
use serde_json::Value;
use tidesync_engine::{
    attachments,
    event::{Event, Origin},
    model::DocRecord,
    protocol::wire::DEFAULT_CONTENT_TYPE,
    store::LocalStore,
};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::{attachments::SWEEP_GRACE_MS, inner::Inner, options::AttachmentMode};
use crate::error::SdkError;

#[wasm_bindgen(module = "/src/idb/blobs.js")]
extern "C" {
    #[wasm_bindgen(js_name = blobOf)]
    fn blob_of(bytes: &[u8], content_type: &str) -> JsValue;
}

#[wasm_bindgen(module = "/src/js/feed.js")]
extern "C" {
    fn sleep(ms: f64) -> Promise;
}

type Result<T> = std::result::Result<T, SdkError>;

/// How many attachments an eager client downloads at once after a pull.
const PREFETCH_PARALLEL: usize = 6;

/// How long after a tab starts syncing a database it sweeps unnamed
/// attachment bytes: out of the way of the first cycles.
const SWEEP_DELAY_MS: f64 = 30_000.0;

impl Inner {
    /// The Blob of attachment `name` of `id`, downloaded when not stored.
    pub(super) async fn attachment_blob(self: &Rc<Self>, id: &str, name: &str) -> Result<JsValue> {
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
        let digest = attachments::digest(entry).map(str::to_owned);
        if !attachments::verify(entry, &bytes) {
            return Err(SdkError::AttachmentCorrupt {
                id: doc.id.clone(),
                name: name.to_owned(),
                digest: digest.unwrap_or_default(),
            });
        }
        let content_type = entry
            .get("content_type")
            .and_then(Value::as_str)
            .unwrap_or(DEFAULT_CONTENT_TYPE)
            .to_owned();
        // Bytes are kept by digest; an entry without one (a server that
        // sends none) is served from this download and not stored, so it
        // can never stand in for another attachment's bytes.
        if let Some(digest) = digest.filter(|d| !d.is_empty()) {
            self.client
                .store()
                .save_attachment(&digest, &content_type, &bytes)
                .await?;
        }
        Ok((bytes, content_type))
    }

    /// Sweeps the attachment bytes no record names, a little after this
    /// tab started syncing the database (see `compact()`). A failure only
    /// leaves the bytes for the next sweep, so it is logged, not raised.
    pub(super) fn sweep_attachments_later(self: &Rc<Self>) {
        let weak = Rc::downgrade(self);
        wasm_bindgen_futures::spawn_local(async move {
            let _ = JsFuture::from(sleep(SWEEP_DELAY_MS)).await;
            let Some(inner) = weak.upgrade().filter(|i| !i.closed.get() && i.leader.get()) else {
                return;
            };
            if let Err(error) = inner.client.store().sweep_attachments(SWEEP_GRACE_MS).await {
                web_sys::console::warn_1(&JsValue::from(SdkError::from(error)));
            }
        });
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
        let mut missing = Vec::new();
        for id in ids {
            let Ok(Some(doc)) = self.client.get(&id).await else {
                continue;
            };
            let set = doc.current_attachments().cloned().unwrap_or_default();
            let digests: Vec<String> = set
                .values()
                .map(|e| attachments::digest(e).unwrap_or_default().to_owned())
                .collect();
            let stored = self.client.store().attachments_stored(&digests).await;
            let stored = stored.unwrap_or_else(|_| vec![true; digests.len()]);
            for ((name, entry), stored) in set.into_iter().zip(stored) {
                if !stored && !attachments::is_local(&entry) {
                    missing.push((doc.clone(), name, entry));
                }
            }
        }
        // A few downloads at a time: the network stays busy without holding
        // every photo of a large pull in memory at once.
        for chunk in missing.chunks(PREFETCH_PARALLEL) {
            let downloads = chunk
                .iter()
                .map(|(doc, name, entry)| self.download(doc, name, entry));
            let _ = futures::future::join_all(downloads).await;
        }
    }
}
