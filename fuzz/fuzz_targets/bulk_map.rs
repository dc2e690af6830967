//! Bulk error mapping: `map_answer` gives exactly one result per sent lead, whatever the
//! server answers; `chunk_ranges` covers every index exactly once; the `Ledger` records one
//! outcome per input.
//!
//! The input drives an `arbitrary` generator. Ids, referenceIds, phones and emails come
//! mostly from small pools (with case variants of emails), so that answers match sent leads,
//! match several of them, or match none; every created lead and error carries a unique tag so
//! the checks can follow it.
//!
//! Properties checked (n sent, c created, e errors in the answer):
//! * one result per sent lead;
//! * each created lead and each error lands in at most one position;
//! * `Missing` positions = max(0, n - c - e): nothing is lost while there is room, so when
//!   c + e <= n every created lead and every error appears exactly once;
//! * the first error, when its `leadId` is that of a sent lead, rejects the first such lead;
//! * `chunk_ranges(n, size)`: consecutive, non-empty, at most `clamp(size, 1, 1000)` long,
//!   from 0 to n;
//! * `Ledger`: the first outcome of an index stands; counts and `into_result` list every
//!   index exactly once.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Map, Value};
use vox_crm::core::api::{BulkAnswer, BulkItemError, CreatedLead};
use vox_crm::core::bulk::{
    chunk_ranges, compact, map_answer, ItemResult, Ledger, Outcome, Sent, MAX_CHUNK,
};
use vox_crm::core::error::{Code, VoxError};

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(input) = Input::arbitrary(&mut u) else {
        return;
    };
    check_map(&input);
    check_chunks(input.chunk_n, input.chunk_size);
    check_ledger(&input.ledger_total, &input.ledger_ops);
});

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
    fn value(&self) -> Value {
        let mut m = Map::new();
        let mut put = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                m.insert(k.to_string(), Value::String(v));
            }
        };
        put("name", self.name.get(&["x", "y"]));
        put("phone", self.phone.get(PHONES));
        put("email", self.email.get(EMAILS));
        put("referenceId", self.reference_id.get(REFS));
        if self.odd_phone {
            m.insert("phone".into(), json!(919845317206u64));
        }
        Value::Object(m)
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
    chunk_n: u32,
    chunk_size: u16,
    ledger_total: u8,
    ledger_ops: Vec<(u8, u8)>,
}

