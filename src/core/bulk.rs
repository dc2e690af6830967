//! Bulk accounting: mapping the server's per-lead answers back to the inputs (the API
//! returns no index) and the SDK.md `BulkResult` in which every input appears exactly once.

use crate::core::api::{BulkAnswer, CreatedLead};
use crate::core::error::{Code, VoxError};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::Value;
use std::collections::{HashMap, VecDeque};

/// Largest chunk the API takes (API.md §3.2).
pub const MAX_CHUNK: usize = 1000;

/// What was sent for one lead of a chunk, to recognise it in the answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Sent {
    /// For existing leads (`leadIds`).
    pub lead_id: Option<String>,
    pub reference_id: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// The lead object as sent (new leads), as JSON text: compact for large bulks.
    pub body: Option<String>,
}

/// The answer for one position of a chunk.
#[derive(Clone, Debug)]
pub enum ItemResult {
    Created(Box<RawValue>),
    Rejected(String),
    /// The answer did not mention this lead.
    Missing,
}

impl PartialEq for ItemResult {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (ItemResult::Created(a), ItemResult::Created(b)) => a.get() == b.get(),
            (ItemResult::Rejected(a), ItemResult::Rejected(b)) => a == b,
            (ItemResult::Missing, ItemResult::Missing) => true,
            _ => false,
        }
    }
}

fn str_field<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

/// Positions of a chunk by one key, in input order; each position is handed out once.
struct Index<'a>(HashMap<&'a str, VecDeque<usize>>);

impl<'a> Index<'a> {
    fn new(sent: &'a [Sent], key: impl Fn(&'a Sent) -> Option<&'a str>) -> Self {
        let mut m: HashMap<&str, VecDeque<usize>> = HashMap::new();
        for (i, s) in sent.iter().enumerate() {
            if let Some(k) = key(s) {
                m.entry(k).or_default().push_back(i);
            }
        }
        Index(m)
    }

    /// The first position with this key that is still free.
    fn take(&mut self, key: Option<&str>, out: &[Option<ItemResult>]) -> Option<usize> {
        let queue = self.0.get_mut(key?)?;
        while let Some(i) = queue.pop_front() {
            if out.get(i).is_some_and(Option::is_none) {
                return Some(i);
            }
        }
        None
    }
}

/// Maps a bulk answer to the chunk's positions: errors by `leadId`, else `referenceId`, else
/// their `data` (its phone or email, then equality); created leads by `_id` (existing leads),
/// `referenceId`, phone or email; what is left, in order (the server keeps the input order).
pub fn map_answer(sent: &[Sent], answer: BulkAnswer) -> Vec<ItemResult> {
    let mut out: Vec<Option<ItemResult>> = vec![None; sent.len()];
    let mut by_id = Index::new(sent, |s| s.lead_id.as_deref());
    let mut by_ref = Index::new(sent, |s| s.reference_id.as_deref());
    let mut by_phone = Index::new(sent, |s| s.phone.as_deref());
    let mut by_email = Index::new(sent, |s| s.email.as_deref());
    let put = |out: &mut Vec<Option<ItemResult>>, i: usize, r: ItemResult| {
        if let Some(slot) = out.get_mut(i) {
            *slot = Some(r);
        }
    };
    let mut left_errors = Vec::new();
    for e in answer.errors {
        let data = e.data.as_ref();
        let email = data
            .and_then(|d| str_field(d, "email"))
            .map(str::to_ascii_lowercase);
        let pos = by_id
            .take(e.lead_id.as_deref(), &out)
            .or_else(|| by_ref.take(e.reference_id.as_deref(), &out))
            .or_else(|| by_phone.take(data.and_then(|d| str_field(d, "phone")), &out))
            .or_else(|| by_email.take(email.as_deref(), &out))
            .or_else(|| {
                let d = data?;
                (0..sent.len()).find(|&i| {
                    out.get(i).is_some_and(Option::is_none)
                        && sent
                            .get(i)
                            .and_then(|s| s.body.as_deref())
                            .and_then(|b| serde_json::from_str::<Value>(b).ok())
                            .as_ref()
                            == Some(d)
                })
            });
        match pos {
            Some(i) => put(&mut out, i, ItemResult::Rejected(e.error)),
            None => left_errors.push(e.error),
        }
    }
    let mut left_created = Vec::new();
    for lead in answer.created {
        let CreatedLead {
            raw,
            id,
            reference_id,
            phone,
            email,
        } = lead;
        let pos = by_id
            .take(Some(&id), &out)
            .or_else(|| by_ref.take(reference_id.as_deref(), &out))
            .or_else(|| by_phone.take(phone.as_deref(), &out))
            .or_else(|| by_email.take(email.as_deref(), &out));
        match pos {
            Some(i) => put(&mut out, i, ItemResult::Created(raw)),
            None => left_created.push(raw),
        }
    }
    // Whatever could not be recognised fills the remaining positions in order.
    let mut left_created = left_created.into_iter();
    let mut left_errors = left_errors.into_iter();
    for slot in out.iter_mut().filter(|s| s.is_none()) {
        if let Some(lead) = left_created.next() {
            *slot = Some(ItemResult::Created(lead));
        } else if let Some(e) = left_errors.next() {
            *slot = Some(ItemResult::Rejected(e));
        }
    }
    out.into_iter()
        .map(|r| r.unwrap_or(ItemResult::Missing))
        .collect()
}

