//! `mergeDocuments`: the engine's three-way merge, offered to apps that build
//! their own conflict screens.

use wasm_bindgen::prelude::*;

use crate::{
    convert::{to_js, to_json},
    error::SdkError,
    payloads::MergeResult,
};

/// Three-way merge of JSON documents, as the `merge` strategy does it: fields
/// changed on one side merge, text through diff-match-patch, lists by
/// insertions and removals. `merged` is `null` for a deletion; `clashes` lists
/// the JSON Pointers both sides changed differently (`merged` then keeps the
/// local value there). Apps use it to offer a merge in their own conflict UI.
#[wasm_bindgen(js_name = mergeDocuments, unchecked_return_type = "MergeResult")]
pub fn merge_documents(
    #[wasm_bindgen(unchecked_param_type = "Doc | null")] base: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Doc | null")] local: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Doc | null")] remote: JsValue,
) -> std::result::Result<JsValue, JsValue> {
    let side = |value: &JsValue| -> Result<Option<serde_json::Value>, SdkError> {
        if value.is_null() || value.is_undefined() {
            Ok(None)
        } else {
            Ok(Some(to_json(value)?))
        }
    };
    let (base, local, remote) = (side(&base)?, side(&local)?, side(&remote)?);
    let outcome = tidesync_engine::merge::merge3(base.as_ref(), local.as_ref(), remote.as_ref());
    Ok(to_js(&MergeResult {
        merged: outcome.merged,
        clashes: outcome.clashes,
    }))
}
