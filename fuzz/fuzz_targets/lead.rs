//! Lead validation: `validate_lead` and `prepare_lead` never panic on any JSON, and agree.
//!
//! Two ways in: input bytes that parse as JSON (`serde_json::from_slice`) are used as the lead
//! as they are (default region IN); any other input drives a structured generator
//! (`arbitrary`) that builds objects with the lead keys, drawing values from pools of
//! realistic ones (valid and invalid phones, emails, ids) or arbitrary strings, numbers,
//! arrays and objects, so the deeper rules are reached often.
//!
//! Properties checked:
//! * `prepare_lead` succeeds exactly when `validate_lead` finds nothing and a given
//!   `projectId` matches the client's;
//! * a prepared lead: `projectId` is the client's, `phone` is the E.164 of the input phone
//!   (and a fixed point of `normalize`), `email` is trimmed with no ASCII capital, no null or blank
//!   optional field is sent, `processId` is a 24-hex id; it builds an Initiate request whose
//!   body is valid JSON;
//! * a refusal is a `validation_error` whose details list the field errors.
//!
//! Also exercised (no panic): `LeadQuery::from_value` + `request`, `Target::from_value` +
//! `get_lead`, and `update_lead` on the same values.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Number, Value};
use vox_crm::core::api::{self, LeadQuery, Target};
use vox_crm::core::error::Code;
use vox_crm::core::lead::{is_object_id, prepare_lead, validate_lead};
use vox_crm::core::phone;

const PROJECTS: [&str; 3] = ["6650a1b2c3d4e5f601234567", "6650a1b2c3d4e5f60123456f", "p"];
const REGIONS: [&str; 8] = ["IN", "", "US", "GB", "AU", "in", " us ", "ZZ"];

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = serde_json::from_slice::<Value>(data) {
        check_lead(&v, PROJECTS[data.len() % 2], "IN");
        return;
    }
    let mut u = Unstructured::new(data);
    let Ok(input) = LeadInput::arbitrary(&mut u) else {
        return;
    };
    let region = match &input.region {
        Pick::Pool(i) => REGIONS[usize::from(*i) % REGIONS.len()].to_string(),
        Pick::Free(s) => s.clone(),
    };
    let project = PROJECTS[usize::from(input.project) % PROJECTS.len()];
    let lead = input.build();
    check_lead(&lead, project, &region);
});

fn check_lead(lead: &Value, project_id: &str, region: &str) {
    let errors = validate_lead(lead, region);
    for e in &errors {
        assert!(!e.field.is_empty() && !e.code.is_empty() && !e.message.is_empty());
        let _ = e.to_value();
    }
    let obj = lead.as_object();
    let blank = |k: &str| match obj.and_then(|o| o.get(k)) {
        Some(Value::String(s)) => s.trim().is_empty(),
        _ => true,
    };
    let mismatch = match obj.and_then(|o| o.get("projectId")) {
        Some(Value::String(p)) => !p.trim().is_empty() && p != project_id,
        _ => false,
    };
    match prepare_lead(lead, project_id, region) {
        Ok(p) => {
            assert!(
                errors.is_empty(),
                "prepared although validate_lead said {errors:?}"
            );
            assert!(!mismatch, "prepared with a foreign projectId");
            let body = p.body.as_object().expect("prepared body is an object");
            assert_eq!(body.get("projectId"), Some(&Value::from(project_id)));
            for (k, v) in body {
                assert!(!v.is_null(), "null {k} sent");
                if k != "name" {
                    assert!(
                        !v.as_str().is_some_and(|s| s.trim().is_empty()),
                        "blank {k} sent"
                    );
                }
            }
            assert!(is_object_id(&p.process_id), "processId {:?}", p.process_id);
            match &p.phone {
                Some(e164) => {
                    assert!(!blank("phone"));
                    assert_eq!(body.get("phone"), Some(&Value::from(e164.as_str())));
                    assert!(e164.starts_with('+'));
                    assert_eq!(phone::normalize(e164, region).as_ref(), Ok(e164));
                }
                None => {
                    assert!(blank("phone"));
                    assert!(body.get("phone").is_none());
                }
            }
            match &p.email {
                Some(e) => {
                    // Trimmed and lowercased (at least its ASCII letters).
                    assert_eq!(e.as_str(), e.trim());
                    assert!(!e.bytes().any(|b| b.is_ascii_uppercase()), "email {e:?}");
                    assert_eq!(body.get("email"), Some(&Value::from(e.as_str())));
                }
                None => assert!(blank("email")),
            }
            assert!(p.phone.is_some() || p.email.is_some());
            let req = api::initiate_lead(&p.body, Some(true));
            let sent: Value =
                serde_json::from_str(req.body.as_deref().expect("a body")).expect("JSON body");
            assert!(sent.get("lead").is_some_and(Value::is_object));
        }
        Err(e) => {
            assert_eq!(e.code, Code::ValidationError, "{e}");
            let details = e.details.as_ref().and_then(Value::as_array);
            if errors.is_empty() {
                // Only a projectId mismatch can refuse what validate_lead accepts.
                assert!(mismatch, "refused a valid lead: {e}");
            } else {
                let n = details.map_or(0, Vec::len);
                assert_eq!(n, errors.len() + usize::from(mismatch && obj.is_some()));
            }
            let _ = (e.to_value(), e.to_string());
        }
    }
    // Other readers of user-given JSON: they refuse or build, never panic.
    if let Ok(q) = LeadQuery::from_value(lead, region) {
        let r = q.request(q.page);
        let _ = r.path_and_query();
    }
    if let Ok(t) = Target::from_value(lead) {
        let _ = api::get_lead(&t, project_id, true).path_and_query();
        let _ = api::update_lead(&t, project_id, lead);
    }
}

