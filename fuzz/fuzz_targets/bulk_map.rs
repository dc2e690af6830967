//! Bulk accounting: `map_answer` gives exactly one result per sent lead, whatever the server
//! answers; the `Ledger` records one outcome per input; a whole bulk initiate
//! (`Client::bulk_initiate`, the `BulkTask` state machine, chunking included) against a fuzzed
//! server gives every input exactly one outcome.
//!
//! The input drives an `arbitrary` generator. For `map_answer`, ids, referenceIds, phones and
//! emails come mostly from small pools (with case variants of emails), so that answers match
//! sent leads, match several of them, or match none; every created lead and error carries a
//! unique tag so the checks can follow it. For the bulk run, the server is scripted per request
//! (per lead: create, reject as a duplicate or otherwise, leave out; or a 4xx/429/5xx answer, a
//! timeout, a reset, a refused connection, processed or not; answers held back so that chunks
//! overlap); it keeps the leads it created, refuses a phone or referenceId it has, answers
//! lookups by referenceId truthfully (or fails them), and the bulk's queries about which leads
//! exist truthfully.
//!
//! Properties checked of `map_answer` (n sent, c created, e errors in the answer):
//! * one result per sent lead;
//! * each created lead and each error lands in at most one position, and only on a lead it
//!   names (by a key, its phone read as a number, or its echoed lead's text) — but for the one
//!   item left for the one lead left in an answer of n items, which is always placed;
//! * an item is dropped only when every lead it names has an answer already;
//! * the first error rejects the first sent lead with its `leadId`, else its referenceId, else
//!   its echoed lead's phone, else email, else the echoed lead's JSON text (when one has it);
//! * when no item of the answer names any sent lead, nothing is placed (but for n = 1).
//!
//! Of the `Ledger`: the first outcome of an index stands (a later one, or one for an index out
//! of range, is dropped); `progress` counts the recorded outcomes; `undecided` reports every
//! index without one, once, as unknown.
//!
//! Of a bulk run (new leads; the replacement of the old `chunk_ranges` checks: chunking is the
//! task's now):
//! * every input gets exactly one outcome; each progress report counts `total` inputs and
//!   `done = created + failed + unknown`, and `done` never goes back; the task's value is the
//!   number of requests it made; the last report has `done == total` (docs/sdk.md);
//! * each bulk request holds 1 to `chunkSize` leads, with the client's projectId, and at most
//!   `concurrency` bulk requests are in flight at once;
//! * an input that is no valid lead is `validation_error`, never sent; a created outcome is a
//!   lead the server created, and no server lead is the outcome of two inputs;
//! * when every lead has its own referenceId (and the server's answers echo them): a created
//!   outcome is the lead the server created from that input, and a failed input is not on the
//!   server (unless the failure is the server's duplicate refusal).
#![no_main]

mod common;

use arbitrary::{Arbitrary, Unstructured};
use common::{drive, parts_text, Answer, FuzzHost};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Map, Value as J};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use vox_crm::core::api::{BulkAnswer, BulkItemError, CreatedLead, HttpResponse};
use vox_crm::core::bulk::{map_answer, BulkOptions, ItemResult, Ledger, Outcome, Sent};
use vox_crm::core::engine::{Client, Config, Outgoing, TransportError};
use vox_crm::core::error::{is_duplicate_reason, Code, VoxError};
use vox_crm::core::limits::{GuardConfig, RateConfig};
use vox_crm::core::testkit::{parse, tv, Tv};
use vox_crm::core::value::Value;

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(input) = Input::arbitrary(&mut u) else {
        return;
    };
    check_map(&input);
    check_ledger(input.ledger_total, &input.ledger_ops);
    if let Ok(run) = Run::arbitrary(&mut u) {
        check_run(run);
    }
});

// ---- map_answer ----------------------------------------------------------------------------

const IDS: &[&str] = &["a", "b", "c", "6650a1b2c3d4e5f6012345a1"];
const REFS: &[&str] = &["r0", "r1", "r2", ""];
const PHONES: &[&str] = &["+919845317206", "+12025550147", "+911", "+912"];
const EMAILS: &[&str] = &["a@b.co", "A@B.co", "x@y.in", "X@Y.IN"];

#[derive(Arbitrary, Debug)]
enum Opt {
    None,
    Pool(u8),
    Free(String),
}

impl Opt {
    fn get(&self, pool: &[&str]) -> Option<String> {
        match self {
            Opt::None => None,
            Opt::Pool(i) => pool
                .get(usize::from(*i) % pool.len())
                .map(|s| s.to_string()),
            Opt::Free(s) => Some(s.clone()),
        }
    }
}

