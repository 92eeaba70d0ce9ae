//! Strict conversion between JavaScript values and JSON.
//!
//! A document must survive the trip to the server unchanged, so values JSON
//! cannot carry (functions, symbols, BigInt, NaN, Infinity, cycles) are refused
//! with the path where they were found, instead of being silently dropped or
//! turned into `null` as `JSON.stringify` would.

use js_sys::{Array, Function, Object, Reflect};
use serde::Serialize;
use serde_json::{Map, Number, Value};
use tidesync_engine::error::EngineError;
use wasm_bindgen::{JsCast, JsValue};

/// Deepest nesting accepted.
const MAX_DEPTH: usize = 200;

/// Converts a JS value to JSON, refusing what JSON cannot carry.
pub fn to_json(value: &JsValue) -> Result<Value, EngineError> {
    let mut stack = Vec::new();
    convert(value, "$", &mut stack)
}

fn invalid(path: &str, what: &str) -> EngineError {
    EngineError::InvalidDocument(format!("{path} is {what}, which JSON cannot carry"))
}

fn convert(value: &JsValue, path: &str, stack: &mut Vec<JsValue>) -> Result<Value, EngineError> {
    if value.is_null() {
        return Ok(Value::Null);
    }
    if let Some(b) = value.as_bool() {
        return Ok(Value::Bool(b));
    }
    if let Some(n) = value.as_f64() {
        return number(n).ok_or_else(|| invalid(path, &format!("the number {n}")));
    }
    if let Some(s) = value.as_string() {
        return Ok(Value::String(s));
    }
    if value.is_undefined() {
        return Err(invalid(path, "undefined"));
    }
    if value.is_bigint() {
        return Err(invalid(path, "a BigInt"));
    }
    if value.is_symbol() {
        return Err(invalid(path, "a symbol"));
    }
    if value.is_function() {
        return Err(invalid(path, "a function"));
    }
    if stack.iter().any(|seen| Object::is(seen, value)) {
        return Err(invalid(path, "a reference back to itself (a cycle)"));
    }
    if stack.len() >= MAX_DEPTH {
        return Err(invalid(path, "nested too deeply"));
    }
    // Dates and other objects with toJSON convert the way JSON.stringify does.
    if let Ok(to_json) = Reflect::get(value, &JsValue::from_str("toJSON")) {
        if let Some(f) = to_json.dyn_ref::<Function>() {
            let converted = f
                .call0(value)
                .map_err(|_| invalid(path, "an object whose toJSON() threw"))?;
            stack.push(value.clone());
            let out = convert(&converted, path, stack);
            stack.pop();
            return out;
        }
    }
    stack.push(value.clone());
    let out = if Array::is_array(value) {
        let array: &Array = value.unchecked_ref();
        let mut items = Vec::with_capacity(array.length() as usize);
        for (i, item) in array.iter().enumerate() {
            let item_path = format!("{path}[{i}]");
            // As in JSON.stringify, undefined in an array becomes null.
            items.push(if item.is_undefined() {
                Value::Null
            } else {
                convert(&item, &item_path, stack)?
            });
        }
        Ok(Value::Array(items))
    } else {
        let object: &Object = value.unchecked_ref();
        let mut map = Map::new();
        for key in Object::keys(object).iter() {
            let Some(name) = key.as_string() else {
                continue;
            };
            let item = Reflect::get(value, &key)
                .map_err(|_| invalid(path, "an object with a throwing getter"))?;
            if item.is_undefined() {
                continue; // JSON.stringify omits undefined members
            }
            let item_path = format!("{path}.{name}");
            map.insert(name, convert(&item, &item_path, stack)?);
        }
        Ok(Value::Object(map))
    };
    stack.pop();
    out
}

fn number(n: f64) -> Option<Value> {
    if !n.is_finite() {
        return None;
    }
    const MAX_SAFE: f64 = 9_007_199_254_740_991.0;
    if n.fract() == 0.0 && n.abs() <= MAX_SAFE {
        // Whole numbers stay integers, so `1` does not come back as `1.0`.
        return Some(Value::Number(Number::from(n as i64)));
    }
    Number::from_f64(n).map(Value::Number)
}

/// Converts anything serialisable (engine records, JSON) to a plain JS value,
/// with objects as plain objects rather than `Map`s.
pub fn to_js<T: Serialize + ?Sized>(value: &T) -> JsValue {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    value.serialize(&serializer).unwrap_or(JsValue::NULL)
}
