//! The options of `Tidesync.open()`, read strictly: a misspelt or mistyped
//! option is an `invalid_options` error, not a silent default.

use std::collections::BTreeMap;

use serde::Deserialize;
use tidesync_engine::{
    client::ClientConfig, feed::FeedConfig, merge::ConflictPolicy, schedule::ScheduleConfig,
    sync::SyncConfig,
};
use wasm_bindgen::{JsCast, JsValue};

use crate::error::SdkError;

/// The option names `open()` accepts.
const KNOWN: &[&str] = &[
    "name",
    "remote",
    "headers",
    "credentials",
    "fetch",
    "maxDocumentBytes",
    "batchSize",
    "batchBytes",
    "pullPageSize",
    "requestTimeoutMs",
    "createRemote",
    "live",
    "debounceMs",
    "pollIntervalMs",
    "liveFeed",
    "feedHeartbeatMs",
    "backoffBaseMs",
    "backoffCapMs",
    "auth",
    "author",
    "stampUpdatedAt",
    "lastWriteWins",
    "conflicts",
    "resolver",
    "callbackTimeoutMs",
    "maxAttachmentBytes",
    "attachments",
];

/// When a client downloads the bytes of attachments other clients added.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttachmentMode {
    /// On first read (`getAttachment`): a pull brings only the metadata.
    #[default]
    Lazy,
    /// Right after each pull that brought new ones, so they read offline.
    Eager,
}

/// Whether requests carry the browser's cookies (fetch's `credentials`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum Credentials {
    /// Never: requests are signed by `headers` alone.
    #[serde(rename = "omit")]
    Omit,
    /// To the page's own origin only (fetch's default).
    #[default]
    #[serde(rename = "same-origin")]
    SameOrigin,
    /// To the remote's origin too: a cookie session (`signIn`) with a server
    /// on another origin, which must allow this page's origin with
    /// credentials.
    #[serde(rename = "include")]
    Include,
}

impl Credentials {
    /// The fetch API's value.
    pub fn request_credentials(self) -> web_sys::RequestCredentials {
        match self {
            Credentials::Omit => web_sys::RequestCredentials::Omit,
            Credentials::SameOrigin => web_sys::RequestCredentials::SameOrigin,
            Credentials::Include => web_sys::RequestCredentials::Include,
        }
    }
}

/// `Tidesync.open()` options as JS passes them.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OpenOptions {
    /// The local database name.
    pub name: String,
    /// The remote CouchDB database URL.
    #[serde(default)]
    pub remote: Option<String>,
    /// Headers sent with every request (e.g. `Authorization`).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Whether requests carry cookies (a cookie session).
    #[serde(default)]
    pub credentials: Credentials,
    /// The app's own `fetch(request) => Promise<Response>`, used for every
    /// request to the remote instead of the global one.
    #[serde(skip)]
    pub fetch: Option<js_sys::Function>,
    /// The largest serialised document accepted locally.
    #[serde(default)]
    pub max_document_bytes: Option<usize>,
    /// Most documents per push request.
    #[serde(default)]
    pub batch_size: Option<usize>,
    /// Most bytes per push request.
    #[serde(default)]
    pub batch_bytes: Option<usize>,
    /// `_changes` page size.
    #[serde(default)]
    pub pull_page_size: Option<usize>,
    /// Milliseconds before a request is aborted.
    #[serde(default)]
    pub request_timeout_ms: Option<u32>,
    /// Create the remote database if missing (default true).
    #[serde(default)]
    pub create_remote: Option<bool>,
    /// Automatic sync (default true).
    #[serde(default)]
    pub live: Option<bool>,
    /// Quiet time after a write before pushing.
    #[serde(default)]
    pub debounce_ms: Option<f64>,
    /// Pull interval while visible (0 turns polling off).
    #[serde(default)]
    pub poll_interval_ms: Option<f64>,
    /// Hold a live changes feed while syncing automatically (default true).
    #[serde(default)]
    pub live_feed: Option<bool>,
    /// The heartbeat asked of the feed; twice this without a byte is a stall.
    #[serde(default)]
    pub feed_heartbeat_ms: Option<f64>,
    /// First retry delay ceiling.
    #[serde(default)]
    pub backoff_base_ms: Option<f64>,
    /// Largest retry delay.
    #[serde(default)]
    pub backoff_cap_ms: Option<f64>,
    /// `async () => headers`, called on a 401 for fresh credentials.
    #[serde(skip)]
    pub auth: Option<js_sys::Function>,
    /// Who writes through this client, stamped as `editor`.
    #[serde(default)]
    pub author: Option<serde_json::Value>,
    /// Stamp `updatedAt` into every write.
    #[serde(default)]
    pub stamp_updated_at: Option<bool>,
    /// Let a `put` without `_rev` replace a stored document (default false:
    /// such a put is a `conflict` error).
    #[serde(default)]
    pub last_write_wins: Option<bool>,
    /// The conflict policy, as JSON (checked strictly by the engine's type).
    #[serde(default)]
    pub conflicts: Option<serde_json::Value>,
    /// `(conflict) => body | null | Promise<body | null>`: the app's own resolver.
    #[serde(skip)]
    pub resolver: Option<js_sys::Function>,
    /// Milliseconds the `resolver` and `auth` callbacks may take before they
    /// count as declined or failed.
    #[serde(default)]
    pub callback_timeout_ms: Option<u32>,
    /// The largest attachment accepted locally, in bytes.
    #[serde(default)]
    pub max_attachment_bytes: Option<u64>,
    /// When pulled attachments' bytes are downloaded.
    #[serde(default)]
    pub attachments: AttachmentMode,
}