#[derive(Arbitrary, Debug)]
struct BodyIn {
    name: Opt,
    phone: Opt,
    email: Opt,
    reference_id: Opt,
    /// A non-string phone (the answer's `data` may hold anything).
    odd_phone: bool,
}

impl BodyIn {
    fn value(&self) -> J {
        let mut m = Map::new();
        let mut put = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                m.insert(k.to_string(), J::String(v));
            }
        };
        put("name", self.name.get(&["x", "y"]));
        put("phone", self.phone.get(PHONES));
        put("email", self.email.get(EMAILS));
        put("referenceId", self.reference_id.get(REFS));
        if self.odd_phone {
            m.insert("phone".into(), json!(919845317206u64));
        }
        J::Object(m)
    }
}

#[derive(Arbitrary, Debug)]
enum SentBody {
    None,
    Json(BodyIn),
    /// Not JSON at all (map_answer must cope).
    Text(String),
}

#[derive(Arbitrary, Debug)]
struct SentIn {
    lead_id: Opt,
    reference_id: Opt,
    phone: Opt,
    email: Opt,
    body: SentBody,
}

#[derive(Arbitrary, Debug)]
struct CreatedIn {
    id: Opt,
    reference_id: Opt,
    phone: Opt,
    email: Opt,
    /// Not an object at all.
    odd: bool,
}

#[derive(Arbitrary, Debug)]
enum DataIn {
    None,
    /// The body of sent lead number `i` (modulo), as the server echoes it.
    Echo(u8),
    Made(BodyIn),
    /// Not an object (read_bulk drops those, map_answer must cope anyway).
    Odd(i32),
}

#[derive(Arbitrary, Debug)]
struct ErrorIn {
    lead_id: Opt,
    reference_id: Opt,
    data: DataIn,
    error: String,
}

#[derive(Arbitrary, Debug)]
struct Input {
    sent: Vec<SentIn>,
    created: Vec<CreatedIn>,
    errors: Vec<ErrorIn>,
    ledger_total: u8,
    ledger_ops: Vec<(u8, u8)>,
}

