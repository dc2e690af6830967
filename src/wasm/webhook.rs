//! Exports of the webhook helpers (docs/sdk.md "Webhooks"); the rules are `core::webhook`.
//!
//! - `parseWebhook(body)`: JSON text (parsed by the engine's `JSON.parse`) or an object, whose
//!   own value becomes the event's `raw`.
//! - `verifyWebhookAuth(headers, expected)`: a WHATWG `Headers`, a `Map` or an array of
//!   `[name, value]` pairs (anything with `entries`, read by `Object.fromEntries`), or a plain
//!   object such as Node's `req.headers`.

use super::{js_error, js_result, Js};
use crate::core::error::VoxError;
use crate::core::value::Value;
use crate::core::webhook::{self, Expected};
use js_sys::{ArrayBuffer, Object, Uint8Array, JSON};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(js_name = parseWebhook)]
pub fn parse_webhook(body: JsValue) -> Result<JsValue, JsValue> {
    let body = match body.as_string() {
        Some(text) => JSON::parse(&text).map_err(|_| js_error(&webhook::not_json()))?,
        None if body.is_instance_of::<Uint8Array>() || body.is_instance_of::<ArrayBuffer>() => {
            return Err(js_error(&VoxError::invalid_argument(
                "webhook body is binary: pass its text (e.g. buffer.toString(\"utf8\")) or the parsed object",
            )))
        }
        None => body,
    };
    js_result(webhook::parse_webhook(&Js(body)))
}

#[wasm_bindgen(js_name = verifyWebhookAuth)]
pub fn verify_webhook_auth(headers: JsValue, expected: JsValue) -> Result<bool, JsValue> {
    let expected = Expected::read(&Js(expected)).map_err(|e| js_error(&e))?;
    let headers = Js(headers);
    if !headers.is_object() && headers.array_len().is_none() {
        return Err(js_error(&VoxError::invalid_argument(
            "headers must be a Headers or a plain object of header values",
        )));
    }
    // Headers, Map and arrays of pairs iterate as [name, value]; a plain object is read as it is.
    let plain = if headers.get("entries").kind() == crate::core::value::Kind::Function {
        Js(Object::from_entries(&headers.0)
            .map_err(|_| {
                js_error(&VoxError::invalid_argument(
                    "headers must iterate as [name, value] pairs",
                ))
            })?
            .into())
    } else {
        headers
    };
    Ok(webhook::verify_auth(
        &webhook::header_pairs(&plain),
        expected,
    ))
}
