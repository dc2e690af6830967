//! The traffic store's operations (docs/store.md): what the engine asks of the store that
//! keeps a project's traffic state, and the in-memory store that answers them inside the core.
//! An external store (the Redis store of `vox-crm/redis`) gets the same operations as plain
//! objects and answers with plain objects; `tests/store-cases.json` holds the cases both pass.

use crate::core::hash::HashedMap;
use crate::core::limits::{Keys, RateConfig, Shared, Wait, WINDOW_MARGIN_MS};
use crate::core::value::{Json, Value};

/// How a lead's submission ended, for [`Op::Settle`].
#[derive(Clone, Debug, PartialEq)]
pub enum Settled {
    /// Created as (or found to be) the lead with this id.
    Created(String),
    /// The server rejected it as a duplicate.
    Duplicate,
    /// Refused for another reason: its keys were not used up.
    Release,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    Acquire {
        requests: u32,
        window_ms: f64,
        lease_ms: f64,
    },
    Complete {
        ticket: String,
        window_ms: f64,
    },
    Pause {
        ms: f64,
        requests: u32,
        window_ms: f64,
    },
    Block {
        ms: f64,
    },
    Claim {
        leads: Vec<Keys>,
        max: u32,
        window_ms: f64,
        dup_ms: f64,
    },
    Settle {
        leads: Vec<(Keys, Settled)>,
        dup_ms: f64,
        window_ms: f64,
        known_ms: f64,
    },
}

/// A lead's answer in a claim.
#[derive(Clone, Debug, PartialEq)]
pub enum Claimed {
    /// Its keys are marked submitted: it may be sent.
    Ok,
    /// Its `n`th key belongs to this lead, created in the project.
    Known(usize, String),
    /// Its `n`th key was submitted recently (or is in flight).
    Recent(usize),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    Ticket(String),
    /// Try again after this many ms; `-1`: after a request in flight ends.
    Wait(f64),
    Blocked(f64),
    /// The duplicate budget is used up for this many ms.
    Budget(f64),
    Claimed {
        leads: Vec<Claimed>,
        remaining: u32,
    },
    Done,
}

/// 16 lowercase hex digits.
pub fn hex(k: u64) -> String {
    let digits = b"0123456789abcdef";
    (0..16)
        .rev()
        .map(|i| {
            char::from(
                digits
                    .get(((k >> (i * 4)) & 15) as usize)
                    .copied()
                    .unwrap_or(b'0'),
            )
        })
        .collect()
}

fn key_list<V>(keys: &Keys) -> Json<V> {
    Json::Array(keys.each().map(|k| Json::Text(hex(k))).collect())
}

