//! Junk rules on otherwise valid national numbers (API.md §2, SDK.md "Phone numbers").

use super::Reason;

/// The first junk rule a national number (digit values) breaks, if any.
pub(super) fn junk(national: &[u8]) -> Option<Reason> {
    if repeating(national) {
        Some(Reason::RepeatingDigits)
    } else if sequential(national) {
        Some(Reason::SequentialDigits)
    } else {
        None
    }
}

/// One digit repeated (`9999999999`), the same digit 7 or more times in a row
/// (`9000000012`), or a 2- or 3-digit block repeated across the whole number, the last block
/// possibly cut short (`9898989898`, `9879879879`). `8888833333` is fine.
fn repeating(n: &[u8]) -> bool {
    let mut run = 0usize;
    let mut prev = None;
    for &d in n {
        run = if prev == Some(d) { run + 1 } else { 1 };
        prev = Some(d);
        if run >= 7 {
            return true;
        }
    }
    let periodic = |k: usize| {
        n.len() >= 2 * k
            && n.iter()
                .zip(n.iter().cycle().take(k).cycle())
                .all(|(a, b)| a == b)
    };
    (n.len() >= 2 && periodic(1)) || periodic(2) || periodic(3)
}

/// Every digit is the previous one plus 1, or every digit the previous one minus 1, modulo 10
/// (`1234567890`, `9876543210`, `0987654321`).
fn sequential(n: &[u8]) -> bool {
    if n.len() < 2 {
        return false;
    }
    let steps = || {
        n.iter()
            .zip(n.iter().skip(1))
            .map(|(&a, &b)| (10 + b - a) % 10)
    };
    steps().all(|s| s == 1) || steps().all(|s| s == 9)
}