fn check_map(input: &Input) {
    let sent: Vec<Sent<Tv>> = input
        .sent
        .iter()
        .map(|s| Sent {
            lead_id: s.lead_id.get(IDS),
            reference_id: s.reference_id.get(REFS),
            phone: s.phone.get(PHONES),
            // The engine keeps emails trimmed and lowercased.
            email: s.email.get(EMAILS).map(|e| e.trim().to_lowercase()),
            // The lead as sent: JSON text (a host string), or any text.
            body: match &s.body {
                SentBody::None => None,
                SentBody::Json(b) => Some(tv(J::String(b.value().to_string()))),
                SentBody::Text(t) => Some(tv(J::String(t.clone()))),
            },
        })
        .collect();
    let body_text = |s: &Sent<Tv>| s.body.as_ref().and_then(Value::string);
    // As read_bulk makes them: an `_id`, ASCII-lowercased email; the lead carries a unique tag
    // (`odd`: a lead that is no object, which map_answer must not care about).
    let created: Vec<CreatedLead<Tv>> = input
        .created
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let id = c.id.get(IDS).unwrap_or_default();
            let reference_id = c.reference_id.get(REFS);
            let phone = c.phone.get(PHONES);
            let email = c.email.get(EMAILS).map(|e| e.to_ascii_lowercase());
            let mut m = Map::new();
            m.insert("tag".into(), json!(i));
            m.insert("_id".into(), json!(id));
            for (k, v) in [
                ("referenceId", &reference_id),
                ("phone", &phone),
                ("email", &email),
            ] {
                if let Some(v) = v {
                    m.insert(k.into(), json!(v));
                }
            }
            let lead = if c.odd {
                json!([i, "odd"])
            } else {
                J::Object(m)
            };
            CreatedLead {
                lead: tv(lead),
                id,
                reference_id,
                phone,
                email,
            }
        })
        .collect();
    let created_json: Vec<J> = created.iter().map(|c| c.lead.json()).collect();
    let errors: Vec<BulkItemError<Tv>> = input
        .errors
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let data = match &e.data {
                DataIn::None => None,
                DataIn::Echo(k) => sent
                    .get(usize::from(*k) % sent.len().max(1))
                    .and_then(body_text)
                    .and_then(|b| parse(&b)),
                DataIn::Made(b) => Some(tv(b.value())),
                DataIn::Odd(x) => Some(tv(json!(x))),
            };
            let of_data = |k: &str| data.as_ref().and_then(|d| d.get(k).string());
            BulkItemError {
                lead_id: e.lead_id.get(IDS),
                reference_id: e.reference_id.get(REFS).or_else(|| of_data("referenceId")),
                phone: of_data("phone"),
                email: of_data("email").map(|m| m.to_ascii_lowercase()),
                error: format!("e{i}:{}", e.error),
                data,
            }
        })
        .collect();
    // What identifies an item (beside its position): its keys, then the echoed lead's text.
    let data_text = |e: &BulkItemError<Tv>| {
        e.data
            .as_ref()
            .and_then(|d| d.to_json(&[]).ok())
            .and_then(|t| t.string())
    };
    let first_with = |f: &dyn Fn(&Sent<Tv>) -> bool| sent.iter().position(f);
    // An echoed phone as the sent ones are written, when it reads as a number.
    let norm = |p: &Option<String>| {
        p.as_ref()
            .map(|p| vox_crm::core::phone::normalize(p, "IN").unwrap_or_else(|_| p.clone()))
    };
    let error_home = |e: &BulkItemError<Tv>| {
        let by = |key: &Option<String>, of: fn(&Sent<Tv>) -> &Option<String>| {
            key.as_ref()
                .and_then(|k| first_with(&|s| of(s).as_ref() == Some(k)))
        };
        by(&e.lead_id, |s| &s.lead_id)
            .or_else(|| by(&e.reference_id, |s| &s.reference_id))
            .or_else(|| by(&norm(&e.phone), |s| &s.phone))
            .or_else(|| by(&e.email, |s| &s.email))
            .or_else(|| {
                let text = data_text(e)?;
                first_with(&|s| body_text(s).as_deref() == Some(text.as_str()))
            })
    };
    let created_home = |c: &CreatedLead<Tv>| {
        let by = |key: Option<&String>, of: fn(&Sent<Tv>) -> &Option<String>| {
            key.and_then(|k| first_with(&|s| of(s).as_ref() == Some(k)))
        };
        by(Some(&c.id), |s| &s.lead_id)
            .or_else(|| by(c.reference_id.as_ref(), |s| &s.reference_id))
            .or_else(|| by(norm(&c.phone).as_ref(), |s| &s.phone))
            .or_else(|| by(c.email.as_ref(), |s| &s.email))
    };
    // Every position an item names by one of its keys (or its echoed lead's text).
    let error_names = |e: &BulkItemError<Tv>, s: &Sent<Tv>| {
        let is = |k: &Option<String>, v: &Option<String>| k.is_some() && k == v;
        is(&e.lead_id, &s.lead_id)
            || is(&e.reference_id, &s.reference_id)
            || is(&norm(&e.phone), &s.phone)
            || is(&e.email, &s.email)
            || data_text(e).is_some_and(|t| body_text(s).as_deref() == Some(t.as_str()))
    };
    let created_names = |c: &CreatedLead<Tv>, s: &Sent<Tv>| {
        let is = |k: Option<&String>, v: &Option<String>| k.is_some() && k == v.as_ref();
        is(Some(&c.id), &s.lead_id)
            || is(c.reference_id.as_ref(), &s.reference_id)
            || is(norm(&c.phone).as_ref(), &s.phone)
            || is(c.email.as_ref(), &s.email)
    };
    let first_error = errors.first().map(|e| (error_home(e), e.error.clone()));
    let first_created = created.first().map(|c| (created_home(c), c.lead.json()));
    let anonymous = errors.iter().all(|e| error_home(e).is_none())
        && created.iter().all(|c| created_home(c).is_none());
    let error_texts: Vec<String> = errors.iter().map(|e| e.error.clone()).collect();
    let whole = created.len() + errors.len() == sent.len();
    let (created_in, errors_in) = (created.clone(), errors.clone());

    let refs: Vec<&Sent<Tv>> = sent.iter().collect();
    let answer = BulkAnswer {
        created,
        errors,
        unreadable: 0,
    };
    let out = map_answer(&refs, answer, "IN");

    let n = sent.len();
    assert_eq!(out.len(), n, "one result per sent lead");
    let mut seen_created = vec![false; created_json.len()];
    let mut seen_errors = vec![false; error_texts.len()];
    let mut missing = 0;
    let mut unnamed = 0;
    for (at, r) in out.iter().enumerate() {
        match r {
            ItemResult::Created(v) => {
                let i = created_json
                    .iter()
                    .position(|c| *c == v.json())
                    .expect("a created lead that was not in the answer");
                assert!(!seen_created[i], "created lead {i} placed twice");
                seen_created[i] = true;
                unnamed += usize::from(!created_names(&created_in[i], &sent[at]));
            }
            ItemResult::Rejected(msg) => {
                let i = error_texts
                    .iter()
                    .position(|e| e == msg)
                    .expect("an error that was not in the answer");
                assert!(!seen_errors[i], "error {i} placed twice");
                seen_errors[i] = true;
                unnamed += usize::from(!error_names(&errors_in[i], &sent[at]));
            }
            ItemResult::Missing => missing += 1,
        }
    }
    // An item goes to a lead it names; only the one item left for the one lead left, in an
    // answer with an item per lead, may go where it names nothing.
    assert!(
        unnamed == 0 || (unnamed == 1 && whole),
        "{unnamed} items placed on leads they do not name"
    );
    assert!(!(whole && missing == 1), "the one item left was not placed");
    // An item is dropped only when every lead it names has an answer already.
    for (i, e) in errors_in.iter().enumerate() {
        if !seen_errors[i] {
            for (at, s) in sent.iter().enumerate() {
                assert!(
                    !(error_names(e, s) && matches!(out[at], ItemResult::Missing)),
                    "error {i} dropped though lead {at} it names is free"
                );
            }
        }
    }
    for (i, c) in created_in.iter().enumerate() {
        if !seen_created[i] {
            for (at, s) in sent.iter().enumerate() {
                assert!(
                    !(created_names(c, s) && matches!(out[at], ItemResult::Missing)),
                    "created lead {i} dropped though lead {at} it names is free"
                );
            }
        }
    }

    // Errors are placed first, the first one where its first key matching a lead points.
    if let Some((Some(k), error)) = &first_error {
        assert!(
            matches!(&out[*k], ItemResult::Rejected(e) if e == error),
            "the first error not at {k}: {:?}",
            out[*k]
        );
    }
    if let (None, Some((Some(k), lead))) = (&first_error, &first_created) {
        assert!(
            matches!(&out[*k], ItemResult::Created(v) if v.json() == *lead),
            "the first created lead not at {k}: {:?}",
            out[*k]
        );
    }
    // Nothing recognisable: nothing is placed, but for one item for one lead.
    if anonymous && !(whole && n == 1) {
        assert_eq!(missing, n, "an unrecognisable item was placed");
    }
}

