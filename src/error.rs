//! Errors of the browser edge and their conversion to JavaScript: every failure
//! reaches JS as a `TidesyncError` (an `Error` subclass) with a stable `code`.

use thiserror::Error;
use tidesync_engine::error::{EngineError, ErrorCode as LocalCode, StoreError};
use wasm_bindgen::prelude::*;

use crate::payloads::{ApiCode, ErrorCode, ErrorDetails};

#[wasm_bindgen(module = "/src/js/errors.js")]
extern "C" {
    /// The JS class defined in `js/errors.js`, re-exported by the npm package.
    #[wasm_bindgen(js_name = TidesyncError)]
    pub type JsTidesyncError;

    #[wasm_bindgen(constructor, js_class = "TidesyncError")]
    fn new(code: &str, message: &str, details: &JsValue) -> JsTidesyncError;
}

/// Why an SDK call failed.
#[derive(Debug, Error)]
pub enum SdkError {
    /// The engine refused or failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// `open()` options are not acceptable.
    #[error("invalid options: {0}")]
    InvalidOptions(String),
    /// The call came after `close()`.
    #[error("the database is closed")]
    Closed,
    /// `sync()` without a `remote`.
    #[error("no remote database is configured")]
    NoRemote,
    /// `on()` with an unknown event name or a non-function.
    #[error("invalid listener: {0}")]
    InvalidListener(String),
    /// The bytes of attachment `name` of `id` are not stored and could not
    /// be downloaded.
    #[error(
        "attachment {name} of {id} is not stored locally and could not be downloaded: {reason}"
    )]
    AttachmentUnavailable {
        /// The document id.
        id: String,
        /// The attachment name.
        name: String,
        /// Why the download failed.
        reason: String,
    },
    /// The server refused the credentials (a 401 signing in).
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// The server refused for now (a 429): too many attempts.
    #[error("too many requests: {reason}")]
    TooManyRequests {
        /// The server's reason.
        reason: String,
        /// How long the server asked to wait, in ms, when it said.
        retry_after_ms: Option<f64>,
    },
    /// No answer came (offline, refused connection, CORS, timeout).
    #[error("network: {0}")]
    Network(String),
    /// The server answered with an unexpected status or body.
    #[error("server answered {status}: {reason}")]
    Server {
        /// The HTTP status.
        status: u16,
        /// The server's reason.
        reason: String,
    },
    /// Downloaded bytes do not match the attachment's digest.
    #[error("attachment {name} of {id}: the downloaded bytes do not match its digest {digest}")]
    AttachmentCorrupt {
        /// The document id.
        id: String,
        /// The attachment name.
        name: String,
        /// The digest the document names.
        digest: String,
    },
}

impl From<StoreError> for SdkError {
    fn from(error: StoreError) -> Self {
        SdkError::Engine(EngineError::Store(error))
    }
}

impl SdkError {
    /// The stable code JS sees as `error.code`.
    pub fn code(&self) -> ErrorCode {
        match self {
            SdkError::Engine(error) => ErrorCode::Local(error.code()),
            SdkError::InvalidOptions(_) => ErrorCode::Api(ApiCode::InvalidOptions),
            SdkError::Closed => ErrorCode::Local(LocalCode::Closed),
            SdkError::NoRemote => ErrorCode::Api(ApiCode::NoRemote),
            SdkError::InvalidListener(_) => ErrorCode::Api(ApiCode::InvalidListener),
            SdkError::AttachmentUnavailable { .. } => {
                ErrorCode::Api(ApiCode::AttachmentUnavailable)
            }
            SdkError::AttachmentCorrupt { .. } => ErrorCode::Api(ApiCode::AttachmentCorrupt),
            SdkError::Unauthorized(_) => ErrorCode::Api(ApiCode::Unauthorized),
            SdkError::TooManyRequests { .. } => ErrorCode::Api(ApiCode::TooManyRequests),
            SdkError::Network(_) => ErrorCode::Api(ApiCode::Network),
            SdkError::Server { .. } => ErrorCode::Api(ApiCode::Server),
        }
    }

    /// What `TidesyncError.details` carries: the parts of the message an app
    /// acts on (which document, how large against which limit), so it need
    /// not parse the message. `None` when the message says it all.
    pub fn details(&self) -> Option<ErrorDetails> {
        match self {
            SdkError::Engine(EngineError::DocumentTooLarge { id, size, limit }) => {
                Some(ErrorDetails {
                    size: Some(*size),
                    limit: Some(*limit),
                    ..ErrorDetails::of(id)
                })
            }
            SdkError::Engine(EngineError::NotFound(id) | EngineError::NotConflicted(id)) => {
                Some(ErrorDetails::of(id))
            }
            SdkError::Engine(EngineError::AttachmentTooLarge {
                id,
                name,
                size,
                limit,
            }) => Some(ErrorDetails {
                size: usize::try_from(*size).ok(),
                limit: usize::try_from(*limit).ok(),
                name: Some(name.clone()),
                ..ErrorDetails::of(id)
            }),
            SdkError::AttachmentUnavailable { id, name, .. }
            | SdkError::AttachmentCorrupt { id, name, .. } => Some(ErrorDetails {
                name: Some(name.clone()),
                ..ErrorDetails::of(id)
            }),
            SdkError::Engine(EngineError::Conflict { id, rev, current }) => Some(ErrorDetails {
                rev: rev.clone(),
                current: current.clone(),
                ..ErrorDetails::of(id)
            }),
            _ => None,
        }
    }
}

/// Builds a `TidesyncError`.
pub fn js_error(code: &str, message: &str, details: &JsValue) -> JsValue {
    JsTidesyncError::new(code, message, details).into()
}

impl From<SdkError> for JsValue {
    fn from(error: SdkError) -> JsValue {
        let details = error
            .details()
            .map_or(JsValue::UNDEFINED, |d| crate::convert::to_js(&d));
        js_error(error.code().as_str(), &error.to_string(), &details)
    }
}
