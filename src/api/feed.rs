//! The live changes feed in the leader tab: held open while automatic sync
//! may run (online, visible, not paused), it asks the scheduler for a cycle
//! when another client changed something, so the change arrives within a
//! round trip instead of at the next poll. The engine's
//! [`FeedLadder`] picks the feed and steps it down and up; `feed.js` holds
//! the request and its stall watchdog.

use std::{
    cell::{Cell, RefCell},
    rc::{Rc, Weak},
};

use js_sys::{Object, Promise, Reflect};
use tidesync_engine::{
    client::Environment,
    feed::{
        best_offered, offers, FeedConfig, FeedEvent, FeedLadder, FeedOutcome, FeedReader,
        FeedTransport,
    },
    protocol::wire::{features, Seq},
    store::{LocalStore, META_CHECKPOINT},
};
use wasm_bindgen::{closure::Closure, prelude::*};
use wasm_bindgen_futures::JsFuture;

use super::{env::BrowserEnv, inner::Inner, live::Live};
use crate::{payloads::Transport, transport::open_socket};

#[wasm_bindgen(module = "/src/js/feed.js")]
extern "C" {
    /// `{ done, close }` of one opened feed.
    type FeedHandle;
    #[wasm_bindgen(js_name = openFeed)]
    fn open_feed(
        url: &str,
        init: &Object,
        fetch: &JsValue,
        stall_ms: f64,
        lifetime_ms: f64,
        on_text: &Closure<dyn FnMut(String)>,
    ) -> FeedHandle;
    #[wasm_bindgen(method, getter)]
    fn done(this: &FeedHandle) -> Promise;
    #[wasm_bindgen(method)]
    fn close(this: &FeedHandle);
    #[wasm_bindgen(method)]
    fn fail(this: &FeedHandle);
    fn sleep(ms: f64) -> Promise;
    #[wasm_bindgen(js_name = getText)]
    fn get_text(url: &str, init: &Object, fetch: &JsValue) -> Promise;
}

/// The feed of one open database.
pub(super) struct Feed {
    enabled: bool,
    ladder: RefCell<FeedLadder>,
    open: RefCell<Option<FeedHandle>>,
    running: Cell<bool>,
    /// Where the next feed resumes: the last row or end it reported.
    since: RefCell<Option<Seq>>,
    /// What `status()` shows as `transport`.
    shown: Cell<Option<FeedTransport>>,
    /// Whether the server's welcome was read for the feeds it offers.
    negotiated: Cell<bool>,
}

impl Feed {
    /// A feed; `enabled: false` leaves interval polling only.
    pub fn new(enabled: bool, config: FeedConfig) -> Self {
        Feed {
            enabled,
            ladder: RefCell::new(FeedLadder::new(config)),
            open: RefCell::new(None),
            running: Cell::new(false),
            since: RefCell::new(None),
            shown: Cell::new(None),
            negotiated: Cell::new(false),
        }
    }

    /// The transport `status()` reports: `stream`, `longpoll` or `poll` while
    /// automatic sync runs here, `none` otherwise.
    pub fn transport(&self) -> Transport {
        self.shown.get().into()
    }

    /// Opens the feed when it should run and does not, closes it when it
    /// should not run; called whenever the scheduler's inputs change.
    pub fn update(inner: &Rc<Inner>) {
        let feed = &inner.live.feed;
        if !wanted(inner) {
            feed.stop();
            let shown = (!inner.closed.get() && inner.leader.get() && live(inner))
                .then_some(FeedTransport::Poll);
            feed.show(inner, shown);
            return;
        }
        if !feed.enabled {
            feed.show(inner, Some(FeedTransport::Poll));
            return;
        }
        if !feed.running.replace(true) {
            wasm_bindgen_futures::spawn_local(run(Rc::downgrade(inner)));
        }
    }

    /// Closes the open feed, if any (its loop ends at its next check).
    pub fn stop(&self) {
        if let Some(handle) = self.open.borrow_mut().take() {
            handle.close();
        }
    }

