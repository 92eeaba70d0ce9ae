//! The JavaScript API: `Tidesync.open()` and the methods of an open database.
//!
//! Every method returns a Promise and rejects with a `TidesyncError`. Work is
//! done by the engine's `Client`; this module converts values and forwards, the
//! state and the sync cycle live in [`inner`], automatic sync in [`live`].

mod args;
mod attachments;
mod callbacks;
mod control;
mod downloads;
mod env;
mod feed;
mod group;
mod inner;
mod listeners;
mod live;
mod merge;
mod options;
mod signin;
mod storage;
mod subscribe;
mod tabs;
mod typings;

use std::{
    cell::{Cell, RefCell},
    rc::Rc,
};

use futures::lock::Mutex;
use js_sys::{Function, Promise};
use tidesync_engine::{client::Client, schedule::Scheduler};
use wasm_bindgen::{prelude::*, JsCast};
use wasm_bindgen_futures::future_to_promise;

pub use self::merge::merge_documents;
use self::{
    args::{docs_of, id_of, query_of, rev_of},
    env::BrowserEnv,
    feed::Feed,
    inner::Inner,
    listeners::Listeners,
    live::Live,
    options::OpenOptions,
};
use crate::{
    convert::{to_js, to_json},
    error::SdkError,
    idb::IdbStore,
    transport::{FetchTransport, Fetcher},
};

/// An open local database, optionally syncing with a remote CouchDB database.
#[wasm_bindgen]
pub struct Tidesync {
    inner: Rc<Inner>,
}

type Result<T> = std::result::Result<T, SdkError>;

