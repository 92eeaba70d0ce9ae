//! The JavaScript API: `Tidesync.open()` and the methods of an open database.
//!
//! Every method returns a Promise and rejects with a `TidesyncError`. Work is
//! done by the engine's [`Client`]; this module only converts values, keeps the
//! listener registry and resolves the `synced` promises of writes.

mod env;
mod listeners;
mod options;
mod typings;

use std::{cell::Cell, rc::Rc};

use futures::lock::Mutex;
use js_sys::{Function, Object, Promise, Reflect};
use serde_json::json;
use tidesync_engine::{
    client::{document_json, Client, Written},
    event::{Event, Settlement},
    model::DocStatus,
    store::DocQuery,
};
use wasm_bindgen::{prelude::*, JsCast};
use wasm_bindgen_futures::future_to_promise;

use self::{env::BrowserEnv, listeners::Listeners, options::OpenOptions};
use crate::{
    convert::{to_js, to_json},
    error::SdkError,
    idb::IdbStore,
    transport::FetchTransport,
};

struct Inner {
    name: String,
    client: Client<IdbStore>,
    transport: Option<FetchTransport>,
    listeners: Listeners,
    closed: Cell<bool>,
    remote_known: Cell<bool>,
    sync_lock: Mutex<()>,
}

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

fn set(target: &Object, key: &str, value: &JsValue) {
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
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
                )
            });
            let inner = Inner {
                name: options.name.clone(),
                client: Client::new(store, options.client_config()),
                transport,
                listeners: Listeners::default(),
                closed: Cell::new(false),
                remote_known: Cell::new(false),
                sync_lock: Mutex::new(()),
            };
            Ok(Tidesync {
                inner: Rc::new(inner),
            }
            .into())
        })
    }

    /// The local database name.
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.inner.name.clone()
    }

    /// Writes a document locally; resolves once it is durable, with a `synced`
    /// promise that settles when the server accepts, conflicts or rejects it.
    #[wasm_bindgen(unchecked_return_type = "Promise<WriteResult>")]
    pub fn put(&self, #[wasm_bindgen(unchecked_param_type = "Doc")] doc: JsValue) -> Promise {
        let value = to_json(&doc);
        promise(&self.inner, |inner| async move {
            let written = inner.client.put(value?, &BrowserEnv).await?;
            Ok(inner.written(written).await)
        })
    }

    /// Writes many documents in one transaction (all or none), each queued as
    /// `put` would; much faster than awaiting `put` in a loop.
    #[wasm_bindgen(js_name = putMany, unchecked_return_type = "Promise<WriteResult[]>")]
    pub fn put_many(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Doc[]")] docs: JsValue,
    ) -> Promise {
        let values = docs_of(&docs);
        promise(&self.inner, |inner| async move {
            let written = inner.client.put_many(values?, &BrowserEnv).await?;
            let results = js_sys::Array::new();
            for one in written {
                results.push(&inner.written(one).await);
            }
            Ok(results.into())
        })
    }

    /// Deletes a document locally (a tombstone that syncs).
    #[wasm_bindgen(unchecked_return_type = "Promise<WriteResult>")]
    pub fn delete(&self, #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue) -> Promise {
        promise(&self.inner, |inner| async move {
            let id = id_of(&id)?;
            let written = inner.client.delete(&id, &BrowserEnv).await?;
            Ok(inner.written(written).await)
        })
    }

    /// One document with `_id` and `_rev`, or `null` when missing or deleted.
    #[wasm_bindgen(unchecked_return_type = "Promise<Doc | null>")]
    pub fn get(&self, #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue) -> Promise {
        promise(&self.inner, |inner| async move {
            let id = id_of(&id)?;
            let doc = inner.client.get(&id).await?;
            Ok(doc
                .filter(|d| !d.deleted)
                .map_or(JsValue::NULL, |d| to_js(&document_json(&d))))
        })
    }

    /// Documents, ordered by id; `{ includeDeleted, status }` filter them.
    #[wasm_bindgen(unchecked_return_type = "Promise<Doc[]>")]
    pub fn all(
        &self,
        #[wasm_bindgen(unchecked_param_type = "AllOptions | undefined")] options: JsValue,
    ) -> Promise {
        promise(&self.inner, |inner| async move {
            let query = query_of(&options)?;
            let docs = inner.client.all(&query).await?;
            let docs: Vec<_> = docs.iter().map(document_json).collect();
            Ok(to_js(&docs))
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
        promise(&self.inner, |inner| async move { inner.sync().await })
    }

    /// Subscribes to `change`, `conflict`, `status`, `error` or `resolved`;
    /// returns the function that unsubscribes.
    #[wasm_bindgen(unchecked_return_type = "() => void")]
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

    /// Closes the database; later calls reject with code `closed`.
    pub fn close(&self) {
        self.inner.closed.set(true);
        self.inner.client.store().close();
    }

    /// Closes the database and deletes its local data.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn destroy(&self) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            inner.closed.set(true);
            inner.client.store().close();
            IdbStore::destroy(&inner.name)
                .await
                .map_err(SdkError::from)?;
            Ok(JsValue::UNDEFINED)
        })
    }
}