/// A query parameter's value with its percent-escapes (and `+`) decoded.
fn decode(v: &str) -> String {
    let b = v.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(x) => {
                        out.push(x);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ---- the ledger ------------------------------------------------------------------------------

fn check_ledger(total: u8, ops: &[(u8, u8)]) {
    let total = usize::from(total % 64);
    let mut ledger = Ledger::new(total);
    let mut first: Vec<Option<u8>> = vec![None; total];
    for &(index, kind) in ops {
        let index = usize::from(index) % (total + 2);
        let kind = kind % 3;
        let outcome = match kind {
            0 => Outcome::Created(tv(json!({"_id": index.to_string()}))),
            1 => Outcome::Failed(VoxError::new(Code::BadRequest, "no")),
            _ => Outcome::Unknown(VoxError::new(Code::Timeout, "timeout")),
        };
        let kept = ledger.set(index, outcome);
        let fresh = matches!(first.get(index), Some(None));
        assert_eq!(
            kept.is_some(),
            fresh,
            "index {index}: the first outcome stands"
        );
        if fresh {
            first[index] = Some(kind);
        }
        ledger.requests += 1;
    }
    let p = ledger.progress();
    assert_eq!(p.total, total);
    let count = |k: u8| first.iter().filter(|f| **f == Some(k)).count();
    assert_eq!(
        (p.created, p.failed, p.unknown),
        (count(0), count(1), count(2))
    );
    assert_eq!(p.done, p.created + p.failed + p.unknown);
    let left = ledger.undecided::<Tv>();
    let expected: Vec<usize> = (0..total).filter(|&i| first[i].is_none()).collect();
    assert_eq!(left.iter().map(|(i, _)| *i).collect::<Vec<_>>(), expected);
    for (_, o) in &left {
        assert!(
            matches!(o, Outcome::Unknown(e) if e.code == Code::InvalidResponse),
            "{o:?}"
        );
    }
    let p = ledger.progress();
    assert_eq!((p.done, p.unknown), (total, count(2) + expected.len()));
    assert!(ledger.undecided::<Tv>().is_empty(), "undecided twice");
    assert_eq!(ledger.requests as usize, ops.len());
}

// ---- a whole bulk run against a scripted server ----------------------------------------------

const PROJECT: &str = "6650a1b2c3d4e5f601234567";
const PROCESS: &str = "6650a1b2c3d4e5f6012345a1";
const DUP_PHONE: &str =
    "A call attempt has already been made to this phone number for this project";

#[derive(Arbitrary, Debug)]
enum LeadKind {
    /// A valid lead with phone number `i` of the pool (duplicates are possible).
    Phone(u8),
    /// A valid lead with an email only.
    Email(u8),
    /// A lead the checks refuse.
    Invalid,
    /// Not an object.
    NotObject,
}

#[derive(Arbitrary, Debug)]
enum PerLead {
    Create,
    RejectDuplicate,
    Reject,
    Leave,
}

#[derive(Arbitrary, Debug)]
enum BulkReply {
    Answer {
        per_lead: Vec<PerLead>,
        /// Rotates the answer's lists (the server need not keep the input order).
        rotate: u8,
        /// How items show which lead they are (when the leads have no referenceIds of their own).
        style: u8,
    },
    Status {
        code: u8,
        blocked: bool,
        retry_after: Option<u8>,
        /// The chunk was processed anyway (a 5xx after the work).
        processed: bool,
    },
    Transport {
        kind: u8,
        processed: bool,
    },
    /// The answer (this reply's default one) comes after other requests' answers.
    Hold(u8),
}

#[derive(Arbitrary, Debug)]
enum LookupReply {
    Truth,
    Status(u8),
    Transport(u8),
}

#[derive(Arbitrary, Debug)]
struct Run {
    leads: Vec<LeadKind>,
    /// Every lead has its own referenceId (the reconciliation and exact-mapping checks).
    refs: bool,
    chunk_size: u8,
    concurrency: u8,
    init: Option<bool>,
    max_retries: u8,
    guard: bool,
    rate: Option<(u8, u16)>,
    abort_after: Option<u8>,
    replies: Vec<BulkReply>,
    lookups: Vec<LookupReply>,
}

/// The fake CRM: the leads it created (with the index of the input they came from).
#[derive(Default)]
struct Server {
    leads: Vec<J>,
    counter: usize,
    /// Request id -> its reply, decided when the request was first seen.
    decided: HashMap<u32, (BulkReply, u8)>,
    bulk_replies: Vec<BulkReply>,
    lookup_replies: Vec<LookupReply>,
    refs: bool,
    max_in_flight: usize,
    bulk_requests: usize,
    lookups: usize,
    /// Query Leads requests (the bulk's questions about leads that exist).
    queries: usize,
    problems: Vec<String>,
}

fn status(code: u16, body: J, retry_after: Option<String>) -> Answer {
    Ok(HttpResponse {
        status: code,
        retry_after,
        body: Some(tv(body)),
    })
}

impl Server {
    /// Creates a lead, or says why not (a duplicate, as the CRM does).
    fn create(&mut self, lead: &J) -> Result<J, String> {
        let phone = lead.get("phone").and_then(J::as_str);
        if phone.is_some()
            && self
                .leads
                .iter()
                .any(|l| l.get("phone").and_then(J::as_str) == phone)
        {
            return Err(DUP_PHONE.into());
        }
        if let Some(r) = lead.get("referenceId").and_then(J::as_str) {
            if self.leads.iter().any(|l| l["referenceId"] == json!(r)) {
                return Err(format!(
                    "Lead with referenceId {r} already exists for this project and process"
                ));
            }
        }
        self.counter += 1;
        let mut l = lead.clone();
        l["_id"] = json!(format!("{:024x}", self.counter));
        l["currentState"] = json!("make_first_call");
        self.leads.push(l.clone());
        Ok(l)
    }

    /// The leads of a bulk request, processed or not, and the answer.
    fn bulk(&mut self, leads: &[J], reply: &BulkReply) -> Answer {
        let default = BulkReply::Answer {
            per_lead: Vec::new(),
            rotate: 0,
            style: 0,
        };
        let reply = match reply {
            BulkReply::Hold(_) => &default,
            r => r,
        };
        match reply {
            BulkReply::Answer {
                per_lead,
                rotate,
                style,
            } => {
                let (mut ok, mut errors) = (Vec::new(), Vec::new());
                for (i, l) in leads.iter().enumerate() {
                    let what = per_lead.get(i).unwrap_or(&PerLead::Create);
                    let style = if self.refs { 0 } else { *style % 4 };
                    let reason = match what {
                        PerLead::Leave => continue,
                        PerLead::Create => match self.create(l) {
                            Ok(c) => {
                                ok.push(match style {
                                    // Only the id: mapped by position.
                                    3 => json!({"_id": c["_id"]}),
                                    _ => c,
                                });
                                continue;
                            }
                            Err(reason) => reason,
                        },
                        PerLead::RejectDuplicate => DUP_PHONE.to_string(),
                        PerLead::Reject => "Invalid lead".to_string(),
                    };
                    errors.push(match style {
                        0 => {
                            json!({"data": l, "referenceId": l.get("referenceId"), "error": reason})
                        }
                        1 => json!({"lead": l, "message": reason}),
                        _ => json!({"error": reason}),
                    });
                }
                let k = usize::from(*rotate);
                if !ok.is_empty() {
                    let m = k % ok.len();
                    ok.rotate_left(m);
                }
                if !errors.is_empty() {
                    let m = k % errors.len();
                    errors.rotate_left(m);
                }
                status(200, json!({"success": ok, "errors": errors}), None)
            }
            BulkReply::Status {
                code,
                blocked,
                retry_after,
                processed,
            } => {
                let code = [400, 404, 422, 429, 429, 500, 502, 503][usize::from(*code) % 8];
                if *processed && code >= 500 {
                    for l in leads {
                        let _ = self.create(l);
                    }
                }
                let error = match (code, blocked) {
                    (429, true) => {
                        "API key temporarily blocked due to repeated duplicate submissions"
                    }
                    (429, false) => "Rate limit exceeded",
                    (404, _) => "Process not found",
                    (c, _) if c >= 500 => "Internal server error",
                    _ => "Bad request",
                };
                status(
                    code,
                    json!({"success": false, "error": error}),
                    retry_after.map(|s| (s % 8).to_string()),
                )
            }
            BulkReply::Transport { kind, processed } => {
                let refused = *kind % 4 == 2;
                if *processed && !refused {
                    for l in leads {
                        let _ = self.create(l);
                    }
                }
                Err(match *kind % 4 {
                    0 => TransportError::Timeout,
                    1 => TransportError::Network("reset".into()),
                    2 => TransportError::Refused("ECONNREFUSED".into()),
                    _ => TransportError::Aborted,
                })
            }
            BulkReply::Hold(_) => unreachable!(),
        }
    }

    /// Query Leads, truthfully: what a bulk asks first (how many leads the project has, then an
    /// index of them or each lead by its keys), answered from the leads created so far.
    fn query(&mut self, url: &str) -> Answer {
        self.queries += 1;
        let query = url.split_once('?').map_or("", |(_, q)| q);
        let param = |k: &str| {
            query
                .split('&')
                .filter_map(|kv| kv.split_once('='))
                .find(|(key, _)| *key == k)
                .map(|(_, v)| decode(v))
        };
        let number = |k: &str, d: usize| param(k).and_then(|v| v.parse().ok()).unwrap_or(d);
        let (page, limit) = (number("page", 1).max(1), number("limit", 20).clamp(1, 100));
        let matching: Vec<&J> = self
            .leads
            .iter()
            .filter(|l| {
                ["processId", "referenceId", "phone", "email"]
                    .iter()
                    .all(|k| param(k).is_none_or(|v| l[*k].as_str() == Some(v.as_str())))
            })
            .collect();
        let total = matching.len();
        let data: Vec<J> = matching
            .into_iter()
            .skip((page - 1) * limit)
            .take(limit)
            .cloned()
            .collect();
        let total_pages = total.div_ceil(limit);
        status(
            200,
            json!({"success": true, "data": data, "pagination": {"page": page, "limit": limit,
                "total": total, "totalPages": total_pages, "hasNextPage": page < total_pages}}),
            None,
        )
    }

    fn lookup(&mut self, url: &str) -> Answer {
        self.lookups += 1;
        let reply = if self.lookup_replies.is_empty() {
            LookupReply::Truth
        } else {
            self.lookup_replies.remove(0)
        };
        match reply {
            LookupReply::Status(s) => {
                let code = [500, 503, 429, 400][usize::from(s) % 4];
                return status(
                    code,
                    json!({"success": false, "error": "Unavailable"}),
                    None,
                );
            }
            LookupReply::Transport(k) => {
                return Err(if k % 2 == 0 {
                    TransportError::Timeout
                } else {
                    TransportError::Network("reset".into())
                })
            }
            LookupReply::Truth => {}
        }
        let query = url.split_once('?').map_or("", |(_, q)| q);
        let param = |k: &str| {
            query
                .split('&')
                .filter_map(|kv| kv.split_once('='))
                .find(|(key, _)| *key == k)
                .map(|(_, v)| v.to_string())
        };
        if param("projectId").as_deref() != Some(PROJECT)
            || param("processId").as_deref() != Some(PROCESS)
        {
            self.problems
                .push(format!("a lookup outside the lead's process: {url}"));
        }
        let reference = param("referenceId");
        match self
            .leads
            .iter()
            .find(|l| l["referenceId"].as_str() == reference.as_deref())
        {
            Some(l) => {
                let mut l = l.clone();
                l["activities"] = json!([]);
                status(200, json!({"success": true, "data": l}), None)
            }
            None => status(
                404,
                json!({"success": false, "error": "Lead not found"}),
                None,
            ),
        }
    }

    /// Whether a request is answered now, and how.
    fn answer(
        &mut self,
        s: &Outgoing<Tv>,
        held: &[Outgoing<Tv>],
        chunk: usize,
        init: Option<bool>,
    ) -> Option<Answer> {
        if s.method == "GET" {
            if s.url.contains("/leads/query?") {
                return Some(self.query(&s.url));
            }
            if !s.url.contains("/leads/get?") {
                self.problems
                    .push(format!("an unexpected request: {} {}", s.method, s.url));
            }
            return Some(self.lookup(&s.url));
        }
        let in_flight = held.iter().filter(|h| h.method == "POST").count();
        self.max_in_flight = self.max_in_flight.max(in_flight);
        if !self.decided.contains_key(&s.id) {
            self.bulk_requests += 1;
            let reply = if self.bulk_replies.is_empty() {
                BulkReply::Answer {
                    per_lead: Vec::new(),
                    rotate: 0,
                    style: 0,
                }
            } else {
                self.bulk_replies.remove(0)
            };
            let rounds = match &reply {
                BulkReply::Hold(n) => n % 4 + 1,
                _ => 0,
            };
            self.decided.insert(s.id, (reply, rounds));
        }
        let (reply, rounds) = self.decided.get_mut(&s.id).expect("decided");
        if *rounds > 0 {
            *rounds -= 1;
            return None;
        }
        let reply = std::mem::replace(reply, BulkReply::Hold(0));
        Some(self.post(s, &reply, chunk, init))
    }

    fn post(
        &mut self,
        s: &Outgoing<Tv>,
        reply: &BulkReply,
        chunk: usize,
        init: Option<bool>,
    ) -> Answer {
        if !s.url.ends_with("/leads/bulk/initiate") {
            self.problems
                .push(format!("an unexpected request: {} {}", s.method, s.url));
        }
        let body: J = match s
            .body
            .as_ref()
            .map(parts_text)
            .map(|t| serde_json::from_str(&t))
        {
            Some(Ok(b)) => b,
            other => {
                self.problems
                    .push(format!("a bulk body that is not JSON: {other:?}"));
                return status(400, json!({"error": "Invalid JSON"}), None);
            }
        };
        let leads = body["leads"].as_array().cloned().unwrap_or_default();
        if leads.is_empty() || leads.len() > chunk {
            self.problems.push(format!(
                "a chunk of {} leads (chunk size {chunk})",
                leads.len()
            ));
        }
        if body.get("init").and_then(J::as_bool) != init {
            self.problems
                .push(format!("init {:?} sent, {init:?} asked", body.get("init")));
        }
        for l in &leads {
            if l["projectId"] != json!(PROJECT) {
                self.problems
                    .push(format!("a lead of another project: {l}"));
            }
        }
        self.bulk(&leads, reply)
    }
}

fn phone(i: u8) -> String {
    format!("+9198{:08}", 10_000_000 + u32::from(i % 32) * 7 + 13)
}

fn check_run(run: Run) {
    let n = run.leads.len().min(40);
    let mut valid = vec![true; n];
    let inputs: Vec<J> = run
        .leads
        .iter()
        .take(n)
        .enumerate()
        .map(|(i, kind)| {
            let mut l = match kind {
                LeadKind::Phone(p) => json!({"name": format!("L{i}"), "phone": phone(*p), "processId": PROCESS}),
                LeadKind::Email(e) => json!({"firstName": "E", "email": format!("E{}@Example.com", e % 8), "processId": PROCESS}),
                LeadKind::Invalid => {
                    valid[i] = false;
                    json!({"name": "x", "phone": "12", "processId": "nope"})
                }
                LeadKind::NotObject => {
                    valid[i] = false;
                    json!([i])
                }
            };
            if let Some(m) = l.as_object_mut() {
                m.insert("idx".into(), json!(i));
                if run.refs {
                    m.insert("referenceId".into(), json!(format!("ref-{i}")));
                }
            }
            l
        })
        .collect();
    let chunk = usize::from(run.chunk_size % 8) + 1;
    let opts = BulkOptions {
        init: run.init,
        chunk_size: chunk,
        concurrency: usize::from(run.concurrency % 4) + 1,
    };
    let mut cfg = Config::new(PROJECT);
    cfg.max_retries = u32::from(run.max_retries % 3);
    cfg.guard = run.guard.then_some(GuardConfig {
        max: 5,
        window_ms: 60_000.0,
    });
    cfg.rate = run.rate.map(|(r, p)| RateConfig {
        requests: u32::from(r % 4) + 1,
        per_ms: f64::from(p % 2000) + 1.0,
    });
    let client = Client::isolated(cfg);
    let host = FuzzHost::default();
    host.abort_after
        .set(run.abort_after.map(|k| usize::from(k % 16) + 1));
    let server = RefCell::new(Server {
        bulk_replies: run.replies,
        lookup_replies: run.lookups,
        refs: run.refs,
        ..Server::default()
    });
    let task = client.bulk_initiate(&tv(J::Array(inputs.clone())), false, opts);
    let result = drive(
        &client,
        &host,
        task,
        100_000,
        |h, s, held| {
            h.now.set(h.now.get() + 3.0);
            server.borrow_mut().answer(s, held, chunk, opts.init)
        },
        |_, s| {
            let mut srv = server.borrow_mut();
            let reply = match srv.decided.get_mut(&s.id) {
                Some((r, _)) => std::mem::replace(r, BulkReply::Hold(0)),
                None => BulkReply::Hold(0),
            };
            srv.post(s, &reply, chunk, opts.init)
        },
    );
    let server = server.into_inner();
    assert!(server.problems.is_empty(), "{:?}", server.problems);
    assert!(
        server.max_in_flight <= opts.concurrency,
        "{} chunks in flight, concurrency {}",
        server.max_in_flight,
        opts.concurrency
    );
    let requests = result
        .expect("a bulk run fails only before it starts")
        .json();
    assert_eq!(requests, json!(host.requests.get()), "the requests counted");
    assert_eq!(
        host.requests.get(),
        server.bulk_requests + server.lookups + server.queries
    );

    let outcomes = host.outcomes.borrow();
    let mut indexes: Vec<usize> = outcomes.iter().map(|(i, _)| *i).collect();
    indexes.sort_unstable();
    assert_eq!(
        indexes,
        (0..n).collect::<Vec<_>>(),
        "not one outcome per input"
    );
    let progress = host.progress.borrow();
    for p in progress.iter() {
        assert_eq!(p.total, n);
        assert_eq!(p.done, p.created + p.failed + p.unknown);
    }
    if n > 0 {
        let last = progress.last().expect("no progress report");
        assert_eq!((last.done, last.total), (n, n), "the last progress report");
        let counted = |f: fn(&Outcome<Tv>) -> bool| outcomes.iter().filter(|(_, o)| f(o)).count();
        assert_eq!(
            (last.created, last.failed, last.unknown),
            (
                counted(|o| matches!(o, Outcome::Created(_))),
                counted(|o| matches!(o, Outcome::Failed(_))),
                counted(|o| matches!(o, Outcome::Unknown(_)))
            )
        );
    }
    assert!(
        progress.windows(2).all(|w| w[0].done <= w[1].done),
        "progress went back"
    );

    let stored: HashMap<String, &J> = server
        .leads
        .iter()
        .map(|l| (l["_id"].as_str().unwrap_or_default().to_string(), l))
        .collect();
    let stored_idx: HashSet<u64> = server
        .leads
        .iter()
        .filter_map(|l| l["idx"].as_u64())
        .collect();
    let mut ids = HashSet::new();
    for (i, o) in outcomes.iter() {
        let i = *i;
        if !valid[i] {
            assert!(
                matches!(o, Outcome::Failed(e) if e.code == Code::ValidationError),
                "input {i} is no valid lead: {o:?}"
            );
            assert!(!stored_idx.contains(&(i as u64)), "invalid input {i} sent");
        }
        match o {
            Outcome::Created(lead) => {
                let lead = lead.json();
                let id = lead["_id"]
                    .as_str()
                    .expect("a created lead without _id")
                    .to_string();
                let on_server = stored
                    .get(&id)
                    .expect("a created lead the server never made");
                assert!(
                    ids.insert(id.clone()),
                    "lead {id} is the outcome of two inputs"
                );
                if run.refs {
                    assert_eq!(
                        on_server["idx"],
                        json!(i),
                        "input {i} got another input's lead"
                    );
                }
            }
            Outcome::Failed(e) => {
                if run.refs && !is_duplicate_reason(&e.message) {
                    assert!(
                        !stored_idx.contains(&(i as u64)),
                        "input {i} reported failed ({e}) but the server has it"
                    );
                }
            }
            Outcome::Unknown(_) => {}
        }
    }
}
