//! Lead validation: reading a lead input (`read_lead`, `read_leads`), `validate_lead`,
//! `check_lead` + `write_leads` and `prepare_lead` never panic on any host value, and agree.
//!
//! The host value is `Tv` (`vox_crm::core::testkit`, feature `testkit`): a serde_json value, with
//! `{"$date": ms}` for a JS `Date` and `{"$fn": name}` for a function. Two ways in: input bytes
//! that parse as JSON (`serde_json::from_slice`) are used as the lead as they are (default
//! region IN); any other input drives a structured generator (`arbitrary`) that builds objects
//! with the lead keys, drawing values from pools of realistic ones (valid and invalid phones,
//! emails, ids) or arbitrary strings, numbers, dates, functions, arrays and objects, so the
//! deeper rules are reached often.
//!
//! Properties checked:
//! * `read_lead` reads exactly the objects (not arrays, dates, functions, ...), else a
//!   `validation_error` "A lead must be an object"; `read_leads` over an array gives per item
//!   what `read_lead` gives;
//! * `prepare_lead` succeeds exactly when `validate_lead` finds nothing, a given `projectId`
//!   matches the client's and the lead can be written as JSON; a refusal is a
//!   `validation_error` whose details are `validate_lead`'s field errors (or the projectId
//!   mismatch, or the unwritable lead); `check_lead` + `write_leads` give the same body;
//! * a prepared lead is the caller's object as written, with `projectId` the client's, `phone`
//!   the E.164 of the input phone (a fixed point of `normalize`), `email` the input's trimmed and
//!   ASCII-lowercased (a valid email), the null or blank optional fields (`firstName`,
//!   `lastName`, `phone`, `email`, `referenceId`, `groupId`) and a null `metadata` or `name`
//!   left out, every other field as given; `processId` is a 24-hex id; the Initiate request built from it
//!   is JSON `{"lead": <that body>, "init"?}`, and so is the request `Client::initiate_lead`
//!   starts (which refuses exactly what `prepare_lead` refuses);
//! * `checks::validate_lead` (docs/sdk.md `validateLead`) gives `{ valid, errors }` with the field
//!   errors of `lead::validate_lead` for its `defaultCountry`.
//!
//! Also on the same values, checked to refuse or build well-formed requests: `LeadQuery::read`
//! + `request` (page >= 1, limit 1..=100, only known filters, a percent-encoded query; the
//! pager `Pages::new` agrees), `Target::read` + `get_lead`, `Changes::read` + `update_lead`
//! (a JSON body with only the target's and docs/sdk.md's change fields at the top level).
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Map, Number, Value as J};
use vox_crm::core::api::{self, LeadQuery, Target};
use vox_crm::core::bulk::Progress;
use vox_crm::core::checks;
use vox_crm::core::engine::{Client, Config, Host, LogEvent, Pages, Step};
use vox_crm::core::error::{Code, Details, VoxError};
use vox_crm::core::lead::{
    self, check_lead, is_email, is_object_id, prepare_lead, read_lead, read_leads, validate_lead,
    write_leads, FieldError,
};
use vox_crm::core::options::Changes;
use vox_crm::core::phone;
use vox_crm::core::testkit::{body_text, func, tv, Tv};
use vox_crm::core::value::{Part, Parts, Value};

