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

// ---- the buffers of the wasm edge's fast path -----------------------------------------------

use std::cell::RefCell;

/// Separates the inputs of a batch; no input that contains it is valid (`invalid_characters`).
pub const SEPARATOR: u8 = 0;

/// A buffer above this size is given back after use rather than kept for the next batch.
const KEEP_INPUT: usize = 1 << 20;

thread_local! {
    /// The text of the last [`check_one`] (at most 21 bytes: `+`, 3 + 17 digits).
    static SCRATCH: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(32));
    /// Where a caller writes the joined inputs of [`check_input`] itself.
    static INPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// One verdict, packed; its text goes to [`scratch`].
pub fn check_one(input: &str, region: Option<u8>) -> u32 {
    let verdict = check_at(input, region);
    SCRATCH.with(|text| {
        let mut text = text.borrow_mut();
        text.clear();
        pack(&verdict, &mut text)
    })
}

/// Where the text of the last [`check_one`] is (32 bytes of room, which it never outgrows).
pub fn scratch() -> *const u8 {
    SCRATCH.with(|text| text.borrow().as_ptr())
}

/// Makes room for `len` bytes of input and returns where they go (valid until the next
/// allocation: fill it, then call [`check_input`]). `input_buffer(0)` gives a large buffer back.
pub fn input_buffer(len: usize) -> *mut u8 {
    INPUT.with(|input| {
        let mut input = input.borrow_mut();
        if input.capacity() > len.max(KEEP_INPUT) {
            *input = Vec::new();
        }
        // Only new room is zeroed: the caller overwrites what it uses.
        if input.len() < len {
            input.resize(len, 0);
        }
        input.as_mut_ptr()
    })
}

/// Checks the `count` inputs joined by [`SEPARATOR`] in `joined`: the packed verdicts and their
/// texts (ASCII) one after the other; `None` when `joined` does not hold `count` inputs.
pub fn check_batch(joined: &str, count: usize, region: Option<u8>) -> Option<(Vec<u32>, String)> {
    // At most one input per byte (and one more); texts are about as long as the inputs.
    let mut packed = Vec::with_capacity(count.min(joined.len() + 1));
    let mut text = Vec::with_capacity(joined.len() + joined.len() / 4);
    if !check_joined(joined, SEPARATOR, count, region, &mut packed, &mut text) {
        return None;
    }
    Some((packed, String::from_utf8(text).ok()?))
}

/// [`check_batch`] on the first `len` bytes written at [`input_buffer`] (`None` also when they
/// are not UTF-8).
pub fn check_input(len: usize, count: usize, region: Option<u8>) -> Option<(Vec<u32>, String)> {
    INPUT.with(|input| {
        let mut input = input.borrow_mut();
        let result = match input.get(..len).map(std::str::from_utf8) {
            Some(Ok(joined)) => check_batch(joined, count, region),
            _ => None,
        };
        if input.capacity() > KEEP_INPUT {
            *input = Vec::new();
        }
        result
    })
}
