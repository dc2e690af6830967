//! Exports of the synchronous phone and lead checks (SDK.md "Phone numbers and leads").

use super::{check_options, js_error, opt_number, opt_string, to_js, to_value};
use crate::core::error::{Code, VoxError};
use crate::core::lead;
use crate::core::phone::{self, PhoneCheck};
use js_sys::{Array, Object, Reflect};
use serde_json::json;
use wasm_bindgen::prelude::*;

fn region(opts: &JsValue) -> Result<String, JsValue> {
    check_options(opts, "options").map_err(|e| js_error(&e))?;
    match opt_string(opts, "defaultCountry").map_err(|e| js_error(&e))? {
        None => Ok("IN".to_string()),
        Some(r) if phone::is_known_region(&r) => Ok(r.to_ascii_uppercase()),
        Some(r) => Err(js_error(&VoxError::invalid_argument(format!(
            "defaultCountry '{r}' is not an ISO 3166 region code"
        )))),
    }
}

fn input_str(input: &JsValue, what: &str) -> Result<String, JsValue> {
    input.as_string().ok_or_else(|| {
        js_error(&VoxError::invalid_argument(format!(
            "{what} must be a string"
        )))
    })
}

fn check_object(c: &PhoneCheck) -> JsValue {
    let o = Object::new();
    let set = |k: &str, v: JsValue| {
        let _ = Reflect::set(&o, &JsValue::from_str(k), &v);
    };
    set("valid", JsValue::from_bool(c.valid));
    if let Some(e) = &c.e164 {
        set("e164", JsValue::from_str(e));
    }
    if let Some(cc) = c.country_code {
        set("countryCode", JsValue::from_f64(f64::from(cc)));
    }
    if let Some(r) = c.region {
        set("region", JsValue::from_str(r));
    }
    if let Some(n) = &c.national_number {
        set("nationalNumber", JsValue::from_str(n));
    }
    if let Some(r) = c.reason {
        set("reason", JsValue::from_str(r.code()));
        set("message", JsValue::from_str(r.message()));
    }
    o.into()
}

#[wasm_bindgen(js_name = validatePhone)]
pub fn validate_phone(input: JsValue, options: JsValue) -> Result<JsValue, JsValue> {
    let region = region(&options)?;
    let input = input_str(&input, "input")?;
    Ok(check_object(&phone::validate(&input, &region)))
}

#[wasm_bindgen(js_name = validatePhones)]
pub fn validate_phones(inputs: JsValue, options: JsValue) -> Result<Array, JsValue> {
    let region = region(&options)?;
    let inputs: Array = inputs.dyn_into().map_err(|_| {
        js_error(&VoxError::invalid_argument(
            "inputs must be an array of strings",
        ))
    })?;
    let out = Array::new_with_length(inputs.length());
    for (i, v) in inputs.iter().enumerate() {
        let s = input_str(&v, &format!("inputs[{i}]"))?;
        out.set(i as u32, check_object(&phone::validate(&s, &region)));
    }
    Ok(out)
}

#[wasm_bindgen(js_name = normalizePhone)]
pub fn normalize_phone(input: JsValue, options: JsValue) -> Result<String, JsValue> {
    let region = region(&options)?;
    let input = input_str(&input, "input")?;
    phone::normalize(&input, &region).map_err(|c| {
        let reason = c.reason.map_or("invalid_number", |r| r.code());
        let message = c.reason.map_or("Invalid phone number", |r| r.message());
        js_error(
            &VoxError::new(
                Code::InvalidPhone,
                format!(
                    "Invalid phone number {}: {message}",
                    phone::mask(&input, 4, '*')
                ),
            )
            .with_details(json!({ "reason": reason })),
        )
    })
}

#[wasm_bindgen(js_name = maskPhone)]
pub fn mask_phone(input: JsValue, options: JsValue) -> Result<String, JsValue> {
    check_options(&options, "options").map_err(|e| js_error(&e))?;
    let input = input_str(&input, "input")?;
    let keep = opt_number(&options, "keepLast", 0.0, 32.0, true)
        .map_err(|e| js_error(&e))?
        .map_or(4, |n| n as usize);
    let mask_char = match opt_string(&options, "maskChar").map_err(|e| js_error(&e))? {
        None => '*',
        Some(s) => {
            let mut chars = s.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => c,
                _ => {
                    return Err(js_error(&VoxError::invalid_argument(
                        "maskChar must be one character",
                    )))
                }
            }
        }
    };
    Ok(phone::mask(&input, keep, mask_char))
}

#[wasm_bindgen(js_name = validateLead)]
pub fn validate_lead(lead_input: JsValue, options: JsValue) -> Result<JsValue, JsValue> {
    let region = region(&options)?;
    let v = to_value(&lead_input, "lead").map_err(|e| js_error(&e))?;
    let errors = lead::validate_lead(&v, &region);
    Ok(to_js(&json!({
        "valid": errors.is_empty(),
        "errors": errors.iter().map(lead::FieldError::to_value).collect::<Vec<_>>(),
    })))
}
