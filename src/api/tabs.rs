//! One database, many tabs: the messages between the tabs of one origin that
//! open the same database, and what each tab does with them.
//!
//! The leader (elected by `tabs.js` with Web Locks) alone runs sync cycles;
//! the others (followers) write IndexedDB directly and nudge it. Events that
//! one tab emits reach the listeners of every other tab; a follower's `sync()`
//! is run by the leader and answered with its report.

use std::{collections::HashMap, rc::Rc};

use js_sys::{Function, Promise};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tidesync_engine::client::Environment;
use wasm_bindgen::{prelude::*, JsCast};
use wasm_bindgen_futures::JsFuture;

use super::{env::BrowserEnv, inner::Inner, live::Live};
use crate::{convert::to_js, error::SdkError};

#[wasm_bindgen(module = "/src/js/tabs.js")]
extern "C" {
    /// One tab's link to the others: leadership and a BroadcastChannel.
    pub type TabLink;

    #[wasm_bindgen(constructor)]
    fn new(name: &str, on_role: &Function, on_message: &Function) -> TabLink;
    /// Starts competing for leadership; answers `locks`, `lease` or `alone`.
    #[wasm_bindgen(method)]
    pub fn start(this: &TabLink) -> String;
    #[wasm_bindgen(method)]
    fn post(this: &TabLink, json: &str);
    /// Gives up leadership at once and stops listening.
    #[wasm_bindgen(method)]
    pub fn close(this: &TabLink);

    /// `promise`, or a rejection named `TimeoutError` after `ms`.
    #[wasm_bindgen(js_name = withTimeout)]
    pub fn with_timeout(promise: &Promise, ms: u32) -> Promise;
}

/// What one tab tells the others, as JSON on the channel.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) enum TabMessage {
    /// A tab opened: the leader answers with its status, the others `Here`.
    Hello,
    /// A tab answers `Hello`, so the new one knows it is not alone.
    Here,
    /// A tab became leader: followers send their unanswered `sync()` again.
    Leader,
    /// A follower wrote: the leader schedules a push as for its own writes.
    Wrote,
    /// A follower asks for a cycle soon (rejected changes re-queued).
    SyncSoon,
    /// A follower's `sync()`: the leader runs a cycle and answers `Report`.
    Sync { req: String },
    /// The answer to `Sync`: the report, or an error's code and message.
    Report {
        req: String,
        report: Option<Value>,
        error: Option<(String, String)>,
    },
    /// Listener events, as `(event name, payload)`.
    Events { events: Vec<(String, Value)> },
    /// Settles the `synced` promises of `id` up to version `through` (all
    /// when `None`).
    Settle {
        id: String,
        through: Option<u64>,
        outcome: Value,
    },
    /// The leader's sync status.
    Status { status: Value },
}

/// The `sync()` calls of a follower waiting for the leader's answer.
pub(super) type Forwarded = HashMap<String, (Function, Function)>;

/// Builds the link of the database `name`; the callbacks hold only a weak
/// reference, so a dropped database is not kept alive by other tabs.
pub(super) fn link(name: &str, weak: std::rc::Weak<Inner>) -> TabLink {
    let role_weak = weak.clone();
    let on_role = Closure::<dyn FnMut(bool)>::new(move |leader: bool| {
        if let Some(inner) = role_weak.upgrade() {
            inner.on_role(leader);
        }
    });
    let on_message =
        Closure::<dyn FnMut(String, String)>::new(move |from: String, json: String| {
            if let Some(inner) = weak.upgrade() {
                inner.on_message(&from, &json);
            }
        });
    // Owned by JS from here on: the link calls them until it is closed.
    let on_role: Function = on_role.into_js_value().unchecked_into();
    let on_message: Function = on_message.into_js_value().unchecked_into();
    TabLink::new(name, &on_role, &on_message)
}

impl Inner {
    /// Sends `message` to every other tab of the database.
    pub(super) fn post(&self, message: &TabMessage) {
        match serde_json::to_string(message) {
            Ok(json) => self.link.post(&json),
            Err(error) => web_sys::console::warn_1(&JsValue::from_str(&error.to_string())),
        }
    }

    /// Sends events, settlements and status to the other tabs, when there may
    /// be any: a follower always (a leader exists), a leader once it heard of
    /// another tab (each announces itself with `Hello` when it opens), so a
    /// lone tab does not pay for a channel no one listens to.
    pub(super) fn share(&self, message: &TabMessage) {
        if self.peers_seen.get() || !self.leader.get() {
            self.post(message);
        }
    }

    /// This tab became leader (or, under a lease, stopped being it).
    fn on_role(self: &Rc<Self>, leader: bool) {
        if self.closed.get() {
            return;
        }
        self.leader.set(leader);
        if !leader {
            self.live.shutdown();
            return;
        }
        let inner = self.clone();
        wasm_bindgen_futures::spawn_local(async move { inner.take_lead().await });
    }

