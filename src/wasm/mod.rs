//! The wasm edge: the core's `Value` for JS values (read with serde-wasm-bindgen and a few
//! calls into `js/host.js` that cannot throw through wasm), the core's trees as JS values, core
//! errors as JS `VoxError`s, and the exports. No API rule lives here.

pub mod client;
mod host;
pub mod phone;
pub mod webhook;

#[cfg(not(target_feature = "atomics"))]
#[global_allocator]
static TALC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

use crate::core::error::VoxError;
use crate::core::value::{Json, JsonError, Kind, TextError, Value};
use js_sys::{Array, JsString, Object, Reflect};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/js/host.js")]
extern "C" {
    #[wasm_bindgen(js_name = makeError)]
    fn make_error(info: &JsValue) -> JsValue;
    #[wasm_bindgen(js_name = voxErrorClass)]
    fn vox_error_class_js() -> JsValue;
    #[wasm_bindgen(js_name = isBrowser)]
    fn is_browser() -> bool;
    #[wasm_bindgen(js_name = kindOf)]
    fn kind_of(v: &JsValue) -> u8;
    #[wasm_bindgen(catch)]
    fn plain(v: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    fn keys(v: &JsValue) -> Result<Array, JsValue>;
    #[wasm_bindgen(catch, js_name = toJson)]
    fn to_json_js(v: &JsValue, patch: &Array) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = callBack)]
    fn call_back(f: &JsValue, arg: &JsValue);
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

/// A JS value as the core's `Value`.
#[derive(Clone, Debug)]
pub struct Js(pub JsValue);

impl<'de> Deserialize<'de> for Js {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde_wasm_bindgen::preserve::deserialize(d).map(Js)
    }
}

impl Value for Js {
    fn kind(&self) -> Kind {
        match kind_of(&self.0) {
            0 => Kind::Absent,
            1 => Kind::Bool(self.0.as_bool().unwrap_or(false)),
            2 => Kind::Number(self.0.as_f64().unwrap_or(f64::NAN)),
            3 => Kind::Text,
            4 => Kind::Date(self.0.unchecked_ref::<js_sys::Date>().get_time()),
            5 => Kind::Array,
            6 => Kind::Object,
            7 => Kind::Function,
            _ => Kind::Other,
        }
    }

    fn text(&self, max: usize) -> Result<String, TextError> {
        let s = self.0.dyn_ref::<JsString>().ok_or(TextError::NotText)?;
        if s.length() as usize > max {
            Err(TextError::TooLong)
        } else if !s.is_valid_utf16() {
            Err(TextError::NotWellFormed)
        } else {
            Ok(String::from(s))
        }
    }

    fn get(&self, key: &str) -> Self {
        Js(Reflect::get(&self.0, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED))
    }

    fn array_len(&self) -> Option<usize> {
        Array::is_array(&self.0).then(|| self.0.unchecked_ref::<Array>().length() as usize)
    }

    fn at(&self, i: usize) -> Self {
        Js(Reflect::get_u32(&self.0, i as u32).unwrap_or(JsValue::UNDEFINED))
    }

    fn keys(&self) -> Vec<String> {
        keys(&self.0).map_or_else(
            |_| Vec::new(),
            |k| k.iter().filter_map(|k| k.as_string()).collect(),
        )
    }

    fn read<T: DeserializeOwned>(&self) -> Option<T> {
        serde_wasm_bindgen::from_value(plain(&self.0).ok()?).ok()
    }

    fn to_json(&self, patch: &[(&str, Option<&str>)]) -> Result<Self, JsonError> {
        let p = Array::new();
        for (k, v) in patch {
            p.push(&JsValue::from_str(k));
            p.push(&v.map_or(JsValue::NULL, JsValue::from_str));
        }
        match to_json_js(&self.0, &p) {
            Ok(t) if t.is_undefined() => Err(JsonError::NotWellFormed),
            Ok(t) => Ok(Js(t)),
            Err(_) => Err(JsonError::Unwritable),
        }
    }

    fn build(json: Json<Self>) -> Self {
        Js(match json {
            Json::Null => JsValue::NULL,
            Json::Bool(b) => JsValue::from_bool(b),
            Json::Number(n) => JsValue::from_f64(n),
            Json::Text(s) => JsValue::from_str(&s),
            Json::Value(v) => v.0,
            Json::Object(m) => {
                let o = Object::new();
                for (k, v) in m {
                    let _ = Reflect::set(&o, &JsValue::from_str(k), &Js::build(v).0);
                }
                o.into()
            }
            Json::Array(a) => a
                .into_iter()
                .map(|v| Js::build(v).0)
                .collect::<Array>()
                .into(),
        })
    }

    fn set(&self, key: &str, value: Self) {
        let _ = Reflect::set(&self.0, &JsValue::from_str(key), &value.0);
    }

    fn remove(&self, key: &str) {
        if let Some(o) = self.0.dyn_ref::<Object>() {
            let _ = Reflect::delete_property(o, &JsValue::from_str(key));
        }
    }
}

/// A core error as a JS `VoxError`.
pub(crate) fn js_error(e: &VoxError) -> JsValue {
    make_error(&Js::build(e.to_json()).0)
}

/// A core result as the JS value an export returns or throws.
pub(crate) fn js_result(r: Result<Json<Js>, VoxError>) -> Result<JsValue, JsValue> {
    r.map(|j| Js::build(j).0).map_err(|e| js_error(&e))
}
