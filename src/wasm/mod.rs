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
use crate::core::options::UrlParts;
use crate::core::value::{
    decode_fields, encode_patches, split_utf16, Field, Json, JsonError, Kind, Patch, TextState,
    Value,
};
use js_sys::{Array, Object, Reflect};
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
    #[wasm_bindgen(js_name = urlParts)]
    fn url_parts(text: &str) -> JsValue;
    #[wasm_bindgen(js_name = kindOf)]
    fn kind_of(v: &JsValue) -> u8;
    #[wasm_bindgen(js_name = textState)]
    fn text_state_js(v: &JsValue, max: f64) -> u8;
    #[wasm_bindgen(catch)]
    fn plain(v: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    fn keys(v: &JsValue) -> Result<Array, JsValue>;
    #[wasm_bindgen(catch, js_name = fields)]
    fn fields_js(
        arr: &JsValue,
        start: u32,
        end: u32,
        names: &str,
        max: &[u32],
        copy: &[u8],
    ) -> Result<Array, JsValue>;
    #[wasm_bindgen(catch, js_name = column)]
    fn column_js(arr: &JsValue, key: &JsValue) -> Result<Array, JsValue>;
    #[wasm_bindgen(catch, js_name = toJsonMany)]
    fn to_json_many_js(
        sources: &Array,
        keys: &Array,
        text: &str,
        codes: &[i32],
    ) -> Result<Array, JsValue>;
    #[wasm_bindgen(js_name = callBack)]
    fn call_back(f: &JsValue, arg: &JsValue);
    #[wasm_bindgen(js_name = notePanic)]
    fn note_panic(message: &str);
    #[wasm_bindgen(js_name = takePanic)]
    fn take_panic_js() -> Option<String>;
}

/// The text of the host's `Uint8Array` of UTF-8 (`TextEncoder`'s, which never writes invalid
/// UTF-8; empty if it did).
fn utf8_text(bytes: JsValue) -> String {
    String::from_utf8(js_sys::Uint8Array::from(bytes).to_vec()).unwrap_or_default()
}

/// `new URL(text)` as the core's `UrlParts` (`Env::parse_url`).
pub(crate) fn parse_url(text: &str) -> Option<UrlParts> {
    let parts = url_parts(text);
    let p = Js(parts);
    Some(UrlParts {
        href: p.get("href").string()?,
        protocol: p.get("protocol").string()?,
        credentials: p.get("credentials").boolean()?,
    })
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

thread_local! {
    /// JS strings of the short texts the edge passes again and again (field names, a body's
    /// separators): made once each, instead of once per lead.
    static SHORT: std::cell::RefCell<Vec<(String, JsValue)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// `s` as a JS string; short ones come from a cache of at most 64.
pub(crate) fn js_str(s: &str) -> JsValue {
    if s.len() > 24 {
        return JsValue::from_str(s);
    }
    SHORT.with(|c| {
        let mut c = c.borrow_mut();
        if let Some((_, v)) = c.iter().find(|(k, _)| k == s) {
            return v.clone();
        }
        let v = JsValue::from_str(s);
        if c.len() < 64 {
            c.push((s.to_string(), v.clone()));
        }
        v
    })
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
        let v = &self.0;
        Kind::from_code(
            kind_of(v),
            || v.as_bool().unwrap_or(false),
            || v.as_f64().unwrap_or(f64::NAN),
            || v.unchecked_ref::<js_sys::Date>().get_time(),
        )
    }

    fn text_state(&self, max: usize) -> TextState {
        TextState::from_code(text_state_js(&self.0, max as f64))
    }

    fn string(&self) -> Option<String> {
        self.0.as_string()
    }

    fn get(&self, key: &str) -> Self {
        // Not through `Reflect.get`'s TypeError for a primitive: a thrown error costs ~20 µs.
        if !(self.0.is_object() || self.0.is_function()) {
            return Js(JsValue::UNDEFINED);
        }
        Js(Reflect::get(&self.0, &js_str(key)).unwrap_or(JsValue::UNDEFINED))
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

    fn column(&self, key: &str) -> Vec<Option<String>> {
        if self.array_len().is_none() {
            return Vec::new();
        }
        let Ok(pair) = column_js(&self.0, &js_str(key)) else {
            return Vec::new();
        };
        let text = utf8_text(pair.get(0));
        split_utf16(&text, &js_sys::Int32Array::from(pair.get(1)).to_vec())
    }

    fn fields(
        &self,
        start: usize,
        end: usize,
        names: &[&str],
        max: &[usize],
        copy: &[bool],
    ) -> Vec<Option<(Vec<Field>, Self)>> {
        let max: Vec<u32> = max.iter().map(|&m| m as u32).collect();
        let copy: Vec<u8> = copy.iter().map(|&c| u8::from(c)).collect();
        let Ok(r) = fields_js(
            &self.0,
            start as u32,
            end as u32,
            &names.join("\0"),
            &max,
            &copy,
        ) else {
            return (start..end).map(|_| None).collect();
        };
        let states = js_sys::Uint8Array::from(r.get(0)).to_vec();
        let text = utf8_text(r.get(2));
        let texts = split_utf16(&text, &js_sys::Int32Array::from(r.get(1)).to_vec());
        let sources = Array::from(&r.get(3));
        decode_fields(&states, names.len(), texts)
            .into_iter()
            .zip(0..)
            .map(|(f, i)| f.map(|f| (f, Js(sources.get(i)))))
            .collect()
    }

    fn read<T: DeserializeOwned>(&self) -> Option<T> {
        serde_wasm_bindgen::from_value(plain(&self.0).ok()?).ok()
    }

    fn to_json_many(items: &[(&Self, Patch<'_>)]) -> Vec<Result<Self, JsonError>> {
        let patches: Vec<&Patch> = items.iter().map(|(_, p)| p).collect();
        let (keys, text, codes) = encode_patches(&patches);
        let sources: Array = items.iter().map(|(v, _)| v.0.clone()).collect();
        let keys: Array = keys.iter().map(|k| js_str(k)).collect();
        let Ok(out) = to_json_many_js(&sources, &keys, &text, &codes) else {
            return items
                .iter()
                .map(|_| Err(JsonError::Unwritable(None)))
                .collect();
        };
        out.iter()
            .map(|t| match t {
                t if t.is_undefined() => Err(JsonError::NotWellFormed),
                t if t.is_null() => Err(JsonError::Unwritable(None)),
                t if Array::is_array(&t) => {
                    Err(JsonError::Unwritable(Array::from(&t).get(0).as_string()))
                }
                t => Ok(Js(t)),
            })
            .collect()
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
                    let _ = Reflect::set(&o, &js_str(k), &Js::build(v).0);
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
        let _ = Reflect::set(&self.0, &js_str(key), &value.0);
    }

    fn remove(&self, key: &str) {
        if let Some(o) = self.0.dyn_ref::<Object>() {
            let _ = Reflect::delete_property(o, &js_str(key));
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
