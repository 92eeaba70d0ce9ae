//! The fetch transport: performs the engine's [`HttpRequest`]s against the remote
//! database URL, with a timeout on every request (AbortController), so a hung
//! request never stalls sync.

use std::{
    cell::{Cell, RefCell},
    collections::BTreeMap,
};

use js_sys::Promise;
use tidesync_engine::{
    client::Transport,
    http::{HttpRequest, HttpResponse, TransportError},
};
use wasm_bindgen::{closure::Closure, prelude::wasm_bindgen, JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Headers, Request, RequestCredentials, RequestInit, Response};

#[wasm_bindgen(module = "/src/js/socket.js")]
extern "C" {
    /// The database's WebSocket (`socket.js`): the live feed, and the way
    /// requests go while it is open.
    #[derive(Clone, Debug)]
    pub type SocketHandle;
    /// Opens the socket at `url` (an `http(s)` URL of `/{db}/_socket`).
    #[wasm_bindgen(js_name = openSocket)]
    pub fn open_socket(
        url: &str,
        stall_ms: f64,
        on_text: &Closure<dyn FnMut(String)>,
        authorization: Option<String>,
    ) -> SocketHandle;
    #[wasm_bindgen(method, js_name = isOpen)]
    fn is_open(this: &SocketHandle) -> bool;
    #[wasm_bindgen(method)]
    fn request(
        this: &SocketHandle,
        method: &str,
        path: &str,
        query: &js_sys::Object,
        body: Option<String>,
        timeout_ms: u32,
    ) -> Promise;
}

/// How requests reach the network: the app's own `fetch` (an option of
/// `open()`, for apps that sign requests or route them) or the global one,
/// with the `credentials` mode the app chose, so a cookie session works
/// across origins (`include`) and no cookie leaks where it must not (`omit`).
#[derive(Debug, Clone)]
pub struct Fetcher {
    credentials: RequestCredentials,
    custom: Option<js_sys::Function>,
}

impl Fetcher {
    /// A fetcher sending `credentials` (`omit`, `same-origin`, `include`)
    /// through `custom`, or through the global `fetch` when it is `None`.
    pub fn new(credentials: RequestCredentials, custom: Option<js_sys::Function>) -> Self {
        Fetcher {
            credentials,
            custom,
        }
    }

    /// A fresh request init carrying the credentials mode.
    fn init(&self) -> RequestInit {
        let fresh = RequestInit::new();
        fresh.set_credentials(self.credentials);
        fresh
    }

    /// Starts `request`: the app's `fetch` when it gave one (whatever it
    /// returns is awaited as a promise of a `Response`), else the global one.
    fn fetch(&self, request: &Request) -> Result<Promise, JsValue> {
        match &self.custom {
            Some(custom) => {
                let answer = custom.call1(&JsValue::NULL, request)?;
                Ok(Promise::resolve(&answer))
            }
            None => fetch(request),
        }
    }

    /// The init members (`headers`, `credentials`) of a request made in JS
    /// (the live feed, the welcome).
    fn js_init(&self, headers: js_sys::Object) -> js_sys::Object {
        let init = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&init, &"headers".into(), &headers);
        let mode = match self.credentials {
            RequestCredentials::Omit => "omit",
            RequestCredentials::Include => "include",
            _ => "same-origin",
        };
        let _ = js_sys::Reflect::set(&init, &"credentials".into(), &mode.into());
        init
    }

    /// One JSON request outside a database's sync (signing in and out): the
    /// status, the body text and the `Retry-After` delay in ms, or why no
    /// answer came within `timeout_ms`.
    pub async fn send(
        &self,
        method: &str,
        url: &str,
        body: Option<&str>,
        timeout_ms: u32,
    ) -> Result<(u16, String, Option<f64>), TransportError> {
        let attempt = async {
            let init = self.init();
            init.set_method(method);
            let headers = Headers::new()?;
            headers.set("Accept", "application/json")?;
            if let Some(body) = body {
                headers.set("Content-Type", "application/json")?;
                init.set_body(&JsValue::from_str(body));
            }
            init.set_headers(&headers);
            let controller = AbortController::new()?;
            init.set_signal(Some(&controller.signal()));
            let request = Request::new_with_str_and_init(url, &init)?;
            let abort = Closure::once(move || controller.abort());
            let timer = set_timeout(&abort, timeout_ms)?;
            let result = async {
                let response: Response = JsFuture::from(self.fetch(&request)?).await?.dyn_into()?;
                let text = JsFuture::from(response.text()?).await?;
                Ok::<_, JsValue>((response, text.as_string().unwrap_or_default()))
            }
            .await;
            clear_timeout(timer);
            let (response, text) = result?;
            let retry_after = response
                .headers()
                .get("Retry-After")
                .ok()
                .flatten()
                .and_then(|v| retry_after_ms(&v));
            Ok::<_, JsValue>((response.status(), text, retry_after))
        };
        attempt
            .await
            .map_err(|error| transport_error(&error, timeout_ms))
    }

    /// The app's `fetch`, or `undefined` for the global one (for JS callers).
    pub fn custom_js(&self) -> JsValue {
        self.custom
            .clone()
            .map_or(JsValue::UNDEFINED, JsValue::from)
    }
}