impl Op {
    /// The operation as an external store receives it.
    pub fn to_json<V>(&self, ns: &str, salt: &str) -> Json<V> {
        let n = |x: f64| Json::Number(x);
        let mut m = vec![("ns", Json::text(ns)), ("salt", Json::text(salt))];
        let (name, fields): (&str, Vec<(&'static str, Json<V>)>) = match self {
            Op::Acquire {
                requests,
                window_ms,
                lease_ms,
            } => (
                "acquire",
                vec![
                    ("requests", n(f64::from(*requests))),
                    ("windowMs", n(*window_ms)),
                    ("leaseMs", n(*lease_ms)),
                ],
            ),
            Op::Complete { ticket, window_ms } => (
                "complete",
                vec![
                    ("ticket", Json::text(ticket.as_str())),
                    ("windowMs", n(*window_ms)),
                ],
            ),
            Op::Pause {
                ms,
                requests,
                window_ms,
            } => (
                "pause",
                vec![
                    ("ms", n(*ms)),
                    ("requests", n(f64::from(*requests))),
                    ("windowMs", n(*window_ms)),
                ],
            ),
            Op::Block { ms } => ("block", vec![("ms", n(*ms))]),
            Op::Claim {
                leads,
                max,
                window_ms,
                dup_ms,
            } => (
                "claim",
                vec![
                    ("leads", Json::Array(leads.iter().map(key_list).collect())),
                    ("max", n(f64::from(*max))),
                    ("windowMs", n(*window_ms)),
                    ("dupMs", n(*dup_ms)),
                ],
            ),
            Op::Settle {
                leads,
                dup_ms,
                window_ms,
                known_ms,
            } => {
                let item = |(keys, s): &(Keys, Settled)| {
                    let how = match s {
                        Settled::Created(id) => ("created", Json::text(id.as_str())),
                        Settled::Duplicate => ("duplicate", Json::Bool(true)),
                        Settled::Release => ("release", Json::Bool(true)),
                    };
                    Json::Object(vec![("keys", key_list(keys)), how])
                };
                (
                    "settle",
                    vec![
                        ("leads", Json::Array(leads.iter().map(item).collect())),
                        ("dupMs", n(*dup_ms)),
                        ("windowMs", n(*window_ms)),
                        ("knownMs", n(*known_ms)),
                    ],
                )
            }
        };
        m.push(("op", Json::text(name)));
        m.extend(fields);
        Json::Object(m)
    }
}

impl Reply {
    /// An external store's answer to `op`; `Err` says what was wrong with it.
    pub fn read<V: Value>(op: &Op, v: &V) -> Result<Reply, String> {
        if !v.is_object() {
            return Err("the store's answer is not an object".into());
        }
        let num = |key: &str| v.get(key).number().filter(|n| n.is_finite());
        match op {
            Op::Acquire { .. } => {
                if let Some(t) = v.get("ticket").string() {
                    return Ok(Reply::Ticket(t));
                }
                if let Some(ms) = num("blockedMs") {
                    return Ok(Reply::Blocked(ms.max(1.0)));
                }
                match num("waitMs") {
                    Some(ms) if ms < 0.0 => Ok(Reply::Wait(-1.0)),
                    Some(ms) => Ok(Reply::Wait(ms.max(1.0))),
                    None => Err("acquire: no ticket, waitMs or blockedMs".into()),
                }
            }
            Op::Claim { leads, .. } => {
                if let Some(ms) = num("budgetMs") {
                    return Ok(Reply::Budget(ms.max(0.0)));
                }
                let list = v.get("leads");
                if list.array_len() != Some(leads.len()) {
                    return Err("claim: not one answer per lead".into());
                }
                let mut out = Vec::with_capacity(leads.len());
                for (i, keys) in leads.iter().enumerate() {
                    let item = list.at(i);
                    if item.is_absent() {
                        out.push(Claimed::Ok);
                        continue;
                    }
                    let n = item
                        .get("key")
                        .number()
                        .filter(|n| *n >= 0.0 && (*n as usize) < keys.each().count())
                        .ok_or("claim: an answer without a valid key")?
                        as usize;
                    out.push(match item.get("id").string() {
                        Some(id) => Claimed::Known(n, id),
                        None => Claimed::Recent(n),
                    });
                }
                Ok(Reply::Claimed {
                    leads: out,
                    remaining: num("remaining").map_or(0, |r| r.max(0.0) as u32),
                })
            }
            _ => Ok(Reply::Done),
        }
    }
}

/// What the in-memory store keeps beside the rate window and the duplicate guard: the ids of
/// leads created, by key, with the time until which they are remembered.
pub type Known = HashedMap<(f64, String)>;

impl Shared {
    /// The in-memory store's answer to `op` at `now` (docs/store.md's rules).
    pub fn apply(&mut self, op: &Op, now: f64) -> Reply {
        match op {
            Op::Acquire {
                requests,
                window_ms,
                lease_ms,
            } => {
                if let Some(left) = self.blocked_for(now) {
                    return Reply::Blocked(left.ceil().max(1.0));
                }
                let cfg = rate_config(*requests, *window_ms);
                match self.rate.try_acquire(now, cfg, *lease_ms) {
                    Ok(t) => Reply::Ticket(t.to_string()),
                    Err(Wait::Until(t)) => Reply::Wait((t - now).ceil().max(1.0)),
                    Err(Wait::ForCompletion) => Reply::Wait(-1.0),
                }
            }
            Op::Complete { ticket, .. } => {
                if let Ok(t) = ticket.parse::<u64>() {
                    self.rate.complete(t, now);
                }
                Reply::Done
            }
            Op::Pause {
                ms,
                requests,
                window_ms,
            } => {
                self.rate
                    .block_until(now + ms, rate_config(*requests, *window_ms));
                Reply::Done
            }
            Op::Block { ms } => {
                let until = now + ms;
                self.blocked_until = Some(self.blocked_until.map_or(until, |b| b.max(until)));
                Reply::Done
            }
            Op::Claim {
                leads,
                max,
                window_ms,
                dup_ms,
            } => self.claim(leads, *max, *window_ms, *dup_ms, now),
            Op::Settle {
                leads,
                window_ms,
                known_ms,
                ..
            } => {
                for (keys, how) in leads {
                    match how {
                        Settled::Created(id) => {
                            self.guard.mark_sent(keys, now);
                            if *known_ms > 0.0 {
                                // Amortised: a read skips an expired lead anyway.
                                self.known.prune(|_, (until, _)| *until > now);
                                for k in keys.each() {
                                    self.known.insert(k, (now + known_ms, id.clone()));
                                }
                            }
                        }
                        Settled::Duplicate => {
                            self.guard.mark_sent(keys, now);
                            self.guard.record_rejections(1, now);
                        }
                        Settled::Release => self.guard.release(keys),
                    }
                }
                let _ = self.guard.rejections_in(now, *window_ms);
                Reply::Done
            }
        }
    }

