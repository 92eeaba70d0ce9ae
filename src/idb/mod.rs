//! The IndexedDB store: tidesync's persistent [`LocalStore`] in the browser.
//!
//! One database per tidesync name (`tidesync:{name}`), with three object
//! stores (`docs`, `meta` and the attachment bytes, see [`schema`]): each document's record holds its body,
//! revision, base, outbox messages and conflict, as a serde_json string next to
//! the fields IndexedDB indexes (see [`record`]); the outbox is the `queue`
//! index over `docs`. Every engine change is one readwrite transaction (see
//! [`transact`]), so a write and its outbox message land together or not at
//! all, exactly as in the memory store.

mod blobs;
mod error;
mod read;
mod record;
mod schema;
mod transact;

use std::{cell::Cell, collections::HashMap, fmt, rc::Rc};

use indexed_db_futures::{database::Database, internals::SystemRepr};
use js_sys::Promise;
use serde_json::Value;
use tidesync_engine::{
    error::StoreError,
    model::{ConflictRecord, DocRecord},
    outbox::OutboxMessage,
    store::{DocQuery, LocalStore, Snapshot, WriteBatch},
};
use wasm_bindgen::{prelude::*, JsCast};
use wasm_bindgen_futures::JsFuture;

/// The IndexedDB database name of the tidesync database `name`, prefixed so
/// tidesync's databases stand apart from the app's own.
fn database_name(name: &str) -> String {
    format!("tidesync:{name}")
}

/// How long a deletion blocked by open connections waits for them to close
/// before it is reported as blocked.
pub const DELETE_GRACE_MS: u32 = 3_000;

#[wasm_bindgen(module = "/src/idb/idb.js")]
extern "C" {
    #[wasm_bindgen(js_name = deleteDatabase)]
    fn delete_database(name: &str, grace_ms: u32) -> Promise;
}

/// A [`LocalStore`] on IndexedDB, holding one open connection for its lifetime.
///
/// The connection closes itself when another one needs it gone (a `destroy`, or
/// an upgrade by a newer tidesync in another tab) instead of blocking it; the
/// store then answers [`StoreError::Closed`], as after [`close`](Self::close).
pub struct IdbStore {
    name: String,
    db: Database,
    closed: Rc<Cell<bool>>,
    /// Where new outbox sequence numbers come from.
    seqs: transact::SeqClock,
    /// The ids this tab has seen stored (a hint for creating writes).
    known: transact::KnownIds,
    /// Runs on the connection's `versionchange` and `close` events; held only
    /// to stay alive as long as the handlers point to it.
    _on_lost: Closure<dyn FnMut()>,
}

impl IdbStore {
    /// Opens the database of `name`, creating it or upgrading its schema first
    /// when needed.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when IndexedDB is unavailable (a private mode
    /// that disables it, a worker without it) or refuses the database, for
    /// instance one written by a newer tidesync with a higher schema version.
    pub async fn open(name: &str) -> Result<IdbStore, StoreError> {
        let name = database_name(name);
        let db = schema::open(&name).await?;
        let closed = Rc::new(Cell::new(false));
        let on_lost = {
            let closed = Rc::clone(&closed);
            let raw = db.as_sys().clone();
            Closure::<dyn FnMut()>::new(move || {
                closed.set(true);
                raw.close();
            })
        };
        let raw = db.as_sys();
        raw.set_onversionchange(Some(on_lost.as_ref().unchecked_ref()));
        raw.set_onclose(Some(on_lost.as_ref().unchecked_ref()));
        Ok(IdbStore {
            name,
            db,
            closed,
            seqs: transact::SeqClock::default(),
            known: transact::KnownIds::default(),
            _on_lost: on_lost,
        })
    }

    /// Closes the connection. Every later call fails with
    /// [`StoreError::Closed`]; a transaction already running still completes.
    pub fn close(&self) {
        self.closed.set(true);
        self.db.as_sys().close();
    }

    /// Deletes the database of `name` with all its data.
    ///
    /// Close this name's store first. Open tidesync connections, in this page
    /// or another tab, close themselves when asked, so a deletion that is
    /// blocked at first gets [`DELETE_GRACE_MS`] to complete.
    ///
    /// # Errors
    ///
    /// [`StoreError::Blocked`] when a connection that does not close on
    /// request (another tab's, opened outside tidesync) still blocks it after
    /// that; the deletion stays queued in the browser and happens as soon as
    /// that connection closes.
    pub async fn destroy(name: &str) -> Result<(), StoreError> {
        match JsFuture::from(delete_database(&database_name(name), DELETE_GRACE_MS)).await {
            Ok(_) => Ok(()),
            Err(error) => {
                let blocked = js_sys::Reflect::get(&error, &JsValue::from_str("name"))
                    .ok()
                    .and_then(|n| n.as_string())
                    .is_some_and(|n| n == "BlockedError");
                if blocked {
                    return Err(StoreError::Blocked(format!(
                        "deleting {name} is blocked by a connection that another tab keeps \
                         open; it will be deleted once that connection closes"
                    )));
                }
                Err(error::from_js(&error))
            }
        }
    }