/// The default of `callbackTimeoutMs`: long enough for a dialog-free resolver
/// or a token refresh over a slow network, short enough that a hung one does
/// not hold sync up for long.
pub const DEFAULT_CALLBACK_TIMEOUT_MS: u32 = 10_000;

/// Reads an optional function option, refusing anything else.
pub(super) fn function_option(
    value: &JsValue,
    key: &str,
) -> Result<Option<js_sys::Function>, SdkError> {
    let found = js_sys::Reflect::get(value, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED);
    match found.dyn_into::<js_sys::Function>() {
        Ok(f) => Ok(Some(f)),
        Err(v) if v.is_undefined() || v.is_null() => Ok(None),
        Err(_) => Err(SdkError::InvalidOptions(format!(
            "{key} must be a function"
        ))),
    }
}

/// Refuses an options object naming an option not in `known`:
/// serde-wasm-bindgen reads only the fields it knows, so a misspelt option
/// would otherwise pass silently.
pub(super) fn refuse_unknown(value: &JsValue, known: &[&str]) -> Result<(), SdkError> {
    for key in js_sys::Object::keys(value.unchecked_ref::<js_sys::Object>())
        .iter()
        .filter_map(|k| k.as_string())
    {
        if !known.contains(&key.as_str()) {
            return Err(SdkError::InvalidOptions(format!(
                "unknown option {key:?}; known: {}",
                known.join(", ")
            )));
        }
    }
    Ok(())
}

