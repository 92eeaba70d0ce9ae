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

pub(super) fn query_of(options: &JsValue) -> Result<DocQuery> {
    if options.is_undefined() || options.is_null() {
        return Ok(DocQuery::default());
    }
    let bad = |m: &str| SdkError::InvalidOptions(m.to_owned());
    let include_deleted =
        Reflect::get(options, &"includeDeleted".into()).map_err(|_| bad("includeDeleted"))?;
    let status = Reflect::get(options, &"status".into()).map_err(|_| bad("status"))?;
    let status = match status.as_string().as_deref() {
        None if status.is_undefined() => None,
        Some("synced") => Some(DocStatus::Synced),
        Some("pending") => Some(DocStatus::Pending),
        Some("conflicted") => Some(DocStatus::Conflicted),
        _ => return Err(bad("status must be 'synced', 'pending' or 'conflicted'")),
    };
    Ok(DocQuery {
        status,
        include_deleted: include_deleted.as_bool().unwrap_or(false),
    })
}