    /// Starts leading: re-queues what a previous leader left in flight, then
    /// syncs at once and answers the `sync()` calls waiting in this tab.
    async fn take_lead(self: &Rc<Self>) {
        if let Err(error) = self.client.recover_in_flight().await {
            web_sys::console::warn_1(&JsValue::from(SdkError::from(error)));
        }
        self.post(&TabMessage::Leader);
        self.sweep_attachments_later();
        if self.transport.is_none() || self.closed.get() {
            return;
        }
        Live::install(self);
        let waiting = self.take_forwarded();
        if waiting.is_empty() {
            self.scheduler.borrow_mut().request_now();
            Live::reschedule(self);
            return;
        }
        let result = self.sync_cycle().await;
        for (resolve, reject) in waiting {
            let _ = match &result {
                Ok(report) => resolve.call1(&JsValue::NULL, &to_js(report)),
                Err(error) => {
                    let error = crate::error::js_error(
                        error.code().as_str(),
                        &error.to_string(),
                        &JsValue::UNDEFINED,
                    );
                    reject.call1(&JsValue::NULL, &error)
                }
            };
        }
    }

    /// Handles a message of another tab.
    fn on_message(self: &Rc<Self>, _from: &str, json: &str) {
        let message = match serde_json::from_str::<TabMessage>(json) {
            Ok(message) => message,
            Err(_) => return, // a newer or foreign sender: nothing to do with it
        };
        self.peers_seen.set(true);
        let leader = self.leader.get();
        match message {
            TabMessage::Hello if leader => self.emit_status_shared(),
            TabMessage::Hello => self.post(&TabMessage::Here),
            TabMessage::Wrote if leader => {
                self.scheduler.borrow_mut().local_write(BrowserEnv.now());
                Live::reschedule(self);
            }
            TabMessage::SyncSoon if leader => {
                self.scheduler.borrow_mut().request_now();
                Live::reschedule(self);
            }
            TabMessage::Sync { req } if leader => {
                let inner = self.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    let (report, error) = match inner.sync_cycle().await {
                        Ok(report) => (serde_json::to_value(&report).ok(), None),
                        Err(e) => (None, Some((e.code().as_str().to_owned(), e.to_string()))),
                    };
                    inner.post(&TabMessage::Report { req, report, error });
                });
            }
            TabMessage::Report { req, report, error } => {
                let Some((resolve, reject)) = self.forwarded.borrow_mut().remove(&req) else {
                    return;
                };
                let _ = match (report, error) {
                    (_, Some((code, message))) => {
                        let error = crate::error::js_error(&code, &message, &JsValue::UNDEFINED);
                        reject.call1(&JsValue::NULL, &error)
                    }
                    (report, None) => resolve.call1(&JsValue::NULL, &to_js(&report)),
                };
            }
            TabMessage::Leader => {
                // The new leader may never have seen our requests.
                let waiting: Vec<String> = self.forwarded.borrow().keys().cloned().collect();
                for req in waiting {
                    self.post(&TabMessage::Sync { req });
                }
            }
            TabMessage::Events { events } => {
                for (event, mut payload) in events {
                    if event == "change" && payload["origin"] == "local" {
                        payload["origin"] = Value::from("tab");
                    }
                    self.listeners.emit(&event, &to_js(&payload));
                }
            }
            TabMessage::Settle {
                id,
                through,
                outcome,
            } => self.listeners.settle(&id, through, &to_js(&outcome)),
            TabMessage::Status { status } if !leader => {
                self.listeners.emit("status", &to_js(&status));
                *self.leader_status.borrow_mut() = Some(status);
            }
            _ => {}
        }
    }

    /// A follower's `sync()`: asks the leader for a cycle and waits for its
    /// report (sent again to a new leader should this one go away).
    pub(super) async fn forward_sync(self: &Rc<Self>) -> Result<JsValue, JsValue> {
        let req = BrowserEnv.new_id();
        let promise = Promise::new(&mut |resolve, reject| {
            self.forwarded
                .borrow_mut()
                .insert(req.clone(), (resolve, reject));
        });
        self.post(&TabMessage::Sync { req });
        JsFuture::from(promise).await
    }

    /// The `sync()` calls waiting for a leader, as `(resolve, reject)`.
    fn take_forwarded(&self) -> Vec<(Function, Function)> {
        let mut forwarded = self.forwarded.borrow_mut();
        forwarded.drain().map(|(_, f)| f).collect()
    }

    /// Rejects the `sync()` calls still waiting for a leader (the tab closes).
    pub(super) fn drop_forwarded(&self) {
        for (_, reject) in self.take_forwarded() {
            let _ = reject.call1(&JsValue::NULL, &JsValue::from(SdkError::Closed));
        }
    }
}
