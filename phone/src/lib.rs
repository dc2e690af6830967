//! Phone numbers: validation, normalization to E.164, masking.
//!
//! The rules are libphonenumber's (data generated from libphonenumber-js's MAX metadata by
//! `tools/phone-gen/generate.mjs`, see `tables.rs`): a number is valid when it matches one of
//! its region's number types (fixed line, mobile, toll free, VoIP, ...), the same verdict as
//! libphonenumber-js's `isValidPhoneNumber`, plus this SDK's junk rules (docs/sdk.md, docs/api.md §2).
//!
//! What is read (docs/sdk.md "Phone numbers and leads"):
//! * digits with spaces, dashes, dots, slashes, brackets, tildes between them (and their
//!   fullwidth forms; fullwidth and Arabic-Indic digits count as digits); surrounding
//!   whitespace is ignored; one `+` before the first digit (`(+91) 98453 17206` is fine);
//! * `+<calling code>`, the default region's international prefix (`00`, `011` in the US,
//!   `0011` in Australia, ...), and `00` where the default region's prefix is another one
//!   (`00 44 ...` in the US), when the number is not valid read as a national number;
//! * national numbers of the default region, with or without its trunk prefix (`0` in India,
//!   `1` in the US, carrier codes where libphonenumber strips them), and numbers typed with the
//!   default region's calling code but no `+` (`919845317206`);
//! * `tel:` URIs: the part before the first `;` is the number; parameters (`;ext=`, `;isub=`)
//!   are ignored, except `;phone-context=+<code>` which gives a local number its country code.
//!
//! Anything else (letters, `*`, `#`, control characters, emoji, a second `+`) is
//! `invalid_characters`; so is an extension typed out (`ext. 12`, `x12`), which libphonenumber
//! would strip. The default region is `"IN"` when empty; it only matters for numbers without a
//! calling code. Verdicts are checked in this order: characters, calling code, length, the
//! region's patterns, junk rules.
//!
//! `check` (and `check_at`, the default region as an index) is the allocation-free hot path:
//! the digit automata (range-coded in `tables.rs`) are decoded into static arrays (about
//! 160 KB) plan by plan, as far as the first number of a plan needs (all of them: about 1 ms
//! natively); `packed` checks many numbers in one call.
//!
//! This is the `vox-phone` crate of the vox-crm workspace (re-exported there as
//! `core::phone`), a crate of its own so that release builds compile it at opt-level 3.

mod data;
mod junk;
mod mask;
pub mod packed;
mod parse;
#[rustfmt::skip]
mod tables;
#[cfg(test)]
mod tests;

use parse::{check_length, Length};

/// Region used for national numbers when none is given.
pub const DEFAULT_REGION: &str = "IN";

/// libphonenumber-js version the numbering data comes from.
pub const DATA_VERSION: &str = tables::SOURCE_VERSION;

/// Longest national number (ITU-T E.164 allows 15 digits with the calling code; libphonenumber
/// accepts up to 17).
const MAX_NATIONAL: usize = 17;
const NO_PLAN: u8 = u8::MAX;

/// Why a phone number is not valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    /// Nothing but whitespace.
    Empty,
    /// A character that is not a digit, separator or leading `+`.
    InvalidCharacters,
    /// Fewer digits than any number of the region.
    TooShort,
    /// More digits than any number of the region.
    TooLong,
    /// Unknown calling code, or a national number with an unknown default region.
    InvalidCountryCode,
    /// A possible length, but no number of the region looks like this.
    InvalidNumber,
    /// docs/api.md §2's repeating-digits rule.
    RepeatingDigits,
    /// The digits step by +1 or -1 all the way.
    SequentialDigits,
}

