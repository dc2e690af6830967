//! Phone parsing: `check`, `validate`, `normalize`, `mask` never panic, and agree.
//!
//! Input (lossy UTF-8): `REGION|KEEP|NUMBER`, e.g. `US|4|+1 202 555 0147`. Without two `|`
//! the whole input is the number, read with the default region (`""`, meaning IN) and 4 kept
//! digits. KEEP that is not a number becomes its length.
//!
//! Properties checked on every input:
//! * `validate` is `check` with owned fields; `valid` <=> no reason <=> an E.164 form;
//! * `normalize(x).is_ok()` <=> `check(x).valid()`; the E.164 is `+<cc><national>`;
//! * idempotence: `normalize(normalize(x)) == normalize(x)`, whatever the default region;
//! * the region accessors agree (`region_index` / `region_at` / `is_known_region`);
//! * `mask(x, k, '*')` shows at most `k` digits beyond the calling code (numbers — valid, or
//!   refused only by the junk rules: `+<cc>` then the national number with all but its last
//!   `k` digits masked; anything else: the characters as typed, with at most `k` digit-like
//!   characters left);
//! * the batch path: the number's lines joined by NUL give, through `packed::check_joined`,
//!   the packed verdicts and texts of `check` on each line (and `false` when a line holds a
//!   NUL, which splits it); `packed::check_batch` gives the same (`None` for `false`), and so
//!   does `packed::check_input` on the joined lines written at `packed::input_buffer` (as the
//!   wasm edge's glue writes them); `packed::check_one` packs the verdict of `check_at` and
//!   leaves its text at `packed::scratch`;
//! * `normalizePhone` (`checks::normalize_phone`): ok exactly when `normalize` is, with the same
//!   E.164; its `invalid_phone` error has the reason's code and shows no more digits of the
//!   number than `mask_in(number, region, 4, '*')`.
//!
//! The wasm edge's buffers are raw pointers: this target reads and writes them with `unsafe`
//! as the glue does (the crate itself has no `unsafe`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::json;
use vox_crm::core::checks;
use vox_crm::core::error::{Code, Details};
use vox_crm::core::phone::{self, check, check_at, mask, normalize, packed, validate, PhoneCheck};
use vox_crm::core::testkit::tv;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(3, '|');
    let (region, keep, number) = match (parts.next(), parts.next(), parts.next()) {
        (Some(r), Some(k), Some(n)) => (r, k.trim().parse().unwrap_or(k.len()), n),
        _ => ("", 4, text.as_ref()),
    };
    run(number, region, keep);
});

fn run(input: &str, region: &str, keep: usize) {
    let v = check(input, region);
    let pc = validate(input, region);
    assert_eq!(pc, PhoneCheck::from(v), "validate != check");
    assert_eq!(pc.valid, pc.reason.is_none(), "valid xor reason: {pc:?}");
    assert_eq!(pc.valid, pc.e164.is_some(), "valid xor e164: {pc:?}");
    let _ = pc.reason.map(|r| (r.code(), r.message()));

    let mut e164 = String::new();
    v.write_e164(&mut e164);
    assert_eq!(pc.e164.as_deref().unwrap_or(""), e164);

    // Region accessors agree with each other.
    if let Some(idx) = v.region_index() {
        assert_eq!(phone::region_at(idx), v.region(), "region_at(region_index)");
    }
    if let Some(r) = v.region() {
        assert!(phone::is_known_region(r), "region {r} not known");
        assert_eq!(
            phone::region_at(phone::region_index(r).expect("index of a known region")),
            Some(r)
        );
    }
    let known = phone::is_known_region(region);
    assert_eq!(known, phone::region_index(region).is_some());
    if let Some(idx) = phone::region_index(region) {
        let name = phone::region_at(idx).expect("region_at of a region_index");
        assert!(name.eq_ignore_ascii_case(region));
    }

    // normalize agrees with check, and is idempotent.
    let n = normalize(input, region);
    assert_eq!(
        n.is_ok(),
        v.valid(),
        "normalize vs check for {input:?} / {region:?}"
    );
    match &n {
        Ok(e) => {
            let cc = v.country_code().expect("valid number without calling code");
            let national = v
                .national_number()
                .expect("valid number without national number");
            assert_eq!(*e, format!("+{cc}{national}"));
            assert!(e.len() <= 1 + 3 + 17, "E.164 too long: {e}");
            assert!(e.bytes().skip(1).all(|b| b.is_ascii_digit()));
            for r2 in [region, "", "US", "GB", "zz"] {
                let again = normalize(e, r2);
                assert_eq!(
                    again.as_ref().ok(),
                    Some(e),
                    "normalize not idempotent: {input:?} ({region:?}) -> {e} -> {again:?} ({r2:?})"
                );
            }
            let v2 = check(e, region);
            assert_eq!(v2.country_code(), v.country_code());
            assert_eq!(v2.national_number(), v.national_number());
        }
        Err(fail) => {
            assert!(!fail.valid && fail.e164.is_none() && fail.reason.is_some());
            assert_eq!(*fail, pc);
        }
    }

    // mask: never more than `keep` digits beyond the calling code.
    let m = mask(input, keep, '*');
    let vin = check(input, phone::DEFAULT_REGION);
    if vin.is_number() {
        let cc = vin.country_code().expect("a number without calling code");
        let national = vin
            .national_number()
            .expect("a number without national number");
        let prefix = format!("+{cc}");
        let rest = m
            .strip_prefix(&prefix)
            .unwrap_or_else(|| panic!("mask {m:?} does not start with {prefix}"));
        assert_eq!(rest.len(), national.len(), "mask {m:?} of {national}");
        let shown = rest.bytes().filter(u8::is_ascii_digit).count();
        assert!(
            shown <= keep,
            "mask {m:?} shows {shown} digits, keep {keep}"
        );
        assert_eq!(shown, keep.min(national.len()));
        assert!(national.ends_with(rest.trim_start_matches('*')));
    } else {
        let shown = m.chars().filter(|c| c.is_numeric()).count();
        assert!(
            shown <= keep,
            "mask {m:?} of {input:?} shows {shown} digits, keep {keep}"
        );
        assert_eq!(m.chars().count(), input.chars().count());
    }
    // Any mask character is accepted.
    let other = region.chars().next().unwrap_or('#');
    let _ = mask(input, keep, other);

    batch(input, region);
    normalize_phone(input, region, &n);
}