fn docs_of(value: &JsValue) -> Result<Vec<serde_json::Value>> {
    if !js_sys::Array::is_array(value) {
        let message = "putMany() takes an array of documents".to_owned();
        return Err(SdkError::Engine(
            tidesync_engine::error::EngineError::InvalidDocument(message),
        ));
    }
    let array: &js_sys::Array = value.unchecked_ref();
    let mut docs = Vec::with_capacity(array.length() as usize);
    for (index, doc) in array.iter().enumerate() {
        docs.push(to_json(&doc).map_err(|e| e.at_index(index))?);
    }
    Ok(docs)
}

fn id_of(value: &JsValue) -> Result<String> {
    value.as_string().ok_or_else(|| {
        SdkError::Engine(tidesync_engine::error::EngineError::InvalidId(
            "an id must be a string".into(),
        ))
    })
}

fn query_of(options: &JsValue) -> Result<DocQuery> {
    if options.is_undefined() || options.is_null() {
        return Ok(DocQuery::default());
    }
    let bad = |m: &str| SdkError::InvalidOptions(m.to_owned());
    let include_deleted =
        Reflect::get(options, &"includeDeleted".into()).map_err(|_| bad("includeDeleted"))?;
    let status = Reflect::get(options, &"status".into()).map_err(|_| bad("status"))?;
    let status = match status.as_string().as_deref() {
        None if status.is_undefined() => None,
        Some("synced") => Some(DocStatus::Synced),
        Some("pending") => Some(DocStatus::Pending),
        Some("conflicted") => Some(DocStatus::Conflicted),
        _ => return Err(bad("status must be 'synced', 'pending' or 'conflicted'")),
    };
    Ok(DocQuery {
        status,
        include_deleted: include_deleted.as_bool().unwrap_or(false),
    })
}

impl Inner {
    /// Emits a write's events and builds `{ id, rev, status, synced }`.
    async fn written(self: &Rc<Self>, (outcome, events): Written) -> JsValue {
        let id = outcome.id.clone();
        let result = Object::new();
        set(&result, "id", &JsValue::from_str(&id));
        set(
            &result,
            "rev",
            &outcome
                .rev
                .as_deref()
                .map_or(JsValue::NULL, JsValue::from_str),
        );
        set(
            &result,
            "status",
            &JsValue::from_str(outcome.status.as_str()),
        );
        let synced = if outcome.queued {
            let inner = self.clone();
            let key = id.clone();
            Promise::new(&mut |resolve, _reject| inner.listeners.wait(&key, resolve))
        } else if outcome.status == DocStatus::Conflicted {
            let conflicts = self.client.conflicts().await.unwrap_or_default();
            let conflict = conflicts.into_iter().find(|c| c.id == id);
            Promise::resolve(&to_js(
                &json!({"outcome": "conflict", "conflict": conflict}),
            ))
        } else {
            Promise::resolve(&to_js(&json!({"outcome": "accepted", "rev": outcome.rev})))
        };
        set(&result, "synced", &synced);
        self.emit(events);
        result.into()
    }

    /// Hands engine events to listeners and pending promises.
    fn emit(&self, events: Vec<Event>) {
        for event in events {
            match &event {
                Event::Change { .. } => self.listeners.emit("change", &to_js(&event)),
                Event::Conflict { conflict } => self.listeners.emit("conflict", &to_js(conflict)),
                Event::Settled { id, settlement } => {
                    if let Settlement::Rejected { error } = settlement {
                        let payload = json!({"code": "rejected", "id": id, "message": format!("{}: {}", error.error, error.reason), "status": error.status, "error": error.error, "reason": error.reason});
                        self.listeners.emit("error", &to_js(&payload));
                    }
                    self.listeners.settle(id, &to_js(settlement));
                }
            }
        }
    }

    fn emit_status(&self, state: &str, pending: u64) {
        self.listeners.emit(
            "status",
            &to_js(&json!({"state": state, "pending": pending})),
        );
    }

    async fn sync(self: &Rc<Self>) -> Result<JsValue> {
        let transport = self.transport.as_ref().ok_or(SdkError::NoRemote)?;
        let _guard = self.sync_lock.lock().await;
        self.emit_status("syncing", self.client.pending_count().await?);
        let run = self
            .client
            .sync(transport, &BrowserEnv, self.remote_known.get(), |events| {
                self.emit(events)
            });
        let (report, remote_ready) = run.await?;
        self.remote_known.set(remote_ready);
        for issue in report.errors.iter().filter(|e| e.code != "rejected") {
            self.listeners.emit("error", &to_js(issue));
        }
        let state = if report
            .errors
            .iter()
            .any(|e| e.code == "network" || e.code == "timeout")
        {
            "offline"
        } else {
            "idle"
        };
        self.emit_status(state, self.client.pending_count().await?);
        Ok(to_js(&report))
    }
}
