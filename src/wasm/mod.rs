//! The wasm edge: converts between JS values and the core's types, supplies fetch and time
//! (through `js/host.js`), and turns core errors into JS `VoxError`s. No API rule lives here.

pub mod client;
mod host;
pub mod phone;
pub mod webhook;

#[cfg(not(target_feature = "atomics"))]
#[global_allocator]
static TALC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

use crate::core::error::VoxError;
use js_sys::{Reflect, JSON};
use serde_json::Value;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/js/host.js")]
extern "C" {
    #[wasm_bindgen(js_name = makeError)]
    fn make_error(info: &JsValue) -> JsValue;
    #[wasm_bindgen(js_name = voxErrorClass)]
    fn vox_error_class_js() -> JsValue;
    #[wasm_bindgen(js_name = isBrowser)]
    fn is_browser() -> bool;
    #[wasm_bindgen(js_name = notePanic)]
    fn note_panic(message: &str);
    #[wasm_bindgen(js_name = takePanic)]
    fn take_panic_js() -> Option<String>;
}

/// Runs at every instantiation. A panic (a bug: the crate denies unwrap, expect, panic and
/// indexing) cannot unwind in wasm and traps; the hook leaves its message for the JS glue and
/// asks wasm-bindgen to start a fresh instance on the next call, so one bug does not leave the
/// module unusable for the rest of the page or process.
#[wasm_bindgen(start)]
fn start() {
    std::panic::set_hook(Box::new(|info| {
        note_panic(&crate::core::error::mask_phones_in_text(&info.to_string()));
        wasm_bindgen::handler::schedule_reinit();
    }));
}

/// The message of the last panic, for the glue that turns the trap into a `VoxError`.
#[doc(hidden)]
#[wasm_bindgen(js_name = takePanic)]
pub fn take_panic() -> Option<String> {
    take_panic_js()
}

/// Panics on purpose: only for the test that proves the module survives a panic.
#[doc(hidden)]
#[allow(clippy::panic)]
#[wasm_bindgen(js_name = __panicForTests)]
pub fn panic_for_tests() {
    panic!("deliberate panic (test of the recovery path)");
}

/// The `VoxError` class, for the package entry to re-export (`instanceof` works because
/// every error is made by this one class).
#[wasm_bindgen(js_name = voxErrorClass)]
pub fn vox_error_class() -> JsValue {
    vox_error_class_js()
}

/// A core error as a JS `VoxError`.
pub(crate) fn js_error(e: &VoxError) -> JsValue {
    make_error(&to_js(&e.to_value()))
}

/// A JS value as JSON (`Date`s become ISO strings, `undefined` fields vanish). Cycles,
/// `BigInt`s and other values JSON cannot hold are an `invalid_argument`.
pub(crate) fn to_value(js: &JsValue, what: &str) -> Result<Value, VoxError> {
    if js.is_undefined() || js.is_null() {
        return Ok(Value::Null);
    }
    let text = JSON::stringify(js).map_err(|_| {
        VoxError::invalid_argument(format!(
            "{what} cannot be read as JSON (a cycle or a BigInt?)"
        ))
    })?;
    let Some(text) = text.as_string() else {
        return Err(VoxError::invalid_argument(format!(
            "{what} must be a JSON value, not a function or symbol"
        )));
    };
    serde_json::from_str(&text).map_err(|_| {
        VoxError::invalid_argument(format!(
            "{what} cannot be read: it holds text that is not valid Unicode (a lone surrogate?)"
        ))
    })
}

/// A JSON value as a plain JS value.
pub(crate) fn to_js(v: &Value) -> JsValue {
    match v {
        Value::Null => JsValue::NULL,
        Value::Bool(b) => JsValue::from_bool(*b),
        Value::String(s) => JsValue::from_str(s),
        _ => JSON::parse(&v.to_string()).unwrap_or(JsValue::NULL),
    }
}

/// `obj[key]`, or `undefined` when `obj` is not an object.
pub(crate) fn get(obj: &JsValue, key: &str) -> JsValue {
    if obj.is_object() || obj.is_function() {
        Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

/// An options argument: `undefined`, `null` or an object.
pub(crate) fn check_options(opts: &JsValue, what: &str) -> Result<(), VoxError> {
    if opts.is_undefined() || opts.is_null() || opts.is_object() {
        Ok(())
    } else {
        Err(VoxError::invalid_argument(format!(
            "{what} must be an object"
        )))
    }
}

pub(crate) fn opt_bool(opts: &JsValue, key: &str) -> Result<Option<bool>, VoxError> {
    let v = get(opts, key);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.as_bool()
        .map(Some)
        .ok_or_else(|| VoxError::invalid_argument(format!("{key} must be a boolean")))
}

/// An optional number within `[min, max]`; `integer` refuses fractions.
pub(crate) fn opt_number(
    opts: &JsValue,
    key: &str,
    min: f64,
    max: f64,
    integer: bool,
) -> Result<Option<f64>, VoxError> {
    let v = get(opts, key);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    match v.as_f64() {
        Some(n) if n >= min && n <= max && (!integer || n.fract() == 0.0) => Ok(Some(n)),
        // Integer formatting: f64 Display would pull float printing into the .wasm.
        _ => Err(VoxError::invalid_argument(format!(
            "{key} must be {} between {} and {}",
            if integer { "an integer" } else { "a number" },
            min as i64,
            max as i64
        ))),
    }
}

pub(crate) fn opt_string(opts: &JsValue, key: &str) -> Result<Option<String>, VoxError> {
    let v = get(opts, key);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    js_string(&v, key).map(Some)
}

/// Longest string accepted where an id, a code or an option is expected.
pub(crate) const MAX_SHORT_STRING: usize = 1024;

/// A JS string as Rust text: refused when it is not a string, not well-formed UTF-16 (a lone
/// surrogate would otherwise turn into U+FFFD silently) or longer than `MAX_SHORT_STRING`.
pub(crate) fn js_string(v: &JsValue, what: &str) -> Result<String, VoxError> {
    let Some(js) = v.dyn_ref::<js_sys::JsString>() else {
        return Err(VoxError::invalid_argument(format!(
            "{what} must be a string"
        )));
    };
    if js.length() as usize > MAX_SHORT_STRING {
        return Err(VoxError::invalid_argument(format!(
            "{what} is too long (more than {MAX_SHORT_STRING} characters)"
        )));
    }
    if !js.is_valid_utf16() {
        return Err(VoxError::invalid_argument(format!(
            "{what} is not valid text (it holds a lone surrogate)"
        )));
    }
    Ok(String::from(js))
}

/// Refuses an object argument whose listed fields are present but not strings (a `Date` or a
/// number would otherwise be turned into text by JSON and sent).
pub(crate) fn check_string_fields(
    obj: &JsValue,
    what: &str,
    keys: &[&str],
) -> Result<(), VoxError> {
    for key in keys {
        let v = get(obj, key);
        if !(v.is_undefined() || v.is_null()) {
            js_string(&v, &format!("{what}.{key}"))?;
        }
    }
    Ok(())
}

pub(crate) fn opt_function(
    opts: &JsValue,
    key: &str,
) -> Result<Option<js_sys::Function>, VoxError> {
    let v = get(opts, key);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.dyn_into::<js_sys::Function>()
        .map(Some)
        .map_err(|_| VoxError::invalid_argument(format!("{key} must be a function")))
}
