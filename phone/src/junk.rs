//! Junk rules on otherwise valid national numbers (docs/api.md §2, docs/sdk.md "Phone numbers").

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
    let mut run = 1usize;
    for pair in n.windows(2) {
        run = if pair.first() == pair.get(1) {
            run + 1
        } else {
            1
        };
        if run >= 7 {
            return true;
        }
    }
    // Period k: every digit equals the one k places on.
    let periodic =
        |k: usize| n.len() >= 2 * k && n.iter().zip(n.get(k..).unwrap_or(&[])).all(|(a, b)| a == b);
    periodic(1) || periodic(2) || periodic(3)
}

/// Every digit is the previous one plus 1, or every digit the previous one minus 1, modulo 10
/// (`1234567890`, `9876543210`, `0987654321`).
fn sequential(n: &[u8]) -> bool {
    if n.len() < 2 {
        return false;
    }
    let steps_by = |step: u8| {
        n.iter()
            .zip(n.get(1..).unwrap_or(&[]))
            .all(|(&a, &b)| b == (a + step) % 10)
    };
    steps_by(1) || steps_by(9)
}
