//! Bulk accounting: mapping the server's per-lead answers back to the inputs (the API
//! returns no index), and the ledger in which every input gets exactly one outcome. Outcomes
//! go to the host as they are decided, so the report is built outside the core and a run's
//! memory here is the leads in flight plus one flag per input.

use crate::core::api::BulkAnswer;
use crate::core::error::{Code, VoxError};
use crate::core::hash::{hash, HashedMap};
use crate::core::value::Value;

/// Largest chunk the API takes (docs/api.md §3.2).
pub const MAX_CHUNK: usize = 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BulkOptions {
    pub init: Option<bool>,
    pub chunk_size: usize,
    pub concurrency: usize,
}

impl Default for BulkOptions {
    fn default() -> Self {
        BulkOptions {
            init: None,
            chunk_size: MAX_CHUNK,
            concurrency: 4,
        }
    }
}

/// What was sent for one lead of a chunk, to recognise it in the answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Sent<V> {
    /// For existing leads (`leadIds`).
    pub lead_id: Option<String>,
    pub reference_id: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// The lead object as sent (new leads), as JSON text.
    pub body: Option<V>,
}

/// The answer for one position of a chunk.
#[derive(Clone, Debug)]
pub enum ItemResult<V> {
    /// Created: the lead as the answer holds it, and its `_id`.
    Created(V, String),
    Rejected(String),
    /// The answer did not mention this lead.
    Missing,
}

/// Which key of a sent lead an index is by.
#[derive(Clone, Copy)]
enum Key {
    Id,
    Reference,
    Phone,
    Email,
}

impl Key {
    fn of<V>(self, s: &Sent<V>) -> Option<&str> {
        match self {
            Key::Id => s.lead_id.as_deref(),
            Key::Reference => s.reference_id.as_deref(),
            Key::Phone => s.phone.as_deref(),
            Key::Email => s.email.as_deref(),
        }
    }
}

/// Positions of a chunk by one key, in input order; each position is handed out once.
struct Index {
    key: Key,
    /// key hash -> first position with it; `next[i]`: the next position after `i` with the same.
    first: HashedMap<usize>,
    next: Vec<usize>,
}

impl Index {
    fn new<V>(sent: &[&Sent<V>], key: Key) -> Self {
        let mut first = HashedMap::default();
        let mut next = vec![usize::MAX; sent.len()];
        for (i, s) in sent.iter().enumerate().rev() {
            if let Some(k) = key.of(s) {
                if let Some(prev) = first.insert(hash(k), i) {
                    if let Some(n) = next.get_mut(i) {
                        *n = prev;
                    }
                }
            }
        }
        Index { key, first, next }
    }

    /// The first position whose key is `key` (checked, not just its hash) and that is free.
    fn take<V>(
        &self,
        key: Option<&str>,
        sent: &[&Sent<V>],
        out: &[Option<ItemResult<V>>],
    ) -> Option<usize> {
        let key = key?;
        let mut i = *self.first.get(&hash(key))?;
        while i != usize::MAX {
            let free = out.get(i).is_some_and(Option::is_none);
            if free && sent.get(i).and_then(|s| self.key.of(s)) == Some(key) {
                return Some(i);
            }
            i = self.next.get(i).copied().unwrap_or(usize::MAX);
        }
        None
    }
}

