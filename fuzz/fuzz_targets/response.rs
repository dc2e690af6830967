//! Response reading: every reader of `vox_crm::core::api` and the error mapping of
//! `vox_crm::core::error` never panic on any body, status or `Retry-After`, and keep their
//! promises.
//!
//! Input (lossy UTF-8): `STATUS|RETRY-AFTER|BODY`, e.g. `429|2|{"error":"Rate limit"}`, when
//! it starts with 1 to 5 digits and a `|`; otherwise the whole input is the body, the status
//! is derived from its length and there is no `Retry-After`.
//!
//! Properties checked:
//! * `parse_json` accepts exactly what serde_json accepts; every refusal is `invalid_response`;
//! * `read_lead`/`read_activity`/`read_lead_with_activities` give an object with a string
//!   `_id` (the last with an `activities` list), and agree on what they accept;
//! * `read_update` gives `{ updateId?, message }`; `read_query` a page whose leads are the
//!   body's list (as JSON text, with their `_id`s); `read_bulk` created leads whose JSON text
//!   is an object with the `_id` it reports;
//! * `from_status` keeps the status and Retry-After, maps 5xx to `server_error`, 429 to
//!   `rate_limited`/`key_blocked`, 404 to `not_found`, 401/403 to `forbidden`, and its message
//!   is masked (masking it again changes nothing);
//! * `parse_retry_after` gives a finite, non-negative number of milliseconds;
//! * `mask_phones_in_text` only turns digits into `*` and is idempotent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use vox_crm::core::api;
use vox_crm::core::error::{
    from_status, mask_phones_in_text, parse_retry_after, server_reason, Code,
};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (status, retry, body) = split(&text);
    run(status, retry, body);
});

fn split(text: &str) -> (u16, Option<&str>, &str) {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    if (1..=5).contains(&digits) && text.as_bytes().get(digits) == Some(&b'|') {
        let status = text
            .get(..digits)
            .and_then(|s| s.parse().ok())
            .unwrap_or(u16::MAX);
        let rest = text.get(digits + 1..).unwrap_or("");
        return match rest.split_once('|') {
            Some((retry, body)) => (status, Some(retry), body),
            None => (status, None, rest),
        };
    }
    (400 + (text.len() % 200) as u16, None, text)
}

fn invalid_response(e: &vox_crm::core::error::VoxError) {
    assert_eq!(e.code, Code::InvalidResponse, "{e}");
    assert!(!e.message.is_empty());
}