/// Splits `n` items into chunks of at most `size` (1..=1000).
pub fn chunk_ranges(n: usize, size: usize) -> Vec<std::ops::Range<usize>> {
    let size = size.clamp(1, MAX_CHUNK);
    (0..n)
        .step_by(size)
        .map(|start| start..(start + size).min(n))
        .collect()
}

#[derive(Clone, Debug)]
pub enum Outcome {
    Created(Box<RawValue>),
    Failed(VoxError),
    Unknown(VoxError),
}

/// The accounting of one bulk call: one outcome slot per input.
#[derive(Debug)]
pub struct Ledger {
    outcomes: Vec<Option<Outcome>>,
    pub requests: u32,
    counts: [usize; 3],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    pub done: usize,
    pub total: usize,
    pub created: usize,
    pub failed: usize,
    pub unknown: usize,
}

impl Ledger {
    pub fn new(total: usize) -> Self {
        Ledger {
            outcomes: vec![None; total],
            requests: 0,
            counts: [0; 3],
        }
    }

    /// Records the outcome of input `index`; the first outcome recorded stands.
    pub fn set(&mut self, index: usize, outcome: Outcome) {
        if let Some(slot @ None) = self.outcomes.get_mut(index) {
            let k = match &outcome {
                Outcome::Created(_) => 0,
                Outcome::Failed(_) => 1,
                Outcome::Unknown(_) => 2,
            };
            if let Some(c) = self.counts.get_mut(k) {
                *c += 1;
            }
            *slot = Some(outcome);
        }
    }

    pub fn progress(&self) -> Progress {
        let [created, failed, unknown] = self.counts;
        Progress {
            done: created + failed + unknown,
            total: self.outcomes.len(),
            created,
            failed,
            unknown,
        }
    }

    /// SDK.md `BulkResult` as JSON text, without the `input` of failed and unknown leads:
    /// the caller's own objects are attached by index on the JS side.
    /// An input without an outcome (which the engine never leaves) is reported unknown.
    pub fn into_result(self) -> String {
        #[derive(Serialize)]
        struct Made {
            index: usize,
            lead: Box<RawValue>,
        }
        #[derive(Serialize)]
        struct NotMade {
            index: usize,
            error: Value,
        }
        #[derive(Serialize)]
        struct Report {
            created: Vec<Made>,
            failed: Vec<NotMade>,
            unknown: Vec<NotMade>,
            requests: u32,
        }
        let mut report = Report {
            created: Vec::new(),
            failed: Vec::new(),
            unknown: Vec::new(),
            requests: self.requests,
        };
        for (index, o) in self.outcomes.into_iter().enumerate() {
            match o {
                Some(Outcome::Created(lead)) => report.created.push(Made { index, lead }),
                Some(Outcome::Failed(e)) => report.failed.push(NotMade {
                    index,
                    error: e.info(),
                }),
                Some(Outcome::Unknown(e)) => report.unknown.push(NotMade {
                    index,
                    error: e.info(),
                }),
                None => report.unknown.push(NotMade {
                    index,
                    error: VoxError::new(
                        Code::InvalidResponse,
                        "No outcome was recorded for this lead",
                    )
                    .info(),
                }),
            }
        }
        serde_json::to_string(&report).unwrap_or_else(|_| String::from("{}"))
    }
}