const PROJECTS: [&str; 3] = ["6650a1b2c3d4e5f601234567", "6650a1b2c3d4e5f60123456f", "p"];
const REGIONS: [&str; 8] = ["IN", "", "US", "GB", "AU", "in", " us ", "ZZ"];
/// The optional fields a prepared lead leaves out when null or blank.
const OPTIONAL: [&str; 6] = [
    "firstName",
    "lastName",
    "phone",
    "email",
    "referenceId",
    "groupId",
];

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = serde_json::from_slice::<J>(data) {
        let project = PROJECTS[data.len() % 2];
        check(&v, project, "IN", data.len() % 3);
        match &v {
            J::Array(items) => check_many(items, project, "IN"),
            lead => check_many(&[J::Null, lead.clone(), lead.clone()], project, "IN"),
        }
        return;
    }
    let mut u = Unstructured::new(data);
    let Ok(input) = LeadIn::arbitrary(&mut u) else {
        return;
    };
    let region = match &input.region {
        Pick::Pool(i) => REGIONS[usize::from(*i) % REGIONS.len()].to_string(),
        Pick::Free(s) => s.clone(),
    };
    let project = PROJECTS[usize::from(input.project) % PROJECTS.len()];
    let init = usize::from(input.init);
    let lead = input.build();
    check(&lead, project, &region, init);
    match &lead {
        J::Array(items) => check_many(items, project, &region),
        lead => check_many(&[J::Null, lead.clone(), lead.clone()], project, &region),
    }
});

fn codes(errors: &[FieldError]) -> Vec<(&'static str, &'static str)> {
    errors.iter().map(|e| (e.field, e.code)).collect()
}

fn fields_of(e: &VoxError) -> Vec<(&'static str, &'static str)> {
    match &e.details {
        Some(Details::Fields(f)) => codes(f),
        other => panic!("a refused lead without field details: {other:?} ({e})"),
    }
}

/// A string field that is given and not blank (what the rules use).
fn text<'a>(lead: &'a J, key: &str) -> Option<&'a str> {
    lead.get(key)
        .and_then(J::as_str)
        .filter(|s| !s.trim().is_empty())
}

/// `v` as it reads back from its JSON text (serde_json's float parsing may differ from the
/// value by an ulp: the host's JSON text is compared with this, not with `v`).
fn reread(v: &J) -> J {
    serde_json::from_str(&v.to_string()).expect("JSON text of a value")
}

/// What `Tv` calls an object: not a `$date` or `$fn` stand-in.
fn is_plain_object(v: &J) -> bool {
    v.as_object()
        .is_some_and(|m| !m.contains_key("$date") && !m.contains_key("$fn"))
}

fn parts_text(parts: &Parts<Tv>) -> String {
    parts
        .0
        .iter()
        .map(|p| match p {
            Part::Str(s) => s.clone(),
            Part::Text(v) => v.string().expect("a host part that is no string"),
        })
        .collect()
}

fn init_of(k: usize) -> Option<bool> {
    [None, Some(true), Some(false)][k % 3]
}

