//! Lead input rules (API.md §2) and the normalised form a lead is sent in.
//! Leads and activities coming back are kept as JSON objects, so every field the
//! server sends, unknown ones included, reaches the user untouched.

use crate::core::error::{Code, VoxError};
use crate::core::phone;
use serde_json::{json, Map, Value};

/// One problem with one field of a lead input: SDK.md `validateLead` errors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

impl FieldError {
    fn new(field: &str, code: &'static str, message: impl Into<String>) -> Self {
        FieldError {
            field: field.to_string(),
            code,
            message: message.into(),
        }
    }

    pub fn to_value(&self) -> Value {
        json!({ "field": self.field, "code": self.code, "message": self.message })
    }
}

/// True for a 24-character lowercase hex id (API.md §1).
pub fn is_object_id(s: &str) -> bool {
    s.len() == 24
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A practical email check: one `@`, a non-empty local part, a dotted domain, no spaces.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let ok_chars = |p: &str| {
        p.chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && c != '@')
    };
    !local.is_empty()
        && local.len() <= 64
        && s.len() <= 254
        && ok_chars(local)
        && ok_chars(domain)
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && domain.contains('.')
        && !local.starts_with('.')
        && !local.ends_with('.')
}

fn non_empty_str<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    match obj.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.as_str()),
        _ => None,
    }
}

/// Checks a lead input against API.md §2, `projectId` excepted (the client fills it in).
pub fn validate_lead(lead: &Value, default_region: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let Some(obj) = lead.as_object() else {
        errors.push(FieldError::new(
            "lead",
            "invalid_type",
            "A lead must be an object",
        ));
        return errors;
    };
    let type_err = |field: &str, what: &str| {
        FieldError::new(field, "invalid_type", format!("{field} must be {what}"))
    };
    for key in [
        "name",
        "firstName",
        "lastName",
        "phone",
        "email",
        "referenceId",
        "groupId",
        "processId",
        "projectId",
    ] {
        if let Some(v) = obj.get(key) {
            if !v.is_string() && !v.is_null() {
                errors.push(type_err(key, "a string"));
            }
        }
    }
    if let Some(v) = obj.get("metadata") {
        if !v.is_object() && !v.is_null() {
            errors.push(type_err("metadata", "an object"));
        }
    }
    match obj.get("processId") {
        Some(Value::String(p)) if is_object_id(p) => {}
        Some(Value::String(p)) if !p.trim().is_empty() => errors.push(FieldError::new(
            "processId",
            "invalid_format",
            "processId must be a 24-character hex id",
        )),
        Some(v) if !v.is_string() && !v.is_null() => {}
        _ => errors.push(FieldError::new(
            "processId",
            "required",
            "processId is required",
        )),
    }
    if non_empty_str(obj, "name").is_none() && non_empty_str(obj, "firstName").is_none() {
        errors.push(FieldError::new(
            "name",
            "required",
            "Either name or firstName is required",
        ));
    }
    let phone = non_empty_str(obj, "phone");
    let email = non_empty_str(obj, "email");
    if phone.is_none() && email.is_none() {
        errors.push(FieldError::new(
            "phone",
            "required",
            "Either phone or email is required",
        ));
    }
    if let Some(p) = phone {
        let check = phone::validate(p, default_region);
        if let Some(reason) = check.reason {
            errors.push(FieldError::new("phone", reason.code(), reason.message()));
        }
    }
    if let Some(e) = email {
        if !is_email(e.trim()) {
            errors.push(FieldError::new(
                "email",
                "invalid_format",
                "Invalid email address",
            ));
        }
    }
    if let Some(r) = obj.get("referenceId").and_then(Value::as_str) {
        if r.len() > 256 {
            errors.push(FieldError::new(
                "referenceId",
                "too_long",
                "referenceId is longer than 256 characters",
            ));
        }
    }
    errors
}

/// A lead as it will be sent: projectId filled in, phone in E.164, email trimmed and
/// lowercased, empty optional fields dropped. Also the keys the duplicate guard uses.
#[derive(Clone, Debug, PartialEq)]
pub struct PreparedLead {
    pub body: Value,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub reference_id: Option<String>,
    pub process_id: String,
}

/// The error a refused lead input yields: `validation_error` with the field list as details.
pub fn validation_error(errors: &[FieldError]) -> VoxError {
    let summary: Vec<String> = errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect();
    VoxError::new(
        Code::ValidationError,
        format!("Invalid lead ({})", summary.join("; ")),
    )
    .with_details(Value::Array(
        errors.iter().map(FieldError::to_value).collect(),
    ))
}

