//! Exports of the synchronous phone and lead checks (docs/sdk.md "Phone numbers and leads"); the
//! rules are `core::checks`. The fast path below serves the JS glue's `validatePhone(s)`.

use super::{js_result, Js};
use crate::core::checks;
use crate::core::phone;
use crate::core::phone::packed::{self, NO_REGION, REASONS};
use js_sys::{Array, Uint32Array};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(js_name = validatePhone)]
pub fn validate_phone(input: JsValue, options: JsValue) -> Result<JsValue, JsValue> {
    js_result(checks::validate_phone(&Js(input), &Js(options)))
}

#[wasm_bindgen(js_name = validatePhones)]
pub fn validate_phones(inputs: JsValue, options: JsValue) -> Result<JsValue, JsValue> {
    js_result(checks::validate_phones(&Js(inputs), &Js(options)))
}

#[wasm_bindgen(js_name = normalizePhone)]
pub fn normalize_phone(input: JsValue, options: JsValue) -> Result<String, JsValue> {
    checks::normalize_phone(&Js(input), &Js(options)).map_err(|e| super::js_error(&e))
}

#[wasm_bindgen(js_name = maskPhone)]
pub fn mask_phone(input: JsValue, options: JsValue) -> Result<String, JsValue> {
    checks::mask_phone(&Js(input), &Js(options)).map_err(|e| super::js_error(&e))
}

#[wasm_bindgen(js_name = validateLead)]
pub fn validate_lead(lead: JsValue, options: JsValue) -> Result<JsValue, JsValue> {
    js_result(checks::validate_lead(&Js(lead), &Js(options)))
}

// ---------------------------------------------------------------------------------------------
// The fast path (glue in `js/api.mjs`): verdicts cross the boundary packed (see
// `vox_phone::packed`), and the JS glue builds the same plain objects as `check_object` from
// them, with strings and tables that come from here. One call per number, or one call per batch.

/// A region index from the glue (`NO_REGION` or another non-region: none).
fn region_at(index: u32) -> Option<u8> {
    u8::try_from(index).ok()
}

/// What the glue works with: `[regions, reasons, memory, scratch, separator]`, where
/// `regions` is the region code of each index followed by a comma (empty for none), `reasons`
/// the code and message of each reason from 1 on, each followed by a NUL, the scratch buffer
/// at `scratch` in `memory` holds the text of the last `phoneCheck`, and `separator` joins the
/// inputs of `phoneCheckJoined`.
#[wasm_bindgen(js_name = phoneTables)]
pub fn phone_tables() -> Array {
    // As two texts, not 272 strings: each string crossing into JS is a call, and this runs
    // within the first validatePhone, with the module's code still cold (about 1.5 ms).
    let mut regions = String::new();
    for i in 0..=u8::MAX {
        regions.push_str(phone::region_at(i).unwrap_or(""));
        regions.push(',');
    }
    let mut reasons = String::new();
    for r in REASONS {
        for text in [r.code(), r.message()] {
            reasons.push_str(text);
            reasons.push('\0');
        }
    }
    Array::of5(
        &regions.into(),
        &reasons.into(),
        &wasm_bindgen::memory(),
        &JsValue::from_f64(packed::scratch() as usize as f64),
        &JsValue::from_str(&char::from(packed::SEPARATOR).to_string()),
    )
}

/// The region index of `options.defaultCountry` ("IN" when absent); the same errors as
/// `validatePhone`.
#[wasm_bindgen(js_name = phoneRegionIndex)]
pub fn phone_region_index(options: JsValue) -> Result<u32, JsValue> {
    let region =
        crate::core::options::phone_region(&Js(options)).map_err(|e| super::js_error(&e))?;
    Ok(u32::from(phone::region_index(&region).unwrap_or(NO_REGION)))
}

/// One verdict, packed; its text goes to the scratch buffer.
#[wasm_bindgen(js_name = phoneCheck)]
pub fn phone_check(input: &str, region: u32) -> u32 {
    packed::check_one(input, region_at(region))
}

/// Verdicts on the inputs joined by the separator: `[packed (Uint32Array), texts (string)]`,
/// the texts one after the other; `null` when `joined` does not hold `count` inputs (one of
/// them contained the separator).
#[wasm_bindgen(js_name = phoneCheckJoined)]
pub fn phone_check_joined(joined: &str, count: u32, region: u32) -> JsValue {
    batch(packed::check_batch(
        joined,
        count as usize,
        region_at(region),
    ))
}

/// Room for `len` bytes of input, where the glue writes a batch itself (ASCII, without a
/// string's copy); `phoneInput(0)` gives a large buffer back.
#[wasm_bindgen(js_name = phoneInput)]
pub fn phone_input(len: u32) -> u32 {
    packed::input_buffer(len as usize) as u32
}

/// [`phone_check_joined`] on the first `len` bytes the glue wrote at [`phone_input`]'s address.
#[wasm_bindgen(js_name = phoneCheckInput)]
pub fn phone_check_input(len: u32, count: u32, region: u32) -> JsValue {
    batch(packed::check_input(
        len as usize,
        count as usize,
        region_at(region),
    ))
}

fn batch(r: Option<(Vec<u32>, String)>) -> JsValue {
    match r {
        Some((packed, text)) => {
            Array::of2(&Uint32Array::from(packed.as_slice()), &text.into()).into()
        }
        None => JsValue::NULL,
    }
}
