//! The state behind a `Tidesync` handle: the engine client, the transport, the
//! listener registry, the scheduler, and the sync cycle that ties them together.

use std::{
    cell::{Cell, RefCell},
    rc::Rc,
};

use futures::lock::Mutex;
use js_sys::{Function, Object, Promise, Reflect};
use serde_json::json;
use tidesync_engine::{
    client::{Client, Environment, Written},
    event::{Event, Settlement},
    model::{ConflictRecord, DocStatus},
    schedule::Scheduler,
    sync::{SyncIssue, SyncReport},
};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::{env::BrowserEnv, listeners::Listeners, live::Live};
use crate::{
    convert::{to_js, to_json},
    error::SdkError,
    idb::IdbStore,
    transport::FetchTransport,
};

/// Everything an open database holds; shared by the handle, timers and
/// browser event listeners (which keep only a weak reference).
pub(super) struct Inner {
    pub name: String,
    pub client: Client<IdbStore>,
    pub transport: Option<FetchTransport>,
    pub listeners: Listeners,
    pub closed: Cell<bool>,
    pub remote_known: Cell<bool>,
    pub sync_lock: Mutex<()>,
    pub scheduler: RefCell<Scheduler>,
    pub live: Live,
    pub auth: Option<Function>,
    pub auth_tried: Cell<bool>,
    pub resolver: Option<Function>,
    /// Conflicts waiting for the app's resolver (their `conflict` event is
    /// held back until the resolver and the policy declined them).
    pub deferred: RefCell<Vec<ConflictRecord>>,
}