// ---- the structured generator --------------------------------------------------------

const NAMES: &[&str] = &["Asha Rao", "", "  ", "A", "Zoë 名前"];
const PHONES: &[&str] = &[
    "098453 17206",
    "+91 98453 17206",
    "+919845317206",
    "9845317206",
    "919845317206",
    "(+91) 98453 17206",
    "tel:98453-17206;phone-context=+91",
    "+1 202 555 0147",
    "00 44 20 7946 0958",
    "011 44 20 7946 0958",
    "+44 20 7946 0958",
    "+61 2 9374 4000",
    "9999999999",
    "1234567890",
    "+800 1234 5678",
    "９８４５３１７２０６",
    "98453 17206 ext. 12",
    "+",
    "",
    " ",
    "abc",
];
const EMAILS: &[&str] = &[
    "a@b.co",
    " Asha@Example.COM ",
    "nope",
    "",
    "a@b..co",
    "Ä@例え.jp",
    ".a@b.co",
    "a@b.co.",
];
const IDS: &[&str] = &[
    "6650a1b2c3d4e5f6012345a1",
    "6650a1b2c3d4e5f601234567",
    "6650a1b2c3d4e5f60123456f",
    "6650A1B2C3D4E5F6012345A1",
    "x",
    "",
    " ",
];
const REFS: &[&str] = &["r1", "r2", "", "ref with spaces"];
const KEYS: [&str; 10] = [
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

#[derive(Arbitrary, Debug)]
enum Pick {
    Pool(u8),
    Free(String),
}

#[derive(Arbitrary, Debug)]
enum Field {
    Absent,
    Null,
    Pool(u8),
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Array(Vec<Field>),
    Object(Vec<(String, Field)>),
}

#[derive(Arbitrary, Debug)]
struct LeadInput {
    /// One per `KEYS` entry.
    fields: [Field; 10],
    extra: Vec<(String, Field)>,
    /// Below 8: the lead is not an object (an array, a string, null, ...).
    shape: u8,
    region: Pick,
    project: u8,
}

impl LeadInput {
    fn build(self) -> Value {
        let mut m = Map::new();
        for (key, field) in KEYS.iter().zip(self.fields) {
            if let Some(v) = field.value(pool(key)) {
                m.insert((*key).to_string(), v);
            }
        }
        for (k, f) in self.extra {
            if let Some(v) = f.value(IDS) {
                m.insert(k, v);
            }
        }
        match self.shape {
            0 => Value::Array(m.into_values().collect()),
            1 => Value::String("lead".into()),
            2 => Value::Null,
            3 => Value::from(7),
            _ => Value::Object(m),
        }
    }
}

fn pool(key: &str) -> &'static [&'static str] {
    match key {
        "name" | "firstName" | "lastName" => NAMES,
        "phone" => PHONES,
        "email" => EMAILS,
        "referenceId" | "groupId" => REFS,
        _ => IDS,
    }
}

impl Field {
    fn value(self, pool: &[&str]) -> Option<Value> {
        Some(match self {
            Field::Absent => return None,
            Field::Null => Value::Null,
            Field::Pool(i) => {
                let s = pool
                    .get(usize::from(i) % pool.len().max(1))
                    .copied()
                    .unwrap_or("");
                // Large indexes make a long string (referenceId's 256-char limit).
                if i >= 250 {
                    Value::String(s.repeat(usize::from(i)))
                } else {
                    Value::String(s.to_string())
                }
            }
            Field::Text(s) => Value::String(s),
            Field::Int(i) => Value::from(i),
            Field::Float(f) => Number::from_f64(f).map_or(Value::Null, Value::Number),
            Field::Bool(b) => Value::Bool(b),
            Field::Array(items) => {
                Value::Array(items.into_iter().filter_map(|f| f.value(pool)).collect())
            }
            Field::Object(entries) => Value::Object(
                entries
                    .into_iter()
                    .filter_map(|(k, f)| f.value(pool).map(|v| (k, v)))
                    .collect(),
            ),
        })
    }
}
