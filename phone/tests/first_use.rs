//! The numbering tables are decoded on first use; threads that get there at the same time
//! all decode. Its own test binary (process), so that no other test has decoded them already.

use std::sync::{Arc, Barrier};
use vox_phone::check;

/// Numbers whose verdicts depend on every table the decoder fills: calling codes shared by
/// many regions (+1, +7, +44), universal tails, leading digits; valid when a region is given.
const CASES: [(&str, &str, Option<&str>); 9] = [
    ("+1 999 555 0123", "IN", None),
    ("+1 200 555 0123", "IN", None),
    ("+44 999 555 0123", "IN", None),
    ("+1 415 555 2671", "IN", Some("US")),
    ("+1 604 555 0123", "IN", Some("CA")),
    ("+7 701 123 4567", "IN", Some("KZ")),
    ("+44 7400 123456", "IN", Some("GB")),
    ("98453 17206", "IN", Some("IN")),
    ("011 44 20 7946 0958", "US", Some("GB")),
];

#[test]
fn threads_decoding_at_once_agree() {
    let threads = 8;
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                (0..200)
                    .flat_map(|_| CASES)
                    .map(|(input, region, _)| {
                        let v = check(input, region);
                        (v.valid(), v.region())
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for handle in handles {
        let seen = handle.join().expect("no panic");
        for (i, (valid, region)) in seen.into_iter().enumerate() {
            let (input, _, expected) = CASES[i % CASES.len()];
            assert_eq!(valid, expected.is_some(), "{input}");
            assert_eq!(region, expected, "{input}");
        }
    }
}
