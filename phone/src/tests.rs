#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use super::*;

fn reason(input: &str, region: &str) -> Option<&'static str> {
    check(input, region).reason().map(Reason::code)
}

#[track_caller]
fn assert_valid(input: &str, region: &str, expected: &str) {
    let c = validate(input, region);
    assert!(
        c.valid,
        "{input:?} ({region}) should be valid, got {:?}",
        c.reason
    );
    assert_eq!(c.e164.as_deref(), Some(expected), "{input:?} ({region})");
}

#[track_caller]
fn assert_reason(input: &str, region: &str, expected: Reason) {
    let c = validate(input, region);
    assert!(
        !c.valid,
        "{input:?} ({region}) should be invalid, got {:?}",
        c.e164
    );
    assert_eq!(c.reason, Some(expected), "{input:?} ({region})");
}

#[test]
fn tables_decode_completely() {
    assert_eq!(data::decoded_state_count(), tables::N_STATES);
    assert_eq!(DATA_VERSION, "1.13.16");
}

#[test]
fn india_typed_forms() {
    for input in [
        "9845317206",
        "98453 17206",
        "98453-17206",
        "98453.17206",
        "(984) 531-7206",
        "09845317206",
        "0 98453 17206",
        "+919845317206",
        "+91 98453 17206",
        "+91-98453-17206",
        "+91 (0) 98453 17206",
        "+91 09845317206",
        "0091 98453 17206",
        "00919845317206",
        "919845317206",
        "91 98453 17206",
        "  9845317206  ",
        "\t+91 98453 17206\n",
        "(+91) 98453 17206",
        "+ 91 98453 17206",
        "tel:+91-98453-17206",
        "TEL:+919845317206",
        "tel:+91-98453-17206;ext=12",
        "tel:98453-17206;phone-context=+91",
        "＋９１ ９８４５３ １７２０６",
        "+٩١٩٨٤٥٣١٧٢٠٦",
        "98453/17206",
        "98453~17206",
        "[98453] 17206",
    ] {
        assert_valid(input, "IN", "+919845317206");
    }
    // the default region is IN, in any case, and when empty
    assert_valid("9845317206", "in", "+919845317206");
    assert_valid("9845317206", "", "+919845317206");
    // a number with a calling code ignores the default region
    assert_valid("+91 98453 17206", "US", "+919845317206");
    assert_valid("+91 98453 17206", "ZZ", "+919845317206");
    assert_valid("0091 98453 17206", "ZZ", "+919845317206");
    assert_valid("00 91 98453 17206", "JP", "+919845317206");
}

#[test]
fn india_exact_ranges() {
    // landlines: Delhi 11, Mumbai 22, Bengaluru 80, subscriber numbers start with 2-7
    assert_valid("011 2345 6789", "IN", "+911123456789");
    assert_valid("022 2345 6789", "IN", "+912223456789");
    assert_valid("080 2345 6789", "IN", "+918023456789");
    assert_reason("011 1345 6789", "IN", Reason::InvalidNumber);
    // toll free
    assert_valid("1800 123 4567", "IN", "+9118001234567");
    // mobile ranges 6-9
    assert_valid("70123 45678", "IN", "+917012345678");
    assert_valid("6123456789", "IN", "+916123456789");
    assert_reason("5012345678", "IN", Reason::InvalidNumber);
    // lengths: 8 to 13 digits are possible in India
    assert_reason("98453", "IN", Reason::TooShort);
    assert_reason("98453172061234", "IN", Reason::TooLong);
    assert_reason("984531720", "IN", Reason::InvalidNumber);
}

