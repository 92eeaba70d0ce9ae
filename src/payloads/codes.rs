//! The codes JavaScript sees, as closed sets: every code the SDK can send is
//! a variant here or in the engine's [`tidesync_engine::error::ErrorCode`]
//! and [`tidesync_engine::sync::IssueCode`].

use serde::Serialize;
use tidesync_engine::{error::ErrorCode as LocalCode, sync::IssueCode};

/// Codes of `TidesyncError` that the browser edge adds to the engine's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ApiCode {
    /// `open()` or `all()` options that are unknown or of the wrong type.
    InvalidOptions,
    /// `on()` with an unknown event name or a non-function.
    InvalidListener,
    /// `sync()` without a `remote`.
    NoRemote,
    /// An attachment whose bytes are neither stored locally nor could be
    /// downloaded (offline, no `remote`, refused by the server).
    AttachmentUnavailable,
    /// Downloaded attachment bytes that do not match their digest; nothing
    /// was stored.
    AttachmentCorrupt,
    /// Signing in: the server refused the name and password.
    Unauthorized,
    /// Signing in: too many failed attempts; wait (`Retry-After`) and retry.
    TooManyRequests,
    /// Signing in or out: no answer from the server.
    Network,
    /// Signing in or out: an unexpected answer from the server.
    Server,
}

/// Stable codes of `TidesyncError`: the engine's (a document, a revision,
/// local storage) and the API's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(untagged)]
pub enum ErrorCode {
    /// A failure of the engine or of local storage.
    Local(LocalCode),
    /// A misuse of the API.
    Api(ApiCode),
}

impl ErrorCode {
    /// The code as JavaScript sees it.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Local(code) => code.as_str(),
            ErrorCode::Api(ApiCode::InvalidOptions) => "invalid_options",
            ErrorCode::Api(ApiCode::InvalidListener) => "invalid_listener",
            ErrorCode::Api(ApiCode::NoRemote) => "no_remote",
            ErrorCode::Api(ApiCode::AttachmentUnavailable) => "attachment_unavailable",
            ErrorCode::Api(ApiCode::AttachmentCorrupt) => "attachment_corrupt",
            ErrorCode::Api(ApiCode::Unauthorized) => "unauthorized",
            ErrorCode::Api(ApiCode::TooManyRequests) => "too_many_requests",
            ErrorCode::Api(ApiCode::Network) => "network",
            ErrorCode::Api(ApiCode::Server) => "server",
        }
    }
}

/// What went wrong in one of the app's callbacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum CallbackCode {
    /// The `resolver` gave no answer within `callbackTimeoutMs`.
    ResolverTimeout,
    /// The `resolver` threw, returned what is not a document, or its answer
    /// could not be written.
    ResolverFailed,
    /// The `auth` callback threw or returned what is not headers.
    AuthFailed,
    /// The `auth` callback gave no answer within `callbackTimeoutMs`.
    AuthTimeout,
}

/// Codes of the `error` event: a sync issue, or what a callback did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(untagged)]
pub enum EventCode {
    /// A failed cycle or a change refused for good.
    Issue(IssueCode),
    /// The app's resolver or auth callback failed.
    Callback(CallbackCode),
}
