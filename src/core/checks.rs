//! The synchronous checks of docs/sdk.md "Phone numbers and leads", from the caller's values to
//! their results: `validatePhone(s)`, `normalizePhone`, `maskPhone`, `validateLead`.

use crate::core::error::{Code, Details, VoxError};
use crate::core::lead::{self, FieldError};
use crate::core::options::{clip, mask_options, phone_region};
use crate::core::phone::{self, PhoneCheck, Reason};
use crate::core::value::{Json, Kind, TextError, Value};

/// A phone number argument. Text that is not well-formed (a lone surrogate) is read as U+FFFD,
/// which no phone number holds: the checks then call it `invalid_characters`.
fn phone_text<V: Value>(v: &V, name: &str) -> Result<String, VoxError> {
    match v.text(usize::MAX) {
        Ok(s) => Ok(s),
        Err(TextError::NotWellFormed) => Ok("\u{FFFD}".into()),
        Err(_) => Err(VoxError::invalid_argument(format!(
            "{name} must be a string"
        ))),
    }
}

/// docs/sdk.md `PhoneCheck`; absent fields are left out.
pub fn check_json<V>(c: &PhoneCheck) -> Json<V> {
    let mut m = vec![("valid", Json::Bool(c.valid))];
    if let Some(e) = &c.e164 {
        m.push(("e164", Json::text(e.as_str())));
    }
    if let Some(cc) = c.country_code {
        m.push(("countryCode", Json::Number(f64::from(cc))));
    }
    if let Some(r) = c.region {
        m.push(("region", Json::text(r)));
    }
    if let Some(n) = &c.national_number {
        m.push(("nationalNumber", Json::text(n.as_str())));
    }
    if let Some(r) = c.reason {
        m.push(("reason", Json::text(r.code())));
        m.push(("message", Json::text(r.message())));
    }
    Json::Object(m)
}

pub fn validate_phone<V: Value>(input: &V, options: &V) -> Result<Json<V>, VoxError> {
    let region = phone_region(options)?;
    Ok(check_json(&phone::validate(
        &phone_text(input, "input")?,
        &region,
    )))
}

pub fn validate_phones<V: Value>(inputs: &V, options: &V) -> Result<Json<V>, VoxError> {
    let region = phone_region(options)?;
    let n = inputs
        .array_len()
        .ok_or_else(|| VoxError::invalid_argument("inputs must be an array of strings"))?;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let s = phone_text(&inputs.at(i), &format!("inputs[{i}]"))?;
        out.push(check_json(&phone::validate(&s, &region)));
    }
    Ok(Json::Array(out))
}

pub fn normalize_phone<V: Value>(input: &V, options: &V) -> Result<String, VoxError> {
    let region = phone_region(options)?;
    let input = phone_text(input, "input")?;
    phone::normalize(&input, &region).map_err(|c| {
        let reason = c.reason.unwrap_or(Reason::InvalidNumber);
        VoxError::new(
            Code::InvalidPhone,
            format!(
                "Invalid phone number {}: {}",
                clip(&phone::mask_in(&input, &region, 4, '*'), 40),
                reason.message()
            ),
        )
        .with_details(Details::Reason(reason.code()))
    })
}

pub fn mask_phone<V: Value>(input: &V, options: &V) -> Result<String, VoxError> {
    let (keep, mask_char) = mask_options(options)?;
    Ok(phone::mask(&phone_text(input, "input")?, keep, mask_char))
}

/// `{ valid, errors: [{ field, code, message }] }`; a lead that is no object is invalid.
pub fn validate_lead<V: Value>(lead: &V, options: &V) -> Result<Json<V>, VoxError> {
    let region = phone_region(options)?;
    let errors = match lead.kind() {
        Kind::Object => match lead::read_lead(lead) {
            Ok(input) => lead::validate_lead(input, &region),
            Err(_) => vec![lead::not_a_lead()],
        },
        _ => vec![lead::not_a_lead()],
    };
    Ok(Json::Object(vec![
        ("valid", Json::Bool(errors.is_empty())),
        (
            "errors",
            Json::Array(errors.iter().map(FieldError::to_json).collect()),
        ),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::testkit::{tv, Tv};
    use serde_json::json;

    fn out(j: Result<Json<Tv>, VoxError>) -> serde_json::Value {
        Tv::build(j.unwrap()).json()
    }

    #[test]
    fn phone_checks_from_values() {
        let none = tv(json!(null));
        assert_eq!(
            out(validate_phone(&tv(json!("98453 17206")), &none)),
            json!({"valid": true, "e164": "+919845317206", "countryCode": 91, "region": "IN", "nationalNumber": "9845317206"})
        );
        assert_eq!(
            out(validate_phone(&tv(json!("12")), &none))["reason"],
            "too_short"
        );
        assert_eq!(
            validate_phone(&tv(json!(5)), &none).unwrap_err().message,
            "input must be a string"
        );
        let many = out(validate_phones(&tv(json!(["+919845317206", ""])), &none));
        assert_eq!(many[1]["reason"], "empty");
        assert_eq!(
            validate_phones(&tv(json!(["1", 2])), &none)
                .unwrap_err()
                .message,
            "inputs[1] must be a string"
        );
        let e = normalize_phone(&tv(json!("+919999999999")), &none).unwrap_err();
        assert_eq!(
            (e.code, e.details),
            (
                Code::InvalidPhone,
                Some(Details::Reason("repeating_digits"))
            )
        );
        assert!(!e.message.contains("9999999999"), "{}", e.message);
        assert_eq!(
            mask_phone(&tv(json!("+919845317206")), &none).unwrap(),
            "+91******7206"
        );
    }

    #[test]
    fn validate_lead_results() {
        let none = tv(json!(null));
        let r = out(validate_lead(
            &tv(json!({"name": "A", "email": "a@b.co", "processId": "6650a1b2c3d4e5f6012345a1"})),
            &none,
        ));
        assert_eq!(r, json!({"valid": true, "errors": []}));
        let r = out(validate_lead(&tv(json!("x")), &none));
        assert_eq!(r["errors"][0]["field"], "lead");
    }
}