#[test]
fn other_regions() {
    let cases = [
        ("(201) 555-0123", "US", "+12015550123"),
        ("201-555-0123", "US", "+12015550123"),
        ("1 201 555 0123", "US", "+12015550123"),
        ("+1 201 555 0123", "IN", "+12015550123"),
        ("011 44 20 7946 0958", "US", "+442079460958"),
        ("00 44 20 7946 0958", "US", "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("07400 123456", "GB", "+447400123456"),
        ("+44 (0)20 7946 0958", "IN", "+442079460958"),
        ("030 123456", "DE", "+4930123456"),
        ("+49 30 123456", "IN", "+4930123456"),
        ("0151 23456789", "DE", "+4915123456789"),
        ("050 123 4567", "AE", "+971501234567"),
        ("+971 4 234 5678", "IN", "+97142345678"),
        ("8123 4567", "SG", "+6581234567"),
        ("+65 6123 4567", "IN", "+6561234567"),
        ("0412 345 678", "AU", "+61412345678"),
        ("0011 91 98453 17206", "AU", "+919845317206"),
        ("(11) 96123-4567", "BR", "+5511961234567"),
        ("011 96123 4567", "BR", "+5511961234567"),
        ("+55 11 96123 4567", "IN", "+5511961234567"),
        ("8 (912) 345-67-89", "RU", "+79123456789"),
        ("+7 701 234 5678", "IN", "+77012345678"),
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("+81 90-1234-5679", "IN", "+819012345679"),
        ("090-1234-5679", "JP", "+819012345679"),
        ("+86 138 0013 8000", "IN", "+8613800138000"),
        ("+800 1234 5679", "IN", "+80012345679"),
    ];
    for (input, region, expected) in cases {
        assert_valid(input, region, expected);
    }
}

#[test]
fn shared_calling_codes_report_the_region() {
    let region = |input: &str| validate(input, "IN").region;
    assert_eq!(region("+1 201 555 0123"), Some("US"));
    assert_eq!(region("+1 416 555 0123"), Some("CA"));
    assert_eq!(region("+1 268 464 1234"), Some("AG"));
    assert_eq!(region("+1 787 234 5678"), Some("PR"));
    assert_eq!(region("+44 20 7946 0958"), Some("GB"));
    assert_eq!(region("+44 7781 123456"), Some("GG"));
    assert_eq!(region("+44 7797 123456"), Some("JE"));
    assert_eq!(region("+44 7624 123456"), Some("IM"));
    assert_eq!(region("+7 912 345 67 89"), Some("RU"));
    assert_eq!(region("+7 701 234 5678"), Some("KZ"));
    assert_eq!(region("+61 412 345 678"), Some("AU"));
    assert_eq!(region("+800 1234 5679"), None);
    assert_eq!(validate("+800 1234 5679", "IN").country_code, Some(800));
    // a national number of another region of the default region's calling code
    assert_eq!(validate("07781 123456", "GB").region, Some("GG"));
}

#[test]
fn every_reason() {
    assert_reason("", "IN", Reason::Empty);
    assert_reason("   \t ", "IN", Reason::Empty);
    assert_reason("tel:", "IN", Reason::Empty);
    assert_reason("98453 1720x", "IN", Reason::InvalidCharacters);
    assert_reason("+91 98453 17206 ext. 12", "IN", Reason::InvalidCharacters);
    assert_reason("98453*17206", "IN", Reason::InvalidCharacters);
    assert_reason("98453#17206", "IN", Reason::InvalidCharacters);
    assert_reason("98453\u{1F4DE}17206", "IN", Reason::InvalidCharacters);
    assert_reason("98453\u{0007}17206", "IN", Reason::InvalidCharacters);
    assert_reason("98453\t17206", "IN", Reason::InvalidCharacters);
    assert_reason("9845+317206", "IN", Reason::InvalidCharacters);
    assert_reason("++919845317206", "IN", Reason::InvalidCharacters);
    assert_reason("98453;17206", "IN", Reason::InvalidCharacters);
    assert_reason("---", "IN", Reason::TooShort);
    assert_reason("+", "IN", Reason::TooShort);
    assert_reason("98", "IN", Reason::TooShort);
    assert_reason("+91", "IN", Reason::TooShort);
    assert_reason("+91 98453", "IN", Reason::TooShort);
    assert_reason("9845317206123456789", "IN", Reason::TooLong);
    assert_reason(&"9".repeat(500), "IN", Reason::TooLong);
    assert_reason("+0 98453 17206", "IN", Reason::InvalidCountryCode);
    assert_reason("+999 98453 17206", "IN", Reason::InvalidCountryCode);
    assert_reason("9845317206", "ZZ", Reason::InvalidCountryCode);
    assert_reason("9845317206", "India", Reason::InvalidCountryCode);
    assert_reason("5012345678", "IN", Reason::InvalidNumber);
    assert_reason("+44 1000 123456", "IN", Reason::InvalidNumber);
    assert_reason("9999999999", "IN", Reason::RepeatingDigits);
    assert_reason("9876543210", "IN", Reason::SequentialDigits);
    for r in crate::packed::REASONS {
        assert!(!r.message().is_empty());
        assert!(r.code().chars().all(|c| c.is_ascii_lowercase() || c == '_'));
    }
    assert_eq!(Reason::InvalidCountryCode.code(), "invalid_country_code");
    assert_eq!(
        Reason::RepeatingDigits.message(),
        "Phone number contains repeating digits pattern"
    );
}

#[test]
fn junk_rules() {
    assert!(
        check("8888833333", "IN").valid(),
        "the vendor's own example is valid"
    );
    assert_valid("+91 88888 33333", "IN", "+918888833333");
    for junk in [
        "9999999999",
        "9898989898",
        "9879879879",
        "9000000012",
        "9111111123",
        "6767676767",
    ] {
        assert_reason(junk, "IN", Reason::RepeatingDigits);
    }
    for seq in ["9876543210", "6789012345", "7890123456", "+1 234 567 8901"] {
        assert_eq!(reason(seq, "IN"), Some("sequential_digits"), "{seq}");
    }
    // 0987654321 and 1234567890 are not Indian numbers; the rule itself covers them
    assert!(junk::junk(&[0, 9, 8, 7, 6, 5, 4, 3, 2, 1]) == Some(Reason::SequentialDigits));
    assert!(junk::junk(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 0]) == Some(Reason::SequentialDigits));
    // junk numbers still say what they are
    let c = validate("9898989898", "IN");
    assert_eq!(
        (c.country_code, c.region, c.national_number.as_deref()),
        (Some(91), Some("IN"), Some("9898989898"))
    );
    assert_eq!(c.e164, None);
    // near misses are fine
    for ok in ["9898989899", "9876543211", "9000000123", "9879879870"] {
        assert!(check(ok, "IN").valid(), "{ok}");
    }
}

