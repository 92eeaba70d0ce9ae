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
use web_sys::{AbortController, Headers, Request, Response};

pub use crate::fetcher::Fetcher;
use crate::fetcher::{clear_timeout, retry_after_ms, set_timeout, transport_error};

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
        let (http, controller) = self.fetcher.json_request(
            request.method.as_str(),
            &self.url(&request),
            request.body.as_deref(),
            &self.headers.borrow(),
        )?;
        *self.current.borrow_mut() = Some(controller.clone());
        let result = self
            .fetcher
            .exchange(&http, controller, self.timeout_ms)
            .await;
        self.current.borrow_mut().take();
        result
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
