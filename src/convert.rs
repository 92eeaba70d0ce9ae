//! Strict conversion between JavaScript values and JSON.
//!
//! A document must survive the trip to the server unchanged, so values JSON
//! cannot carry (functions, symbols, BigInt, NaN, Infinity, cycles) are refused
//! with the path where they were found, instead of being silently dropped or
//! turned into `null` as `JSON.stringify` would.
//!
//! Values cross the boundary as JSON text, one call each way (`json.js`):
//! `JSON.stringify` after a checking pass on the way in, `JSON.parse` of
//! serde_json's text on the way out. Converting member by member through the
//! bindings cost one call per member, most of the time of a bulk write.

use serde::Serialize;
use serde_json::Value;
use tidesync_engine::error::EngineError;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/js/json.js")]
extern "C" {
    #[wasm_bindgen(js_name = jsonText, catch)]
    fn json_text(value: &JsValue) -> Result<String, JsValue>;
    #[wasm_bindgen(js_name = jsonTexts, catch)]
    fn json_texts(values: &JsValue) -> Result<String, JsValue>;
    #[wasm_bindgen(js_name = parseJson)]
    fn parse_json(text: &str) -> JsValue;
}

/// The message of what `json.js` threw, and the index of the document it
/// names when it checked an array.
fn unfit(error: &JsValue) -> (String, Option<usize>) {
    let get = |name: &str| js_sys::Reflect::get(error, &JsValue::from_str(name)).ok();
    let message = get("message")
        .and_then(|m| m.as_string())
        .unwrap_or_else(|| "a value JSON cannot carry".to_owned());
    let index = get("index").and_then(|i| i.as_f64()).map(|i| i as usize);
    (message, index)
}

fn parse<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, EngineError> {
    serde_json::from_str(text).map_err(|e| EngineError::InvalidDocument(e.to_string()))
}

/// Converts a JS value to JSON, refusing what JSON cannot carry.
pub fn to_json(value: &JsValue) -> Result<Value, EngineError> {
    let text = json_text(value).map_err(|e| EngineError::InvalidDocument(unfit(&e).0))?;
    parse(&text)
}

/// Converts a JS array of values to JSON, one crossing for all; an unfit
/// value is reported with its index.
pub fn to_json_list(values: &js_sys::Array) -> Result<Vec<Value>, EngineError> {
    let text = json_texts(values).map_err(|e| {
        let (message, index) = unfit(&e);
        let error = EngineError::InvalidDocument(message);
        match index {
            Some(index) => error.at_index(index),
            None => error,
        }
    })?;
    parse(&text)
}

/// Reads a JS value as `T` through its JSON text (options, headers): the
/// message says what did not fit, without serde_json's text position, which
/// means nothing to the caller.
pub fn from_js<T: serde::de::DeserializeOwned>(value: &JsValue) -> Result<T, String> {
    let text = json_text(value).map_err(|e| unfit(&e).0)?;
    serde_json::from_str(&text).map_err(|e| {
        let message = e.to_string();
        match message.rsplit_once(" at line ") {
            Some((message, _)) => message.to_owned(),
            None => message,
        }
    })
}

/// Converts anything serialisable (engine records, JSON) to a plain JS value,
/// with objects as plain objects.
pub fn to_js<T: Serialize + ?Sized>(value: &T) -> JsValue {
    match serde_json::to_string(value) {
        Ok(text) => parse_json(&text),
        Err(_) => JsValue::NULL,
    }
}