impl OpenOptions {
    /// Reads and checks the options object.
    pub fn from_js(value: JsValue) -> Result<OpenOptions, SdkError> {
        if !value.is_object() {
            return Err(SdkError::InvalidOptions(
                "open() takes an options object { name, remote?, ... }".into(),
            ));
        }
        refuse_unknown(&value, KNOWN)?;
        let auth = function_option(&value, "auth")?;
        let resolver = function_option(&value, "resolver")?;
        let fetch = function_option(&value, "fetch")?;
        let plain = js_sys::Object::assign(&js_sys::Object::new(), value.unchecked_ref());
        for key in ["auth", "resolver", "fetch"] {
            let _ = js_sys::Reflect::delete_property(&plain, &JsValue::from_str(key));
        }
        // An option set to `undefined` is an option not given.
        for key in js_sys::Object::keys(&plain).iter() {
            if js_sys::Reflect::get(&plain, &key).is_ok_and(|v| v.is_undefined()) {
                let _ = js_sys::Reflect::delete_property(&plain, &key);
            }
        }
        let mut options: OpenOptions =
            crate::convert::from_js(&plain).map_err(SdkError::InvalidOptions)?;
        options.auth = auth;
        options.resolver = resolver;
        options.fetch = fetch;
        options.policy()?;
        if options.name.trim().is_empty() {
            return Err(SdkError::InvalidOptions(
                "name must be a non-empty string".into(),
            ));
        }
        if let Some(remote) = &options.remote {
            let ok = (remote.starts_with("http://") || remote.starts_with("https://"))
                && web_sys::Url::new(remote).is_ok();
            if !ok {
                return Err(SdkError::InvalidOptions(format!(
                    "remote must be an http(s) URL, not {remote:?}"
                )));
            }
        }
        if options.callback_timeout_ms == Some(0) {
            return Err(SdkError::InvalidOptions(
                "callbackTimeoutMs must be at least 1".into(),
            ));
        }
        if let Some(ms) = options.feed_heartbeat_ms {
            if !(ms.is_finite() && ms >= 1.0) {
                return Err(SdkError::InvalidOptions(format!(
                    "feedHeartbeatMs must be a number of milliseconds, at least 1 ({ms})"
                )));
            }
        }
        if options.max_attachment_bytes == Some(0) {
            return Err(SdkError::InvalidOptions(
                "maxAttachmentBytes must be at least 1".into(),
            ));
        }
        for (name, value) in [
            ("batchSize", options.batch_size),
            ("pullPageSize", options.pull_page_size),
        ] {
            if value == Some(0) {
                return Err(SdkError::InvalidOptions(format!(
                    "{name} must be at least 1 ({value:?})"
                )));
            }
        }
        Ok(options)
    }

    /// The scheduler configuration these options ask for.
    pub fn schedule_config(&self) -> ScheduleConfig {
        let d = ScheduleConfig::default();
        ScheduleConfig {
            live: self.live.unwrap_or(d.live),
            debounce_ms: self.debounce_ms.unwrap_or(d.debounce_ms),
            max_wait_ms: d.max_wait_ms,
            poll_interval_ms: self.poll_interval_ms.unwrap_or(d.poll_interval_ms),
            backoff_base_ms: self.backoff_base_ms.unwrap_or(d.backoff_base_ms),
            backoff_cap_ms: self.backoff_cap_ms.unwrap_or(d.backoff_cap_ms),
        }
    }

    /// The live feed's configuration these options ask for.
    pub fn feed_config(&self) -> FeedConfig {
        FeedConfig::with_heartbeat(
            self.feed_heartbeat_ms
                .unwrap_or(FeedConfig::default().heartbeat_ms),
        )
    }

    /// The conflict policy, with `custom` set when a resolver was given.
    pub fn policy(&self) -> Result<ConflictPolicy, SdkError> {
        let mut policy: ConflictPolicy = match &self.conflicts {
            None => ConflictPolicy::default(),
            Some(value) => serde_json::from_value(value.clone())
                .map_err(|e| SdkError::InvalidOptions(format!("conflicts: {e}")))?,
        };
        policy.custom = self.resolver.is_some();
        Ok(policy)
    }

    /// The engine configuration these options ask for.
    pub fn client_config(&self) -> ClientConfig {
        let defaults = ClientConfig::default();
        let sync = SyncConfig {
            batch_docs: self.batch_size.unwrap_or(defaults.sync.batch_docs),
            batch_bytes: self.batch_bytes.unwrap_or(defaults.sync.batch_bytes),
            pull_page: self.pull_page_size.unwrap_or(defaults.sync.pull_page),
            create_remote: self.create_remote.unwrap_or(defaults.sync.create_remote),
        };
        ClientConfig {
            max_document_bytes: self
                .max_document_bytes
                .unwrap_or(defaults.max_document_bytes),
            max_attachment_bytes: self
                .max_attachment_bytes
                .unwrap_or(defaults.max_attachment_bytes),
            sync,
            author: self.author.clone(),
            stamp_updated_at: self.stamp_updated_at.unwrap_or(false),
            conflicts: self.policy().unwrap_or_default(),
            last_write_wins: self.last_write_wins.unwrap_or(defaults.last_write_wins),
        }
    }
}