#[test]
fn normalize_and_write_e164() {
    assert_eq!(
        normalize("098453 17206", "IN"),
        Ok("+919845317206".to_string())
    );
    let err = normalize("9999999999", "IN").unwrap_err();
    assert_eq!(err.reason, Some(Reason::RepeatingDigits));
    assert!(!err.valid);
    for input in [
        "98453 17206",
        "+1 (201) 555-0123",
        "020 7946 0958",
        "tel:+44-20-7946-0958",
    ] {
        let region = if input.starts_with("020") { "GB" } else { "IN" };
        let once = normalize(input, region).unwrap();
        assert_eq!(normalize(&once, region), Ok(once.clone()), "idempotent");
        assert_eq!(
            normalize(&once, "US"),
            Ok(once.clone()),
            "E.164 needs no region"
        );
    }
    let v = check("9845317206", "IN");
    let mut s = String::from("tel=");
    v.write_e164(&mut s);
    assert_eq!(s, "tel=+919845317206");
    let mut nothing = String::new();
    check("123", "IN").write_e164(&mut nothing);
    assert_eq!(nothing, "");
    assert_eq!(v.national_number(), Some("9845317206"));
    assert_eq!(v.country_code(), Some(91));
    assert_eq!(v.region(), Some("IN"));
    let owned = validate("9845317206", "IN");
    assert_eq!(
        owned,
        PhoneCheck {
            valid: true,
            e164: Some("+919845317206".into()),
            country_code: Some(91),
            region: Some("IN"),
            national_number: Some("9845317206".into()),
            reason: None,
        }
    );
}