    fn show(&self, inner: &Rc<Inner>, transport: Option<FeedTransport>) {
        if self.shown.replace(transport) != transport {
            inner.emit_status_shared();
        }
    }
}

/// Automatic sync is on for this instance (live, with a remote, leading).
fn live(inner: &Inner) -> bool {
    inner.transport.is_some() && inner.scheduler.borrow().feed_wanted()
}

/// Whether a feed should be open now: leading, open, live, the remote
/// database known to exist (the first cycle checks it).
fn wanted(inner: &Inner) -> bool {
    !inner.closed.get() && inner.leader.get() && inner.remote_known.get() && live(inner)
}

/// The feed loop: open the feed the ladder says, read it, tell the ladder
/// how it ended, wait as it says, again, while the feed is wanted.
async fn run(weak: Weak<Inner>) {
    while let Some(inner) = weak.upgrade() {
        if !wanted(&inner) {
            break;
        }
        if !inner.live.feed.negotiated.replace(true) {
            negotiate(&inner).await;
        }
        let now = BrowserEnv.now();
        let transport = inner.live.feed.ladder.borrow_mut().transport(now);
        inner.live.feed.show(&inner, Some(transport));
        if transport == FeedTransport::Poll {
            // Interval polling until the ladder tries a feed again.
            inner.scheduler.borrow_mut().set_feed_open(false);
            Live::reschedule(&inner);
            let at = inner
                .live
                .feed
                .ladder
                .borrow()
                .step_up_at()
                .unwrap_or(now + 60_000.0);
            drop(inner);
            let _ = JsFuture::from(sleep((at - now).max(1_000.0))).await;
            continue;
        }
        let (outcome, wait) = read_one(&inner, transport).await;
        if outcome == "closed" {
            break;
        }
        if wait > 0.0 {
            inner.scheduler.borrow_mut().set_feed_open(false);
            Live::reschedule(&inner);
            drop(inner);
            let _ = JsFuture::from(sleep(wait)).await;
        }
    }
    if let Some(inner) = weak.upgrade() {
        inner.live.feed.running.set(false);
        inner.scheduler.borrow_mut().set_feed_open(false);
        Live::reschedule(&inner);
    }
}

/// Reads the server's welcome (`GET /` beside the database) once, for the
/// best feed it offers; a server that does not answer keeps the default.
async fn negotiate(inner: &Rc<Inner>) {
    let Some(transport) = &inner.transport else {
        return;
    };
    let Some((url, init)) = transport.root_target() else {
        return;
    };
    let welcome = JsFuture::from(get_text(&url, &init, &transport.feed_fetch())).await;
    if let Some(text) = welcome.ok().and_then(|t| t.as_string()) {
        inner
            .live
            .feed
            .ladder
            .borrow_mut()
            .offered(best_offered(&text));
        if offers(&text, features::SESSIONS) {
            if let Some(transport) = &inner.transport {
                transport.name_client(BrowserEnv.new_id());
            }
        }
    }
}