/// Maps a bulk answer to the chunk's positions: errors by `leadId`, else `referenceId`, else
/// their echoed `data` (its phone, read with `region` as the sent phones were, or email, then
/// its text); created leads by `_id` (existing leads), `referenceId`, phone or email. An item
/// that names no free position goes nowhere — a lead gets its own answer or `Missing`, never
/// another lead's — except when it is the one item left for the one position left and the
/// answer holds an item for every lead (then it can only be that lead's).
pub fn map_answer<V: Value>(
    sent: &[&Sent<V>],
    answer: BulkAnswer<V>,
    region: &str,
) -> Vec<ItemResult<V>> {
    let mut out: Vec<Option<ItemResult<V>>> = vec![None; sent.len()];
    let by_id = Index::new(sent, Key::Id);
    let by_ref = Index::new(sent, Key::Reference);
    let by_phone = Index::new(sent, Key::Phone);
    let by_email = Index::new(sent, Key::Email);
    let put = |out: &mut Vec<Option<ItemResult<V>>>, i: usize, r: ItemResult<V>| {
        if let Some(slot) = out.get_mut(i) {
            *slot = Some(r);
        }
    };
    // The position of an echoed phone: as it came (servers echo the E.164 that was sent), else
    // written as the sent ones are (E.164), when it reads as a number.
    let by_phone_take = |p: Option<&str>, out: &[Option<ItemResult<V>>]| {
        let p = p?;
        by_phone.take(Some(p), sent, out).or_else(|| {
            let e164 = crate::core::phone::normalize(p, region).ok()?;
            by_phone.take(Some(&e164), sent, out)
        })
    };
    let whole = answer.unreadable == 0 && answer.created.len() + answer.errors.len() == sent.len();
    let mut left_errors = Vec::new();
    for e in answer.errors {
        let pos = by_id
            .take(e.lead_id.as_deref(), sent, &out)
            .or_else(|| by_ref.take(e.reference_id.as_deref(), sent, &out))
            .or_else(|| by_phone_take(e.phone.as_deref(), &out))
            .or_else(|| by_email.take(e.email.as_deref(), sent, &out))
            .or_else(|| {
                let text = e.data.as_ref()?.to_json(&[]).ok()?.string()?;
                (0..sent.len()).find(|&i| {
                    out.get(i).is_some_and(Option::is_none)
                        && sent
                            .get(i)
                            .and_then(|s| s.body.as_ref())
                            .and_then(Value::string)
                            .as_deref()
                            == Some(text.as_str())
                })
            });
        match pos {
            Some(i) => put(&mut out, i, ItemResult::Rejected(e.error)),
            None => left_errors.push(e.error),
        }
    }
    let mut left_created = Vec::new();
    for c in answer.created {
        let pos = by_id
            .take(Some(&c.id), sent, &out)
            .or_else(|| by_ref.take(c.reference_id.as_deref(), sent, &out))
            .or_else(|| by_phone_take(c.phone.as_deref(), &out))
            .or_else(|| by_email.take(c.email.as_deref(), sent, &out));
        match pos {
            Some(i) => put(&mut out, i, ItemResult::Created(c.lead, c.id)),
            None => left_created.push((c.lead, c.id)),
        }
    }
    let mut free = out.iter_mut().filter(|s| s.is_none());
    if let (true, Some(slot), None) = (whole, free.next(), free.next()) {
        if let Some((lead, id)) = left_created.pop() {
            *slot = Some(ItemResult::Created(lead, id));
        } else if let Some(e) = left_errors.pop() {
            *slot = Some(ItemResult::Rejected(e));
        }
    }
    out.into_iter()
        .map(|r| r.unwrap_or(ItemResult::Missing))
        .collect()
}

#[derive(Clone, Debug)]
pub enum Outcome<V> {
    Created(V),
    Failed(VoxError),
    Unknown(VoxError),
}

