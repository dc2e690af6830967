//! Masking phone numbers for display and logs.

use super::check;
use super::parse::digit_value;

fn is_digit_like(c: char) -> bool {
    digit_value(c).is_some() || c.is_numeric()
}

/// See [`super::mask`] and [`super::mask_in`].
pub(super) fn mask(input: &str, region: &str, keep_last: usize, mask_char: char) -> String {
    let verdict = check(input, region);
    let mut out = String::new();
    // The junk rules say nothing of how a number is written: a junk number masks as any other.
    if let (true, Some(cc), Some(national)) = (
        verdict.is_number(),
        verdict.country_code(),
        verdict.national_number(),
    ) {
        out.push('+');
        push_number(&mut out, cc);
        let hidden = national.len().saturating_sub(keep_last);
        for (i, c) in national.chars().enumerate() {
            out.push(if i < hidden { mask_char } else { c });
        }
        return out;
    }
    // Not a valid number: mask it as typed, every digit but the last `keep_last`.
    let digits = input.chars().filter(|&c| is_digit_like(c)).count();
    let hidden = digits.saturating_sub(keep_last);
    let mut seen = 0usize;
    for c in input.chars() {
        if is_digit_like(c) {
            out.push(if seen < hidden { mask_char } else { c });
            seen += 1;
        } else {
            out.push(c);
        }
    }
    out
}

pub(super) fn push_number(out: &mut String, n: u16) {
    let mut buf = [0u8; 5];
    let mut i = buf.len();
    let mut v = n;
    loop {
        i -= 1;
        if let Some(slot) = buf.get_mut(i) {
            *slot = b'0' + (v % 10) as u8;
        }
        v /= 10;
        if v == 0 || i == 0 {
            break;
        }
    }
    for &b in buf.get(i..).unwrap_or(&[]) {
        out.push(char::from(b));
    }
}