fn check(lead: &J, project_id: &str, region: &str, init: usize) {
    let source = tv(lead.clone());
    let object = is_plain_object(lead);
    assert_eq!(source.is_object(), object);

    // Reading: objects only.
    let input = match read_lead(&source) {
        Ok(input) => {
            assert!(object, "read_lead read a lead that is no object: {lead}");
            input
        }
        Err(e) => {
            assert!(!object, "read_lead refused an object: {e}");
            assert_eq!(e.code, Code::ValidationError);
            assert_eq!(fields_of(&e), [("lead", "invalid_type")]);
            readers(lead, &source, project_id, region);
            return;
        }
    };

    let errors = validate_lead(input, region);
    for e in &errors {
        assert!(!e.field.is_empty() && !e.code.is_empty() && !e.message.is_empty());
        let _ = Tv::build(e.to_json());
    }
    assert_eq!(
        errors,
        validate_lead(read_lead(&source).expect("read again"), region),
        "validate_lead is not deterministic"
    );
    // validate_lead = the rules' errors, then metadata's writability.
    let mut base = errors.clone();
    if base
        .last()
        .is_some_and(|e| (e.field, e.code) == ("metadata", "invalid_json"))
    {
        base.pop();
    }
    // A given projectId that is not the client's (a too long one is a field error first).
    let mismatch = text(lead, "projectId").is_some_and(|p| p != project_id);
    let writable = source.to_json(&[]).is_ok();

    let prepared = prepare_lead(read_lead(&source).expect("read"), project_id, region);
    match &prepared {
        Ok(p) => {
            assert!(
                errors.is_empty(),
                "prepared although validate_lead said {errors:?}"
            );
            assert!(!mismatch, "prepared with a foreign projectId");
            prepared_lead(lead, p, project_id, region);
            let req = api::initiate_lead(p.body.clone(), init_of(init));
            let sent: J = serde_json::from_str(&body_text(&req)).expect("Initiate body is JSON");
            let body: J = serde_json::from_str(&p.body.string().expect("a body")).expect("JSON");
            let mut expected = json!({ "lead": body });
            if let Some(b) = init_of(init) {
                expected["init"] = json!(b);
            }
            assert_eq!(sent, expected);
        }
        Err(e) => {
            assert_eq!(e.code, Code::ValidationError, "{e}");
            let details = fields_of(e);
            if !base.is_empty() {
                assert_eq!(details, codes(&base), "refused with other errors");
                if let Some(Details::Fields(f)) = &e.details {
                    assert_eq!(f, &base);
                }
            } else if mismatch {
                assert_eq!(details, [("projectId", "mismatch")]);
            } else {
                assert_eq!(
                    details,
                    [("lead", "invalid_json")],
                    "refused a valid lead: {e}"
                );
                assert!(!writable, "refused a writable valid lead: {e}");
            }
            assert!(e.message.starts_with("Invalid lead ("), "{}", e.message);
            let _ = (Tv::build(e.to_json()), e.to_string());
        }
    }
    if errors.is_empty() && !mismatch && writable {
        assert!(prepared.is_ok(), "a valid lead was refused: {prepared:?}");
    }

    // check_lead + write_leads (the bulk path) give what prepare_lead gives.
    let checked = check_lead(read_lead(&source).expect("read"), project_id, region);
    match (&prepared, checked) {
        (Ok(p), Ok(c)) => {
            assert_eq!(c.phone(), p.phone.as_deref());
            assert_eq!(c.email(), p.email.as_deref());
            let written = write_leads(vec![c], project_id);
            let [Ok(w)] = written.as_slice() else {
                panic!("write_leads of a prepared lead: {written:?}");
            };
            assert_eq!(w.body.string(), p.body.string());
        }
        (Ok(_), Err(e)) => panic!("check_lead refused a prepared lead: {e}"),
        (Err(_), Ok(c)) => {
            // Only writing can have failed.
            let written = write_leads(vec![c], project_id);
            assert!(matches!(written.as_slice(), [Err(_)]), "{written:?}");
        }
        (Err(a), Err(b)) => assert_eq!(a, &b),
    }

    // The engine: an invalid lead costs no request; a valid one is sent as prepared.
    let mut cfg = Config::new(project_id);
    cfg.default_region = region.to_string();
    let client = Client::isolated(cfg);
    let mut task = client.initiate_lead(&source, init_of(init));
    match (task.step(&client, &NoHost), &prepared) {
        (Step::Done(Err(e)), Err(p)) => assert_eq!(&e, p),
        (Step::Pending { .. }, Ok(p)) => {
            let sends = task.take_sends();
            let [send] = sends.as_slice() else {
                panic!("{} requests for one lead", sends.len());
            };
            assert_eq!(
                (send.method, send.url.ends_with("/leads/initiate")),
                ("POST", true)
            );
            let sent: J = serde_json::from_str(&parts_text(send.body.as_ref().expect("a body")))
                .expect("JSON body");
            let body: J = serde_json::from_str(&p.body.string().expect("a body")).expect("JSON");
            assert_eq!(sent["lead"], body);
            assert_eq!(sent.get("init").and_then(J::as_bool), init_of(init));
        }
        (step, p) => panic!("initiate_lead gave {step:?}, prepare_lead {p:?}"),
    }

    // docs/sdk.md validateLead.
    let options = tv(json!({ "defaultCountry": region }));
    match checks::validate_lead(&source, &options) {
        Ok(r) => {
            let r = Tv::build(r).json();
            assert!(
                phone::is_known_region(region),
                "validateLead took defaultCountry {region:?}"
            );
            let used = region.to_ascii_uppercase();
            let expected = validate_lead(read_lead(&source).expect("read"), &used);
            assert_eq!(r["valid"], json!(expected.is_empty()));
            let listed: Vec<(String, String)> = r["errors"]
                .as_array()
                .expect("errors")
                .iter()
                .map(|e| {
                    (
                        e["field"].as_str().unwrap_or("?").into(),
                        e["code"].as_str().unwrap_or("?").into(),
                    )
                })
                .collect();
            let expected: Vec<(String, String)> = expected
                .iter()
                .map(|e| (e.field.to_string(), e.code.to_string()))
                .collect();
            assert_eq!(listed, expected);
        }
        Err(e) => assert_eq!(e.code, Code::InvalidArgument, "{e}"),
    }

    readers(lead, &source, project_id, region);
}

