//! Lead input rules (docs/api.md §2) and the form a lead is sent in. The caller's lead object is
//! sent as the caller wrote it, fields this SDK does not know included, with the core's
//! changes applied (projectId filled in, phone in E.164, email trimmed and lowercased, empty
//! optional fields dropped). Leads and activities coming back are the host's values, passed
//! through untouched.

use crate::core::error::{mask_phones_in_text, Code, Details, VoxError};
use crate::core::phone;
use crate::core::value::{Field, Json, JsonError, Kind, Patch, TextError, TextState, Value};

/// The longest text a lead field may hold (in UTF-16 code units).
pub const MAX_FIELD: usize = 10_000;
/// The longest referenceId (a key, not prose).
pub const MAX_REFERENCE: usize = 256;
/// The deepest nesting `metadata` may have (the CRM's document store refuses deep ones; 100
/// levels for a whole document in MongoDB).
pub const MAX_METADATA_DEPTH: usize = 32;

/// True when `v` nests more than `levels` objects or arrays, itself included, one in the other.
pub fn nests_deeper<V: Value>(v: &V, levels: usize) -> bool {
    let children: Vec<V> = match v.kind() {
        Kind::Object => v.keys().iter().map(|k| v.get(k)).collect(),
        Kind::Array => (0..v.array_len().unwrap_or(0)).map(|i| v.at(i)).collect(),
        _ => return false,
    };
    levels == 0 || children.iter().any(|c| nests_deeper(c, levels - 1))
}

/// `metadata` as a lead or a change may hold it: an object that nests at most
/// [`MAX_METADATA_DEPTH`] deep. `None` when it is fine.
pub fn metadata_problem<V: Value>(m: &V) -> Option<&'static str> {
    if !m.is_object() {
        Some("metadata must be an object")
    } else if nests_deeper(m, MAX_METADATA_DEPTH) {
        Some("metadata nests more than 32 levels deep")
    } else {
        None
    }
}

/// One problem with one field of a lead input: docs/sdk.md `validateLead` errors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub code: &'static str,
    pub message: String,
}

impl FieldError {
    fn new(field: &'static str, code: &'static str, message: impl Into<String>) -> Self {
        FieldError {
            field,
            code,
            message: message.into(),
        }
    }

    pub fn to_json<V>(&self) -> Json<V> {
        Json::Object(vec![
            ("field", Json::text(self.field)),
            ("code", Json::text(self.code)),
            ("message", Json::text(self.message.as_str())),
        ])
    }
}

/// The fields of a lead input the rules read (docs/api.md §2), their longest texts, and whether
/// the rules use their text (the others are only checked to be text, not copied).
const NAMES: [&str; 10] = [
    "name",
    "firstName",
    "lastName",
    "phone",
    "email",
    "referenceId",
    "groupId",
    "processId",
    "projectId",
    "metadata",
];
const MAX: [usize; 10] = [
    MAX_FIELD,
    MAX_FIELD,
    MAX_FIELD,
    MAX_FIELD,
    MAX_FIELD,
    MAX_REFERENCE,
    MAX_FIELD,
    MAX_FIELD,
    MAX_FIELD,
    0,
];
const COPY: [bool; 10] = [
    false, false, false, true, true, true, false, true, true, false,
];
const METADATA: usize = 9;

/// A lead input as the host read it: what each field holds (the text of those the rules use),
/// and the caller's object itself, which is what is sent.
#[derive(Debug)]
pub struct LeadInput<V> {
    fields: Vec<Field>,
    pub source: V,
}

impl<V: Value> LeadInput<V> {
    fn state(&self, i: usize) -> TextState {
        self.fields.get(i).map_or(TextState::Absent, |f| f.0)
    }

    /// The text of field `i` (taken: each is read once).
    fn take_text(&mut self, i: usize) -> Option<String> {
        self.fields.get_mut(i).and_then(|f| f.1.take())
    }

    /// The caller's `metadata`, when it is an object.
    fn metadata(&self) -> Option<V> {
        (self.state(METADATA) == TextState::Object).then(|| self.source.get("metadata"))
    }
}