/// A created lead kept as compact JSON text: a bulk of many thousand leads holds far less
/// memory this way than as parsed objects.
pub fn compact(lead: &Value) -> Box<RawValue> {
    RawValue::from_string(lead.to_string()).unwrap_or_else(|_| RawValue::NULL.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::api::BulkItemError;
    use serde_json::json;

    /// A created lead as read_bulk makes it.
    fn made(v: Value) -> CreatedLead {
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        CreatedLead {
            id: s("_id").unwrap(),
            reference_id: s("referenceId"),
            phone: s("phone"),
            email: s("email"),
            raw: compact(&v),
        }
    }

    fn id(r: &ItemResult) -> Option<String> {
        match r {
            ItemResult::Created(raw) => serde_json::from_str::<Value>(raw.get()).unwrap()["_id"]
                .as_str()
                .map(str::to_string),
            _ => None,
        }
    }

    fn sent(r: Option<&str>, phone: &str) -> Sent {
        Sent {
            lead_id: None,
            reference_id: r.map(str::to_string),
            phone: Some(phone.to_string()),
            email: None,
            body: Some(json!({"name": "x", "phone": phone, "referenceId": r}).to_string()),
        }
    }

    #[test]
    fn maps_by_reference_then_data_then_phone() {
        let s = vec![
            sent(Some("r0"), "+911"),
            sent(None, "+912"),
            sent(None, "+913"),
            sent(Some("r3"), "+914"),
        ];
        let answer = BulkAnswer {
            created: vec![
                made(json!({"_id": "b", "phone": "+913"})),
                made(json!({"_id": "a", "referenceId": "r0", "phone": "+911"})),
            ],
            errors: vec![
                BulkItemError {
                    lead_id: None,
                    reference_id: Some("r3".into()),
                    data: None,
                    error: "dup".into(),
                },
                BulkItemError {
                    lead_id: None,
                    reference_id: None,
                    data: s[1]
                        .body
                        .as_deref()
                        .map(|b| serde_json::from_str(b).unwrap()),
                    error: "bad".into(),
                },
            ],
        };
        let r = map_answer(&s, answer);
        assert_eq!(id(&r[0]).as_deref(), Some("a"));
        assert_eq!(r[1], ItemResult::Rejected("bad".into()));
        assert_eq!(id(&r[2]).as_deref(), Some("b"));
        assert_eq!(r[3], ItemResult::Rejected("dup".into()));
    }

    #[test]
    fn existing_leads_map_by_id_and_missing_ones_are_reported() {
        let s: Vec<Sent> = ["x", "y", "z"]
            .iter()
            .map(|id| Sent {
                lead_id: Some(id.to_string()),
                reference_id: None,
                phone: None,
                email: None,
                body: None,
            })
            .collect();
        let answer = BulkAnswer {
            created: vec![made(json!({"_id": "z"}))],
            errors: vec![BulkItemError {
                lead_id: Some("x".into()),
                reference_id: None,
                data: None,
                error: "nf".into(),
            }],
        };
        let r = map_answer(&s, answer);
        assert_eq!(r[0], ItemResult::Rejected("nf".into()));
        assert_eq!(r[1], ItemResult::Missing);
        assert_eq!(id(&r[2]).as_deref(), Some("z"));
    }

    #[test]
    fn unrecognisable_items_fill_in_order() {
        let s = vec![sent(None, "+911"), sent(None, "+912")];
        let answer = BulkAnswer {
            created: vec![made(json!({"_id": "q"})), made(json!({"_id": "w"}))],
            errors: vec![],
        };
        let r = map_answer(&s, answer);
        assert_eq!(id(&r[0]).as_deref(), Some("q"));
        assert_eq!(id(&r[1]).as_deref(), Some("w"));
    }

    #[test]
    fn chunks() {
        assert_eq!(
            chunk_ranges(2500, 1000),
            vec![0..1000, 1000..2000, 2000..2500]
        );
        assert_eq!(chunk_ranges(3, 5000), vec![0..3]);
        assert_eq!(chunk_ranges(2, 0), vec![0..1, 1..2]);
        assert!(chunk_ranges(0, 10).is_empty());
    }

    #[test]
    fn ledger_keeps_first_outcome_and_counts() {
        let mut l = Ledger::new(3);
        l.set(0, Outcome::Created(compact(&json!({"_id": "a"}))));
        l.set(0, Outcome::Failed(VoxError::new(Code::BadRequest, "x")));
        l.set(2, Outcome::Unknown(VoxError::new(Code::Timeout, "t")));
        assert_eq!(
            l.progress(),
            Progress {
                done: 2,
                total: 3,
                created: 1,
                failed: 0,
                unknown: 1
            }
        );
        let v: Value = serde_json::from_str(&l.into_result()).unwrap();
        assert_eq!(v["created"][0]["index"], 0);
        assert_eq!(
            v["unknown"].as_array().unwrap().len(),
            2,
            "index 1 had no outcome"
        );
    }
}