    fn claim(&mut self, leads: &[Keys], max: u32, window_ms: f64, dup_ms: f64, now: f64) -> Reply {
        let used = self.guard.rejections_in(now, window_ms);
        if used >= max as usize {
            let oldest = self.guard.oldest_rejection().unwrap_or(now);
            return Reply::Budget((oldest + window_ms - now).ceil().max(0.0));
        }
        let mut out = Vec::with_capacity(leads.len());
        // Keys claimed by this call: a later lead with one of them is refused whatever `dup_ms`.
        let mut claimed: HashedMap<()> = HashedMap::default();
        for keys in leads {
            let known = keys.each().enumerate().find_map(|(n, k)| {
                self.known
                    .get(&k)
                    .filter(|(until, _)| *until > now)
                    .map(|(_, id)| Claimed::Known(n, id.clone()))
            });
            let repeat = || keys.each().position(|k| claimed.contains_key(&k));
            let answer = match known {
                Some(k) => k,
                None => match self.guard.recent_key(keys, now, dup_ms).or_else(repeat) {
                    Some(n) => Claimed::Recent(n),
                    None => {
                        self.guard.mark_sent(keys, now);
                        claimed.extend(keys.each().map(|k| (k, ())));
                        Claimed::Ok
                    }
                },
            };
            out.push(answer);
        }
        Reply::Claimed {
            leads: out,
            remaining: max - used as u32,
        }
    }
}

/// An external store's health as one realm saw it (docs/store.md, "when the store fails").
#[derive(Debug, Default)]
pub struct Health {
    /// It failed: local limits until then, when it is tried again.
    pub down_until: Option<f64>,
    /// It came back: the local limits apply beside its own until then, one window, so that
    /// what this process sent without it has left the window.
    pub probation_until: Option<f64>,
    /// A failure was logged and no recovery since.
    pub down: bool,
}

/// How decisions are made now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The in-memory store.
    Local,
    /// The external store.
    External,
    /// The external store and the conservative local limits.
    Probation,
    /// The external store is not answering: the conservative local limits alone.
    Down,
}

/// How long the conservative local limits alone apply after an external store failed, before
/// it is tried again.
pub const RETRY_STORE_MS: f64 = 1000.0;

impl Health {
    pub fn mode(&self, now: f64) -> Mode {
        if self.down_until.is_some_and(|t| t > now) {
            Mode::Down
        } else if self.down || self.probation_until.is_some_and(|t| t > now) {
            Mode::Probation
        } else {
            Mode::External
        }
    }
}