fn prepared_lead(lead: &J, p: &lead::PreparedLead<Tv>, project_id: &str, region: &str) {
    let written = p.body.string().expect("the body is JSON text");
    let body: J = serde_json::from_str(&written).expect("the body is JSON");
    let body = body.as_object().expect("the body is an object");
    let input = lead.as_object().expect("a prepared lead is an object");
    assert_eq!(body.get("projectId"), Some(&J::from(project_id)));
    // The caller's object as written, less the null or blank optional fields and a null name
    // (a blank name goes as given).
    for (k, v) in input {
        let dropped = (OPTIONAL.contains(&k.as_str())
            && (v.is_null() || v.as_str().is_some_and(|s| s.trim().is_empty())))
            || (matches!(k.as_str(), "metadata" | "name") && v.is_null());
        match k.as_str() {
            _ if dropped => assert!(body.get(k).is_none(), "null or blank {k} sent"),
            "projectId" | "phone" | "email" => assert!(body.contains_key(k), "{k} not sent"),
            _ => assert_eq!(body.get(k), Some(&reread(v)), "{k} not sent as given"),
        }
    }
    for k in body.keys() {
        assert!(input.contains_key(k) || k == "projectId", "{k} added");
    }
    assert!(is_object_id(&p.process_id), "processId {:?}", p.process_id);
    assert_eq!(text(lead, "processId"), Some(p.process_id.as_str()));
    assert_eq!(p.reference_id.as_deref(), text(lead, "referenceId"));
    match &p.phone {
        Some(e164) => {
            let given = text(lead, "phone").expect("a phone from no phone");
            assert_eq!(phone::normalize(given, region).as_ref(), Ok(e164));
            assert_eq!(body.get("phone"), Some(&J::from(e164.as_str())));
            assert!(e164.starts_with('+'));
            assert_eq!(phone::normalize(e164, region).as_ref(), Ok(e164));
        }
        None => assert!(text(lead, "phone").is_none()),
    }
    match &p.email {
        Some(e) => {
            let given = text(lead, "email").expect("an email from no email");
            assert_eq!(*e, given.trim().to_ascii_lowercase());
            assert!(is_email(e), "email {e:?}");
            assert_eq!(body.get("email"), Some(&J::from(e.as_str())));
        }
        None => assert!(text(lead, "email").is_none()),
    }
    assert!(p.phone.is_some() || p.email.is_some());
    assert!(text(lead, "name").is_some() || text(lead, "firstName").is_some());
}

/// `read_leads` over an array: per item what `read_lead` gives; `write_leads` of the checked
/// ones: per lead what `prepare_lead` gives.
fn check_many(items: &[J], project_id: &str, region: &str) {
    let items = &items[..items.len().min(16)];
    let array = tv(J::Array(items.to_vec()));
    let n = items.len();
    let start = n / 3;
    let read = read_leads(&array, start, n);
    assert_eq!(read.len(), n - start);
    let mut checked = Vec::new();
    let mut expected = Vec::new();
    for (item, r) in items[start..].iter().zip(read) {
        let one = read_lead(&tv(item.clone()));
        match (r, one) {
            (Ok(a), Ok(b)) => {
                assert_eq!(validate_lead(a, region), validate_lead(b, region));
                let a = read_lead(&tv(item.clone())).expect("read");
                if let Ok(c) = check_lead(a, project_id, region) {
                    checked.push(c);
                    let p = prepare_lead(
                        read_lead(&tv(item.clone())).expect("read"),
                        project_id,
                        region,
                    );
                    expected.push(p.map(|p| p.body.string()));
                }
            }
            (Err(a), Err(b)) => assert_eq!(a, b),
            (a, b) => panic!("read_leads gave {a:?}, read_lead {b:?} for {item}"),
        }
    }
    let written: Vec<_> = write_leads(checked, project_id)
        .into_iter()
        .map(|w| w.map(|p| p.body.string()))
        .collect();
    assert_eq!(
        written, expected,
        "write_leads of many vs prepare_lead of each"
    );
}