impl Reason {
    /// The reason code of docs/sdk.md (`"too_short"`, ...).
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Reason::Empty => "empty",
            Reason::InvalidCharacters => "invalid_characters",
            Reason::TooShort => "too_short",
            Reason::TooLong => "too_long",
            Reason::InvalidCountryCode => "invalid_country_code",
            Reason::InvalidNumber => "invalid_number",
            Reason::RepeatingDigits => "repeating_digits",
            Reason::SequentialDigits => "sequential_digits",
        }
    }

    /// A sentence for people.
    #[must_use]
    pub fn message(self) -> &'static str {
        match self {
            Reason::Empty => "The phone number is empty.",
            Reason::InvalidCharacters => {
                "The phone number contains characters other than digits, spaces, dashes, dots, brackets and a leading +."
            }
            Reason::TooShort => "The phone number is too short.",
            Reason::TooLong => "The phone number is too long.",
            Reason::InvalidCountryCode => "The country calling code is missing or unknown.",
            Reason::InvalidNumber => "The phone number is not a valid number for its country.",
            Reason::RepeatingDigits => "Phone number contains repeating digits pattern",
            Reason::SequentialDigits => "The phone number is a run of consecutive digits.",
        }
    }
}

/// Compact, allocation-free verdict on one input (`Copy`): the hot path.
///
/// Besides validity it carries what parsing found, also for some invalid numbers: the calling
/// code once known, the region when known, the national number when it was read (and is at
/// most 17 digits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    reason: Option<Reason>,
    cc: u16,
    plan: u8,
    len: u8,
    national: [u8; MAX_NATIONAL],
}

impl Verdict {
    fn fail(reason: Reason) -> Self {
        Verdict {
            reason: Some(reason),
            cc: 0,
            plan: NO_PLAN,
            len: 0,
            national: [0; MAX_NATIONAL],
        }
    }

    #[must_use]
    pub fn valid(&self) -> bool {
        self.reason.is_none()
    }

    /// Read as a number: valid, or refused only by the junk rules (repeating or sequential
    /// digits), so that its calling code and national number are known.
    #[must_use]
    pub fn is_number(&self) -> bool {
        matches!(
            self.reason,
            None | Some(Reason::RepeatingDigits | Reason::SequentialDigits)
        )
    }

    #[must_use]
    pub fn reason(&self) -> Option<Reason> {
        self.reason
    }

    #[must_use]
    pub fn country_code(&self) -> Option<u16> {
        (self.cc != 0).then_some(self.cc)
    }

    /// Region code (`"IN"`); `None` when unknown and for non-geographic numbers (`+800`).
    #[must_use]
    pub fn region(&self) -> Option<&'static str> {
        if self.plan == NO_PLAN {
            return None;
        }
        data::plan_region(self.plan)
    }

    /// National (significant) number, without trunk prefix: `"9845317206"`.
    #[must_use]
    pub fn national_number(&self) -> Option<&str> {
        let digits = self.national_digits();
        if digits.is_empty() {
            return None;
        }
        std::str::from_utf8(digits).ok()
    }

    /// [`Verdict::national_number`] as ASCII digits, empty when there is none.
    #[must_use]
    pub fn national_digits(&self) -> &[u8] {
        self.national.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// [`Verdict::region`] as a small index for [`region_at`], for compact encodings (the
    /// wasm edge's packed results); `None` when the region is.
    #[must_use]
    pub fn region_index(&self) -> Option<u8> {
        self.region().map(|_| self.plan)
    }

    /// Appends `+<calling code><national number>` when the number is valid.
    pub fn write_e164(&self, out: &mut String) {
        if let (true, Some(national)) = (self.valid(), self.national_number()) {
            out.push('+');
            mask::push_number(out, self.cc);
            out.push_str(national);
        }
    }
}

fn evaluate(a: data::Automata, parsed: Result<parse::Parsed, Reason>) -> Verdict {
    let p = match parsed {
        Ok(p) => p,
        Err(reason) => return Verdict::fail(reason),
    };
    let national = p.national;
    let mut v = Verdict {
        reason: None,
        cc: p.cc,
        plan: if p.region_known { p.plan } else { NO_PLAN },
        len: 0,
        national: [0; MAX_NATIONAL],
    };
    if national.len() <= MAX_NATIONAL {
        for (slot, &d) in v.national.iter_mut().zip(national) {
            *slot = b'0' + d;
        }
        v.len = national.len() as u8;
    }
    let length = check_length(national.len(), data::plan_lengths(p.plan));
    v.reason = if national.len() < 2 || length == Length::TooShort {
        Some(Reason::TooShort)
    } else if national.len() > MAX_NATIONAL || length == Length::TooLong {
        Some(Reason::TooLong)
    } else if !a.valid(p.plan, national) {
        Some(Reason::InvalidNumber)
    } else {
        junk::junk(national)
    };
    v
}

