//! Exports of the synchronous phone and lead checks (SDK.md "Phone numbers and leads"); the
//! rules are `core::checks`. The fast path below serves the JS glue's `validatePhone(s)`.

use super::{js_result, Js};
use crate::core::checks;
use crate::core::phone;
use crate::core::phone::packed::{self, pack, NO_REGION, REASONS};
use js_sys::{Array, Uint32Array};
use std::cell::RefCell;
use std::sync::atomic::{AtomicU8, Ordering::Relaxed};
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

/// Separates the inputs of a batch; no input that contains it is valid (`invalid_characters`).
const SEPARATOR: u8 = 0;

/// A region index from the glue (`NO_REGION` or another non-region: none).
fn region_at(index: u32) -> Option<u8> {
    u8::try_from(index).ok()
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
        &JsValue::from_str(&char::from(SEPARATOR).to_string()),
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

/// The text of the last [`phone_check`] (at most 21 bytes: `+`, 3 + 17 digits).
static SCRATCH: [AtomicU8; 32] = [const { AtomicU8::new(0) }; 32];

thread_local! {
    /// Reused by [`phone_check`]: no allocation per call.
    static TEXT: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(SCRATCH.len()));
}

/// One verdict, packed; its text goes to the scratch buffer.
#[wasm_bindgen(js_name = phoneCheck)]
pub fn phone_check(input: &str, region: u32) -> u32 {
    let verdict = phone::check_at(input, region_at(region));
    TEXT.with(|text| {
        let mut text = text.borrow_mut();
        text.clear();
        let packed = pack(&verdict, &mut text);
        for (slot, &b) in SCRATCH.iter().zip(text.iter()) {
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
    check_joined(joined, count, region)
}

thread_local! {
    /// Where the glue writes the joined inputs of [`phone_check_input`] itself: with
    /// `TextEncoder`-free writes of ASCII text, quicker than passing a string.
    static INPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// A buffer above this size is given back after use rather than kept for the next batch.
const KEEP_INPUT: usize = 1 << 20;

/// Makes room for `len` bytes of input and returns where they go in memory (valid until the
/// next call into wasm that allocates: fill it, then call [`phone_check_input`]).
/// `phoneInput(0)` gives a large buffer back.
#[wasm_bindgen(js_name = phoneInput)]
pub fn phone_input(len: u32) -> u32 {
    INPUT.with(|input| {
        let mut input = input.borrow_mut();
        let len = len as usize;
        if input.capacity() > len.max(KEEP_INPUT) {
            *input = Vec::new();
        }
        // Only new room is zeroed: the glue overwrites what it uses.
        if input.len() < len {
            input.resize(len, 0);
        }
        input.as_mut_ptr() as u32
    })
}

/// [`phone_check_joined`] on the first `len` bytes the glue wrote at [`phone_input`]'s
/// address; `null` also when they are not UTF-8.
#[wasm_bindgen(js_name = phoneCheckInput)]
pub fn phone_check_input(len: u32, count: u32, region: u32) -> JsValue {
    INPUT.with(|input| {
        let mut input = input.borrow_mut();
        let result = match input.get(..len as usize).map(std::str::from_utf8) {
            Some(Ok(joined)) => check_joined(joined, count, region),
            _ => JsValue::NULL,
        };
        if input.capacity() > KEEP_INPUT {
            *input = Vec::new();
        }
        result
    })
}

fn check_joined(joined: &str, count: u32, region: u32) -> JsValue {
    let count = count as usize;
    // At most one input per byte (and one more); texts are about as long as the inputs.
    let mut packed = Vec::with_capacity(count.min(joined.len() + 1));
    let mut text = Vec::with_capacity(joined.len() + joined.len() / 4);
    if !packed::check_joined(
        joined,
        SEPARATOR,
        count,
        region_at(region),
        &mut packed,
        &mut text,
    ) {
        return JsValue::NULL;
    }
    // ASCII by construction (else the glue falls back to one call per input).
    let Ok(text) = std::str::from_utf8(&text) else {
        return JsValue::NULL;
    };
    Array::of2(
        &Uint32Array::from(packed.as_slice()),
        &JsValue::from_str(text),
    )
    .into()
}