/// Talks to one remote database.
#[derive(Debug)]
pub struct FetchTransport {
    /// The database URL without a trailing slash.
    base: String,
    /// Extra headers (authorisation) sent with every request; the app's
    /// `auth` callback may replace them.
    headers: RefCell<BTreeMap<String, String>>,
    /// False while the app forces the SDK offline.
    enabled: Cell<bool>,
    /// Milliseconds before a request is aborted.
    timeout_ms: u32,
    /// The controller of the request in the air, so closing can abort it.
    current: RefCell<Option<AbortController>>,
    /// The id this client gives on `_changes` requests, to a server that
    /// lists who syncs (its welcome names the `sessions` feature).
    client: RefCell<Option<String>>,
    /// The database's socket while it is open: requests go through it.
    socket: RefCell<Option<SocketHandle>>,
    /// Which `fetch`, with which credentials mode.
    fetcher: Fetcher,
}

impl FetchTransport {
    /// A transport for the database at `remote`.
    pub fn new(
        remote: &str,
        headers: BTreeMap<String, String>,
        timeout_ms: u32,
        fetcher: Fetcher,
    ) -> Self {
        FetchTransport {
            fetcher,
            base: remote.trim_end_matches('/').to_owned(),
            headers: RefCell::new(headers),
            enabled: Cell::new(true),
            timeout_ms,
            current: RefCell::new(None),
            client: RefCell::new(None),
            socket: RefCell::new(None),
        }
    }

    /// Sends requests through `socket` while it is open (`None`: by fetch).
    pub fn use_socket(&self, socket: Option<SocketHandle>) {
        *self.socket.borrow_mut() = socket;
    }

    /// Names this client on its `_changes` requests from now on (a
    /// `client_id` parameter, which keeps a cross-origin `GET` free of a
    /// CORS preflight).
    pub fn name_client(&self, id: String) {
        *self.client.borrow_mut() = Some(id);
    }

    /// Aborts the request in the air and fails every later one, for a
    /// database that closes: its cycle ends without waiting for the network.
    pub fn abort(&self) {
        self.enabled.set(false);
        if let Some(controller) = self.current.borrow_mut().take() {
            controller.abort();
        }
    }