fn promise<F>(inner: &Rc<Inner>, work: impl FnOnce(Rc<Inner>) -> F + 'static) -> Promise
where
    F: std::future::Future<Output = Result<JsValue>> + 'static,
{
    let inner = inner.clone();
    future_to_promise(async move {
        if inner.closed.get() {
            return Err(SdkError::Closed.into());
        }
        work(inner).await.map_err(JsValue::from)
    })
}

#[wasm_bindgen]
impl Tidesync {
    /// Opens (creating if needed) the local database `options.name`.
    #[wasm_bindgen(unchecked_return_type = "Promise<Tidesync>")]
    pub fn open(#[wasm_bindgen(unchecked_param_type = "OpenOptions")] options: JsValue) -> Promise {
        future_to_promise(async move {
            let options = OpenOptions::from_js(options)?;
            let store = IdbStore::open(&options.name)
                .await
                .map_err(SdkError::from)?;
            let transport = options.remote.as_deref().map(|remote| {
                FetchTransport::new(
                    remote,
                    options.headers.clone(),
                    options.request_timeout_ms.unwrap_or(30_000),
                    Fetcher::new(
                        options.credentials.request_credentials(),
                        options.fetch.clone(),
                    ),
                )
            });
            let client = Client::new(store, options.client_config());
            let scheduler = Scheduler::new(
                options.schedule_config(),
                live::browser_online(),
                live::page_visible(),
            );
            let inner = Rc::new_cyclic(|weak| Inner {
                name: options.name.clone(),
                client,
                transport,
                listeners: Listeners::default(),
                closed: Cell::new(false),
                remote_known: Cell::new(false),
                sync_lock: Mutex::new(()),
                scheduler: RefCell::new(scheduler),
                live: Live::new(Feed::new(
                    options.live_feed.unwrap_or(true),
                    options.feed_config(),
                )),
                auth: options.auth.clone(),
                auth_tried: Cell::new(false),
                resolver: options.resolver.clone(),
                callback_timeout_ms: options
                    .callback_timeout_ms
                    .unwrap_or(options::DEFAULT_CALLBACK_TIMEOUT_MS),
                deferred: RefCell::new(Vec::new()),
                puts: Default::default(),
                link: tabs::link(&options.name, weak.clone()),
                leader: Cell::new(false),
                leader_status: RefCell::new(None),
                forwarded: RefCell::new(Default::default()),
                peers_seen: Cell::new(false),
                attachment_mode: options.attachments,
                pulled: RefCell::new(Vec::new()),
            });
            // Compete for leadership: the leader re-queues what a previous one
            // left in flight and syncs; until then (or as a follower) writes
            // nudge whichever tab leads.
            inner.link.start();
            inner.post(&tabs::TabMessage::Hello);
            Ok(Tidesync { inner }.into())
        })
    }

    /// The local database name.
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.inner.name.clone()
    }

    /// Writes a document locally; resolves once it is durable, with its new
    /// `rev` and a `synced` promise that settles when the server accepts,
    /// conflicts or rejects it. An update names the `_rev` it was read at; a
    /// stale, missing (unless `lastWriteWins`) or malformed one is refused
    /// (`conflict`, `invalid_rev`) with nothing written.
    #[wasm_bindgen(unchecked_return_type = "Promise<WriteResult>")]
    pub fn put(&self, #[wasm_bindgen(unchecked_param_type = "Doc")] doc: JsValue) -> Promise {
        // Queued now, in call order, with the document as it is now.
        let queued = match to_json(&doc) {
            Ok(value) if !self.inner.closed.get() => Ok(self.inner.put_grouped(value)),
            Ok(_) => Err(SdkError::Closed),
            Err(error) => Err(SdkError::from(error)),
        };
        promise(&self.inner, |inner| async move {
            let written = queued?.await?;
            Ok(inner.written(written).await)
        })
    }

    /// Writes many documents in one transaction (all or none), each queued and
    /// checked against its `_rev` as `put` would; much faster than awaiting
    /// `put` in a loop.
    #[wasm_bindgen(js_name = putMany, unchecked_return_type = "Promise<WriteResult[]>")]
    pub fn put_many(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Doc[]")] docs: JsValue,
    ) -> Promise {
        let values = docs_of(&docs);
        promise(&self.inner, |inner| async move {
            let written = inner.client.put_many(values?, &BrowserEnv).await?;
            let results = js_sys::Array::new();
            let mut queued = false;
            for one in written {
                let (result, one_queued) = inner.result_of(one).await;
                queued |= one_queued;
                results.push(&result);
            }
            // One nudge of the scheduler and one status event for the batch.
            inner.announce(queued).await;
            Ok(results.into())
        })
    }

    /// Deletes a document locally (a tombstone that syncs). With `rev`, only
    /// that version: a stale one is `conflict`, a malformed one `invalid_rev`.
    #[wasm_bindgen(skip_typescript)]
    pub fn delete(&self, id: JsValue, rev: JsValue) -> Promise {
        promise(&self.inner, |inner| async move {
            let id = id_of(&id)?;
            let rev = rev_of(&rev, &id)?;
            let written = inner
                .client
                .delete(&id, rev.as_deref(), &BrowserEnv)
                .await?;
            Ok(inner.written(written).await)
        })
    }

    /// One document with `_id` and `_rev`, or `null` when missing or deleted.
    #[wasm_bindgen(unchecked_return_type = "Promise<Doc | null>")]
    pub fn get(&self, #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue) -> Promise {
        promise(&self.inner, |inner| async move {
            let id = id_of(&id)?;
            tidesync_engine::local::validate_id(&id)?;
            let doc = inner.client.store().visible_doc(&id).await?;
            Ok(doc.unwrap_or(JsValue::NULL))
        })
    }

    /// Documents, ordered by id; `{ includeDeleted, status }` filter them.
    #[wasm_bindgen(unchecked_return_type = "Promise<Doc[]>")]
    #[wasm_bindgen(skip_typescript)]
    pub fn all(
        &self,
        #[wasm_bindgen(unchecked_param_type = "AllOptions")] options: Option<JsValue>,
    ) -> Promise {
        promise(&self.inner, |inner| async move {
            let query = query_of(&options.unwrap_or(JsValue::UNDEFINED))?;
            Ok(inner.client.store().visible_docs(&query).await?.into())
        })
    }

    /// How many local changes wait for the server (queued, in flight or rejected).
    #[wasm_bindgen(js_name = pendingCount, unchecked_return_type = "Promise<number>")]
    pub fn pending_count(&self) -> Promise {
        promise(&self.inner, |inner| async move {
            Ok(JsValue::from_f64(
                inner.client.pending_count().await? as f64,
            ))
        })
    }

    /// Open conflicts: `{ id, base, local, remote, remoteRev }` each.
    #[wasm_bindgen(unchecked_return_type = "Promise<Conflict[]>")]
    pub fn conflicts(&self) -> Promise {
        promise(&self.inner, |inner| async move {
            let conflicts = inner.client.conflicts().await?;
            Ok(to_js(&conflicts))
        })
    }

    /// Resolves a conflict with `body` (or `null` to delete), as a new change
    /// based on the remote revision.
    #[wasm_bindgen(unchecked_return_type = "Promise<WriteResult>")]
    pub fn resolve(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Doc | null")] body: JsValue,
    ) -> Promise {
        let body = if body.is_null() {
            Ok(None)
        } else {
            to_json(&body).map(Some)
        };
        promise(&self.inner, |inner| async move {
            let id = id_of(&id)?;
            let written = inner.client.resolve(&id, body?, &BrowserEnv).await?;
            Ok(inner.written(written).await)
        })
    }

    /// Drops local changes to a document: its conflict takes the server's side,
    /// its queued or rejected changes are discarded.
    #[wasm_bindgen(js_name = discardLocal, unchecked_return_type = "Promise<WriteResult>")]
    pub fn discard_local(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
    ) -> Promise {
        promise(&self.inner, |inner| async move {
            let id = id_of(&id)?;
            let written = inner.client.discard_local(&id, &BrowserEnv).await?;
            Ok(inner.written(written).await)
        })
    }

    /// Runs one sync cycle now: push, then pull.
    #[wasm_bindgen(unchecked_return_type = "Promise<SyncReport>")]
    pub fn sync(&self) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            if inner.closed.get() {
                return Err(SdkError::Closed.into());
            }
            inner.sync_now().await
        })
    }

    /// Pulls now: what a page calls when a push message (from its service
    /// worker, say) tells it the server has changes, instead of waiting for
    /// the feed or the next poll. It runs a cycle as `sync()` does (in the
    /// tab that syncs the database), so what waits to be pushed goes too.
    #[wasm_bindgen(js_name = pullNow, unchecked_return_type = "Promise<SyncReport>")]
    pub fn pull_now(&self) -> Promise {
        self.sync()
    }

    /// Subscribes to `change`, `conflict`, `status`, `error` or `resolved`;
    /// returns the function that unsubscribes.
    #[wasm_bindgen(unchecked_return_type = "() => void")]
    #[wasm_bindgen(skip_typescript)]
    pub fn on(
        &self,
        #[wasm_bindgen(unchecked_param_type = "EventName")] event: &str,
        #[wasm_bindgen(unchecked_param_type = "(payload: EventPayload) => void")] callback: JsValue,
    ) -> std::result::Result<Function, JsValue> {
        if !listeners::EVENTS.contains(&event) {
            let known = listeners::EVENTS.join(", ");
            return Err(SdkError::InvalidListener(format!(
                "unknown event {event:?}; known: {known}"
            ))
            .into());
        }
        let Some(callback) = callback.dyn_ref::<Function>() else {
            return Err(SdkError::InvalidListener("the callback must be a function".into()).into());
        };
        let id = self.inner.listeners.add(event, callback.clone());
        let weak = Rc::downgrade(&self.inner);
        let event = event.to_owned();
        let unsubscribe = Closure::<dyn Fn()>::new(move || {
            if let Some(inner) = weak.upgrade() {
                inner.listeners.remove(&event, id);
            }
        });
        Ok(unsubscribe.into_js_value().unchecked_into())
    }

    /// `{ state, pending, conflicts, lastSyncAt, lastError, nextRetryAt }`; the
    /// same object the `status` event carries.
    #[wasm_bindgen(unchecked_return_type = "Promise<Status>")]
    pub fn status(&self) -> Promise {
        promise(&self.inner, |inner| async move {
            Ok(to_js(&inner.status().await?))
        })
    }
}
