//! Live queries: `subscribe(query, callback)` hands the callback what
//! `all(query)` returns now, and again after every change that may alter it
//! (a local write, another tab's, a pull, the end of a sync cycle, which may
//! have turned pending documents synced), until the app unsubscribes.
//!
//! The query is re-read rather than patched: IndexedDB is the one truth that
//! every tab writes, and a page query reads about its own size. Changes that
//! arrive while a read runs are folded into one more read, so a bulk write of
//! 10 000 documents costs two reads, not 10 000.

use std::{cell::RefCell, rc::Rc, rc::Weak};

use js_sys::{Function, Reflect};
use tidesync_engine::{error::StoreError, store::DocQuery};
use wasm_bindgen::{prelude::*, JsCast};
use wasm_bindgen_futures::spawn_local;

use super::{args::query_of, inner::Inner, Tidesync};
use crate::error::SdkError;

/// Where a live query stands.
#[derive(Debug, Default)]
struct State {
    /// A read runs.
    running: bool,
    /// Something changed since the running read started.
    dirty: bool,
    /// Unsubscribed (or the database closed): no more reads, no more calls.
    closed: bool,
    /// The sync state the last `status` event named.
    sync_state: Option<String>,
}

/// One subscription.
struct LiveQuery {
    inner: Weak<Inner>,
    query: DocQuery,
    callback: Function,
    state: RefCell<State>,
}

impl LiveQuery {
    /// Reads the query again, now or once the running read ends.
    fn refresh(self: &Rc<Self>) {
        let mut state = self.state.borrow_mut();
        if state.closed {
            return;
        }
        if state.running {
            state.dirty = true;
            return;
        }
        state.running = true;
        drop(state);
        let live = self.clone();
        spawn_local(async move { live.run().await });
    }

    /// Reads and calls back until no change is left unread.
    async fn run(&self) {
        loop {
            self.state.borrow_mut().dirty = false;
            let Some(inner) = self.inner.upgrade() else {
                break;
            };
            let result = inner.client.store().visible_docs(&self.query).await;
            drop(inner);
            if self.state.borrow().closed {
                break;
            }
            match result {
                Ok(docs) => {
                    if let Err(error) = self.callback.call1(&JsValue::NULL, &docs) {
                        web_sys::console::error_2(
                            &"tidesync: a subscribe() callback threw".into(),
                            &error,
                        );
                    }
                }
                Err(error) => {
                    // A closed database reads no more: the subscription ends,
                    // quietly when it was closed on purpose.
                    if error != StoreError::Closed {
                        let error: JsValue = SdkError::from(error).into();
                        web_sys::console::error_2(&"tidesync: a live query stopped".into(), &error);
                    }
                    self.state.borrow_mut().closed = true;
                    break;
                }
            }
            if !self.state.borrow().dirty {
                break;
            }
        }
        self.state.borrow_mut().running = false;
    }

    /// True when a `change` event may alter the results: its id is in the
    /// query's range (an event without one always counts).
    fn concerns(&self, change: &JsValue) -> bool {
        Reflect::get(change, &"id".into())
            .ok()
            .and_then(|id| id.as_string())
            .is_none_or(|id| self.query.has_id(&id))
    }
}

/// A listener closure handed to the registry, as a JS function.
fn listener(live: &Rc<LiveQuery>, on: fn(&Rc<LiveQuery>, JsValue)) -> Function {
    let live = live.clone();
    Closure::<dyn Fn(JsValue)>::new(move |payload| on(&live, payload))
        .into_js_value()
        .unchecked_into()
}

#[wasm_bindgen]
impl Tidesync {
    /// Keeps a query current: calls `callback` with what `all(options)`
    /// returns now, and again after each change that may alter it (local,
    /// another tab's, pulled, or the end of a sync cycle). Returns the
    /// function that unsubscribes. Bad options are `invalid_options`, a
    /// callback that is not a function `invalid_listener`, both thrown at once.
    #[wasm_bindgen(unchecked_return_type = "() => void")]
    pub fn subscribe(
        &self,
        #[wasm_bindgen(unchecked_param_type = "AllOptions | undefined")] options: JsValue,
        #[wasm_bindgen(unchecked_param_type = "(docs: Doc[]) => void")] callback: JsValue,
    ) -> Result<Function, JsValue> {
        let query = query_of(&options)?;
        let Some(callback) = callback.dyn_ref::<Function>() else {
            return Err(SdkError::InvalidListener("the callback must be a function".into()).into());
        };
        let live = Rc::new(LiveQuery {
            inner: Rc::downgrade(&self.inner),
            query,
            callback: callback.clone(),
            state: RefCell::new(State::default()),
        });
        let on_change = listener(&live, |live, change| {
            if live.concerns(&change) {
                live.refresh();
            }
        });
        // A cycle that ends (the state turns `idle`) may have changed
        // statuses and revisions, which raise no `change` event. Other
        // status events (a pending count that moved with a write) do not
        // re-read: the write's own `change` event does.
        let on_status = listener(&live, |live, status| {
            let state = Reflect::get(&status, &"state".into())
                .ok()
                .and_then(|s| s.as_string());
            let before = live
                .state
                .borrow_mut()
                .sync_state
                .replace(state.clone().unwrap_or_default());
            if state.as_deref() == Some("idle") && before.as_deref() != Some("idle") {
                live.refresh();
            }
        });
        let listeners = &self.inner.listeners;
        let ids = [
            ("change", listeners.add("change", on_change)),
            ("status", listeners.add("status", on_status)),
        ];
        live.refresh();
        let weak = Rc::downgrade(&self.inner);
        let unsubscribe = Closure::<dyn Fn()>::new(move || {
            live.state.borrow_mut().closed = true;
            if let Some(inner) = weak.upgrade() {
                for (event, id) in ids {
                    inner.listeners.remove(event, id);
                }
            }
        });
        Ok(unsubscribe.into_js_value().unchecked_into())
    }
}
