//! Signing in to and out of a CouchDB server's cookie session (`_session`),
//! the way a browser app authenticates without keeping a password: the server
//! sets an `AuthSession` cookie, and every later request that carries cookies
//! (`credentials` of `open()`) is the signed-in user's. The same calls work
//! against the reference server and Apache CouchDB.

use serde::{Deserialize, Serialize};
use tidesync_engine::http::{HttpResponse, TransportError};
use wasm_bindgen::{prelude::*, JsCast};
use wasm_bindgen_futures::future_to_promise;

use super::{
    options::{function_option, refuse_unknown, Credentials},
    Tidesync,
};
use crate::{convert::to_js, error::SdkError, fetcher::Fetcher};

/// The option names the session calls accept.
const KNOWN: &[&str] = &[
    "server",
    "name",
    "password",
    "credentials",
    "fetch",
    "requestTimeoutMs",
];

/// The arguments of `signIn`, `signOut` and `session`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionOptions {
    /// The server's URL (its root, not a database).
    server: String,
    /// The user's name (`signIn` only).
    #[serde(default)]
    name: Option<String>,
    /// The user's password (`signIn` only); sent once, never kept.
    #[serde(default)]
    password: Option<String>,
    /// Cookies sent and accepted; `include` by default, since a session
    /// is a cookie.
    #[serde(default)]
    credentials: Option<Credentials>,
    /// Milliseconds before the request is given up.
    #[serde(default)]
    request_timeout_ms: Option<u32>,
}

/// Who the server takes the caller for: `name` is `null` when signed out.
#[derive(Debug, Serialize)]
struct UserContext {
    name: Option<String>,
    roles: Vec<String>,
}

/// The `userCtx` of `GET /_session`, or the body of `POST /_session`.
#[derive(Debug, Deserialize)]
struct SessionAnswer {
    #[serde(default, rename = "userCtx")]
    user_ctx: Option<UserCtx>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct UserCtx {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
}

/// A parsed call: where to send and with which fetcher.
struct Call {
    url: String,
    fetcher: Fetcher,
    timeout_ms: u32,
    name: Option<String>,
    password: Option<String>,
}

impl Call {
    fn from_js(value: &JsValue) -> Result<Call, SdkError> {
        if !value.is_object() {
            return Err(SdkError::InvalidOptions(
                "takes an options object { server, ... }".into(),
            ));
        }
        refuse_unknown(value, KNOWN)?;
        let fetch = function_option(value, "fetch")?;
        let plain = js_sys::Object::assign(&js_sys::Object::new(), value.unchecked_ref());
        let _ = js_sys::Reflect::delete_property(&plain, &JsValue::from_str("fetch"));
        let options: SessionOptions =
            crate::convert::from_js(&plain).map_err(SdkError::InvalidOptions)?;
        let server = options.server.trim_end_matches('/');
        let ok = (server.starts_with("http://") || server.starts_with("https://"))
            && web_sys::Url::new(server).is_ok();
        if !ok {
            return Err(SdkError::InvalidOptions(format!(
                "server must be an http(s) URL, got {:?}",
                options.server
            )));
        }
        let credentials = options.credentials.unwrap_or(Credentials::Include);
        Ok(Call {
            url: format!("{server}/_session"),
            fetcher: Fetcher::new(credentials.request_credentials(), fetch),
            timeout_ms: options.request_timeout_ms.unwrap_or(30_000),
            name: options.name,
            password: options.password,
        })
    }

    /// Sends the request; a 2xx answer's body, or the coded failure.
    async fn send(&self, method: &str, body: Option<&str>) -> Result<String, SdkError> {
        let HttpResponse {
            status,
            body: text,
            retry_after_ms,
        } = self
            .fetcher
            .send(method, &self.url, body, self.timeout_ms)
            .await
            .map_err(|error| match error {
                TransportError::Timeout(ms) => {
                    SdkError::Network(format!("{method} {} timed out after {ms} ms", self.url))
                }
                TransportError::Network(message) => {
                    SdkError::Network(format!("{method} {}: {message}", self.url))
                }
            })?;
        let reason = || {
            serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v.get("reason").and_then(|r| r.as_str()).map(str::to_owned))
                .unwrap_or_else(|| format!("HTTP {status}"))
        };
        match status {
            200..=299 => Ok(text),
            401 => Err(SdkError::Unauthorized(reason())),
            429 => Err(SdkError::TooManyRequests {
                reason: reason(),
                retry_after_ms,
            }),
            _ => Err(SdkError::Server {
                status,
                reason: reason(),
            }),
        }
    }
}

/// Reads who the answer names; a body that is not a session answer is the
/// server's fault.
fn user_of(text: &str) -> Result<UserContext, SdkError> {
    let answer: SessionAnswer = serde_json::from_str(text).map_err(|_| SdkError::Server {
        status: 200,
        reason: "the _session answer is not JSON".into(),
    })?;
    Ok(match answer.user_ctx {
        Some(ctx) => UserContext {
            name: ctx.name,
            roles: ctx.roles,
        },
        None => UserContext {
            name: answer.name,
            roles: answer.roles,
        },
    })
}

#[wasm_bindgen]
impl Tidesync {
    /// Signs in with a name and password (`POST /_session`); the server's
    /// `AuthSession` cookie then signs the requests of every database opened
    /// with the matching `credentials`. Resolves to `{ name, roles }`.
    #[wasm_bindgen(js_name = signIn, unchecked_return_type = "Promise<UserContext>")]
    pub fn sign_in(
        #[wasm_bindgen(unchecked_param_type = "SignInOptions")] options: JsValue,
    ) -> js_sys::Promise {
        future_to_promise(async move {
            let call = Call::from_js(&options)?;
            let (Some(name), Some(password)) = (&call.name, &call.password) else {
                return Err(SdkError::InvalidOptions(
                    "signIn takes { server, name, password }".into(),
                )
                .into());
            };
            let body = serde_json::json!({ "name": name, "password": password }).to_string();
            let text = call.send("POST", Some(&body)).await?;
            let mut user = user_of(&text)?;
            user.name.get_or_insert_with(|| name.clone());
            Ok(to_js(&user))
        })
    }

    /// Signs out (`DELETE /_session`): the server clears the cookie.
    #[wasm_bindgen(js_name = signOut, unchecked_return_type = "Promise<void>")]
    pub fn sign_out(
        #[wasm_bindgen(unchecked_param_type = "SessionOptions")] options: JsValue,
    ) -> js_sys::Promise {
        future_to_promise(async move {
            let call = Call::from_js(&options)?;
            call.send("DELETE", None).await?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Who the server takes this page for (`GET /_session`): `{ name, roles }`,
    /// `name` being `null` when no session is open.
    #[wasm_bindgen(unchecked_return_type = "Promise<UserContext>")]
    pub fn session(
        #[wasm_bindgen(unchecked_param_type = "SessionOptions")] options: JsValue,
    ) -> js_sys::Promise {
        future_to_promise(async move {
            let call = Call::from_js(&options)?;
            let text = call.send("GET", None).await?;
            Ok(to_js(&user_of(&text)?))
        })
    }
}