/// docs/sdk.md `normalizePhone`, from the caller's values.
fn normalize_phone(input: &str, region: &str, n: &Result<String, PhoneCheck>) {
    let options = tv(json!({ "defaultCountry": region }));
    let Ok(used) = vox_crm::core::options::phone_region(&options) else {
        return;
    };
    let r = checks::normalize_phone(&tv(json!(input)), &options);
    let direct = normalize(input, &used);
    if used == region {
        assert_eq!(&direct, n);
    }
    match (r, direct) {
        (Ok(e), Ok(d)) => assert_eq!(e, d),
        (Err(e), Err(c)) => {
            assert_eq!(e.code, Code::InvalidPhone, "{e}");
            let reason = c.reason.expect("a failed check without a reason");
            assert_eq!(e.details, Some(Details::Reason(reason.code())));
            // The number as `mask_in(input, region, 4, '*')` shows it (calling code and 4
            // digits at most).
            let digits = |s: &str| s.bytes().filter(u8::is_ascii_digit).count();
            let allowed = digits(&phone::mask_in(input, &used, 4, '*')) + digits(reason.message());
            let shown = digits(&e.message);
            assert!(
                shown <= allowed,
                "normalizePhone's error shows {shown} digits: {}",
                e.message
            );
        }
        (r, d) => panic!("normalizePhone gave {r:?}, normalize {d:?}"),
    }
}

fn batch(input: &str, region: &str) {
    let trimmed = region.trim();
    let index = phone::region_index(if trimmed.is_empty() {
        phone::DEFAULT_REGION
    } else {
        trimmed
    });
    let lines: Vec<&str> = input.split('\n').collect();
    let (mut packed, mut text) = (Vec::new(), Vec::new());
    let ok = packed::check_joined(
        &lines.join("\0"),
        0,
        lines.len(),
        index,
        &mut packed,
        &mut text,
    );
    if lines.iter().any(|l| l.contains('\0')) {
        assert!(!ok, "a NUL inside an input must make the count differ");
        return;
    }
    assert!(ok, "check_joined refused {} inputs", lines.len());
    let (mut one_packed, mut one_text) = (Vec::new(), Vec::new());
    for line in &lines {
        let v = check_at(line, index);
        assert_eq!(
            v,
            check(line, region),
            "check_at vs check for {line:?} / {region:?}"
        );
        one_packed.push(packed::pack(&v, &mut one_text));
    }
    assert_eq!(packed, one_packed);
    assert_eq!(text, one_text);

    // The wasm edge's forms of the same batch.
    let joined = lines.join("\0");
    let text = String::from_utf8(text).expect("verdict texts are ASCII");
    let expected = Some((packed, text));
    assert_eq!(packed::check_batch(&joined, lines.len(), index), expected);
    let at = packed::input_buffer(joined.len());
    // SAFETY: `input_buffer` made room for `joined.len()` bytes at `at`, and nothing allocates
    // between the copy and `check_input` (the glue's protocol).
    unsafe { std::ptr::copy_nonoverlapping(joined.as_ptr(), at, joined.len()) };
    assert_eq!(
        packed::check_input(joined.len(), lines.len(), index),
        expected
    );
    let _ = packed::input_buffer(0);
    for line in &lines {
        let v = check_at(line, index);
        let mut one_text = Vec::new();
        let p = packed::check_one(line, index);
        assert_eq!(p, packed::pack(&v, &mut one_text));
        let len = (p >> 27) as usize;
        assert_eq!(len, one_text.len());
        // SAFETY: the scratch buffer holds the last `check_one`'s text, `len` (at most 31)
        // bytes of its 32.
        let scratch = unsafe { std::slice::from_raw_parts(packed::scratch(), len) };
        assert_eq!(scratch, one_text.as_slice());
    }
}