fn run(status: u16, retry: Option<&str>, body: &str) {
    // parse_json accepts exactly JSON.
    let parsed = api::parse_json(body);
    assert_eq!(parsed.is_ok(), serde_json::from_str::<Value>(body).is_ok());
    if let Err(e) = &parsed {
        invalid_response(e);
    }

    let lead = api::read_lead(body);
    match &lead {
        Ok(v) => assert!(v.get("_id").is_some_and(Value::is_string), "{v}"),
        Err(e) => invalid_response(e),
    }
    let activity = api::read_activity(body);
    assert_eq!(activity.is_ok(), lead.is_ok());
    match api::read_lead_with_activities(body) {
        Ok(v) => {
            assert!(lead.is_ok());
            assert!(v.get("_id").is_some_and(Value::is_string));
            assert!(v.get("activities").is_some_and(Value::is_array));
        }
        Err(e) => {
            assert!(lead.is_err());
            invalid_response(&e);
        }
    }

    match api::read_update(body) {
        Ok(v) => {
            let o = v.as_object().expect("update result is an object");
            assert!(o.get("message").is_some_and(Value::is_string));
            assert!(o.keys().all(|k| k == "message" || k == "updateId"));
        }
        Err(e) => invalid_response(&e),
    }

    let requested_page = u64::from(status % 7) + 1;
    let requested_limit = (status % 3 != 0).then(|| u64::from(status % 101));
    match api::read_query(body, requested_page, requested_limit) {
        Ok(p) => {
            // The typed readers skip what they do not read (serde's IgnoredAny, RawValue), so
            // they accept a lone surrogate escape (`"\ud800"`, grammatical JSON) there, which
            // serde_json's `Value` refuses: compare with `parse_json` only when it read the body.
            if let Ok(v) = &parsed {
                assert!(
                    v.is_object(),
                    "read_query accepted a body that is not an object"
                );
                let list = v
                    .get("data")
                    .filter(|d| !d.is_null())
                    .or_else(|| v.get("leads"))
                    .and_then(Value::as_array)
                    .expect("a page read from a body without a lead list");
                assert_eq!(p.leads.len(), list.len());
            }
            assert_eq!(p.ids.len(), p.leads.len());
            for (raw, id) in p.leads.iter().zip(&p.ids) {
                if let Some(id) = id {
                    assert!(
                        raw.get().starts_with('{'),
                        "read_query took _id {id:?} from a lead that is not an object: {}",
                        raw.get()
                    );
                    if let Ok(lead) = serde_json::from_str::<Value>(raw.get()) {
                        assert_eq!(lead.get("_id").and_then(Value::as_str), Some(id.as_str()));
                    }
                }
            }
            let n = p.leads.len();
            let text = p.into_json();
            if parsed.is_ok() {
                let out: Value = serde_json::from_str(&text).expect("page JSON text");
                assert_eq!(
                    out.get("leads").and_then(Value::as_array).map(Vec::len),
                    Some(n)
                );
            }
        }
        Err(e) => invalid_response(&e),
    }

    match api::read_bulk(body) {
        Ok(a) => {
            if let Ok(v) = &parsed {
                assert!(
                    v.is_object(),
                    "read_bulk accepted a body that is not an object"
                );
            }
            for c in &a.created {
                assert!(
                    c.raw.get().starts_with('{'),
                    "created lead not an object: {}",
                    c.raw.get()
                );
                if let Ok(lead) = serde_json::from_str::<Value>(c.raw.get()) {
                    assert_eq!(lead.get("_id").and_then(Value::as_str), Some(c.id.as_str()));
                }
                let email = c.email.as_deref().unwrap_or("");
                assert!(
                    !email.bytes().any(|b| b.is_ascii_uppercase()),
                    "email {email:?}"
                );
            }
        }
        Err(e) => invalid_response(&e),
    }

    // Error mapping.
    let ms = parse_retry_after(retry);
    if let Some(ms) = ms {
        assert!(
            ms.is_finite() && ms >= 0.0,
            "Retry-After {retry:?} gave {ms} ms"
        );
    }
    assert_eq!(parse_retry_after(None), None);
    let reason = server_reason(body);
    if reason.is_some() {
        assert!(parsed.is_ok());
    }
    let e = from_status(status, body, ms);
    assert_eq!(e.status, Some(status));
    assert_eq!(e.retry_after_ms.map(f64::to_bits), ms.map(f64::to_bits));
    match status {
        500.. => assert_eq!(e.code, Code::ServerError),
        429 => assert!(matches!(e.code, Code::RateLimited | Code::KeyBlocked)),
        404 => assert_eq!(e.code, Code::NotFound),
        401 | 403 => assert_eq!(e.code, Code::Forbidden),
        _ => assert_eq!(e.code, Code::BadRequest),
    }
    if let Some(r) = &reason {
        assert_eq!(e.message, mask_phones_in_text(r));
    }
    assert_eq!(
        mask_phones_in_text(&e.message),
        e.message,
        "message not masked"
    );
    let _ = (e.info(), e.to_value(), e.to_string());

    // Masking arbitrary text.
    let masked = mask_phones_in_text(body);
    assert_eq!(masked.chars().count(), body.chars().count());
    for (a, b) in body.chars().zip(masked.chars()) {
        assert!(
            a == b || (a.is_ascii_digit() && b == '*'),
            "{a:?} became {b:?}"
        );
    }
    assert_eq!(
        mask_phones_in_text(&masked),
        masked,
        "masking is not idempotent"
    );
}