    /// The `Authorization` header requests carry, if any: the socket offers
    /// it to the server, since a browser sends no header on a WebSocket.
    pub fn authorization(&self) -> Option<String> {
        self.headers
            .borrow()
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("authorization"))
            .map(|(_, value)| value.clone())
    }

    /// Replaces the extra headers (fresh credentials).
    pub fn set_headers(&self, headers: BTreeMap<String, String>) {
        *self.headers.borrow_mut() = headers;
    }

    /// Lets requests through (`true`) or fails them as offline (`false`).
    pub fn set_enabled(&self, enabled: bool) {
        self.enabled.set(enabled);
    }

    /// Which `fetch` the live feed uses: the app's, or `undefined`.
    pub fn feed_fetch(&self) -> JsValue {
        self.fetcher.custom_js()
    }

    /// Where and with which init (headers, credentials) to open a long-lived
    /// request (the live changes feed), or `None` while the app forces the
    /// SDK offline.
    pub fn feed_target(&self, request: &HttpRequest) -> Option<(String, js_sys::Object)> {
        if !self.enabled.get() {
            return None;
        }
        let headers = js_sys::Object::new();
        let set = |name: &str, value: &str| {
            let _ = js_sys::Reflect::set(&headers, &name.into(), &value.into());
        };
        set("Accept", "application/json");
        for (name, value) in self.headers.borrow().iter() {
            set(name, value);
        }
        Some((self.url(request), self.fetcher.js_init(headers)))
    }

    /// The server's root (`GET /` answers its welcome): the database URL
    /// without its last segment, with the init of [`Self::feed_target`].
    pub fn root_target(&self) -> Option<(String, js_sys::Object)> {
        let (_, init) =
            self.feed_target(&HttpRequest::new(tidesync_engine::http::Method::Get, ""))?;
        let cut = self.base.rfind('/')?;
        let root = &self.base[..=cut];
        root.contains("://").then(|| (root.to_owned(), init))
    }

    fn url(&self, request: &HttpRequest) -> String {
        let mut url = self.base.clone();
        if !request.path.is_empty() {
            url.push('/');
            url.push_str(&request.path);
        }
        let client = self.client.borrow();
        let named = client
            .as_deref()
            .filter(|_| request.path == "_changes" || request.path == "_socket")
            .map(|id| ("client_id", id));
        let query = request.query.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        for (i, (key, value)) in query.chain(named).enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(&String::from(js_sys::encode_uri_component(key)));
            url.push('=');
            url.push_str(&String::from(js_sys::encode_uri_component(value)));
        }
        url
    }

    /// Downloads attachment `name` of document `id` at revision `rev` by
    /// fetch (binary, never through the socket): the status and the bytes,
    /// or why no answer came.
    pub async fn fetch_bytes(
        &self,
        id: &str,
        name: &str,
        rev: &str,
    ) -> Result<(u16, Vec<u8>), String> {
        if !self.enabled.get() {
            return Err("the app has switched the network off".into());
        }
        let encode = |text: &str| String::from(js_sys::encode_uri_component(text));
        let url = format!(
            "{}/{}/{}?rev={}",
            self.base,
            encode(id),
            encode(name),
            encode(rev)
        );
        let attempt = async {
            let init = self.fetcher.init();
            init.set_method("GET");
            let headers = Headers::new()?;
            for (name, value) in self.headers.borrow().iter() {
                headers.set(name, value)?;
            }
            init.set_headers(&headers);
            let controller = AbortController::new()?;
            init.set_signal(Some(&controller.signal()));
            let abort = Closure::once(move || controller.abort());
            let timer = set_timeout(&abort, self.timeout_ms)?;
            let request = Request::new_with_str_and_init(&url, &init)?;
            let result = async {
                let response: Response = JsFuture::from(self.fetcher.fetch(&request)?)
                    .await?
                    .dyn_into()?;
                let buffer = JsFuture::from(response.array_buffer()?).await?;
                Ok::<_, JsValue>((response.status(), js_sys::Uint8Array::new(&buffer).to_vec()))
            }
            .await;
            clear_timeout(timer);
            result
        };
        attempt.await.map_err(|error| {
            js_sys::Reflect::get(&error, &JsValue::from_str("message"))
                .ok()
                .and_then(|m| m.as_string())
                .unwrap_or_else(|| "the download failed".into())
        })
    }

    /// One request through the open socket: the same request, answered on
    /// the same connection as the feed.
    async fn perform_on_socket(
        &self,
        socket: &SocketHandle,
        request: HttpRequest,
    ) -> Result<HttpResponse, JsValue> {
        let query = js_sys::Object::new();
        for (key, value) in &request.query {
            js_sys::Reflect::set(&query, &key.into(), &value.into())?;
        }
        let answer = socket.request(
            request.method.as_str(),
            &request.path,
            &query,
            request.body,
            self.timeout_ms,
        );
        let answer = JsFuture::from(answer).await?;
        let get = |name: &str| js_sys::Reflect::get(&answer, &name.into());
        let status = get("status")?.as_f64().unwrap_or(0.0);
        Ok(HttpResponse {
            status: u16::try_from(status as i64).unwrap_or(0),
            body: get("body")?.as_string().unwrap_or_default(),
            retry_after_ms: get("retryAfter")?
                .as_string()
                .and_then(|v| retry_after_ms(&v)),
        })
    }

    async fn perform(&self, request: HttpRequest) -> Result<HttpResponse, JsValue> {
        let socket = self.socket.borrow().clone().filter(SocketHandle::is_open);
        if let Some(socket) = socket {
            return self.perform_on_socket(&socket, request).await;
        }
        let init = self.fetcher.init();
        init.set_method(request.method.as_str());
        let headers = Headers::new()?;
        headers.set("Accept", "application/json")?;
        if let Some(body) = &request.body {
            headers.set("Content-Type", "application/json")?;
            init.set_body(&JsValue::from_str(body));
        }
        for (name, value) in self.headers.borrow().iter() {
            headers.set(name, value)?;
        }
        init.set_headers(&headers);
        let controller = AbortController::new()?;
        init.set_signal(Some(&controller.signal()));
        let http = Request::new_with_str_and_init(&self.url(&request), &init)?;
        *self.current.borrow_mut() = Some(controller.clone());
        let abort = Closure::once(move || controller.abort());
        let timer = set_timeout(&abort, self.timeout_ms)?;
        let result = async {
            let response: Response = JsFuture::from(self.fetcher.fetch(&http)?)
                .await?
                .dyn_into()?;
            let text = JsFuture::from(response.text()?).await?;
            Ok::<_, JsValue>((response, text.as_string().unwrap_or_default()))
        }
        .await;
        clear_timeout(timer);
        self.current.borrow_mut().take();
        let (response, body) = result?;
        let retry_after_ms = response
            .headers()
            .get("Retry-After")
            .ok()
            .flatten()
            .and_then(|v| retry_after_ms(&v));
        Ok(HttpResponse {
            status: response.status(),
            body,
            retry_after_ms,
        })
    }
}