    /// Document `id` as the app sees it (its members, `_id`, `_rev`), or
    /// `None` when it is missing or deleted. `get()` reads through here: the
    /// record is parsed by JavaScript's `JSON.parse`, never copied into wasm.
    pub async fn visible_doc(&self, id: &str) -> Result<Option<JsValue>, StoreError> {
        let doc = read::visible_doc(self.db()?, id).await?;
        if doc.is_some() {
            // The app read it, so it will likely write it next.
            self.known.note(id, true);
        }
        Ok(doc)
    }

    /// The array of the documents `query` selects, each as `visible_doc`
    /// gives it, ordered by id; `all()` reads through here.
    pub async fn visible_docs(&self, query: &DocQuery) -> Result<js_sys::Array, StoreError> {
        read::visible_docs(self.db()?, query).await
    }

    /// The Blob of the attachment bytes stored under `digest`, if any:
    /// what `getAttachment` returns without copying them into wasm.
    pub async fn attachment_blob(&self, digest: &str) -> Result<Option<JsValue>, StoreError> {
        blobs::read(self.db()?, digest).await
    }

    /// Deletes the attachment bytes no document names any more, saved more
    /// than `older_than_ms` ago; returns how many were deleted.
    pub async fn sweep_attachments(&self, older_than_ms: f64) -> Result<u32, StoreError> {
        blobs::sweep(self.db()?, older_than_ms).await
    }

    /// Which of `digests` have their bytes stored.
    pub async fn attachments_stored(&self, digests: &[String]) -> Result<Vec<bool>, StoreError> {
        blobs::stored(self.db()?, digests).await
    }

    /// The open connection, or [`StoreError::Closed`].
    fn db(&self) -> Result<&Database, StoreError> {
        if self.closed.get() {
            Err(StoreError::Closed)
        } else {
            Ok(&self.db)
        }
    }
}

impl Drop for IdbStore {
    /// Closes the connection: a dropped store must not keep blocking a later
    /// `destroy` or upgrade until garbage collection.
    fn drop(&mut self) {
        let raw = self.db.as_sys();
        raw.set_onversionchange(None);
        raw.set_onclose(None);
        raw.close();
    }
}

impl fmt::Debug for IdbStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdbStore")
            .field("name", &self.name)
            .field("closed", &self.closed.get())
            .finish_non_exhaustive()
    }
}

impl LocalStore for IdbStore {
    async fn get_doc(&self, id: &str) -> Result<Option<DocRecord>, StoreError> {
        read::get_doc(self.db()?, id).await
    }

    async fn list_docs(&self, query: &DocQuery) -> Result<Vec<DocRecord>, StoreError> {
        read::list_docs(self.db()?, query).await
    }

    async fn outbox(
        &self,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        read::outbox(self.db()?, after, limit).await
    }

    async fn outbox_len(&self) -> Result<u64, StoreError> {
        read::outbox_len(self.db()?).await
    }

    async fn conflicts(&self) -> Result<Vec<ConflictRecord>, StoreError> {
        read::conflicts(self.db()?).await
    }

    async fn get_meta(&self, key: &str) -> Result<Option<Value>, StoreError> {
        read::get_meta(self.db()?, key).await
    }

    async fn save_attachment(
        &self,
        digest: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> Result<(), StoreError> {
        blobs::save(self.db()?, digest, content_type, bytes).await
    }

    async fn load_attachments(
        &self,
        digests: &[String],
    ) -> Result<HashMap<String, Vec<u8>>, StoreError> {
        blobs::load(self.db()?, digests).await
    }

    async fn transact<T, E, F>(&self, ids: &[String], plan: F) -> Result<T, E>
    where
        F: FnOnce(Snapshot) -> Result<(WriteBatch, T), E>,
        E: From<StoreError>,
    {
        transact::transact(self.db()?, &self.seqs, &self.known, ids, plan).await
    }

    async fn transact_creating<T, E, F>(&self, ids: &[String], plan: F) -> Result<T, E>
    where
        F: FnMut(Snapshot) -> Result<(WriteBatch, T), E>,
        E: From<StoreError>,
    {
        transact::transact_creating(self.db()?, &self.seqs, &self.known, ids, plan).await
    }

    async fn transact_updating<T, E, F>(&self, ids: &[String], plan: F) -> Result<T, E>
    where
        F: FnMut(Snapshot) -> Result<(WriteBatch, T), E>,
        E: From<StoreError>,
    {
        transact::transact_updating(self.db()?, &self.seqs, &self.known, ids, plan).await
    }
}
