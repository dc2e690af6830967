//! Verdicts in bulk, packed: one `u32` and a short ASCII text per number, so that many of them
//! cross into JavaScript at once (the wasm edge's `validatePhones` fast path) and the loop over
//! them is compiled with the checks (opt-level 3).
//!
//! Packed verdict (`u32`): bits 0-3 the reason (0: valid, else 1 + its index in [`REASONS`]),
//! 4-11 the region index ([`NO_REGION`]: none), 12-21 the calling code (0: none), 22-26 the
//! national number's length, 27-31 the length of the verdict's text: the E.164 form when valid
//! (the national number is its tail), else the national number when one was read, else empty.
//! Every field fits: calling codes have at most 3 digits, national numbers at most 17, texts
//! at most 21 characters, all ASCII.

use super::{check_at, Reason, Verdict};

/// The reasons in their packed order.
pub const REASONS: [Reason; 8] = [
    Reason::Empty,
    Reason::InvalidCharacters,
    Reason::TooShort,
    Reason::TooLong,
    Reason::InvalidCountryCode,
    Reason::InvalidNumber,
    Reason::RepeatingDigits,
    Reason::SequentialDigits,
];

/// The packed region index of "no region".
pub const NO_REGION: u8 = u8::MAX;

/// Appends the verdict's text (ASCII) to `text` and returns its packed form.
pub fn pack(v: &Verdict, text: &mut Vec<u8>) -> u32 {
    let start = text.len();
    let national = v.national_digits();
    let cc = v.country_code().unwrap_or(0);
    if v.valid() && !national.is_empty() {
        // The E.164 form: `+`, the calling code (1 to 3 digits), the national number.
        text.push(b'+');
        for (i, div) in [100, 10, 1].into_iter().enumerate() {
            if cc >= div || i == 2 {
                text.push(b'0' + (cc / div % 10) as u8);
            }
        }
    }
    text.extend_from_slice(national);
    let reason = v
        .reason()
        .and_then(|r| REASONS.iter().position(|&x| x == r))
        .map_or(0, |i| i as u32 + 1);
    let region = u32::from(v.region_index().unwrap_or(NO_REGION));
    let cc = u32::from(cc) & 0x3ff;
    let national = (national.len() as u32) & 0x1f;
    let len = ((text.len() - start) as u32) & 0x1f;
    reason | region << 4 | cc << 12 | national << 22 | len << 27
}

/// Checks the inputs of `joined`, separated by `separator` (an ASCII byte), with the default
/// region `region` ([`check_at`]), appending each packed verdict to `packed` and its text to
/// `text`. `false` (and the output is to be ignored) when `joined` does not hold exactly
/// `count` inputs: an input contained the separator.
// Not inlined: a caller compiled for size would otherwise take the loop in and with it its
// optimization level.
#[inline(never)]
pub fn check_joined(
    joined: &str,
    separator: u8,
    count: usize,
    region: Option<u8>,
    packed: &mut Vec<u32>,
    text: &mut Vec<u8>,
) -> bool {
    let mut rest = joined;
    for i in 0..count {
        // A byte loop: quicker than `split` on inputs this short.
        let end = rest.bytes().position(|b| b == separator);
        let (input, more) = match end.and_then(|end| rest.split_at_checked(end)) {
            Some((input, more)) => (input, more.get(1..).unwrap_or("")),
            None => (rest, ""),
        };
        packed.push(pack(&check_at(input, region), text));
        if end.is_none() {
            return i + 1 == count;
        }
        rest = more;
    }
    false
}
