//! Exports of the synchronous phone and lead checks (SDK.md "Phone numbers and leads").

use super::{check_options, js_error, opt_number, opt_string, to_js, to_value};
use crate::core::error::{Code, VoxError};
use crate::core::lead;
use crate::core::phone::{self, PhoneCheck, Reason, Verdict};
use js_sys::{Array, Object, Reflect, Uint32Array};
use serde_json::json;
use std::cell::RefCell;
use std::sync::atomic::{AtomicU8, Ordering::Relaxed};
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

// ---------------------------------------------------------------------------------------------
// The fast path (glue in `js/api.mjs`): verdicts cross the boundary packed, and the JS glue
// builds the same plain objects as `check_object` from them, with strings and tables that come
// from here. One call per number, or one call per batch.
//
// Packed verdict (u32): bits 0-3 the reason (0: valid, else 1 + its index in `REASONS`),
// 4-11 the region index (`NO_REGION`: none), 12-21 the calling code (0: none), 22-26 the
// national number's length, 27-31 the length of the verdict's text: the E.164 form when valid
// (the national number is its tail), else the national number when one was read, else empty.
// Every field fits: calling codes have at most 3 digits, national numbers at most 17, texts
// at most 21 characters, all ASCII (so JS string offsets are byte offsets).

const REASONS: [Reason; 8] = [
    Reason::Empty,
    Reason::InvalidCharacters,
    Reason::TooShort,
    Reason::TooLong,
    Reason::InvalidCountryCode,
    Reason::InvalidNumber,
    Reason::RepeatingDigits,
    Reason::SequentialDigits,
];
const NO_REGION: u8 = u8::MAX;
/// Separates the inputs of a batch; no input that contains it is valid (`invalid_characters`).
const SEPARATOR: char = '\0';

/// Appends the verdict's text to `text` and returns its packed form.
fn pack(v: &Verdict, text: &mut String) -> u32 {
    let start = text.len();
    let national = v.national_number().unwrap_or("");
    if v.valid() {
        v.write_e164(text);
    } else {
        text.push_str(national);
    }
    let reason = v
        .reason()
        .and_then(|r| REASONS.iter().position(|&x| x == r))
        .map_or(0, |i| i as u32 + 1);
    let region = u32::from(v.region_index().unwrap_or(NO_REGION));
    let cc = u32::from(v.country_code().unwrap_or(0)) & 0x3ff;
    let national = (national.len() as u32) & 0x1f;
    let len = ((text.len() - start) as u32) & 0x1f;
    reason | region << 4 | cc << 12 | national << 22 | len << 27
}

fn region_name(index: u32) -> &'static str {
    u8::try_from(index)
        .ok()
        .and_then(phone::region_at)
        // Not a region code: national numbers get invalid_country_code.
        .unwrap_or("-")
}

/// What the glue works with: `[regions, reasons, memory, scratch, separator]`, where
/// `regions[i]` is the region code of index `i` (or `null`), `reasons[i - 1]` is
/// `[reason, message]` of reason `i`, the scratch buffer at `scratch` in `memory` holds the
/// text of the last `phoneCheck`, and `separator` joins the inputs of `phoneCheckJoined`.
#[wasm_bindgen(js_name = phoneTables)]
pub fn phone_tables() -> Array {
    let regions = Array::new();
    for i in 0..=u8::MAX {
        regions.push(&phone::region_at(i).map_or(JsValue::NULL, JsValue::from_str));
    }
    let reasons = Array::new();
    for r in REASONS {
        reasons.push(&Array::of2(
            &JsValue::from_str(r.code()),
            &JsValue::from_str(r.message()),
        ));
    }
    let scratch = SCRATCH.as_ptr() as usize;
    Array::of5(
        &regions,
        &reasons,
        &wasm_bindgen::memory(),
        &JsValue::from_f64(scratch as f64),
        &JsValue::from_str(SEPARATOR.encode_utf8(&mut [0; 4])),
    )
}

/// The region index of `options.defaultCountry` ("IN" when absent); the same errors as
/// `validatePhone`.
#[wasm_bindgen(js_name = phoneRegionIndex)]
pub fn phone_region_index(options: JsValue) -> Result<u32, JsValue> {
    let region = region(&options)?;
    Ok(u32::from(phone::region_index(&region).unwrap_or(NO_REGION)))
}

/// The text of the last [`phone_check`] (at most 21 bytes: `+`, 3 + 17 digits).
static SCRATCH: [AtomicU8; 32] = [const { AtomicU8::new(0) }; 32];

thread_local! {
    /// Reused by [`phone_check`]: no allocation per call.
    static TEXT: RefCell<String> = RefCell::new(String::with_capacity(SCRATCH.len()));
}

/// One verdict, packed; its text goes to the scratch buffer.
#[wasm_bindgen(js_name = phoneCheck)]
pub fn phone_check(input: &str, region: u32) -> u32 {
    let verdict = phone::check(input, region_name(region));
    TEXT.with(|text| {
        let mut text = text.borrow_mut();
        text.clear();
        let packed = pack(&verdict, &mut text);
        for (slot, &b) in SCRATCH.iter().zip(text.as_bytes()) {
            slot.store(b, Relaxed);
        }
        packed
    })
}

/// Verdicts on the inputs joined by `SEPARATOR`: `[packed (Uint32Array), texts (string)]`,
/// the texts one after the other; `null` when `joined` does not hold `count` inputs (one of
/// them contained the separator).
#[wasm_bindgen(js_name = phoneCheckJoined)]
pub fn phone_check_joined(joined: &str, count: u32, region: u32) -> JsValue {
    let region = region_name(region);
    let count = count as usize;
    // At most one input per byte (and one more); texts are about as long as the inputs.
    let mut packed = Vec::with_capacity(count.min(joined.len() + 1));
    let mut text = String::with_capacity(joined.len() + joined.len() / 4);
    for input in joined.split(SEPARATOR) {
        if packed.len() == count {
            return JsValue::NULL;
        }
        packed.push(pack(&phone::check(input, region), &mut text));
    }
    if packed.len() != count {
        return JsValue::NULL;
    }
    Array::of2(
        &Uint32Array::from(packed.as_slice()),
        &JsValue::from_str(&text),
    )
    .into()
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
                    clip(&phone::mask(&input, 4, '*'), 40)
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

/// At most `max` characters of `s`, marked when cut (messages never echo a huge input).
fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", s.get(..cut).unwrap_or_default()),
        None => s.to_string(),
    }
}