impl Transport for FetchTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        if !self.enabled.get() {
            return Err(TransportError::Network(
                "the app has switched the network off".into(),
            ));
        }
        self.perform(request)
            .await
            .map_err(|error| transport_error(&error, self.timeout_ms))
    }
}

/// What a failed fetch means: an abort is our timeout, anything else a
/// network failure with the browser's message.
fn transport_error(error: &JsValue, timeout_ms: u32) -> TransportError {
    let name = js_sys::Reflect::get(error, &JsValue::from_str("name"))
        .ok()
        .and_then(|n| n.as_string());
    if name.as_deref() == Some("AbortError") {
        TransportError::Timeout(timeout_ms)
    } else {
        let message = js_sys::Reflect::get(error, &JsValue::from_str("message"))
            .ok()
            .and_then(|m| m.as_string())
            .unwrap_or_else(|| "fetch failed".into());
        TransportError::Network(message)
    }
}

/// The global scope's `fetch`, in a window or a worker.
fn fetch(request: &Request) -> Result<Promise, JsValue> {
    let global = js_sys::global();
    if let Some(window) = global.dyn_ref::<web_sys::Window>() {
        return Ok(window.fetch_with_request(request));
    }
    if let Some(worker) = global.dyn_ref::<web_sys::WorkerGlobalScope>() {
        return Ok(worker.fetch_with_request(request));
    }
    Err(JsValue::from_str("no fetch in this environment"))
}

fn set_timeout(callback: &Closure<dyn FnMut()>, ms: u32) -> Result<i32, JsValue> {
    let global = js_sys::global();
    let function = callback.as_ref().unchecked_ref();
    let ms = i32::try_from(ms).unwrap_or(i32::MAX);
    if let Some(window) = global.dyn_ref::<web_sys::Window>() {
        return window.set_timeout_with_callback_and_timeout_and_arguments_0(function, ms);
    }
    if let Some(worker) = global.dyn_ref::<web_sys::WorkerGlobalScope>() {
        return worker.set_timeout_with_callback_and_timeout_and_arguments_0(function, ms);
    }
    Err(JsValue::from_str("no timers in this environment"))
}

fn clear_timeout(handle: i32) {
    let global = js_sys::global();
    if let Some(window) = global.dyn_ref::<web_sys::Window>() {
        window.clear_timeout_with_handle(handle);
    } else if let Some(worker) = global.dyn_ref::<web_sys::WorkerGlobalScope>() {
        worker.clear_timeout_with_handle(handle);
    }
}

/// A `Retry-After` value in milliseconds from now: the header holds either
/// seconds or an HTTP date (RFC 9110 §10.2.3). `None` for anything else.
fn retry_after_ms(value: &str) -> Option<f64> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0).then_some(seconds * 1000.0);
    }
    let at = js_sys::Date::parse(value);
    (!at.is_nan()).then(|| (at - js_sys::Date::now()).max(0.0))
}
