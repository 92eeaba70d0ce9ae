//! The listener registry and the promises of pending writes.
//!
//! JS is never called while a Rust borrow is held: listeners and resolvers are
//! copied out of their `RefCell` first, so a callback may call back into the
//! SDK (even `on()` or `close()`) safely. A throwing callback is reported to the
//! console and does not break sync.

use std::{
    cell::{Cell, RefCell},
    collections::HashMap,
};

use js_sys::Function;
use wasm_bindgen::JsValue;

/// The events `on()` accepts.
pub const EVENTS: &[&str] = &["change", "conflict", "status", "error", "resolved"];

/// Listeners by event name, each with an id for unsubscribing.
#[derive(Debug, Default)]
pub struct Listeners {
    next: Cell<u32>,
    by_event: RefCell<HashMap<String, Vec<(u32, Function)>>>,
    /// `synced` promises by document, each with the version of its write.
    waiters: RefCell<HashMap<String, Vec<(u64, Function)>>>,
}

impl Listeners {
    /// Adds a listener; returns its id.
    pub fn add(&self, event: &str, callback: Function) -> u32 {
        let id = self.next.get() + 1;
        self.next.set(id);
        self.by_event
            .borrow_mut()
            .entry(event.to_owned())
            .or_default()
            .push((id, callback));
        id
    }

    /// Removes a listener; removing twice is harmless.
    pub fn remove(&self, event: &str, id: u32) {
        if let Some(list) = self.by_event.borrow_mut().get_mut(event) {
            list.retain(|(i, _)| *i != id);
        }
    }

    /// Whether anyone listens to `event` (to skip building unused payloads).
    pub fn has(&self, event: &str) -> bool {
        self.by_event
            .borrow()
            .get(event)
            .is_some_and(|l| !l.is_empty())
    }

    /// Calls every listener of `event` with `payload`.
    pub fn emit(&self, event: &str, payload: &JsValue) {
        let callbacks: Vec<Function> = self
            .by_event
            .borrow()
            .get(event)
            .map(|l| l.iter().map(|(_, f)| f.clone()).collect())
            .unwrap_or_default();
        for callback in callbacks {
            if let Err(error) = callback.call1(&JsValue::NULL, payload) {
                web_sys::console::error_2(&JsValue::from_str("tidesync: a listener threw"), &error);
            }
        }
    }

    /// Registers the resolver of a write's `synced` promise; `version` is the
    /// version of the outbox message that holds the write.
    pub fn wait(&self, id: &str, version: u64, resolve: Function) {
        self.waiters
            .borrow_mut()
            .entry(id.to_owned())
            .or_default()
            .push((version, resolve));
    }

    /// Resolves the waiting `synced` promises of document `id` whose write is
    /// at most version `through` (all of them when `None`); later writes keep
    /// waiting for their own push.
    pub fn settle(&self, id: &str, through: Option<u64>, outcome: &JsValue) {
        let due: Vec<Function> = {
            let mut waiters = self.waiters.borrow_mut();
            let Some(list) = waiters.get_mut(id) else {
                return;
            };
            let (due, keep): (Vec<_>, Vec<_>) = list
                .drain(..)
                .partition(|(version, _)| through.is_none_or(|t| *version <= t));
            if keep.is_empty() {
                waiters.remove(id);
            } else {
                *list = keep;
            }
            due.into_iter().map(|(_, resolve)| resolve).collect()
        };
        for resolve in due {
            let _ = resolve.call1(&JsValue::NULL, outcome);
        }
    }
}