#[test]
fn masking() {
    assert_eq!(mask("+919845317206", 4, '*'), "+91******7206");
    assert_eq!(mask("98453 17206", 4, '*'), "+91******7206");
    assert_eq!(mask("+1 201 555 0123", 4, '#'), "+1######0123");
    assert_eq!(mask("+919845317206", 0, '*'), "+91**********");
    assert_eq!(mask("+919845317206", 20, '*'), "+919845317206");
    // A number the junk rules refuse is still a number: its calling code shows.
    assert_eq!(mask("9999999999", 4, '*'), "+91******9999");
    assert_eq!(mask("+919876543210", 4, '*'), "+91******3210");
    // not a number: masked as typed
    assert_eq!(mask("99999", 4, '*'), "*9999");
    assert_eq!(mask("call 12-34", 2, '*'), "call **-34");
    assert_eq!(mask("", 4, '*'), "");
    assert_eq!(mask("+91 98453 1720x", 4, '•'), "+•• ••••• 1720x");
}

#[test]
fn known_regions() {
    assert!(is_known_region("IN"));
    assert!(is_known_region("us"));
    assert!(is_known_region("Gb"));
    assert!(!is_known_region("ZZ"));
    assert!(!is_known_region("001"));
    assert!(!is_known_region(""));
    assert!(!is_known_region("IND"));
    assert!(!is_known_region("\0\0"));
}

#[test]
fn verdict_is_small_and_copy() {
    fn copy<T: Copy>(_: T) {}
    copy(check("9845317206", "IN"));
    assert!(std::mem::size_of::<Verdict>() <= 32);
}

#[cfg(not(target_arch = "wasm32"))]
mod properties {
    use super::super::*;
    use proptest::prelude::*;

    fn digits_only(s: &str) -> usize {
        s.chars().filter(|c| c.is_numeric()).count()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_strings_never_panic(s in any::<String>(), region in "[A-Za-z]{0,3}") {
            let v = check(&s, &region);
            let c = validate(&s, &region);
            prop_assert_eq!(v.valid(), c.valid);
            let _ = mask(&s, 4, '*');
            let _ = normalize(&s, &region);
        }

        #[test]
        fn phone_like_strings_never_panic(s in "[+]?[0-9 ()./-]{0,40}", region in "(IN|US|GB|DE|BR|AR|MX|JP|KR|AU|SG|AE|RU|KZ|ZZ)") {
            let v = check(&s, &region);
            if v.valid() {
                let mut e = String::new();
                v.write_e164(&mut e);
                prop_assert!(e.starts_with('+'));
                prop_assert!(e.len() <= 19);
            }
        }

        #[test]
        fn normalize_is_idempotent(s in "[+]?[0-9]{6,15}", region in "(IN|US|GB|DE|BR|AR|JP|AU|RU|FR)") {
            if let Ok(once) = normalize(&s, &region) {
                prop_assert_eq!(normalize(&once, &region), Ok(once.clone()));
                prop_assert_eq!(normalize(&once, "IN"), Ok(once.clone()));
            }
        }

        #[test]
        fn mask_reveals_at_most_keep_last(s in "[+]?[0-9 -]{0,24}|\\PC{0,20}", keep in 0usize..8) {
            let masked = mask(&s, keep, '*');
            let revealed = digits_only(&masked);
            let v = check(&s, DEFAULT_REGION);
            let cc_digits = v.country_code().filter(|_| v.valid()).map_or(0, |cc| cc.to_string().len());
            prop_assert!(revealed <= keep + cc_digits, "{:?} -> {:?}", s, masked);
        }
    }
}
