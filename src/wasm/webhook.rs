//! Exports of the webhook helpers (SDK.md "Webhooks"): JS bodies and headers in, the core's
//! event and verdict out. The rules live in `core::webhook`.
//!
//! - `parseWebhook(body)`: `body` is JSON text or an object (`Uint8Array`/`ArrayBuffer` and other
//!   values are an `invalid_argument`). The event is built in the core's key order; its `raw` is
//!   the caller's own object (for text, `JSON.parse(text)`), so nothing in it is re-encoded.
//! - `verifyWebhookAuth(headers, expected)`: `headers` is a WHATWG `Headers` (or a `Map` or an
//!   array of `[name, value]` pairs: anything with `entries` that `Object.fromEntries` reads), or
//!   a plain object such as Node's `req.headers`. Entries whose name or value is not a string
//!   (Node's `set-cookie` array) are ignored, i.e. treated as absent. `expected` is `{ token }`
//!   or `{ header, value }`; anything else is an `invalid_argument`.

use super::{get, js_error, opt_string, to_js, to_value};
use crate::core::error::VoxError;
use crate::core::webhook::{self, Expected};
use js_sys::{Array, ArrayBuffer, Object, Reflect, Uint8Array, JSON};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(js_name = parseWebhook)]
pub fn parse_webhook(body: JsValue) -> Result<JsValue, JsValue> {
    let err = |e: VoxError| js_error(&e);
    let (fields, raw) = if let Some(text) = body.as_string() {
        let value = webhook::read_text(&text).map_err(err)?;
        let fields = webhook::parse_webhook_fields(&value).map_err(err)?;
        // The core accepted the text, so the engine's own parser does too.
        (fields, JSON::parse(&text).ok())
    } else if body.is_instance_of::<Uint8Array>() || body.is_instance_of::<ArrayBuffer>() {
        return Err(err(VoxError::invalid_argument(
            "webhook body is binary: pass its text (e.g. buffer.toString(\"utf8\")) or the parsed object",
        )));
    } else if body.is_object() {
        let value = to_value(&body, "webhook body").map_err(err)?;
        let fields = webhook::parse_webhook_fields(&value).map_err(err)?;
        (fields, Some(body))
    } else {
        return Err(err(VoxError::invalid_argument(format!(
            "webhook body must be JSON text or an object, not {}",
            type_name(&body)
        ))));
    };
    let event = Object::new();
    for (key, value) in fields {
        let js = match (key, &raw) {
            ("raw", Some(raw)) => raw.clone(),
            _ => to_js(&value),
        };
        let _ = Reflect::set(&event, &JsValue::from_str(key), &js);
    }
    Ok(event.into())
}

#[wasm_bindgen(js_name = verifyWebhookAuth)]
pub fn verify_webhook_auth(headers: JsValue, expected: JsValue) -> Result<bool, JsValue> {
    let expected = read_expected(&expected).map_err(|e| js_error(&e))?;
    let headers = read_headers(&headers).map_err(|e| js_error(&e))?;
    Ok(webhook::verify_auth(&headers, expected))
}

fn read_expected(expected: &JsValue) -> Result<Expected, VoxError> {
    const SHAPE: &str = "expected must be { token: string } or { header: string, value: string }";
    if !expected.is_object() {
        return Err(VoxError::invalid_argument(SHAPE));
    }
    let field = |key: &str| {
        opt_string(expected, key)
            .map_err(|_| VoxError::invalid_argument(format!("{SHAPE}: {key} is not a string")))
    };
    match (field("token")?, field("header")?, field("value")?) {
        (Some(token), None, None) => Ok(Expected::Token(token)),
        (None, Some(name), Some(value)) => Ok(Expected::Header { name, value }),
        _ => Err(VoxError::invalid_argument(SHAPE)),
    }
}

fn read_headers(headers: &JsValue) -> Result<Vec<(String, String)>, VoxError> {
    let shape = || {
        VoxError::invalid_argument(format!(
            "headers must be a Headers or a plain object of header values, not {}",
            type_name(headers)
        ))
    };
    if !headers.is_object() {
        return Err(shape());
    }
    // Headers, Map and arrays of pairs iterate as [name, value] (and have `entries`); a plain
    // object is read as it is. Object.fromEntries is the engine's own loop, smaller than ours.
    let plain: Object = if get(headers, "entries").is_function() {
        Object::from_entries(headers).map_err(|_| {
            VoxError::invalid_argument("headers must iterate as [name, value] pairs")
        })?
    } else {
        headers.clone().unchecked_into()
    };
    Ok(Object::entries(&plain)
        .iter()
        .filter_map(|pair| {
            let pair: Array = pair.unchecked_into();
            Some((pair.get(0).as_string()?, pair.get(1).as_string()?))
        })
        .collect())
}

/// `typeof` for the values that are not objects (`null` by name).
fn type_name(v: &JsValue) -> String {
    if v.is_null() {
        "null".into()
    } else {
        v.js_typeof().as_string().unwrap_or_default()
    }
}
