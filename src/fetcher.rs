//! How requests reach the network: the app's own `fetch` or the global one,
//! with the app's credentials mode, a timeout on every request
//! (AbortController), and what a failed fetch means. The transport of a
//! database and the session calls both send through it.

use std::collections::BTreeMap;

use js_sys::Promise;
use tidesync_engine::http::{HttpResponse, TransportError};
use wasm_bindgen::{closure::Closure, JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Headers, Request, RequestCredentials, RequestInit, Response};

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
    pub(crate) fn init(&self) -> RequestInit {
        let fresh = RequestInit::new();
        fresh.set_credentials(self.credentials);
        fresh
    }

    /// Starts `request`: the app's `fetch` when it gave one (whatever it
    /// returns is awaited as a promise of a `Response`), else the global one.
    pub(crate) fn fetch(&self, request: &Request) -> Result<Promise, JsValue> {
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
    pub(crate) fn js_init(&self, headers: js_sys::Object) -> js_sys::Object {
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

    /// A JSON request (`Accept`, and `Content-Type` with a body) to `url`
    /// with `extra` headers, and the controller that aborts it.
    pub(crate) fn json_request(
        &self,
        method: &str,
        url: &str,
        body: Option<&str>,
        extra: &BTreeMap<String, String>,
    ) -> Result<(Request, AbortController), JsValue> {
        let init = self.init();
        init.set_method(method);
        let headers = Headers::new()?;
        headers.set("Accept", "application/json")?;
        if let Some(body) = body {
            headers.set("Content-Type", "application/json")?;
            init.set_body(&JsValue::from_str(body));
        }
        for (name, value) in extra {
            headers.set(name, value)?;
        }
        init.set_headers(&headers);
        let controller = AbortController::new()?;
        init.set_signal(Some(&controller.signal()));
        Ok((Request::new_with_str_and_init(url, &init)?, controller))
    }

    /// Sends `request`, aborted through `controller` past `timeout_ms`: its
    /// status, body text and `Retry-After` delay.
    pub(crate) async fn exchange(
        &self,
        request: &Request,
        controller: AbortController,
        timeout_ms: u32,
    ) -> Result<HttpResponse, JsValue> {
        let abort = Closure::once(move || controller.abort());
        let timer = set_timeout(&abort, timeout_ms)?;
        let result = async {
            let response: Response = JsFuture::from(self.fetch(request)?).await?.dyn_into()?;
            let text = JsFuture::from(response.text()?).await?;
            Ok::<_, JsValue>((response, text.as_string().unwrap_or_default()))
        }
        .await;
        clear_timeout(timer);
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

    /// One JSON request outside a database's sync (signing in and out), or
    /// why no answer came within `timeout_ms`.
    pub async fn send(
        &self,
        method: &str,
        url: &str,
        body: Option<&str>,
        timeout_ms: u32,
    ) -> Result<HttpResponse, TransportError> {
        let attempt = async {
            let (request, controller) = self.json_request(method, url, body, &BTreeMap::new())?;
            self.exchange(&request, controller, timeout_ms).await
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

/// What a failed fetch means: an abort is our timeout, anything else a
/// network failure with the browser's message.
pub(crate) fn transport_error(error: &JsValue, timeout_ms: u32) -> TransportError {
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

/// `setTimeout` in a window or a worker.
pub(crate) fn set_timeout(callback: &Closure<dyn FnMut()>, ms: u32) -> Result<i32, JsValue> {
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

/// `clearTimeout` in a window or a worker.
pub(crate) fn clear_timeout(handle: i32) {
    let global = js_sys::global();
    if let Some(window) = global.dyn_ref::<web_sys::Window>() {
        window.clear_timeout_with_handle(handle);
    } else if let Some(worker) = global.dyn_ref::<web_sys::WorkerGlobalScope>() {
        worker.clear_timeout_with_handle(handle);
    }
}

/// A `Retry-After` value in milliseconds from now: the header holds either
/// seconds or an HTTP date (RFC 9110 §10.2.3). `None` for anything else.
pub(crate) fn retry_after_ms(value: &str) -> Option<f64> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0).then_some(seconds * 1000.0);
    }
    let at = js_sys::Date::parse(value);
    (!at.is_nan()).then(|| (at - js_sys::Date::now()).max(0.0))
}