/// Validates one input; `default_region` (`"IN"`, `"US"`, ... any case; `""` means `"IN"`)
/// is used for numbers typed without a calling code. No heap allocation.
#[must_use]
pub fn check(input: &str, default_region: &str) -> Verdict {
    let region = default_region.trim();
    check_at(
        input,
        region_index(if region.is_empty() {
            DEFAULT_REGION
        } else {
            region
        }),
    )
}

/// [`check`] with the default region given by its [`region_index`]; `None` (or an index that
/// is no region) means no default region: national numbers get `invalid_country_code`.
#[must_use]
pub fn check_at(input: &str, default_region: Option<u8>) -> Verdict {
    let mut scanned = parse::Scanned::new();
    if let Err(reason) = parse::scan(input, &mut scanned) {
        return Verdict::fail(reason);
    }
    let default = default_region.filter(|&plan| data::plan_region(plan).is_some());
    let a = data::automata();
    let mut buf = parse::Digits::new();
    let verdict = evaluate(a, parse::parse(a, &scanned, default, &mut buf));
    if !verdict.valid() {
        if let Some(p) = parse::parse_double_zero(a, &scanned, default, &mut buf) {
            let international = evaluate(a, Ok(p));
            if international.valid() {
                return international;
            }
        }
    }
    verdict
}

/// The verdict on one phone number, with owned fields (docs/sdk.md `PhoneCheck`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhoneCheck {
    pub valid: bool,
    /// `"+919845317206"`, when valid.
    pub e164: Option<String>,
    pub country_code: Option<u16>,
    pub region: Option<&'static str>,
    pub national_number: Option<String>,
    pub reason: Option<Reason>,
}

impl From<Verdict> for PhoneCheck {
    fn from(v: Verdict) -> Self {
        let e164 = v.valid().then(|| {
            let mut s = String::with_capacity(20);
            v.write_e164(&mut s);
            s
        });
        PhoneCheck {
            valid: v.valid(),
            e164,
            country_code: v.country_code(),
            region: v.region(),
            national_number: v.national_number().map(str::to_owned),
            reason: v.reason(),
        }
    }
}

/// [`check`] with owned fields.
#[must_use]
pub fn validate(input: &str, default_region: &str) -> PhoneCheck {
    check(input, default_region).into()
}

/// The E.164 form of a valid number.
///
/// # Errors
///
/// The failing [`PhoneCheck`] when the number is not valid (junk numbers included).
pub fn normalize(input: &str, default_region: &str) -> Result<String, PhoneCheck> {
    let check = validate(input, default_region);
    match (&check.e164, check.valid) {
        (Some(e164), true) => Ok(e164.clone()),
        _ => Err(check),
    }
}

/// Masks a phone number for display: a valid number (read with the default region, India)
/// shows as E.164 with its calling code and last `keep_last` digits (`+91******7206`); any
/// other input keeps its characters as typed, with every digit but the last `keep_last`
/// replaced by `mask_char`. Never more than `keep_last` digits beyond the calling code.
#[must_use]
pub fn mask(input: &str, keep_last: usize, mask_char: char) -> String {
    mask::mask(input, DEFAULT_REGION, keep_last, mask_char)
}

/// [`mask`], reading the number with `default_region` instead of India's.
#[must_use]
pub fn mask_in(input: &str, default_region: &str, keep_last: usize, mask_char: char) -> String {
    mask::mask(input, default_region, keep_last, mask_char)
}

/// Whether `region` is a region code with numbering data (`"IN"`, `"us"`, ...).
#[must_use]
pub fn is_known_region(region: &str) -> bool {
    data::plan_by_region(region).is_some()
}

/// The region code of a [`Verdict::region_index`] or [`region_index`] (`"IN"`).
#[must_use]
pub fn region_at(index: u8) -> Option<&'static str> {
    data::plan_region(index)
}

/// The index of a known region code (any case) for [`region_at`].
#[must_use]
pub fn region_index(region: &str) -> Option<u8> {
    data::plan_by_region(region).filter(|&plan| data::plan_region(plan).is_some())
}