const TARGETS: [&str; 3] = [
    r#"{"leadId":"6650a1b2c3d4e5f6012345a1"}"#,
    r#"{"referenceId":"r \"1\"","processId":"6650a1b2c3d4e5f6012345a1"}"#,
    r#"{"leadId":"6650a1b2c3d4e5f6012345a1","referenceId":"x"}"#,
];
const CHANGE_FIELDS: [&str; 5] = ["metadata", "name", "targetState", "disposition", "userId"];

/// The other readers of the caller's values: they refuse (`invalid_argument`) or build.
fn readers(lead: &J, source: &Tv, project_id: &str, region: &str) {
    let query = LeadQuery::read(source, region);
    assert_eq!(query.is_ok(), Pages::new(source, region).is_ok());
    match &query {
        Ok(q) => {
            assert!(q.page >= 1);
            assert!(q.limit.is_none_or(|l| (1..=100).contains(&l)));
            for (k, _) in &q.filters {
                assert!(lead.get(*k).is_some(), "filter {k} from nowhere");
            }
            let r: api::HttpRequest<Tv> = q.request(q.page);
            assert_eq!(r.path, "/leads/query");
            assert!(r.body.is_none());
            for pair in r.query.split('&') {
                let (k, v) = pair.split_once('=').expect("key=value");
                assert!(!k.is_empty());
                let mut bytes = v.bytes();
                while let Some(b) = bytes.next() {
                    if b == b'%' {
                        let hex: Vec<u8> = bytes.by_ref().take(2).collect();
                        assert!(
                            hex.len() == 2 && hex.iter().all(u8::is_ascii_hexdigit),
                            "{v}"
                        );
                    } else {
                        assert!(b.is_ascii_alphanumeric() || b"-_.~".contains(&b), "{v}");
                    }
                }
            }
            assert!(r.query.contains(&format!("page={}", q.page)));
        }
        Err(e) => assert_eq!(e.code, Code::InvalidArgument, "{e}"),
    }
    match Target::read(source) {
        Ok(t) => {
            if let Target::LeadId(id) = &t {
                assert!(is_object_id(id));
            }
            let r: api::HttpRequest<Tv> = api::get_lead(&t, project_id, true);
            assert_eq!(r.path, "/leads/get");
            assert!(r.query.ends_with("masked=true"));
        }
        Err(e) => assert_eq!(e.code, Code::InvalidArgument, "{e}"),
    }
    match Changes::read(source) {
        Ok(c) => {
            let m = lead.as_object().expect("changes are an object");
            assert!(m.keys().all(|k| CHANGE_FIELDS.contains(&k.as_str())));
            let pick = lead.to_string().len() % TARGETS.len();
            let target = Target::read(&tv(serde_json::from_str(TARGETS[pick]).expect("JSON")))
                .expect("a target");
            let meta = match &c.metadata {
                Some(m) => match m.to_json(&[]) {
                    Ok(t) => Some(t),
                    Err(_) => return,
                },
                None => None,
            };
            let r = api::update_lead(&target, project_id, &c, meta);
            let body: J = serde_json::from_str(&body_text(&r)).expect("Update body is JSON");
            let body = body.as_object().expect("an object");
            for (k, v) in body {
                match k.as_str() {
                    "leadId" | "referenceId" | "projectId" | "processId" => {}
                    "metadata" => assert_eq!(Some(v), m.get("metadata").map(reread).as_ref()),
                    k if CHANGE_FIELDS.contains(&k) => assert_eq!(Some(v), m.get(k)),
                    k => panic!("{k} sent at the top level of an update"),
                }
            }
            for (k, v) in m {
                if !v.is_null() {
                    assert!(body.contains_key(k), "change {k} not sent");
                }
            }
        }
        Err(e) => assert_eq!(e.code, Code::InvalidArgument, "{e}"),
    }
}

