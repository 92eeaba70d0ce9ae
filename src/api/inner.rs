//! The state behind a `Tidesync` handle: the engine client, the transport, the
//! listener registry, the scheduler, and the sync cycle that ties them together.

use std::{
    cell::{Cell, RefCell},
    rc::Rc,
};

use futures::lock::Mutex;
use js_sys::{Function, Promise, Reflect};
use serde::Serialize;
use tidesync_engine::{
    client::{Client, Environment, Written},
    event::{Event, Settlement},
    model::{ConflictRecord, DocStatus},
    schedule::Scheduler,
    sync::{IssueCode, SyncIssue, SyncReport},
};
use wasm_bindgen::JsValue;

use super::{
    env::BrowserEnv,
    listeners::Listeners,
    live::Live,
    tabs::{Forwarded, TabLink, TabMessage},
};
use crate::{
    convert::to_js,
    error::SdkError,
    idb::IdbStore,
    payloads::{
        ChangeEvent, Conflict, ErrorEvent, ResolvedEvent, Status, SyncOutcome, WriteResult,
    },
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
    /// Milliseconds the `resolver` and `auth` callbacks may take.
    pub callback_timeout_ms: u32,
    /// Conflicts waiting for the app's resolver (their `conflict` event is
    /// held back until the resolver and the policy declined them).
    pub deferred: RefCell<Vec<ConflictRecord>>,
    /// The link to the other tabs of this database.
    pub link: TabLink,
    /// True while this tab is the one that syncs the database.
    pub leader: Cell<bool>,
    /// The leader's last status, for a follower's `status()`.
    pub leader_status: RefCell<Option<serde_json::Value>>,
    /// This follower's `sync()` calls waiting for the leader's report.
    pub forwarded: RefCell<Forwarded>,
    /// True once another tab of this database was heard from: until then a
    /// leader keeps its events to itself (no one else listens).
    pub peers_seen: Cell<bool>,
    /// The `put`s waiting to be written together (group commit).
    pub puts: super::group::PutGroup,
    /// When pulled attachments' bytes are downloaded.
    pub attachment_mode: super::options::AttachmentMode,
    /// Documents pulled since the last eager download of attachments.
    pub pulled: RefCell<Vec<String>>,
}

impl Drop for Inner {
    /// A database dropped without `close()` (freed by the app, or by a
    /// `using` block) still hands leadership on.
    fn drop(&mut self) {
        self.link.close();
    }
}

impl Inner {
    /// Emits a write's events, tells the scheduler, and builds
    /// `{ id, rev, status, synced }`.
    pub async fn written(self: &Rc<Self>, written: Written) -> JsValue {
        let (result, queued) = self.result_of(written).await;
        self.announce(queued).await;
        result
    }

    /// Tells the scheduler (or, in a follower, the leader) that writes were
    /// queued, and the status listeners what is pending now: once per call
    /// of the API, however many documents it wrote.
    pub async fn announce(self: &Rc<Self>, queued: bool) {
        if queued {
            if self.leader.get() {
                self.scheduler.borrow_mut().local_write(BrowserEnv.now());
                Live::reschedule(self);
            } else {
                self.post(&TabMessage::Wrote);
            }
        }
        self.emit_status().await;
    }

    /// Emits one write's events and builds `{ id, rev, status, synced }`;
    /// also says whether the write waits in the outbox.
    pub async fn result_of(self: &Rc<Self>, (outcome, events): Written) -> (JsValue, bool) {
        let id = outcome.id.clone();
        let result = to_js(&WriteResult {
            id: id.clone(),
            rev: outcome.rev.clone(),
            status: outcome.status,
            synced: (),
        });
        if !outcome.queued && outcome.status != DocStatus::Conflicted {
            // Earlier writes whose change was dropped before reaching the server
            // (discarded, or a never-pushed document deleted) settle now.
            self.settle(&id, None, SyncOutcome::Discarded);
        }
        let synced = if outcome.queued {
            let inner = self.clone();
            let key = id.clone();
            let version = outcome.version;
            Promise::new(&mut |resolve, _reject| inner.listeners.wait(&key, version, resolve))
        } else if outcome.status == DocStatus::Conflicted {
            let conflicts = self.client.conflicts().await.unwrap_or_default();
            let conflict = conflicts.into_iter().find(|c| c.id == id);
            Promise::resolve(&match conflict {
                Some(conflict) => to_js(&SyncOutcome::Conflict {
                    conflict: conflict.into(),
                }),
                // Resolved meanwhile (by another tab): the write's change is
                // gone, replaced by the resolution.
                None => to_js(&SyncOutcome::Discarded),
            })
        } else {
            Promise::resolve(&to_js(&SyncOutcome::Accepted {
                rev: outcome.rev.clone(),
            }))
        };
        let _ = Reflect::set(&result, &JsValue::from_str("synced"), &synced);
        self.emit(events);
        (result, outcome.queued)
    }