fn set(target: &Object, key: &str, value: &JsValue) {
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

impl Inner {
    /// Emits a write's events, tells the scheduler, and builds
    /// `{ id, rev, status, synced }`.
    pub async fn written(self: &Rc<Self>, (outcome, events): Written) -> JsValue {
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
        if !outcome.queued && outcome.status != DocStatus::Conflicted {
            // Earlier writes whose change was dropped before reaching the server
            // (discarded, or a never-pushed document deleted) settle now.
            self.listeners
                .settle(&id, &to_js(&json!({"outcome": "discarded"})));
        }
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
        if outcome.queued {
            self.scheduler.borrow_mut().local_write(BrowserEnv.now());
            Live::reschedule(self);
        }
        self.emit_status().await;
        result.into()
    }

    /// Hands engine events to listeners and pending promises.
    pub fn emit(&self, events: Vec<Event>) {
        for event in events {
            match &event {
                Event::Change { .. } if self.listeners.has("change") => {
                    self.listeners.emit("change", &to_js(&event));
                }
                Event::Change { .. } => {}
                Event::Conflict { conflict } if self.resolver.is_some() => {
                    self.deferred.borrow_mut().push(conflict.clone());
                }
                Event::Conflict { conflict } => self.listeners.emit("conflict", &to_js(conflict)),
                Event::Resolved { .. } => self.listeners.emit("resolved", &to_js(&event)),
                Event::Settled { id, settlement } => {
                    if let Settlement::Rejected { error } = settlement {
                        let message = format!("{}: {}", error.error, error.reason);
                        let payload = json!({"code": "rejected", "id": id, "message": message,
                            "status": error.status, "error": error.error, "reason": error.reason});
                        self.listeners.emit("error", &to_js(&payload));
                    }
                    self.listeners.settle(id, &to_js(settlement));
                }
            }
        }
    }

    /// `{ state, pending, conflicts, lastSyncAt, lastError, nextRetryAt }`.
    pub async fn status(&self) -> Result<JsValue, SdkError> {
        let pending = self.client.pending_count().await?;
        let conflicts = self.client.conflicts().await?.len();
        let scheduler = self.scheduler.borrow();
        let snapshot = json!({
            "state": scheduler.state(),
            "pending": pending,
            "conflicts": conflicts,
            "lastSyncAt": scheduler.last_sync_at(),
            "lastError": scheduler.last_error(),
            "nextRetryAt": scheduler.next_retry_at(),
        });
        Ok(to_js(&snapshot))
    }

    /// Emits a `status` event, when anyone listens.
    pub async fn emit_status(&self) {
        if !self.listeners.has("status") || self.closed.get() {
            return;
        }
        match self.status().await {
            Ok(status) => self.listeners.emit("status", &status),
            Err(error) => web_sys::console::warn_1(&JsValue::from(error)),
        }
    }

    /// One sync cycle, manual or automatic: one at a time, with the scheduler
    /// told when it starts and ends, and the report's failures emitted.
    pub async fn sync_cycle(self: &Rc<Self>) -> Result<SyncReport, SdkError> {
        let transport = self.transport.as_ref().ok_or(SdkError::NoRemote)?;
        let _guard = self.sync_lock.lock().await;
        if self.closed.get() {
            return Err(SdkError::Closed);
        }
        self.scheduler.borrow_mut().cycle_started(BrowserEnv.now());
        self.emit_status().await;
        let run = self
            .client
            .sync(transport, &BrowserEnv, self.remote_known.get(), |events| {
                self.emit(events)
            });
        let result = run.await;
        let report = match result {
            Ok((report, remote_ready)) => {
                self.remote_known.set(remote_ready);
                report
            }
            Err(error) => {
                let issue = SyncIssue {
                    code: error.code().into(),
                    message: error.to_string(),
                    id: None,
                    status: None,
                    retry_after: None,
                };
                SyncReport {
                    errors: vec![issue],
                    ..SyncReport::default()
                }
            }
        };
        if self.run_resolver().await {
            self.scheduler.borrow_mut().request_now();
        }
        let failures: Vec<&SyncIssue> = report
            .errors
            .iter()
            .filter(|e| e.code != "rejected")
            .collect();
        for issue in &failures {
            self.listeners.emit("error", &to_js(issue));
        }
        let unauthorized = failures.iter().any(|e| e.code == "unauthorized");
        self.scheduler
            .borrow_mut()
            .cycle_ended(&report, BrowserEnv.now(), js_sys::Math::random());
        if unauthorized && !self.auth_tried.replace(true) && self.refresh_auth().await {
            self.scheduler.borrow_mut().request_now();
        } else if failures.is_empty() {
            self.auth_tried.set(false);
        }
        self.emit_status().await;
        Live::reschedule(self);
        Ok(report)
    }

    /// Offers each new conflict to the app's resolver, then to the policy;
    /// what both decline stays for the app (and its `conflict` event fires).
    /// Returns whether anything was resolved and needs pushing.
    async fn run_resolver(self: &Rc<Self>) -> bool {
        let Some(resolver) = &self.resolver else {
            return false;
        };
        let conflicts: Vec<ConflictRecord> = self.deferred.borrow_mut().drain(..).collect();
        let mut resolved = false;
        for (index, conflict) in conflicts.iter().enumerate() {
            if conflicts[index + 1..]
                .iter()
                .any(|later| later.id == conflict.id)
            {
                continue; // a newer version of the same conflict follows
            }
            let id = conflict.id.clone();
            let answer = match resolver.call1(&JsValue::NULL, &to_js(conflict)) {
                Ok(value) => match value.dyn_into::<Promise>() {
                    Ok(promise) => JsFuture::from(promise).await,
                    Err(value) => Ok(value),
                },
                Err(thrown) => Err(thrown),
            };
            let outcome = match answer {
                Err(thrown) => Err(format!("the resolver threw: {}", describe(&thrown))),
                Ok(body) if body.is_null() || body.is_undefined() => self
                    .client
                    .auto_resolve_recorded(&id, &BrowserEnv)
                    .await
                    .map_err(|e| e.to_string()),
                Ok(body) => match to_json(&body) {
                    Ok(body) => match self.client.resolve(&id, Some(body), &BrowserEnv).await {
                        Ok(written) => {
                            let event = json!({"type": "resolved", "id": id, "strategy": "custom", "clashes": []});
                            self.listeners.emit("resolved", &to_js(&event));
                            Ok(Some(written))
                        }
                        Err(e) => Err(e.to_string()),
                    },
                    Err(e) => Err(format!("the resolver returned {e}")),
                },
            };
            match outcome {
                Ok(Some((_, events))) => {
                    resolved = true;
                    self.emit(events);
                }
                Ok(None) => self.listeners.emit("conflict", &to_js(conflict)),
                Err(message) => {
                    let payload = json!({"code": "resolver_failed", "id": id, "message": message});
                    self.listeners.emit("error", &to_js(&payload));
                    self.listeners.emit("conflict", &to_js(conflict));
                }
            }
        }
        resolved
    }

    /// Calls the app's `auth` callback for fresh headers; true when it gave some.
    async fn refresh_auth(&self) -> bool {
        let (Some(auth), Some(transport)) = (&self.auth, &self.transport) else {
            return false;
        };
        let Ok(mut value) = auth.call0(&JsValue::NULL) else {
            return false;
        };
        if let Some(promise) = value.dyn_ref::<Promise>() {
            match JsFuture::from(promise.clone()).await {
                Ok(resolved) => value = resolved,
                Err(_) => return false,
            }
        }
        let Ok(headers) =
            serde_wasm_bindgen::from_value::<std::collections::BTreeMap<String, String>>(value)
        else {
            return false;
        };
        transport.set_headers(headers);
        true
    }
}

/// A thrown JS value as text, for error messages.
fn describe(value: &JsValue) -> String {
    Reflect::get(value, &JsValue::from_str("message"))
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| value.as_string())
        .unwrap_or_else(|| format!("{value:?}"))
}