/// The operation with the limits a process keeps to alone: `share` of the rate and of the
/// duplicate budget (at least one of each).
pub fn conservative(op: &Op, share: f64) -> Op {
    let part = |n: u32| ((f64::from(n) * share).floor() as u32).max(1);
    match op.clone() {
        Op::Acquire {
            requests,
            window_ms,
            lease_ms,
        } => Op::Acquire {
            requests: part(requests),
            window_ms,
            lease_ms,
        },
        Op::Claim {
            leads,
            max,
            window_ms,
            dup_ms,
        } => Op::Claim {
            leads,
            max: part(max),
            window_ms,
            dup_ms,
        },
        other => other,
    }
}

fn rate_config(requests: u32, window_ms: f64) -> RateConfig {
    RateConfig {
        requests,
        per_ms: window_ms - WINDOW_MARGIN_MS,
    }
}

/// The wire format read back, for the tests' external store and the shared cases.
#[cfg(test)]
pub(crate) mod wire {
    use super::*;
    use serde_json::{json, Value as J};

    fn keys_of(v: &J) -> Keys {
        let mut k = Keys::default();
        for (slot, h) in k.0.iter_mut().zip(v.as_array().into_iter().flatten()) {
            *slot = h.as_str().and_then(|h| u64::from_str_radix(h, 16).ok());
        }
        k
    }