    /// Settles the `synced` promises of `id` (up to version `through`) in
    /// every tab: a follower's write is settled by the leader's push.
    pub fn settle(&self, id: &str, through: Option<u64>, outcome: SyncOutcome) {
        let outcome = to_value(&outcome);
        self.listeners.settle(id, through, &to_js(&outcome));
        self.share(&TabMessage::Settle {
            id: id.to_owned(),
            through,
            outcome,
        });
    }

    /// Emits an event to this tab's listeners and to every other tab's.
    pub fn publish<T: Serialize>(&self, event: &str, payload: &T) {
        let payload = to_value(payload);
        self.listeners.emit(event, &to_js(&payload));
        self.share(&TabMessage::Events {
            events: vec![(event.to_owned(), payload)],
        });
    }

    /// Hands engine events to the listeners and pending promises of every
    /// tab; other tabs see this tab's local changes with origin `tab`.
    pub fn emit(&self, events: Vec<Event>) {
        let mut out: Vec<(String, serde_json::Value)> = Vec::new();
        for event in events {
            match event {
                Event::Conflict { conflict } if self.resolver.is_some() => {
                    self.deferred.borrow_mut().push(conflict);
                }
                Event::Conflict { conflict } => {
                    out.push(("conflict".into(), to_value(&Conflict::from(conflict))))
                }
                Event::Change {
                    id,
                    origin,
                    deleted,
                    doc,
                } => {
                    let event = ChangeEvent::new(id, origin, deleted, doc);
                    out.push(("change".into(), to_value(&event)));
                }
                Event::Resolved {
                    id,
                    strategy,
                    clashes,
                } => {
                    let event = ResolvedEvent::new(id, strategy, clashes);
                    out.push(("resolved".into(), to_value(&event)));
                }
                Event::Settled {
                    id,
                    through,
                    settlement,
                } => {
                    if let Settlement::Rejected { error } = &settlement {
                        let event = ErrorEvent::rejected(&id, error);
                        out.push(("error".into(), to_value(&event)));
                    }
                    self.settle(&id, through, settlement.into());
                }
            }
        }
        if out.is_empty() {
            return;
        }
        for (event, payload) in &out {
            if self.listeners.has(event) {
                self.listeners.emit(event, &to_js(payload));
            }
        }
        self.share(&TabMessage::Events { events: out });
    }

    /// `{ state, pending, conflicts, lastSyncAt, lastError, nextRetryAt,
    /// transport }`. A
    /// follower reports the leader's sync state with its own counts (they
    /// read the same database).
    pub async fn status(&self) -> Result<serde_json::Value, SdkError> {
        let pending = self.client.pending_count().await?;
        let conflicts = self.client.conflicts().await?.len();
        let scheduler = self.scheduler.borrow();
        let mut snapshot = to_value(&Status {
            state: scheduler.state(),
            pending: usize::try_from(pending).unwrap_or(usize::MAX),
            conflicts,
            last_sync_at: scheduler.last_sync_at(),
            last_error: scheduler.last_error().cloned(),
            next_retry_at: scheduler.next_retry_at(),
            transport: self.live.feed.transport(),
        });
        if !self.leader.get() {
            if let Some(leader) = &*self.leader_status.borrow() {
                for key in [
                    "state",
                    "lastSyncAt",
                    "lastError",
                    "nextRetryAt",
                    "transport",
                ] {
                    snapshot[key] = leader[key].clone();
                }
            }
        }
        Ok(snapshot)
    }

    /// Emits a `status` event to this tab's listeners, when any listen.
    pub async fn emit_status(&self) {
        if !self.listeners.has("status") || self.closed.get() {
            return;
        }
        match self.status().await {
            Ok(status) => self.listeners.emit("status", &to_js(&status)),
            Err(error) => web_sys::console::warn_1(&JsValue::from(error)),
        }
    }