/// Reads lead inputs `start..end` of an array, all at once; `Err` for an item that is no
/// readable object.
pub fn read_leads<V: Value>(
    inputs: &V,
    start: usize,
    end: usize,
) -> Vec<Result<LeadInput<V>, VoxError>> {
    inputs
        .fields(start, end, &NAMES, &MAX, &COPY)
        .into_iter()
        .map(|fields| match fields {
            Some((fields, source)) => Ok(LeadInput { fields, source }),
            None => Err(validation_error(vec![not_a_lead()])),
        })
        .collect()
}

/// Reads one lead input (an object; anything else is refused).
pub fn read_lead<V: Value>(source: &V) -> Result<LeadInput<V>, VoxError> {
    let one = V::build(Json::Array(vec![Json::Value(source.clone())]));
    read_leads(&one, 0, 1)
        .pop()
        .unwrap_or_else(|| Err(validation_error(vec![not_a_lead()])))
}

/// True for a 24-character lowercase hex id (docs/api.md §1).
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
        && !crate::core::error::has(domain, "..")
        && domain.contains('.')
        && !local.starts_with('.')
        && !local.ends_with('.')
}

/// A lead whose fields passed the rules, in the form the core needs.
struct Checked {
    phone: Option<String>,
    email: Option<String>,
    reference_id: Option<String>,
    process_id: String,
    project_id: Option<String>,
    /// Optional fields given as null or blank: left out of the body.
    blank: Vec<&'static str>,
}

/// Text field `i`: `Some(text)` when it holds text (empty when its text is not copied), `None`
/// when absent or blank (then listed in `blank`, when given); an error entry when it is not text.
fn text_field<V: Value>(
    lead: &mut LeadInput<V>,
    i: usize,
    errors: &mut Vec<FieldError>,
    blank: Option<&mut Vec<&'static str>>,
) -> Option<String> {
    let field = NAMES.get(i).copied().unwrap_or("lead");
    let max = MAX.get(i).copied().unwrap_or(0);
    match lead.state(i) {
        TextState::Text => Some(lead.take_text(i).unwrap_or_default()),
        TextState::Absent | TextState::Blank => {
            if let Some(b) = blank {
                b.push(field);
            }
            None
        }
        state => {
            errors.push(match state {
                TextState::Bad(TextError::TooLong) => FieldError::new(
                    field,
                    "too_long",
                    format!("{field} is longer than {max} characters"),
                ),
                TextState::Bad(TextError::NotWellFormed) => FieldError::new(
                    field,
                    "invalid_text",
                    format!("{field} is not valid text (it holds a lone surrogate)"),
                ),
                _ => FieldError::new(field, "invalid_type", format!("{field} must be a string")),
            });
            None
        }
    }
}