/// Opens one feed of `transport` and reads it to its end; returns how it
/// ended (as `feed.js` says) and how long to wait before the next.
async fn read_one(inner: &Rc<Inner>, transport: FeedTransport) -> (String, f64) {
    let feed = &inner.live.feed;
    let resume = feed.since.borrow().clone();
    let since = match resume {
        Some(since) => Some(since),
        None => inner
            .client
            .store()
            .get_meta(META_CHECKPOINT)
            .await
            .ok()
            .flatten()
            .map(Seq),
    };
    let ladder = feed.ladder.borrow().clone();
    let now = BrowserEnv.now();
    let lifetime = ladder
        .lifetime_ms(transport, now)
        .map_or(0.0, |ms| ms + 1_000.0);
    let target = ladder
        .request(transport, since.as_ref(), now)
        .and_then(|request| inner.transport.as_ref()?.feed_target(&request));
    let Some((url, init)) = target else {
        return ("closed".into(), 0.0);
    };
    let fetch = inner
        .transport
        .as_ref()
        .map_or(JsValue::UNDEFINED, |t| t.feed_fetch());
    let reader = Rc::new(RefCell::new(FeedReader::new(transport)));
    let on_text = {
        let weak = Rc::downgrade(inner);
        let reader = reader.clone();
        Closure::<dyn FnMut(String)>::new(move |text: String| {
            let Some(inner) = weak.upgrade() else {
                return;
            };
            inner.live.feed.ladder.borrow_mut().on_data();
            let events = reader.borrow_mut().push(&text);
            heard(&inner, events);
        })
    };
    let socket = (transport == FeedTransport::Socket).then(|| {
        // Browsers send no custom headers on a WebSocket: the credentials
        // go as a subprotocol (a cookie goes by itself).
        let authorization = inner.transport.as_ref().and_then(|t| t.authorization());
        let socket = open_socket(&url, ladder.stall_ms(), &on_text, authorization);
        if let Some(http) = &inner.transport {
            http.use_socket(Some(socket.clone()));
        }
        socket
    });
    let handle = match &socket {
        Some(socket) => socket.clone().unchecked_into::<FeedHandle>(),
        None => open_feed(&url, &init, &fetch, ladder.stall_ms(), lifetime, &on_text),
    };
    let done = handle.done();
    *feed.open.borrow_mut() = Some(handle);
    inner.scheduler.borrow_mut().set_feed_open(true);
    Live::reschedule(inner);
    let result = JsFuture::from(done).await.unwrap_or(JsValue::UNDEFINED);
    feed.open.borrow_mut().take();
    if socket.is_some() {
        if let Some(http) = &inner.transport {
            http.use_socket(None);
        }
    }
    let outcome = Reflect::get(&result, &"outcome".into())
        .ok()
        .and_then(|o| o.as_string())
        .unwrap_or_else(|| "failed".into());
    let mut kind = match outcome.as_str() {
        "ended" => FeedOutcome::Ended,
        "stalled" => FeedOutcome::Stalled,
        "silent" => FeedOutcome::Silent,
        "refused" => FeedOutcome::Refused,
        "closed" => return (outcome, 0.0),
        _ => FeedOutcome::Failed,
    };
    if kind == FeedOutcome::Ended {
        let rest = reader.borrow_mut().finish();
        if rest.is_err() {
            kind = FeedOutcome::Failed;
        }
        heard(inner, rest);
    }
    let wait = feed
        .ladder
        .borrow_mut()
        .on_outcome(kind, BrowserEnv.now(), js_sys::Math::random());
    (outcome, wait)
}

/// Takes what a feed said: remembers where to resume, and asks for a cycle
/// when a document changed to a revision this database does not hold yet
/// (its own pushes come back through the feed too).
fn heard(inner: &Rc<Inner>, events: Result<Vec<FeedEvent>, impl std::fmt::Display>) {
    let events = match events {
        Ok(events) => events,
        Err(error) => {
            // An unreadable feed: end it as failed.
            web_sys::console::warn_1(&JsValue::from_str(&error.to_string()));
            if let Some(handle) = inner.live.feed.open.borrow().as_ref() {
                handle.fail();
            }
            return;
        }
    };
    let mut changed = Vec::new();
    for event in events {
        match event {
            FeedEvent::Change { id, revs, seq } => {
                *inner.live.feed.since.borrow_mut() = Some(seq);
                changed.push((id, revs));
            }
            FeedEvent::Ended { last_seq } => {
                *inner.live.feed.since.borrow_mut() = Some(last_seq);
            }
            FeedEvent::Heartbeat => {}
        }
    }
    if changed.is_empty() {
        return;
    }
    let inner = inner.clone();
    wasm_bindgen_futures::spawn_local(async move {
        for (id, revs) in changed {
            let held = inner.client.get(&id).await.ok().flatten();
            let rev = held.and_then(|doc| doc.rev).map(|rev| rev.to_string());
            if !rev.is_some_and(|rev| revs.contains(&rev)) {
                inner.scheduler.borrow_mut().request_now();
                Live::reschedule(&inner);
                return;
            }
        }
    });
}
