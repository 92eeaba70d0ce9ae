//! The methods that steer sync and the life of an open database: pause and
//! resume, the in-app network switch, the outbox and its parked changes,
//! `close()` and `destroy()`.

use js_sys::Promise;
use tidesync_engine::store::LocalStore;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::{args::id_of, live, live::Live, promise, tabs, Tidesync};
use crate::{convert::to_js, error::SdkError, idb::IdbStore, payloads::OutboxEntry};

impl Tidesync {
    /// The sync settings changed: the leader tells every tab, a follower
    /// only its own listeners.
    fn emit_status(&self) {
        if self.inner.leader.get() {
            self.inner.emit_status_shared();
            return;
        }
        let inner = self.inner.clone();
        wasm_bindgen_futures::spawn_local(async move { inner.emit_status().await });
    }
}

#[wasm_bindgen]
impl Tidesync {
    /// Stops automatic sync (manual `sync()` still works) until `resume()`.
    pub fn pause(&self) {
        self.inner.scheduler.borrow_mut().pause();
        Live::reschedule(&self.inner);
        self.emit_status();
    }

    /// Resumes automatic sync with an immediate attempt.
    pub fn resume(&self) {
        self.inner.scheduler.borrow_mut().resume();
        Live::reschedule(&self.inner);
        self.emit_status();
    }

    /// Lets the app force the SDK offline (`false`) on top of real
    /// connectivity, e.g. for an in-app offline switch; requests then fail with
    /// code `network` without touching the network.
    #[wasm_bindgen(js_name = setNetworkEnabled)]
    pub fn set_network_enabled(&self, enabled: bool) {
        if let Some(transport) = &self.inner.transport {
            transport.set_enabled(enabled);
        }
        {
            let mut scheduler = self.inner.scheduler.borrow_mut();
            if enabled && live::browser_online() {
                scheduler.went_online();
            } else if !enabled {
                scheduler.went_offline();
            }
        }
        Live::reschedule(&self.inner);
        self.emit_status();
    }

    /// The outbox: changes waiting for the server, parked rejections included.
    #[wasm_bindgen(unchecked_return_type = "Promise<OutboxEntry[]>")]
    pub fn outbox(&self) -> Promise {
        promise(&self.inner, |inner| async move {
            let messages = inner
                .client
                .store()
                .outbox(None, usize::MAX)
                .await
                .map_err(SdkError::from)?;
            let entries: Vec<OutboxEntry> = messages.iter().map(OutboxEntry::from).collect();
            Ok(to_js(&entries))
        })
    }

    /// Re-queues rejected changes (of one document, or all) for the next cycle.
    #[wasm_bindgen(js_name = retryRejected, unchecked_return_type = "Promise<number>")]
    #[wasm_bindgen(skip_typescript)]
    pub fn retry_rejected(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: Option<JsValue>,
    ) -> Promise {
        promise(&self.inner, |inner| async move {
            let id = id.unwrap_or(JsValue::UNDEFINED);
            let id = if id.is_undefined() || id.is_null() {
                None
            } else {
                Some(id_of(&id)?)
            };
            let count = inner.client.retry_rejected(id.as_deref()).await?;
            if inner.leader.get() {
                inner.scheduler.borrow_mut().request_now();
                Live::reschedule(&inner);
            } else {
                inner.post(&tabs::TabMessage::SyncSoon);
            }
            Ok(JsValue::from_f64(f64::from(count)))
        })
    }

    /// Closes the database; later calls reject with code `closed`. Resolves
    /// once the instance has stopped: a running cycle finished (its request
    /// aborted), leadership handed to another tab, the connection closed; so
    /// the same name can be opened again (or destroyed) right after.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn close(&self) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            inner.shut_down().await;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Closes the database and deletes its local data. Fails with code
    /// `blocked` only when another tab keeps the database open.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn destroy(&self) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            inner.shut_down().await;
            IdbStore::destroy(&inner.name)
                .await
                .map_err(SdkError::from)?;
            Ok(JsValue::UNDEFINED)
        })
    }
}