/// The accounting of one bulk call: whether each input has its outcome, and the counts.
#[derive(Debug)]
pub struct Ledger {
    decided: Vec<bool>,
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
            decided: vec![false; total],
            requests: 0,
            counts: [0; 3],
        }
    }

    /// Records the outcome of input `index`: the first outcome recorded stands, and is returned
    /// to be reported; a later one is dropped (`None`).
    pub fn set<V>(&mut self, index: usize, outcome: Outcome<V>) -> Option<Outcome<V>> {
        let slot = self.decided.get_mut(index).filter(|d| !**d)?;
        *slot = true;
        let k = match &outcome {
            Outcome::Created(_) => 0,
            Outcome::Failed(_) => 1,
            Outcome::Unknown(_) => 2,
        };
        if let Some(c) = self.counts.get_mut(k) {
            *c += 1;
        }
        Some(outcome)
    }

    pub fn progress(&self) -> Progress {
        let [created, failed, unknown] = self.counts;
        Progress {
            done: created + failed + unknown,
            total: self.decided.len(),
            created,
            failed,
            unknown,
        }
    }

    /// The inputs without an outcome (which the engine never leaves), reported unknown.
    pub fn undecided<V>(&mut self) -> Vec<(usize, Outcome<V>)> {
        let left: Vec<usize> = (0..self.decided.len())
            .filter(|&i| self.decided.get(i) == Some(&false))
            .collect();
        left.into_iter()
            .filter_map(|i| {
                let e = VoxError::new(
                    Code::InvalidResponse,
                    "No outcome was recorded for this lead",
                );
                self.set(i, Outcome::Unknown(e)).map(|o| (i, o))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::api::read_bulk;
    use crate::core::testkit::{parse, tv, Tv};
    use serde_json::{json, Value as J};

    fn sent(r: Option<&str>, phone: &str) -> Sent<Tv> {
        Sent {
            lead_id: None,
            reference_id: r.map(str::to_string),
            phone: Some(phone.to_string()),
            email: None,
            body: Some(
                tv(json!({"name": "x", "phone": phone, "referenceId": r}))
                    .to_json(&[])
                    .unwrap(),
            ),
        }
    }

    fn refs(s: &[Sent<Tv>]) -> Vec<&Sent<Tv>> {
        s.iter().collect()
    }

    fn answer(v: J) -> BulkAnswer<Tv> {
        read_bulk(parse(&v.to_string()).as_ref()).unwrap()
    }

    fn id(r: &ItemResult<Tv>) -> Option<String> {
        match r {
            ItemResult::Created(v, id) => {
                assert_eq!(v.get("_id").string().as_ref(), Some(id));
                Some(id.clone())
            }
            _ => None,
        }
    }

    fn rejected(r: &ItemResult<Tv>) -> Option<&str> {
        match r {
            ItemResult::Rejected(e) => Some(e),
            _ => None,
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
        let echoed: J =
            serde_json::from_str(&s[1].body.as_ref().unwrap().string().unwrap()).unwrap();
        let r = map_answer(
            &refs(&s),
            answer(json!({
                "success": [{"_id": "b", "phone": "+913"}, {"_id": "a", "referenceId": "r0", "phone": "+911"}],
                "errors": [{"referenceId": "r3", "error": "dup"}, {"data": echoed, "error": "bad"}],
            })),
            "IN",
        );
        assert_eq!(id(&r[0]).as_deref(), Some("a"));
        assert_eq!(rejected(&r[1]), Some("bad"));
        assert_eq!(id(&r[2]).as_deref(), Some("b"));
        assert_eq!(rejected(&r[3]), Some("dup"));
        // Echoed data without keys is recognised by its text.
        let plain = |name: &str| Sent::<Tv> {
            lead_id: None,
            reference_id: None,
            phone: None,
            email: None,
            body: Some(tv(json!({"name": name})).to_json(&[]).unwrap()),
        };
        let r = map_answer(
            &refs(&[plain("first"), plain("second")]),
            answer(
                json!({"success": [], "errors": [{"data": {"name": "second"}, "error": "late"}]}),
            ),
            "IN",
        );
        assert_eq!(rejected(&r[1]), Some("late"));
        assert_eq!(rejected(&r[0]), None);
    }

    #[test]
    fn existing_leads_map_by_id_and_missing_ones_are_reported() {
        let s: Vec<Sent<Tv>> = ["x", "y", "z"]
            .iter()
            .map(|id| Sent {
                lead_id: Some(id.to_string()),
                reference_id: None,
                phone: None,
                email: None,
                body: None,
            })
            .collect();
        let r = map_answer(
            &refs(&s),
            answer(json!({"success": [{"_id": "z"}], "errors": [{"leadId": "x", "error": "nf"}]})),
            "IN",
        );
        assert_eq!(rejected(&r[0]), Some("nf"));
        assert!(matches!(r[1], ItemResult::Missing));
        assert_eq!(id(&r[2]).as_deref(), Some("z"));
    }

    #[test]
    fn same_key_twice_goes_to_each_in_turn() {
        let s = vec![sent(None, "+911"), sent(None, "+911")];
        let r = map_answer(
            &refs(&s),
            answer(
                json!({"success": [{"_id": "p", "phone": "+911"}, {"_id": "q", "phone": "+911"}]}),
            ),
            "IN",
        );
        assert_eq!(
            (id(&r[0]).as_deref(), id(&r[1]).as_deref()),
            (Some("p"), Some("q"))
        );
    }

    #[test]
    fn unrecognisable_items_go_to_no_lead_unless_one_is_left_for_one() {
        let s = vec![sent(None, "+911"), sent(None, "+912"), sent(None, "+913")];
        // Two unnamed answers for two leads: either could be either's.
        let r = map_answer(
            &refs(&s),
            answer(
                json!({"success": [{"_id": "q"}, {"_id": "c", "phone": "+913"}],
                "errors": [{"data": {"name": "altered"}, "error": "whose?"}]}),
            ),
            "IN",
        );
        assert_eq!(id(&r[2]).as_deref(), Some("c"));
        assert!(matches!(r[0], ItemResult::Missing) && matches!(r[1], ItemResult::Missing));
        // One unnamed answer left for the one lead left, in an answer for every lead: its own.
        let r = map_answer(
            &refs(&s),
            answer(
                json!({"success": [{"_id": "a", "phone": "+911"}, {"_id": "c", "phone": "+913"}],
                "errors": [{"data": {"name": "altered"}, "error": "mine"}]}),
            ),
            "IN",
        );
        assert_eq!(rejected(&r[1]), Some("mine"));
        // Not when the answer is short of an item (a created lead without `_id`).
        let r = map_answer(
            &refs(&s),
            answer(
                json!({"success": [{"_id": "a", "phone": "+911"}, {"phone": "+912"}],
                "errors": [{"data": {"name": "altered"}, "error": "whose?"}]}),
            ),
            "IN",
        );
        assert_eq!(id(&r[0]).as_deref(), Some("a"));
        assert!(matches!(r[1], ItemResult::Missing) && matches!(r[2], ItemResult::Missing));
    }

    #[test]
    fn echoed_phones_match_in_any_form() {
        let s = vec![sent(None, "+919845317206"), sent(None, "+919845317207")];
        let r = map_answer(
            &refs(&s),
            answer(json!({"success": [], "errors": [
                {"data": {"phone": "098453 17207"}, "error": "second"},
                {"data": {"phone": "9845317206"}, "error": "first"}]})),
            "IN",
        );
        assert_eq!(rejected(&r[0]), Some("first"));
        assert_eq!(rejected(&r[1]), Some("second"));
    }

    #[test]
    fn ledger_keeps_first_outcome_and_counts() {
        let mut l = Ledger::new(3);
        assert!(l
            .set(0, Outcome::Created(tv(json!({"_id": "a"}))))
            .is_some());
        assert!(l
            .set(
                0,
                Outcome::<Tv>::Failed(VoxError::new(Code::BadRequest, "x"))
            )
            .is_none());
        assert!(l
            .set(2, Outcome::<Tv>::Unknown(VoxError::new(Code::Timeout, "t")))
            .is_some());
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
        let left = l.undecided::<Tv>();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].0, 1, "index 1 had no outcome");
        assert_eq!(l.progress().done, 3);
    }
}
