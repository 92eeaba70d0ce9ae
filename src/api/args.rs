//! Reading the arguments JS passes: ids, document arrays, listing filters.

use js_sys::Reflect;
use tidesync_engine::{error::EngineError, model::DocStatus, store::DocQuery};
use wasm_bindgen::{JsCast, JsValue};

use crate::{convert::to_json_list, error::SdkError};

type Result<T> = std::result::Result<T, SdkError>;

pub(super) fn docs_of(value: &JsValue) -> Result<Vec<serde_json::Value>> {
    if !js_sys::Array::is_array(value) {
        let message = "putMany() takes an array of documents".to_owned();
        return Err(SdkError::Engine(EngineError::InvalidDocument(message)));
    }
    Ok(to_json_list(value.unchecked_ref())?)
}

pub(super) fn id_of(value: &JsValue) -> Result<String> {
    value
        .as_string()
        .ok_or_else(|| SdkError::Engine(EngineError::InvalidId("an id must be a string".into())))
}

/// The optional `_rev` argument of `delete(id, rev)`: absent (undefined or
/// null) or a string; anything else is `invalid_rev`.
pub(super) fn rev_of(value: &JsValue, id: &str) -> Result<Option<String>> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value.as_string().map(Some).ok_or_else(|| {
        SdkError::Engine(EngineError::InvalidRev(format!(
            "the _rev of {id} must be a string"
        )))
    })
}

/// The options `all()` accepts.
const QUERY_OPTIONS: &[&str] = &[
    "includeDeleted",
    "status",
    "startKey",
    "endKey",
    "prefix",
    "skip",
    "limit",
    "descending",
];

/// `all()`'s options as a query. An unknown option, or one of the wrong
/// type, is `invalid_options`: a misspelt `limit` would otherwise read the
/// whole database.
pub(super) fn query_of(options: &JsValue) -> Result<DocQuery> {
    if options.is_undefined() || options.is_null() {
        return Ok(DocQuery::default());
    }
    let bad = |m: String| SdkError::InvalidOptions(m);
    if !options.is_object() || js_sys::Array::is_array(options) {
        return Err(bad("all() takes an options object".into()));
    }
    for key in js_sys::Object::keys(options.unchecked_ref::<js_sys::Object>()).iter() {
        let key = key.as_string().unwrap_or_default();
        if !QUERY_OPTIONS.contains(&key.as_str()) {
            return Err(bad(format!(
                "unknown option {key:?} of all(); known: {}",
                QUERY_OPTIONS.join(", ")
            )));
        }
    }
    let member = |name: &str| Reflect::get(options, &name.into()).map_err(|_| bad(name.into()));
    let flag = |name: &str| -> Result<bool> {
        let value = member(name)?;
        match value.as_bool() {
            Some(flag) => Ok(flag),
            None if value.is_undefined() => Ok(false),
            None => Err(bad(format!("{name} must be true or false"))),
        }
    };
    let text = |name: &str| -> Result<Option<String>> {
        let value = member(name)?;
        match value.as_string() {
            Some(text) => Ok(Some(text)),
            None if value.is_undefined() => Ok(None),
            None => Err(bad(format!("{name} must be a string (a document id)"))),
        }
    };
    let count = |name: &str| -> Result<Option<usize>> {
        let value = member(name)?;
        if value.is_undefined() {
            return Ok(None);
        }
        match value.as_f64() {
            Some(n) if n.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&n) => {
                Ok(Some(n as usize))
            }
            _ => Err(bad(format!("{name} must be a whole number from 0"))),
        }
    };
    let status = member("status")?;
    let status = match status.as_string().as_deref() {
        None if status.is_undefined() => None,
        Some("synced") => Some(DocStatus::Synced),
        Some("pending") => Some(DocStatus::Pending),
        Some("conflicted") => Some(DocStatus::Conflicted),
        _ => {
            return Err(bad(
                "status must be 'synced', 'pending' or 'conflicted'".into()
            ))
        }
    };
    Ok(DocQuery {
        status,
        include_deleted: flag("includeDeleted")?,
        start_key: text("startKey")?,
        end_key: text("endKey")?,
        prefix: text("prefix")?,
        skip: count("skip")?.unwrap_or(0),
        limit: count("limit")?,
        descending: flag("descending")?,
    })
}