/// A host for the first step of a task: a fixed clock, nothing aborted.
struct NoHost;

impl Host for NoHost {
    type V = Tv;
    fn now_ms(&self) -> f64 {
        1_000_000.0
    }
    fn random(&self) -> f64 {
        0.5
    }
    fn aborted(&self) -> bool {
        false
    }
    fn log(&self, _event: &LogEvent) {}
    fn progress(&self, _progress: Progress) {}
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
const OTHER: &[&str] = &[
    "new",
    "interested",
    "createdAt",
    "asc",
    "2026-01-01T00:00:00.000Z",
    "yesterday",
    "+919845317206",
    "A@B.co",
];
const KEYS: [&str; 16] = [
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
    // Query, target and change fields, for the other readers.
    "leadId",
    "state",
    "targetState",
    "page",
    "limit",
    "createdFrom",
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
    /// A JS `Date` (milliseconds; `None`: an invalid one).
    Date(Option<i32>),
    /// A function.
    Func,
    Array(Vec<Field>),
    Object(Vec<(String, Field)>),
}

#[derive(Arbitrary, Debug)]
struct LeadIn {
    /// One per `KEYS` entry.
    fields: [Field; 16],
    /// Below 16: `KEYS` beyond the lead's ten are left out (the usual lead).
    wide: u8,
    extra: Vec<(String, Field)>,
    /// Below 8: the lead is not an object (an array, a string, null, a date, a function...).
    shape: u8,
    region: Pick,
    project: u8,
    init: u8,
}

impl LeadIn {
    fn build(self) -> J {
        let mut m = Map::new();
        let wide = self.wide >= 16;
        for (i, (key, field)) in KEYS.iter().zip(self.fields).enumerate() {
            if i >= 10 && !wide {
                break;
            }
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
            0 => J::Array(m.into_values().collect()),
            1 => J::String("lead".into()),
            2 => J::Null,
            3 => J::from(7),
            4 => json!({ "$date": 0 }),
            5 => func("lead"),
            _ => J::Object(m),
        }
    }
}

fn pool(key: &str) -> &'static [&'static str] {
    match key {
        "name" | "firstName" | "lastName" => NAMES,
        "phone" => PHONES,
        "email" => EMAILS,
        "referenceId" | "groupId" => REFS,
        "state" | "targetState" | "createdFrom" => OTHER,
        _ => IDS,
    }
}

impl Field {
    fn value(self, pool: &[&str]) -> Option<J> {
        Some(match self {
            Field::Absent => return None,
            Field::Null => J::Null,
            Field::Pool(i) => {
                let s = pool
                    .get(usize::from(i) % pool.len().max(1))
                    .copied()
                    .unwrap_or("");
                // Large indexes make a long string (referenceId's 256-character limit).
                if i >= 250 {
                    J::String(s.repeat(usize::from(i)))
                } else {
                    J::String(s.to_string())
                }
            }
            Field::Text(s) => J::String(s),
            Field::Int(i) => J::from(i),
            Field::Float(f) => Number::from_f64(f).map_or(J::Null, J::Number),
            Field::Bool(b) => J::Bool(b),
            Field::Date(ms) => json!({ "$date": ms }),
            Field::Func => func("f"),
            Field::Array(items) => {
                J::Array(items.into_iter().filter_map(|f| f.value(pool)).collect())
            }
            Field::Object(entries) => J::Object(
                entries
                    .into_iter()
                    .filter_map(|(k, f)| f.value(pool).map(|v| (k, v)))
                    .collect(),
            ),
        })
    }
}