fn check<V: Value>(
    lead: &mut LeadInput<V>,
    default_region: &str,
) -> Result<Checked, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut blank = Vec::new();
    let (e, b) = (&mut errors, &mut blank);
    // A null name is left out, like every other null field the rules know (a blank one goes
    // as given).
    if lead.state(0) == TextState::Absent {
        b.push("name");
    }
    let name = text_field(lead, 0, e, None);
    let first = text_field(lead, 1, e, Some(b));
    text_field(lead, 2, e, Some(b));
    let phone = text_field(lead, 3, e, Some(b));
    let email = text_field(lead, 4, e, Some(b));
    let reference_id = text_field(lead, 5, e, Some(b));
    text_field(lead, 6, e, Some(b));
    let before = e.len();
    let process_id = text_field(lead, 7, e, None);
    let process_typed = e.len() > before;
    let project_id = text_field(lead, 8, e, None);
    match lead.state(METADATA) {
        TextState::Absent => blank.push("metadata"),
        TextState::Object => {
            if let Some(problem) = lead.metadata().as_ref().and_then(metadata_problem) {
                errors.push(FieldError::new("metadata", "too_deep", problem));
            }
        }
        _ => errors.push(FieldError::new(
            "metadata",
            "invalid_type",
            "metadata must be an object",
        )),
    }
    match &process_id {
        Some(p) if is_object_id(p) => {}
        Some(_) => errors.push(FieldError::new(
            "processId",
            "invalid_format",
            "processId must be a 24-character hex id",
        )),
        // A processId of the wrong type is reported as that already.
        None if process_typed => {}
        None => errors.push(FieldError::new(
            "processId",
            "required",
            "processId is required",
        )),
    }
    if name.is_none() && first.is_none() {
        errors.push(FieldError::new(
            "name",
            "required",
            "Either name or firstName is required",
        ));
    }
    if phone.is_none() && email.is_none() {
        errors.push(FieldError::new(
            "phone",
            "required",
            "Either phone or email is required",
        ));
    }
    let phone = phone.and_then(|p| match phone::normalize(&p, default_region) {
        Ok(e164) => Some(e164),
        Err(check) => {
            let reason = check.reason.unwrap_or(phone::Reason::InvalidNumber);
            errors.push(FieldError::new("phone", reason.code(), reason.message()));
            None
        }
    });
    let email = email.map(|e| e.trim().to_ascii_lowercase());
    if email.as_deref().is_some_and(|e| !is_email(e)) {
        errors.push(FieldError::new(
            "email",
            "invalid_format",
            "Invalid email address",
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Checked {
        phone,
        email,
        reference_id,
        process_id: process_id.unwrap_or_default(),
        project_id,
        blank,
    })
}

/// Checks a lead input against docs/api.md §2, `projectId` excepted (the client fills it in).
/// `metadata` must also be writable as JSON (no cycle, no BigInt).
pub fn validate_lead<V: Value>(mut lead: LeadInput<V>, default_region: &str) -> Vec<FieldError> {
    let mut errors = check(&mut lead, default_region).err().unwrap_or_default();
    if let Some(m) = lead.metadata() {
        if m.to_json(&[]).is_err() {
            errors.push(unwritable("metadata"));
        }
    }
    errors
}

fn unwritable(field: &'static str) -> FieldError {
    FieldError::new(
        field,
        "invalid_json",
        format!("{field} cannot be written as JSON (a cycle, a BigInt, a lone surrogate or a value that throws?)"),
    )
}

/// A field error for a lead that could not be read at all (not an object, or it throws).
pub fn not_a_lead() -> FieldError {
    FieldError::new("lead", "invalid_type", "A lead must be an object")
}

/// A lead as it will be sent, and the keys the duplicate guard and bulk mapping use.
#[derive(Clone, Debug, PartialEq)]
pub struct PreparedLead<V> {
    /// The lead object as JSON text (a host string).
    pub body: V,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub reference_id: Option<String>,
    pub process_id: String,
}

/// The error a refused lead input yields: `validation_error` with the field list as details.
pub fn validation_error(errors: Vec<FieldError>) -> VoxError {
    let mut message = String::from("Invalid lead (");
    for (n, e) in errors.iter().enumerate() {
        if n > 0 {
            message.push_str("; ");
        }
        message.push_str(e.field);
        message.push_str(": ");
        message.push_str(&e.message);
    }
    message.push(')');
    VoxError::new(Code::ValidationError, message).with_details(Details::Fields(errors))
}

/// A lead that passed the rules, to be written for sending.
pub struct CheckedLead<V> {
    source: V,
    blank: Vec<&'static str>,
    phone: Option<String>,
    email: Option<String>,
    reference_id: Option<String>,
    process_id: String,
}

impl<V> CheckedLead<V> {
    /// The phone in E.164.
    pub fn phone(&self) -> Option<&str> {
        self.phone.as_deref()
    }

    /// The email, trimmed and lowercased.
    pub fn email(&self) -> Option<&str> {
        self.email.as_deref()
    }

    pub fn reference_id(&self) -> Option<&str> {
        self.reference_id.as_deref()
    }

    /// The duplicate guard's keys of the lead.
    pub fn keys(&self) -> crate::core::limits::Keys {
        crate::core::limits::Keys::new(self.phone(), self.email())
            .with_reference(&self.process_id, self.reference_id.as_deref())
    }
}

/// Validates one lead input for the client's project.
pub fn check_lead<V: Value>(
    mut lead: LeadInput<V>,
    project_id: &str,
    default_region: &str,
) -> Result<CheckedLead<V>, VoxError> {
    let c = check(&mut lead, default_region).map_err(validation_error)?;
    if c.project_id.as_deref().is_some_and(|p| p != project_id) {
        return Err(validation_error(vec![FieldError::new(
            "projectId",
            "mismatch",
            "projectId does not match the client's project",
        )]));
    }
    Ok(CheckedLead {
        source: lead.source,
        blank: c.blank,
        phone: c.phone,
        email: c.email,
        reference_id: c.reference_id,
        process_id: c.process_id,
    })
}

/// Writes checked leads as the JSON text they are sent as (all at once): projectId filled in,
/// phone in E.164, email normalised, blank optional fields left out.
pub fn write_leads<V: Value>(
    leads: Vec<CheckedLead<V>>,
    project_id: &str,
) -> Vec<Result<PreparedLead<V>, VoxError>> {
    let patches: Vec<(&V, Patch<'_>)> = leads
        .iter()
        .map(|c| {
            let mut patch: Vec<(&str, Option<&str>)> = c.blank.iter().map(|f| (*f, None)).collect();
            patch.push(("projectId", Some(project_id)));
            if let Some(p) = &c.phone {
                patch.push(("phone", Some(p)));
            }
            if let Some(e) = &c.email {
                patch.push(("email", Some(e)));
            }
            (&c.source, patch)
        })
        .collect();
    let bodies = V::to_json_many(&patches);
    drop(patches);
    leads
        .into_iter()
        .zip(bodies)
        .map(|(c, body)| {
            let body = body.map_err(|e| {
                let mut f = unwritable("lead");
                match e {
                    JsonError::NotWellFormed => {
                        f.message = "lead holds text that is not valid (a lone surrogate)".into();
                    }
                    // What the caller's toJSON, getter or Proxy threw, or JSON.stringify said.
                    JsonError::Unwritable(Some(thrown)) => {
                        f.message = format!(
                            "lead cannot be written as JSON: {}",
                            mask_phones_in_text(&thrown)
                        );
                    }
                    JsonError::Unwritable(None) => {}
                }
                validation_error(vec![f])
            })?;
            Ok(PreparedLead {
                body,
                phone: c.phone,
                email: c.email,
                reference_id: c.reference_id,
                process_id: c.process_id,
            })
        })
        .collect()
}

/// [`check_lead`] and [`write_leads`] of one lead.
pub fn prepare_lead<V: Value>(
    lead: LeadInput<V>,
    project_id: &str,
    default_region: &str,
) -> Result<PreparedLead<V>, VoxError> {
    let checked = check_lead(lead, project_id, default_region)?;
    write_leads(vec![checked], project_id)
        .pop()
        .unwrap_or_else(|| Err(validation_error(vec![not_a_lead()])))
}

/// The `_id` of a lead or activity object.
pub fn id_of<V: Value>(v: &V) -> Option<String> {
    v.get("_id").string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::testkit::{tv, Tv};
    use serde_json::json;

    const PROC: &str = "6650a1b2c3d4e5f6012345a1";

    fn input(v: &Tv) -> LeadInput<Tv> {
        read_lead(v).unwrap()
    }

    fn codes(errors: &[FieldError]) -> Vec<(&'static str, &'static str)> {
        errors.iter().map(|e| (e.field, e.code)).collect()
    }

    fn sent(p: &PreparedLead<Tv>) -> serde_json::Value {
        serde_json::from_str(&p.body.string().unwrap()).unwrap()
    }

    #[test]
    fn a_good_lead_passes_and_is_normalised() {
        let lead = tv(
            json!({"name": "Asha Rao", "phone": "098453 17206", "email": " Asha@Example.COM ",
                          "processId": PROC, "metadata": {"k": 1}, "extra": true, "groupId": ""}),
        );
        assert!(validate_lead(input(&lead), "IN").is_empty());
        let p = prepare_lead(input(&lead), "6650a1b2c3d4e5f601234567", "IN").unwrap();
        assert_eq!(p.phone.as_deref(), Some("+919845317206"));
        assert_eq!(p.email.as_deref(), Some("asha@example.com"));
        let body = sent(&p);
        assert_eq!(body["projectId"], "6650a1b2c3d4e5f601234567");
        assert_eq!(body["phone"], "+919845317206");
        assert_eq!(body["email"], "asha@example.com");
        assert_eq!(
            body["extra"], true,
            "unknown input fields are sent as given"
        );
        assert_eq!(body["metadata"], json!({"k": 1}));
        assert!(
            body.get("groupId").is_none(),
            "empty optional fields are dropped"
        );
        assert_eq!(
            lead.get("phone").string().unwrap(),
            "098453 17206",
            "the input is untouched"
        );
    }

    #[test]
    fn null_known_fields_are_left_out() {
        let lead = tv(
            json!({"name": null, "firstName": "Asha", "email": null, "phone": "9845317206",
                             "metadata": null, "extra": null, "processId": PROC}),
        );
        let p = prepare_lead(input(&lead), "6650a1b2c3d4e5f601234567", "IN").unwrap();
        let body = sent(&p);
        for k in ["name", "email", "metadata"] {
            assert!(body.get(k).is_none(), "{k} left out: {body}");
        }
        assert_eq!(
            body["extra"],
            json!(null),
            "unknown fields are sent as given"
        );
    }

    #[test]
    fn every_missing_field_is_reported() {
        let errors = validate_lead(input(&tv(json!({}))), "IN");
        assert_eq!(
            codes(&errors),
            vec![
                ("processId", "required"),
                ("name", "required"),
                ("phone", "required")
            ]
        );
    }

    #[test]
    fn bad_formats_are_reported() {
        let lead =
            tv(json!({"firstName": "A", "phone": "9999999999", "email": "nope", "processId": "x"}));
        assert_eq!(
            codes(&validate_lead(input(&lead), "IN")),
            vec![
                ("processId", "invalid_format"),
                ("phone", "repeating_digits"),
                ("email", "invalid_format")
            ]
        );
        assert_eq!(
            read_lead(&tv(json!([1]))).unwrap_err().code,
            Code::ValidationError
        );
        let wrong = tv(json!({"name": 5, "email": "a@b.co", "processId": PROC, "metadata": "x"}));
        let errors = validate_lead(input(&wrong), "IN");
        assert!(errors
            .iter()
            .any(|e| e.field == "name" && e.code == "invalid_type"));
        assert!(errors.iter().any(|e| e.field == "metadata"));
        let long = tv(
            json!({"name": "A", "email": "a@b.co", "processId": PROC, "referenceId": "r".repeat(300)}),
        );
        assert_eq!(
            codes(&validate_lead(input(&long), "IN")),
            vec![("referenceId", "too_long")]
        );
        let mut deep = json!({});
        for _ in 0..40 {
            deep = json!({ "x": [deep] });
        }
        let deep = tv(json!({"name": "A", "email": "a@b.co", "processId": PROC, "metadata": deep}));
        assert_eq!(
            codes(&validate_lead(input(&deep), "IN")),
            vec![("metadata", "too_deep")]
        );
        // Four containers, one in the other.
        assert!(!nests_deeper(&tv(json!({"a": {"b": [1, {"c": 2}]}})), 4));
        assert!(nests_deeper(&tv(json!({"a": {"b": [1, {"c": 2}]}})), 3));
    }

    #[test]
    fn project_mismatch_is_refused() {
        let lead = tv(
            json!({"name": "A", "email": "a@b.co", "processId": PROC, "projectId": "6650a1b2c3d4e5f60123456f"}),
        );
        let err = prepare_lead(input(&lead), "6650a1b2c3d4e5f601234567", "IN").unwrap_err();
        assert_eq!(err.code, Code::ValidationError);
        let Some(Details::Fields(f)) = err.details else {
            panic!()
        };
        assert_eq!(f[0].field, "projectId");
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