fn check_map(input: &Input) {
    let sent: Vec<Sent> = input
        .sent
        .iter()
        .map(|s| Sent {
            lead_id: s.lead_id.get(IDS),
            reference_id: s.reference_id.get(REFS),
            phone: s.phone.get(PHONES),
            // The engine stores emails trimmed and lowercased.
            email: s.email.get(EMAILS).map(|e| e.trim().to_lowercase()),
            body: match &s.body {
                SentBody::None => None,
                SentBody::Json(b) => Some(b.value().to_string()),
                SentBody::Text(t) => Some(t.clone()),
            },
        })
        .collect();
    // As read_bulk makes them: an `_id`, ASCII-lowercased email; the JSON text carries a
    // unique tag (`odd`: text that is not an object, which map_answer must not care about).
    let created: Vec<CreatedLead> = input
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
            let raw = if c.odd {
                compact(&json!([i]))
            } else {
                compact(&Value::Object(m))
            };
            CreatedLead {
                raw,
                id,
                reference_id,
                phone,
                email,
            }
        })
        .collect();
    let created_text: Vec<String> = created.iter().map(|c| c.raw.get().to_string()).collect();
    let errors: Vec<BulkItemError> = input
        .errors
        .iter()
        .enumerate()
        .map(|(i, e)| BulkItemError {
            lead_id: e.lead_id.get(IDS),
            reference_id: e.reference_id.get(REFS),
            data: match &e.data {
                DataIn::None => None,
                DataIn::Echo(k) => {
                    let k = usize::from(*k);
                    sent.get(k % sent.len().max(1))
                        .and_then(|s| s.body.as_deref())
                        .and_then(|b| serde_json::from_str(b).ok())
                }
                DataIn::Made(b) => Some(b.value()),
                DataIn::Odd(x) => Some(json!(x)),
            },
            error: format!("e{i}:{}", e.error),
        })
        .collect();
    let answer = BulkAnswer {
        created,
        errors: errors.clone(),
    };
    let out = map_answer(&sent, answer);

    let n = sent.len();
    assert_eq!(out.len(), n, "one result per sent lead");
    let mut seen_created = vec![false; created_text.len()];
    let mut seen_errors = vec![false; errors.len()];
    let mut missing = 0;
    for r in &out {
        match r {
            ItemResult::Created(v) => {
                let i = created_text
                    .iter()
                    .position(|c| c == v.get())
                    .expect("a created lead that was not in the answer");
                assert!(!seen_created[i], "created lead {i} placed twice");
                seen_created[i] = true;
            }
            ItemResult::Rejected(msg) => {
                let i = errors
                    .iter()
                    .position(|e| e.error == *msg)
                    .expect("an error that was not in the answer");
                assert!(!seen_errors[i], "error {i} placed twice");
                seen_errors[i] = true;
            }
            ItemResult::Missing => missing += 1,
        }
    }
    let total = created_text.len() + errors.len();
    assert_eq!(missing, n.saturating_sub(total), "lost answer items");
    if total <= n {
        assert!(
            seen_created.iter().all(|&s| s),
            "a created lead was dropped"
        );
        assert!(seen_errors.iter().all(|&s| s), "an error was dropped");
    }

    // The first error, when it names the leadId of a sent lead: the first such position
    // (errors are matched first, by leadId first).
    if let Some(e) = errors.first() {
        if let Some(k) = e
            .lead_id
            .as_deref()
            .and_then(|id| sent.iter().position(|s| s.lead_id.as_deref() == Some(id)))
        {
            assert_eq!(
                out[k],
                ItemResult::Rejected(e.error.clone()),
                "error by leadId"
            );
        }
    }
}

fn check_chunks(raw_n: u32, raw_size: u16) {
    let size = usize::from(raw_size);
    let clamped = size.clamp(1, MAX_CHUNK);
    // Keep the number of chunks bounded (1,000) so one run stays fast.
    let n = raw_n as usize % (clamped * 1_000 + 1);
    let ranges = chunk_ranges(n, size);
    let mut next = 0;
    for (k, r) in ranges.iter().enumerate() {
        assert_eq!(r.start, next, "gap or overlap at chunk {k}");
        assert!(r.end > r.start, "empty chunk");
        assert!(r.len() <= clamped, "chunk longer than {clamped}");
        if k + 1 < ranges.len() {
            assert_eq!(r.len(), clamped, "short chunk before the last");
        }
        next = r.end;
    }
    assert_eq!(next, n, "chunks do not reach n");
    assert_eq!(ranges.len(), n.div_ceil(clamped));
}

fn check_ledger(total: &u8, ops: &[(u8, u8)]) {
    let total = usize::from(*total % 64);
    let mut ledger = Ledger::new(total);
    let mut first: Vec<Option<u8>> = vec![None; total];
    for &(index, kind) in ops {
        let index = usize::from(index) % (total + 2);
        let kind = kind % 3;
        let outcome = match kind {
            0 => Outcome::Created(compact(&json!({"_id": index.to_string()}))),
            1 => Outcome::Failed(VoxError::new(Code::BadRequest, "no")),
            _ => Outcome::Unknown(VoxError::new(Code::Timeout, "timeout")),
        };
        ledger.set(index, outcome);
        if let Some(slot @ None) = first.get_mut(index) {
            *slot = Some(kind);
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
    let result: Value = serde_json::from_str(&ledger.into_result()).expect("result JSON text");
    assert_eq!(result["requests"].as_u64(), Some(ops.len() as u64));
    let mut listed = vec![0u32; total];
    for (key, kind) in [("created", 0u8), ("failed", 1), ("unknown", 2)] {
        for item in result[key].as_array().expect("a list") {
            let i = item["index"].as_u64().expect("an index") as usize;
            listed[i] += 1;
            let expected = first[i].unwrap_or(2);
            assert_eq!(expected, kind, "index {i} listed under {key}");
        }
    }
    assert!(listed.iter().all(|&c| c == 1), "an index listed {listed:?}");
}
