//! Automatic sync: browser events (`online`, `offline`, `visibilitychange`)
//! and one timer feed the engine's scheduler, which decides when a cycle runs.
//! Listeners hold only a weak reference, so a dropped or closed database stops.
//! Only the leader among the tabs of a database runs them.

use std::{
    cell::{Cell, RefCell},
    rc::{Rc, Weak},
};

use tidesync_engine::{client::Environment, schedule::Action};
use wasm_bindgen::{closure::Closure, JsCast, JsValue};
use web_sys::EventTarget;

use super::{env::BrowserEnv, feed::Feed, inner::Inner};

type Listener = (EventTarget, &'static str, Closure<dyn FnMut()>);

/// The timer, the browser listeners and the live changes feed of one open
/// database.
pub(super) struct Live {
    timer: Cell<Option<i32>>,
    timer_at: Cell<f64>,
    tick: RefCell<Option<Closure<dyn FnMut()>>>,
    listeners: RefCell<Vec<Listener>>,
    /// The live changes feed (see [`Feed`]).
    pub feed: Feed,
}

/// `navigator.onLine` (true where unknown).
pub(super) fn browser_online() -> bool {
    web_sys::window().is_none_or(|w| w.navigator().on_line())
}

/// Whether the page is visible (true outside a document).
pub(super) fn page_visible() -> bool {
    let document = web_sys::window().and_then(|w| w.document());
    document.is_none_or(|d| d.visibility_state() == web_sys::VisibilityState::Visible)
}

impl Live {
    /// Nothing armed yet; `feed` is the database's live changes feed.
    pub fn new(feed: Feed) -> Self {
        Live {
            timer: Cell::new(None),
            timer_at: Cell::new(0.0),
            tick: RefCell::new(None),
            listeners: RefCell::new(Vec::new()),
            feed,
        }
    }

    /// Listens to connectivity and visibility changes (in the leader: the
    /// tab that syncs).
    pub fn install(inner: &Rc<Inner>) {
        inner.live.shutdown();
        let Some(window) = web_sys::window() else {
            return;
        };
        let weak = Rc::downgrade(inner);
        let add = |target: EventTarget, event: &'static str, on: fn(&Inner)| {
            let weak: Weak<Inner> = weak.clone();
            let closure = Closure::<dyn FnMut()>::new(move || {
                if let Some(inner) = weak.upgrade() {
                    on(&inner);
                    Live::reschedule(&inner);
                    inner.emit_status_shared();
                }
            });
            if target
                .add_event_listener_with_callback(event, closure.as_ref().unchecked_ref())
                .is_ok()
            {
                inner
                    .live
                    .listeners
                    .borrow_mut()
                    .push((target, event, closure));
            }
        };
        add(window.clone().into(), "online", |inner| {
            inner.scheduler.borrow_mut().went_online()
        });
        add(window.clone().into(), "offline", |inner| {
            inner.scheduler.borrow_mut().went_offline()
        });
        if let Some(document) = window.document() {
            add(document.into(), "visibilitychange", |inner| {
                inner.scheduler.borrow_mut().visibility(page_visible())
            });
        }
    }

    /// Asks the scheduler what to do now and does it: start a cycle, arm the
    /// timer, or wait for an event.
    pub fn reschedule(inner: &Rc<Inner>) {
        Feed::update(inner);
        if inner.closed.get() || inner.transport.is_none() || !inner.leader.get() {
            return;
        }
        let now = BrowserEnv.now();
        let action = inner.scheduler.borrow().poll(now);
        match action {
            Action::RunNow => {
                inner.live.clear_timer();
                let inner = inner.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    if let Err(error) = inner.sync_cycle().await {
                        if !matches!(error, crate::error::SdkError::Closed) {
                            web_sys::console::warn_1(&JsValue::from(error));
                        }
                    }
                });
            }
            Action::WakeAt(at) => inner.live.arm(inner, at, now),
            Action::Wait => inner.live.clear_timer(),
        }
    }

    fn arm(&self, inner: &Rc<Inner>, at: f64, now: f64) {
        if self.timer.get().is_some() && self.timer_at.get() == at {
            return; // already armed for that time
        }
        self.clear_timer();
        let Some(window) = web_sys::window() else {
            return;
        };
        let weak = Rc::downgrade(inner);
        let tick = Closure::<dyn FnMut()>::new(move || {
            if let Some(inner) = weak.upgrade() {
                inner.live.timer.set(None);
                Live::reschedule(&inner);
            }
        });
        let delay = (at - now).clamp(0.0, f64::from(i32::MAX)) as i32;
        let handle = window.set_timeout_with_callback_and_timeout_and_arguments_0(
            tick.as_ref().unchecked_ref(),
            delay,
        );
        if let Ok(handle) = handle {
            self.timer.set(Some(handle));
            self.timer_at.set(at);
            *self.tick.borrow_mut() = Some(tick);
        }
    }

    fn clear_timer(&self) {
        if let (Some(handle), Some(window)) = (self.timer.take(), web_sys::window()) {
            window.clear_timeout_with_handle(handle);
        }
    }

    /// Stops the timer and removes the listeners.
    pub fn shutdown(&self) {
        self.clear_timer();
        self.feed.stop();
        for (target, event, closure) in self.listeners.borrow_mut().drain(..) {
            let _ =
                target.remove_event_listener_with_callback(event, closure.as_ref().unchecked_ref());
        }
    }
}
