//! Reading what people type, and libphonenumber's parsing algorithm on the digits.
//!
//! The algorithm follows libphonenumber-js 1.13 (`parse.js`, `extractCountryCallingCode.js`,
//! `extractNationalNumber.js`, ...) step by step, on fixed-size digit buffers.

use super::data::{self, Automata, Plan};
use super::Reason;

/// Most digits kept from an input; anything longer is far too long for a phone number.
pub(super) const MAX_DIGITS: usize = 40;

/// A short digit string (digit values 0-9, not ASCII) in a fixed buffer.
#[derive(Clone, Copy)]
pub(super) struct Digits {
    buf: [u8; MAX_DIGITS],
    len: usize,
}

impl Digits {
    pub(super) const fn new() -> Self {
        Digits {
            buf: [0; MAX_DIGITS],
            len: 0,
        }
    }

    pub(super) fn clear(&mut self) {
        self.len = 0;
    }

    /// Appends; digits past the capacity are dropped (such a number is too long anyway).
    pub(super) fn push(&mut self, digit: u8) {
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = digit;
            self.len += 1;
        }
    }

    pub(super) fn extend(&mut self, s: &[u8]) {
        for &d in s {
            self.push(d);
        }
    }

    pub(super) fn as_slice(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }
}

// ----------------------------------------------------------------------------------------
// Characters

/// The value of a digit character: ASCII, fullwidth, Arabic-Indic and Eastern Arabic-Indic
/// digits (the digits libphonenumber accepts).
pub(super) fn digit_value(c: char) -> Option<u8> {
    let base = match c {
        '0'..='9' => '0',
        '\u{FF10}'..='\u{FF19}' => '\u{FF10}',
        '\u{0660}'..='\u{0669}' => '\u{0660}',
        '\u{06F0}'..='\u{06F9}' => '\u{06F0}',
        _ => return None,
    };
    u8::try_from(u32::from(c) - u32::from(base)).ok()
}

/// Punctuation people put between digits (libphonenumber's VALID_PUNCTUATION): spaces,
/// dashes, slashes, dots, brackets, tildes, and their fullwidth forms.
const fn is_punctuation(c: char) -> bool {
    matches!(
        c,
        ' ' | '\u{00A0}' | '\u{00AD}' | '\u{200B}' | '\u{2060}' | '\u{3000}' | '-' | '\u{2010}'
            ..='\u{2015}'
                | '\u{2212}'
                | '\u{30FC}'
                | '\u{FF0D}'
                | '/'
                | '\u{FF0F}'
                | '.'
                | '\u{FF0E}'
                | '('
                | ')'
                | '['
                | ']'
                | '\u{FF08}'
                | '\u{FF09}'
                | '\u{FF3B}'
                | '\u{FF3D}'
                | '~'
                | '\u{2053}'
                | '\u{223C}'
                | '\u{FF5E}'
    )
}

fn is_plus(c: char) -> bool {
    c == '+' || c == '\u{FF0B}'
}

/// What the characters of an input say: its digits, and whether it starts with `+`.
#[derive(Clone, Copy)]
pub(super) struct Scanned {
    pub digits: Digits,
    /// How many digits there were (may exceed the buffer).
    pub count: usize,
    pub plus: bool,
}

impl Scanned {
    pub(super) const fn new() -> Self {
        Scanned {
            digits: Digits::new(),
            count: 0,
            plus: false,
        }
    }
}

/// [`is_punctuation`] of the ASCII characters, bit `c` for character `c`.
const ASCII_PUNCTUATION: u128 = {
    let mut mask = 0u128;
    let mut c = 0u8;
    while c < 128 {
        if is_punctuation(c as char) {
            mask |= 1 << c;
        }
        c += 1;
    }
    mask
};

/// Scans one run of characters into `out`: digits, punctuation, and one `+` before the first
/// digit. `Err` on any other character.
fn scan_into(text: &str, out: &mut Scanned) -> Result<(), Reason> {
    // What people almost always type is ASCII: read byte by byte up to the first other
    // character (the same rules), then character by character.
    let bytes = text.as_bytes();
    let mut ascii = bytes.len();
    for (i, &b) in bytes.iter().enumerate() {
        if b.is_ascii_digit() {
            out.digits.push(b - b'0');
            out.count += 1;
        } else if b == b'+' {
            if out.plus || out.count > 0 {
                return Err(Reason::InvalidCharacters);
            }
            out.plus = true;
        } else if b >= 0x80 {
            ascii = i;
            break;
        } else if ASCII_PUNCTUATION >> b & 1 == 0 {
            return Err(Reason::InvalidCharacters);
        }
    }
    // `ascii` is at a character boundary: only ASCII bytes come before it.
    for c in text.get(ascii..).unwrap_or("").chars() {
        if let Some(v) = digit_value(c) {
            out.digits.push(v);
            out.count += 1;
        } else if is_plus(c) {
            if out.plus || out.count > 0 {
                return Err(Reason::InvalidCharacters);
            }
            out.plus = true;
        } else if !is_punctuation(c) {
            return Err(Reason::InvalidCharacters);
        }
    }
    Ok(())
}