/// Validates and normalises one lead input for the client's project.
pub fn prepare_lead(
    lead: &Value,
    project_id: &str,
    default_region: &str,
) -> Result<PreparedLead, VoxError> {
    let mut errors = validate_lead(lead, default_region);
    let Some(obj) = lead.as_object() else {
        return Err(validation_error(&errors));
    };
    if let Some(p) = non_empty_str(obj, "projectId") {
        if p != project_id {
            errors.push(FieldError::new(
                "projectId",
                "mismatch",
                "projectId does not match the client's project",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(validation_error(&errors));
    }
    let mut body = Map::with_capacity(obj.len() + 1);
    for (k, v) in obj {
        if v.is_null() || (v.as_str().is_some_and(|s| s.trim().is_empty()) && k != "name") {
            continue;
        }
        body.insert(k.clone(), v.clone());
    }
    body.insert("projectId".into(), json!(project_id));
    let phone = match non_empty_str(obj, "phone") {
        Some(p) => {
            let e164 = phone::normalize(p, default_region)
                .map_err(|_| VoxError::new(Code::ValidationError, "Invalid phone number"))?;
            body.insert("phone".into(), json!(e164));
            Some(e164)
        }
        None => None,
    };
    let email = non_empty_str(obj, "email").map(|e| e.trim().to_ascii_lowercase());
    if let Some(e) = &email {
        body.insert("email".into(), json!(e));
    }
    Ok(PreparedLead {
        body: Value::Object(body),
        phone,
        email,
        reference_id: non_empty_str(obj, "referenceId").map(str::to_string),
        process_id: non_empty_str(obj, "processId")
            .unwrap_or_default()
            .to_string(),
    })
}

/// The `_id` of a lead or activity object.
pub fn id_of(v: &Value) -> Option<&str> {
    v.get("_id").and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROC: &str = "6650a1b2c3d4e5f6012345a1";

    fn codes(errors: &[FieldError]) -> Vec<(String, &'static str)> {
        errors.iter().map(|e| (e.field.clone(), e.code)).collect()
    }

    #[test]
    fn a_good_lead_passes_and_is_normalised() {
        let lead = json!({"name": "Asha Rao", "phone": "098453 17206", "email": " Asha@Example.COM ",
                          "processId": PROC, "metadata": {"k": 1}, "extra": true, "groupId": ""});
        assert!(validate_lead(&lead, "IN").is_empty());
        let p = prepare_lead(&lead, "6650a1b2c3d4e5f601234567", "IN").unwrap();
        assert_eq!(p.phone.as_deref(), Some("+919845317206"));
        assert_eq!(p.email.as_deref(), Some("asha@example.com"));
        assert_eq!(p.body["projectId"], "6650a1b2c3d4e5f601234567");
        assert_eq!(
            p.body["extra"], true,
            "unknown input fields are sent as given"
        );
        assert!(
            p.body.get("groupId").is_none(),
            "empty optional fields are dropped"
        );
    }

    #[test]
    fn every_missing_field_is_reported() {
        let errors = validate_lead(&json!({}), "IN");
        assert_eq!(
            codes(&errors),
            vec![
                ("processId".to_string(), "required"),
                ("name".to_string(), "required"),
                ("phone".to_string(), "required")
            ]
        );
    }

    #[test]
    fn bad_formats_are_reported() {
        let lead =
            json!({"firstName": "A", "phone": "9999999999", "email": "nope", "processId": "x"});
        let errors = validate_lead(&lead, "IN");
        assert_eq!(
            codes(&errors),
            vec![
                ("processId".to_string(), "invalid_format"),
                ("phone".to_string(), "repeating_digits"),
                ("email".to_string(), "invalid_format")
            ]
        );
        let not_object = validate_lead(&json!([1]), "IN");
        assert_eq!(not_object.len(), 1);
        let wrong_types = validate_lead(
            &json!({"name": 5, "email": "a@b.co", "processId": PROC, "metadata": "x"}),
            "IN",
        );
        assert!(wrong_types
            .iter()
            .any(|e| e.field == "name" && e.code == "invalid_type"));
        assert!(wrong_types.iter().any(|e| e.field == "metadata"));
    }

    #[test]
    fn project_mismatch_is_refused() {
        let lead = json!({"name": "A", "email": "a@b.co", "processId": PROC, "projectId": "6650a1b2c3d4e5f60123456f"});
        let err = prepare_lead(&lead, "6650a1b2c3d4e5f601234567", "IN").unwrap_err();
        assert_eq!(err.code, Code::ValidationError);
        assert!(err.details.unwrap()[0]["field"] == "projectId");
    }

    #[test]
    fn emails() {
        assert!(is_email("a.b+c@example.co.in"));
        for bad in [
            "", "a", "a@", "@b.co", "a@b", "a b@c.co", "a@b..co", "a@@b.co",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
    }
}
