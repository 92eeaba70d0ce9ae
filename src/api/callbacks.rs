//! The app's callbacks that sync consults: the conflict `resolver` and the
//! `auth` refresher. Both run with no lock held (so they may call back into
//! the API, `sync()` and `put()` included) and with a time limit
//! (`callbackTimeoutMs`): one that never answers counts as declined or failed
//! and is reported as an `error` event, and sync goes on.

use std::rc::Rc;

use js_sys::{Function, Promise, Reflect};
use tidesync_engine::{client::Written, model::ConflictRecord};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::{env::BrowserEnv, inner::Inner, tabs::with_timeout};
use crate::{
    convert::{to_js, to_json},
    payloads::{
        CallbackCode::{self, AuthFailed, AuthTimeout},
        Conflict, ErrorEvent, ResolvedEvent,
    },
};

/// How a callback ended.
enum Answer {
    /// It returned (or its promise resolved to) this value.
    Value(JsValue),
    /// It threw (or its promise rejected) with this message.
    Threw(String),
    /// It did not answer in time.
    TimedOut,
}

/// Calls `callback` with `argument` (none when undefined) and waits at most
/// `ms` for its answer, awaiting a returned promise.
async fn call(callback: &Function, argument: &JsValue, ms: u32) -> Answer {
    let returned = if argument.is_undefined() {
        callback.call0(&JsValue::NULL)
    } else {
        callback.call1(&JsValue::NULL, argument)
    };
    let value = match returned {
        Ok(value) => value,
        Err(thrown) => return Answer::Threw(describe(&thrown)),
    };
    let Some(promise) = value.dyn_ref::<Promise>() else {
        return Answer::Value(value);
    };
    match JsFuture::from(with_timeout(promise, ms)).await {
        Ok(value) => Answer::Value(value),
        Err(error) if is_timeout(&error) => Answer::TimedOut,
        Err(error) => Answer::Threw(describe(&error)),
    }
}

fn is_timeout(error: &JsValue) -> bool {
    Reflect::get(error, &JsValue::from_str("name"))
        .ok()
        .and_then(|n| n.as_string())
        .is_some_and(|n| n == "TimeoutError")
}

/// A thrown JS value as text, for error messages.
fn describe(value: &JsValue) -> String {
    Reflect::get(value, &JsValue::from_str("message"))
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| value.as_string())
        .unwrap_or_else(|| format!("{value:?}"))
}

impl Inner {
    /// Offers each new conflict to the app's resolver, then to the policy;
    /// what both decline stays for the app (and its `conflict` event fires).
    /// Returns whether anything was resolved and needs pushing.
    pub(super) async fn run_resolver(self: &Rc<Self>) -> bool {
        let Some(resolver) = &self.resolver else {
            return false;
        };
        let conflicts: Vec<ConflictRecord> = self.deferred.borrow_mut().drain(..).collect();
        let mut resolved = false;
        for (index, conflict) in conflicts.iter().enumerate() {
            if conflicts[index + 1..]
                .iter()
                .any(|later| later.id == conflict.id)
            {
                continue; // a newer version of the same conflict follows
            }
            let id = conflict.id.clone();
            let payload = to_js(&Conflict::from(conflict.clone()));
            let answer = call(resolver, &payload, self.callback_timeout_ms).await;
            let outcome = match answer {
                Answer::Threw(message) => Err((
                    CallbackCode::ResolverFailed,
                    format!("the resolver threw: {message}"),
                )),
                Answer::TimedOut => {
                    let message = format!(
                        "the resolver gave no answer within {} ms; the conflict goes to the policy, then the app",
                        self.callback_timeout_ms
                    );
                    self.error_event(CallbackCode::ResolverTimeout, &id, message);
                    self.policy_decides(&id).await
                }
                Answer::Value(body) if body.is_null() || body.is_undefined() => {
                    self.policy_decides(&id).await
                }
                Answer::Value(body) => self.resolver_decides(&id, &body).await,
            };
            match outcome {
                Ok(Some((_, events))) => {
                    resolved = true;
                    self.emit(events);
                }
                Ok(None) => self.publish("conflict", &Conflict::from(conflict.clone())),
                Err((code, message)) => {
                    self.error_event(code, &id, message);
                    self.publish("conflict", &Conflict::from(conflict.clone()));
                }
            }
        }
        resolved
    }

    fn error_event(&self, code: CallbackCode, id: &str, message: String) {
        self.publish("error", &ErrorEvent::callback(code, Some(id), message));
    }

    /// The policy's decision on a conflict the resolver declined.
    async fn policy_decides(&self, id: &str) -> Result<Option<Written>, (CallbackCode, String)> {
        self.client
            .auto_resolve_recorded(id, &BrowserEnv)
            .await
            .map_err(|e| (CallbackCode::ResolverFailed, e.to_string()))
    }

    /// Writes the body the resolver returned as the resolution.
    async fn resolver_decides(
        &self,
        id: &str,
        body: &JsValue,
    ) -> Result<Option<Written>, (CallbackCode, String)> {
        let body = to_json(body).map_err(|e| {
            let message = format!("the resolver returned {e}");
            (CallbackCode::ResolverFailed, message)
        })?;
        let written = self
            .client
            .resolve(id, Some(body), &BrowserEnv)
            .await
            .map_err(|e| (CallbackCode::ResolverFailed, e.to_string()))?;
        let event = ResolvedEvent::new(id.to_owned(), "custom".to_owned(), Vec::new());
        self.publish("resolved", &event);
        Ok(Some(written))
    }

    /// Calls the app's `auth` callback for fresh headers; true when it gave
    /// some in time.
    pub(super) async fn refresh_auth(&self) -> bool {
        let (Some(auth), Some(transport)) = (&self.auth, &self.transport) else {
            return false;
        };
        let value = match call(auth, &JsValue::UNDEFINED, self.callback_timeout_ms).await {
            Answer::Value(value) => value,
            Answer::Threw(message) => {
                let message = format!("the auth callback threw: {message}");
                self.publish("error", &ErrorEvent::callback(AuthFailed, None, message));
                return false;
            }
            Answer::TimedOut => {
                let message = format!(
                    "the auth callback gave no answer within {} ms",
                    self.callback_timeout_ms
                );
                self.publish("error", &ErrorEvent::callback(AuthTimeout, None, message));
                return false;
            }
        };
        if value.is_undefined() || value.is_null() {
            // A cookie session signed in again: the headers stay as they are.
            return true;
        }
        let Ok(headers) =
            crate::convert::from_js::<std::collections::BTreeMap<String, String>>(&value)
        else {
            let message = "the auth callback must return an object of header strings".to_owned();
            self.publish("error", &ErrorEvent::callback(AuthFailed, None, message));
            return false;
        };
        transport.set_headers(headers);
        true
    }
}