/// `str::trim`, quicker on ASCII: ASCII whitespace first, then Unicode's only when an end is
/// not ASCII.
fn trim(s: &str) -> &str {
    let ws = |b: &u8| matches!(b, b' ' | b'\t'..=b'\r');
    let bytes = s.as_bytes();
    let start = bytes.iter().position(|b| !ws(b)).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|b| !ws(b)).map_or(start, |i| i + 1);
    let t = s.get(start..end).unwrap_or("");
    match (t.as_bytes().first(), t.as_bytes().last()) {
        (Some(&a), Some(&z)) if a >= 0x80 || z >= 0x80 => t.trim(),
        _ => t,
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        s.get(prefix.len()..)
    } else {
        None
    }
}

/// Splits at the first `;` (the rest excludes it); no `;`: all of it, and "".
fn split_semicolon(s: &str) -> (&str, &str) {
    match s.bytes().position(|b| b == b';') {
        Some(i) => (s.get(..i).unwrap_or(""), s.get(i + 1..).unwrap_or("")),
        None => (s, ""),
    }
}

/// Reads an input: trims surrounding whitespace, unwraps a `tel:` URI, checks characters.
///
/// `tel:` URIs (RFC 3966): the part before the first `;` is the number; parameters are
/// ignored (`;ext=`, `;isub=`, ...) except `;phone-context=+<digits>`, which supplies the
/// country code of a local number (`tel:98453-17206;phone-context=+91`).
pub(super) fn scan(input: &str, out: &mut Scanned) -> Result<(), Reason> {
    let text = trim(input);
    if text.is_empty() {
        return Err(Reason::Empty);
    }
    if let Some(uri) = strip_prefix_ignore_case(text, "tel:") {
        let (number, mut params) = split_semicolon(uri);
        let mut context = None;
        while !params.is_empty() {
            let (param, more) = split_semicolon(params);
            context = context.or_else(|| strip_prefix_ignore_case(param, "phone-context="));
            params = more;
        }
        let mut local = Scanned::new();
        scan_into(number, &mut local)?;
        match context {
            Some(ctx) if !local.plus && ctx.starts_with('+') => {
                scan_into(ctx, out)?;
                if out.count == 0 {
                    return Err(Reason::InvalidCharacters);
                }
                out.digits.extend(local.digits.as_slice());
                out.count += local.count;
            }
            _ => *out = local,
        }
        if out.count == 0 && !out.plus && number.trim().is_empty() {
            return Err(Reason::Empty);
        }
    } else {
        scan_into(text, out)?;
    }
    if out.count == 0 {
        return Err(Reason::TooShort);
    }
    Ok(())
}

// ----------------------------------------------------------------------------------------
// libphonenumber's algorithm

/// libphonenumber's `checkNumberLength`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Length {
    Possible,
    TooShort,
    TooLong,
    Invalid,
}

pub(super) fn check_length(len: usize, lengths: u32) -> Length {
    if lengths == 0 {
        return Length::Possible;
    }
    let min = lengths.trailing_zeros() as usize;
    let max = 31 - lengths.leading_zeros() as usize;
    if len < min {
        Length::TooShort
    } else if len > max {
        Length::TooLong
    } else if lengths >> len & 1 == 1 {
        Length::Possible
    } else {
        Length::Invalid
    }
}

// Digit strings are slices of the scanned input where they can be; the few rewritten ones
// (transform rules) go to a buffer of the caller's, so nothing big is copied on the way.

/// `extractNationalNumberFromPossiblyIncompleteNumber`: strips the national (trunk) prefix
/// and carrier code, or applies the plan's transform rule (into `buf`).
fn strip_national_prefix<'a>(number: &'a [u8], plan: Plan, buf: &'a mut Digits) -> &'a [u8] {
    if number.is_empty() {
        return number;
    }
    let Some(m) = data::national_prefix(plan, number) else {
        return number;
    };
    let rule = data::prefix_rule(plan);
    let last_group = match rule.group_count {
        0 => None,
        n => m.groups.get(usize::from(n) - 1).copied().flatten(),
    };
    let captured = last_group.is_some_and(|(s, e)| e > s);
    let rest = number.get(usize::from(m.len)..).unwrap_or(&[]);
    if rule.group == 0 || !captured {
        return rest;
    }
    buf.clear();
    for i in (0..rule.literal_len).rev() {
        buf.push((rule.literal.checked_shr(4 * u32::from(i)).unwrap_or(0) & 0xf) as u8);
    }
    if let Some(Some((s, e))) = m.groups.get(usize::from(rule.group) - 1) {
        buf.extend(number.get(usize::from(*s)..usize::from(*e)).unwrap_or(&[]));
    }
    buf.extend(rest);
    buf.as_slice()
}

/// `extractNationalNumber`: strips the national prefix only when what remains still looks
/// like a number of the plan.
fn national_number<'a>(a: Automata, number: &'a [u8], plan: Plan, buf: &'a mut Digits) -> &'a [u8] {
    let stripped = strip_national_prefix(number, plan, buf);
    if std::ptr::eq(stripped, number) || stripped == number {
        return number;
    }
    if a.general(plan, number) && !a.general(plan, stripped) {
        return number;
    }
    let country = a
        .calling_code(data::plan_cc(plan))
        .and_then(|cc| a.region_of(cc, stripped))
        .unwrap_or(plan);
    match check_length(stripped.len(), data::plan_lengths(country)) {
        Length::TooShort | Length::Invalid => number,
        _ => stripped,
    }
}