    /// The leader's status changed: emits it here and to every other tab.
    pub async fn share_status(&self) {
        if self.closed.get() || !self.leader.get() {
            return;
        }
        match self.status().await {
            Ok(status) => {
                if self.listeners.has("status") {
                    self.listeners.emit("status", &to_js(&status));
                }
                self.share(&TabMessage::Status { status });
            }
            Err(error) => web_sys::console::warn_1(&JsValue::from(error)),
        }
    }

    /// [`share_status`](Self::share_status) from code that cannot await it.
    pub fn emit_status_shared(self: &Rc<Self>) {
        let inner = self.clone();
        wasm_bindgen_futures::spawn_local(async move { inner.share_status().await });
    }

    /// `sync()`: a cycle here when this tab leads, else the leader's.
    pub async fn sync_now(self: &Rc<Self>) -> Result<JsValue, JsValue> {
        if self.transport.is_none() {
            return Err(SdkError::NoRemote.into());
        }
        if self.leader.get() {
            return Ok(to_js(&self.sync_cycle().await?));
        }
        self.forward_sync().await
    }

    /// One sync cycle, manual or automatic, in the leader. Cycles run one at a
    /// time under `sync_lock`; the app's callbacks (resolver, auth) run after
    /// it is released, so they may call back into the API, even `sync()`.
    pub async fn sync_cycle(self: &Rc<Self>) -> Result<SyncReport, SdkError> {
        let report = self.locked_cycle().await?;
        let failures: Vec<&SyncIssue> = report
            .errors
            .iter()
            .filter(|e| e.code != IssueCode::Rejected)
            .collect();
        for issue in &failures {
            self.publish("error", &ErrorEvent::from(*issue));
        }
        let unauthorized = failures.iter().any(|e| e.code == IssueCode::Unauthorized);
        let failed = !failures.is_empty();
        if self.run_resolver().await {
            self.scheduler.borrow_mut().request_now();
        }
        self.prefetch_attachments().await;
        if unauthorized && !self.auth_tried.replace(true) && self.refresh_auth().await {
            self.scheduler.borrow_mut().request_now();
        } else if !failed {
            self.auth_tried.set(false);
        }
        self.share_status().await;
        Live::reschedule(self);
        Ok(report)
    }

    /// The part of a cycle that holds `sync_lock`: storage and network only.
    async fn locked_cycle(self: &Rc<Self>) -> Result<SyncReport, SdkError> {
        let transport = self.transport.as_ref().ok_or(SdkError::NoRemote)?;
        let _guard = self.sync_lock.lock().await;
        if self.closed.get() {
            return Err(SdkError::Closed);
        }
        self.scheduler.borrow_mut().cycle_started(BrowserEnv.now());
        self.share_status().await;
        let run = self
            .client
            .sync(transport, &BrowserEnv, self.remote_known.get(), |events| {
                self.note_pulled(&events);
                self.emit(events)
            });
        let report = match run.await {
            Ok((report, remote_ready)) => {
                self.remote_known.set(remote_ready);
                report
            }
            Err(error) => SyncReport {
                errors: vec![SyncIssue {
                    code: IssueCode::Local(error.code()),
                    message: error.to_string(),
                    id: None,
                    status: None,
                    retry_after_ms: None,
                }],
                ..SyncReport::default()
            },
        };
        self.scheduler
            .borrow_mut()
            .cycle_ended(&report, BrowserEnv.now(), js_sys::Math::random());
        Ok(report)
    }

    /// Stops this instance: no new calls, automatic sync off, a running
    /// request aborted and its cycle finished, leadership handed on, the
    /// connection closed. Safe to call twice.
    pub async fn shut_down(self: &Rc<Self>) {
        self.closed.set(true);
        self.live.shutdown();
        if let Some(transport) = &self.transport {
            transport.abort();
        }
        let _guard = self.sync_lock.lock().await;
        self.link.close();
        self.leader.set(false);
        self.drop_forwarded();
        self.client.store().close();
    }
}

/// A payload as the JSON value the tabs' messages carry.
fn to_value<T: Serialize + ?Sized>(payload: &T) -> serde_json::Value {
    serde_json::to_value(payload).unwrap_or(serde_json::Value::Null)
}