    pub fn op_of(v: &J, tickets: &[String]) -> Op {
        let n = |k: &str| v[k].as_f64().unwrap_or(0.0);
        match v["op"].as_str().unwrap_or_default() {
            "acquire" => Op::Acquire {
                requests: n("requests") as u32,
                window_ms: n("windowMs"),
                lease_ms: n("leaseMs"),
            },
            "complete" => {
                let t = v["ticket"].as_str().unwrap_or_default();
                let ticket = match t.strip_prefix('@') {
                    Some(i) => tickets
                        .get(i.parse::<usize>().unwrap_or(usize::MAX))
                        .cloned()
                        .unwrap_or_default(),
                    None => t.to_string(),
                };
                Op::Complete {
                    ticket,
                    window_ms: n("windowMs"),
                }
            }
            "pause" => Op::Pause {
                ms: n("ms"),
                requests: n("requests") as u32,
                window_ms: n("windowMs"),
            },
            "block" => Op::Block { ms: n("ms") },
            "claim" => Op::Claim {
                leads: v["leads"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(keys_of)
                    .collect(),
                max: n("max") as u32,
                window_ms: n("windowMs"),
                dup_ms: n("dupMs"),
            },
            "settle" => Op::Settle {
                leads: v["leads"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|l| {
                        let how = if let Some(id) = l["created"].as_str() {
                            Settled::Created(id.to_string())
                        } else if l["duplicate"] == json!(true) {
                            Settled::Duplicate
                        } else {
                            Settled::Release
                        };
                        (keys_of(&l["keys"]), how)
                    })
                    .collect(),
                dup_ms: n("dupMs"),
                window_ms: n("windowMs"),
                known_ms: n("knownMs"),
            },
            other => panic!("unknown op {other}"),
        }
    }

    pub fn reply_json(r: &Reply) -> J {
        match r {
            Reply::Ticket(t) => json!({ "ticket": t }),
            Reply::Wait(ms) => json!({ "waitMs": *ms as i64 }),
            Reply::Blocked(ms) => json!({ "blockedMs": *ms as i64 }),
            Reply::Budget(ms) => json!({ "budgetMs": *ms as i64, "remaining": 0 }),
            Reply::Claimed { leads, remaining } => json!({
                "leads": leads.iter().map(|c| match c {
                    Claimed::Ok => J::Null,
                    Claimed::Known(n, id) => json!({ "key": n, "id": id }),
                    Claimed::Recent(n) => json!({ "key": n }),
                }).collect::<Vec<_>>(),
                "remaining": remaining,
            }),
            Reply::Done => json!({}),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::wire::{op_of, reply_json};
    use super::*;
    use crate::core::testkit::{tv, Tv};
    use serde_json::{json, Value as J};

    fn matches(got: &J, want: &J) -> bool {
        match (got, want) {
            (J::String(_), J::String(w)) if w == "*" => true,
            (J::Object(g), J::Object(w)) => {
                g.len() == w.len()
                    && w.iter()
                        .all(|(k, wv)| g.get(k).is_some_and(|gv| matches(gv, wv)))
            }
            (J::Array(g), J::Array(w)) => {
                g.len() == w.len() && g.iter().zip(w).all(|(g, w)| matches(g, w))
            }
            (J::Number(g), J::Number(w)) => g.as_f64() == w.as_f64(),
            _ => got == want,
        }
    }

    /// `tests/store-cases.json`: the cases the Redis script passes too.
    #[test]
    fn in_memory_store_passes_the_shared_cases() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/store-cases.json");
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let cases: J = serde_json::from_str(&text).unwrap_or(J::Null);
        let cases = cases.as_array().cloned().unwrap_or_default();
        assert!(
            cases.len() >= 10,
            "tests/store-cases.json has too few cases"
        );
        for case in cases {
            let name = case["name"].as_str().unwrap_or("?").to_string();
            // One store per namespace, as the Redis store keeps them apart.
            let mut stores: Vec<(String, Shared)> = Vec::new();
            let mut tickets = Vec::new();
            for (i, step) in case["steps"].as_array().into_iter().flatten().enumerate() {
                let op = op_of(&step["op"], &tickets);
                let ns = step["op"]["ns"].as_str().unwrap_or_default().to_string();
                let pos = match stores.iter().position(|(n, _)| *n == ns) {
                    Some(p) => p,
                    None => {
                        stores.push((ns, Shared::default()));
                        stores.len() - 1
                    }
                };
                let now = step["op"]["now"].as_f64().unwrap_or(0.0);
                let reply = stores[pos].1.apply(&op, now);
                let got = reply_json(&reply);
                tickets.push(match &reply {
                    Reply::Ticket(t) => t.clone(),
                    _ => String::new(),
                });
                assert!(
                    matches(&got, &step["reply"]),
                    "case {name:?}, step {i}: got {got}, want {}",
                    step["reply"]
                );
                // The reply reads back as the engine reads an external store's.
                let back = Reply::read(&op, &tv(got.clone()));
                assert_eq!(back.as_ref().ok(), Some(&reply), "case {name:?}, step {i}");
            }
        }
    }

    #[test]
    fn ops_are_written_with_hex_keys_and_no_text_of_the_lead() {
        let keys = Keys::new(Some("+919845317206"), Some("a@b.co"));
        let op = Op::Claim {
            leads: vec![keys],
            max: 5,
            window_ms: 60_000.0,
            dup_ms: 60_000.0,
        };
        let v = Tv::build(op.to_json("ns1", "00ff"));
        let text = v.json().to_string();
        assert!(
            !text.contains("9845317206") && !text.contains("a@b.co"),
            "{text}"
        );
        assert_eq!(v.get("op").string().as_deref(), Some("claim"));
        let first = v.get("leads").at(0).at(0).string().unwrap_or_default();
        assert_eq!(first.len(), 16);
        assert_eq!(u64::from_str_radix(&first, 16).ok(), keys.0[0]);
    }

    #[test]
    fn a_malformed_store_answer_is_an_error_not_a_guess() {
        let acquire = Op::Acquire {
            requests: 1,
            window_ms: 1.0,
            lease_ms: 1.0,
        };
        assert!(Reply::read(&acquire, &tv(json!("yes"))).is_err());
        assert!(Reply::read(&acquire, &tv(json!({}))).is_err());
        let claim = Op::Claim {
            leads: vec![Keys::new(Some("+1"), None)],
            max: 5,
            window_ms: 1.0,
            dup_ms: 1.0,
        };
        assert!(Reply::read(&claim, &tv(json!({ "leads": [] }))).is_err());
        assert!(Reply::read(&claim, &tv(json!({ "leads": [{ "key": 3 }] }))).is_err());
    }
}