/// `extractCountryCallingCodeFromInternationalNumberWithoutPlusSign`: a number typed with the
/// default region's calling code but no `+` (`919845317206` in India); the rest of it.
fn without_plus(a: Automata, number: &[u8], plan: Plan) -> Option<(u16, &[u8])> {
    let cc = data::plan_cc(plan);
    let digits = [(cc / 100) as u8, (cc / 10 % 10) as u8, (cc % 10) as u8];
    let skip = usize::from(cc < 100) + usize::from(cc < 10);
    let shorter = number.strip_prefix(digits.get(skip..).unwrap_or(&[]))?;
    let (mut buf1, mut buf2) = (Digits::new(), Digits::new());
    let shorter_nn = national_number(a, shorter, plan, &mut buf1);
    let nn = national_number(a, number, plan, &mut buf2);
    let take = (!a.general(plan, nn) && a.general(plan, shorter_nn))
        || check_length(nn.len(), data::plan_lengths(plan)) == Length::TooLong;
    take.then_some((cc, shorter))
}

/// The outcome of parsing, before validation.
#[derive(Clone, Copy)]
pub(super) struct Parsed<'a> {
    pub cc: u16,
    /// The plan the number is validated against (its region, when known).
    pub plan: Plan,
    /// Whether the region is known (libphonenumber found the country).
    pub region_known: bool,
    pub national: &'a [u8],
}

/// After the `+`: the calling code (1 to 3 digits) and the rest.
fn split_calling_code(a: Automata, digits: &[u8]) -> Option<(u16, &[u8])> {
    if digits.first() == Some(&0) {
        return None;
    }
    let mut cc = 0u16;
    for (i, &d) in digits.iter().take(3).enumerate() {
        cc = cc * 10 + u16::from(d);
        if a.calling_code(cc).is_some() {
            return Some((cc, digits.get(i + 1..).unwrap_or(&[])));
        }
    }
    None
}

fn parse_international<'a>(
    a: Automata,
    cc: u16,
    rest: &'a [u8],
    buf: &'a mut Digits,
) -> Result<Parsed<'a>, Reason> {
    let info = a.calling_code(cc).ok_or(Reason::InvalidCountryCode)?;
    let main = info.first;
    let national = national_number(a, rest, main, buf);
    let region = a.region_of(info, national);
    Ok(Parsed {
        cc,
        plan: region.unwrap_or(main),
        region_known: region.is_some(),
        national,
    })
}

/// libphonenumber's `parse` for one scanned input and default region; `buf` holds a national
/// number that had to be rewritten.
pub(super) fn parse<'a>(
    a: Automata,
    scanned: &'a Scanned,
    default: Option<Plan>,
    buf: &'a mut Digits,
) -> Result<Parsed<'a>, Reason> {
    let number = scanned.digits.as_slice();
    if scanned.plus {
        let (cc, rest) = split_calling_code(a, number).ok_or(Reason::InvalidCountryCode)?;
        return parse_international(a, cc, rest, buf);
    }
    let Some(plan) = default else {
        return Err(Reason::InvalidCountryCode);
    };
    // The default region's international prefix (00, 011, 0011, ...).
    if let Some(n) = data::idd_prefix(plan, number) {
        let rest = number.get(n..).unwrap_or(&[]);
        if rest.first().is_some_and(|&d| d != 0) {
            let (cc, rest) = split_calling_code(a, rest).ok_or(Reason::InvalidCountryCode)?;
            return parse_international(a, cc, rest, buf);
        }
    }
    if let Some((cc, rest)) = without_plus(a, number, plan) {
        return parse_international(a, cc, rest, buf);
    }
    let national = national_number(a, number, plan, buf);
    let cc = data::plan_cc(plan);
    let region = a
        .calling_code(cc)
        .and_then(|info| a.region_of(info, national));
    Ok(Parsed {
        cc,
        plan: region.unwrap_or(plan),
        region_known: true,
        national,
    })
}

/// `00` + calling code read as international where the default region dials abroad with
/// another prefix (`00 44 20 7946 0958` with default US, whose prefix is 011): used only when
/// the default region's own international prefix does not match and reading the number as
/// national gives no valid number.
pub(super) fn parse_double_zero<'a>(
    a: Automata,
    scanned: &'a Scanned,
    default: Option<Plan>,
    buf: &'a mut Digits,
) -> Option<Parsed<'a>> {
    let d = scanned.digits.as_slice();
    if scanned.plus || d.first() != Some(&0) || d.get(1) != Some(&0) {
        return None;
    }
    if default.is_some_and(|plan| data::idd_prefix(plan, d).is_some()) {
        return None;
    }
    let (cc, rest) = split_calling_code(a, d.get(2..)?)?;
    parse_international(a, cc, rest, buf).ok()
}
