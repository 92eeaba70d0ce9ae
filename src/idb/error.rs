//! Maps IndexedDB failures onto the engine's [`StoreError`], so the JavaScript
//! API can tell a full disk (`quota_exceeded`) and a closed database (`closed`)
//! from any other storage failure.

use indexed_db_futures::error::{Error, OpenDbError};
use tidesync_engine::error::StoreError;
use wasm_bindgen::{JsCast, JsValue};

/// The `DOMException` name browsers use when the storage quota is exhausted.
const QUOTA_EXCEEDED: &str = "QuotaExceededError";
/// The `DOMException` name `IDBDatabase.transaction()` throws once the
/// connection is closed.
const INVALID_STATE: &str = "InvalidStateError";

/// Maps a `DOMException` (or any other thrown JavaScript value).
pub(super) fn from_js(error: &JsValue) -> StoreError {
    match error.dyn_ref::<web_sys::DomException>() {
        Some(e) => from_dom(e),
        None => StoreError::Backend(describe(error)),
    }
}

/// Maps a `DOMException` by its name.
pub(super) fn from_dom(error: &web_sys::DomException) -> StoreError {
    let (name, message) = (error.name(), error.message());
    if name == QUOTA_EXCEEDED {
        StoreError::QuotaExceeded(message)
    } else {
        StoreError::Backend(format!("{name}: {message}"))
    }
}

/// Maps an error of an IndexedDB request or transaction.
pub(super) fn store_error(error: Error) -> StoreError {
    match error {
        Error::DomException(e) => from_js(e.as_ref()),
        Error::Unknown(e) => from_js(e.as_ref()),
        other => StoreError::Backend(other.to_string()),
    }
}

/// Maps an error of opening a database.
pub(super) fn open_error(error: OpenDbError) -> StoreError {
    match error {
        OpenDbError::Base(e) => store_error(e),
        other => StoreError::Backend(other.to_string()),
    }
}

/// Maps an error of starting a transaction: `InvalidStateError` there means the
/// connection was closed (by [`close`](super::IdbStore::close), or by the
/// browser when the data was cleared or deleted elsewhere).
pub(super) fn begin_error(error: Error) -> StoreError {
    if let Error::DomException(e) = &error {
        let e: &JsValue = e.as_ref();
        if e.dyn_ref::<web_sys::DomException>()
            .is_some_and(|e| e.name() == INVALID_STATE)
        {
            return StoreError::Closed;
        }
    }
    store_error(error)
}

fn describe(value: &JsValue) -> String {
    if let Some(e) = value.dyn_ref::<js_sys::Error>() {
        return String::from(e.message());
    }
    value
        .as_string()
        .unwrap_or_else(|| format!("unexpected value {value:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

    wasm_bindgen_test_configure!(run_in_browser);

    fn dom(name: &str) -> web_sys::DomException {
        web_sys::DomException::new_with_message_and_name("details", name).expect("DOMException")
    }

    #[wasm_bindgen_test]
    fn quota_is_recognised_by_name() {
        assert_eq!(
            from_js(&dom(QUOTA_EXCEEDED).into()),
            StoreError::QuotaExceeded("details".into())
        );
        assert_eq!(
            store_error(Error::from(JsValue::from(dom(QUOTA_EXCEEDED)))),
            StoreError::QuotaExceeded("details".into())
        );
    }

    #[wasm_bindgen_test]
    fn invalid_state_means_closed_only_when_starting_a_transaction() {
        let error = || Error::from(JsValue::from(dom(INVALID_STATE)));
        assert_eq!(begin_error(error()), StoreError::Closed);
        assert_eq!(
            store_error(error()),
            StoreError::Backend("InvalidStateError: details".into())
        );
    }

    #[wasm_bindgen_test]
    fn other_errors_keep_their_words() {
        assert_eq!(
            from_js(&js_sys::Error::new("boom").into()),
            StoreError::Backend("boom".into())
        );
        assert_eq!(
            from_js(&dom("DataError").into()),
            StoreError::Backend("DataError: details".into())
        );
    }
}
