//! Traffic state of one (base URL, project) in this realm: the sliding-window rate limiter, the
//! duplicate guard and the key-block state — the in-memory store, whose operations are in
//! `store.rs`. Time is always passed in (milliseconds), never read, so every rule is tested
//! with a fake clock.

use crate::core::hash::{hash_parts, HashedMap};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

/// Extra room added to the window for clock granularity between this client and the server.
pub const WINDOW_MARGIN_MS: f64 = 25.0;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateConfig {
    pub requests: u32,
    pub per_ms: f64,
}

/// Why a request may not start yet.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Wait {
    /// Try again at this time.
    Until(f64),
    /// Too many requests are in flight to know when: try again after one completes.
    ForCompletion,
}

/// A sliding-window limiter that counts the way the server does, conservatively. The server
/// counts a request when it arrives, somewhere between our send and our receipt of the answer,
/// so a request counts toward every window that overlaps `[start, end]`: in flight, it counts
/// until it ends; once ended, for `per_ms` after its end. A new request may start at `t` only
/// if fewer than `requests` requests count at `t`. This also holds when many requests leave at
/// once and reach the server late, which a log of start times alone gets wrong.
#[derive(Debug, Default)]
pub struct RateLimiter {
    /// `(ticket, end, lease)`: `end` is `None` while in flight; an entry in flight past its
    /// lease (its task was dropped unfinished) counts as ended at the lease's end.
    entries: Vec<(u64, Option<f64>, f64)>,
    next_ticket: u64,
}

/// Sorts ascending. By hand: `sort_unstable_by` links a 6 KB quicksort into the module for
/// this one short list.
fn heap_sort(v: &mut [f64]) {
    fn sift_down(v: &mut [f64], mut root: usize, end: usize) {
        let at = |v: &[f64], i: usize| v.get(i).copied().unwrap_or(f64::NAN);
        loop {
            let mut child = 2 * root + 1;
            if child >= end {
                return;
            }
            if child + 1 < end && at(v, child) < at(v, child + 1) {
                child += 1;
            }
            if at(v, root) >= at(v, child) {
                return;
            }
            v.swap(root, child);
            root = child;
        }
    }
    let n = v.len();
    for i in (0..n / 2).rev() {
        sift_down(v, i, n);
    }
    for end in (1..n).rev() {
        v.swap(0, end);
        sift_down(v, 0, end);
    }
}

impl RateLimiter {
    /// Takes a slot now and returns its ticket, or says how long to wait. `lease_ms`: how long
    /// the request may stay in flight before it counts as ended anyway.
    pub fn try_acquire(&mut self, now: f64, cfg: RateConfig, lease_ms: f64) -> Result<u64, Wait> {
        let window = cfg.per_ms + WINDOW_MARGIN_MS;
        for e in &mut self.entries {
            if e.1.is_none() && e.2 <= now {
                e.1 = Some(e.2);
            }
        }
        self.entries
            .retain(|(_, end, _)| end.is_none_or(|e| e > now - window));
        let n = cfg.requests.max(1) as usize;
        if self.entries.len() < n {
            self.next_ticket += 1;
            self.entries.push((self.next_ticket, None, now + lease_ms));
            return Ok(self.next_ticket);
        }
        // `excess` entries must leave the window first; in-flight ones leave only after ending.
        let excess = self.entries.len() - n + 1;
        let mut ends: Vec<f64> = self.entries.iter().filter_map(|(_, e, _)| *e).collect();
        if ends.len() < excess {
            return Err(Wait::ForCompletion);
        }
        heap_sort(&mut ends);
        Err(Wait::Until(
            ends.get(excess - 1).map_or(now, |e| e + window),
        ))
    }

    /// The request with this ticket got its answer (or failed) at `now`.
    /// (Also after its lease ran out and its entry left the window: it ended now after all.)
    pub fn complete(&mut self, ticket: u64, now: f64) {
        match self.entries.iter_mut().find(|(t, _, _)| *t == ticket) {
            Some(entry) => entry.1 = Some(now),
            None if ticket > 0 && ticket <= self.next_ticket => {
                self.entries.push((ticket, Some(now), now));
            }
            None => {}
        }
    }

    /// Counts a request another limiter let start (an external store's): should this one have
    /// to decide alone later, it knows what this process sent.
    pub fn record(&mut self, now: f64, cfg: RateConfig, lease_ms: f64) -> u64 {
        let window = cfg.per_ms + WINDOW_MARGIN_MS;
        self.entries
            .retain(|(_, end, lease)| end.unwrap_or(*lease) > now - window);
        self.next_ticket += 1;
        self.entries.push((self.next_ticket, None, now + lease_ms));
        self.next_ticket
    }

    /// The request with this ticket was never sent: its slot is free again.
    pub fn cancel(&mut self, ticket: u64) {
        self.entries.retain(|(t, _, _)| *t != ticket);
    }

    /// After a server 429 rate limit: nothing may start before `until`.
    pub fn block_until(&mut self, until: f64, cfg: RateConfig) {
        let window = cfg.per_ms + WINDOW_MARGIN_MS;
        for _ in 0..cfg.requests.max(1) {
            self.entries.push((0, Some(until - window), until));
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GuardConfig {
    pub max: u32,
    pub window_ms: f64,
}

/// Why the duplicate guard refused a lead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Rule 1: this phone/email was sent within the window (or is in flight).
    Recent(String),
    /// Rule 2: `max` server duplicate rejections are in the window already.
    TooManyRejections { until_ms: u64 },
    /// The lead exists in the project (its `which` key: phone, email, referenceId).
    Exists { which: usize, lead_id: String },
}

impl Refusal {
    pub fn message(&self) -> String {
        match self {
            Refusal::Recent(key) => {
                let what = match key.split_once(':') {
                    Some(("phone", p)) => format!("the phone number {p}"),
                    Some(("email", e)) => format!("the email {e}"),
                    Some(("ref", r)) => format!("the referenceId {r}"),
                    _ => key.clone(),
                };
                format!(
                    "Refused locally: {what} was already submitted recently; sending it again would count as a duplicate submission"
                )
            }
            Refusal::TooManyRejections { until_ms } => format!(
                "Refused locally: the server rejected too many duplicate submissions recently; \
                 sending more could block the API key (retry in {} s)",
                until_ms.div_ceil(1000)
            ),
            Refusal::Exists { which, lead_id } => format!(
                "Not sent: lead {lead_id} of this project has the same {}; the server would reject it as a duplicate submission",
                KEY_NAMES.get(*which).map_or("phone", |(_, text)| *text)
            ),
        }
    }
}

/// The names of the keys (the error's `details.key`) and their words in a message.
pub const KEY_NAMES: [(&str, &str); 3] = [
    ("phone", "phone number"),
    ("email", "email"),
    ("referenceId", "referenceId in its process"),
];

/// The duplicate guard's keys of a lead: hashes of `phone:<E.164>`, `email:<lowercase>` and
/// `ref:<processId>:<referenceId>` — what makes the server call a lead a duplicate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Keys(pub [Option<u64>; 3]);

impl Keys {
    pub fn new(phone: Option<&str>, email: Option<&str>) -> Keys {
        Keys([
            phone.map(|p| hash_parts(&["phone:", p])),
            email.map(|e| hash_parts(&["email:", e])),
            None,
        ])
    }

    /// With the referenceId (unique within its process).
    pub fn with_reference(mut self, process_id: &str, reference_id: Option<&str>) -> Keys {
        self.0[2] = reference_id.map(|r| hash_parts(&["ref:", process_id, ":", r]));
        self
    }

    /// Which of phone (0), email (1), referenceId (2) the `n`th present key is.
    pub fn which(&self, n: usize) -> usize {
        (0..3)
            .filter(|&i| self.0.get(i).is_some_and(Option::is_some))
            .nth(n)
            .unwrap_or(0)
    }

    /// The hashes it has.
    pub fn each(&self) -> impl Iterator<Item = u64> + '_ {
        self.0.iter().flatten().copied()
    }
}

/// Rule 1's refusal of a lead whose phone (`which == 0`), email (1) or referenceId (2) was
/// submitted recently.
pub fn recent(
    which: usize,
    phone: Option<&str>,
    email: Option<&str>,
    reference: Option<&str>,
) -> Refusal {
    Refusal::Recent(match (which, phone, email, reference) {
        (0, Some(p), _, _) => format!("phone:{p}"),
        (1, _, Some(e), _) => format!("email:{e}"),
        (_, _, _, Some(r)) => format!("ref:{r}"),
        _ => String::new(),
    })
}

/// docs/sdk.md "Duplicate guard". Keys are `phone:<E.164>` and `email:<lowercase>`, kept as hashes.
#[derive(Debug, Default)]
pub struct DuplicateGuard {
    /// key hash -> time it was last submitted (in flight counts as submitted).
    sent: HashedMap<f64>,
    rejections: VecDeque<f64>,
}

impl DuplicateGuard {
    /// Forgets keys older than the window, amortised ([`HashedMap::prune`]).
    fn prune_sent(&mut self, now: f64, window_ms: f64) {
        self.sent.prune(|_, t| *t > now - window_ms);
    }

    /// The lead is being sent (or was accepted, or was rejected as a duplicate).
    pub fn mark_sent(&mut self, keys: &Keys, now: f64) {
        for k in keys.each() {
            self.sent.insert(k, now);
        }
    }

    /// The server refused the lead for another reason: its keys were not used up.
    pub fn release(&mut self, keys: &Keys) {
        for k in keys.each() {
            self.sent.remove(&k);
        }
    }

    /// The server rejected `count` leads as duplicates.
    pub fn record_rejections(&mut self, count: usize, now: f64) {
        for _ in 0..count {
            self.rejections.push_back(now);
        }
    }

    /// Rejections within `window_ms` before `now`.
    pub fn rejections_in(&mut self, now: f64, window_ms: f64) -> usize {
        while self
            .rejections
            .front()
            .is_some_and(|&t| t <= now - window_ms)
        {
            self.rejections.pop_front();
        }
        self.rejections.len()
    }

    pub fn oldest_rejection(&self) -> Option<f64> {
        self.rejections.front().copied()
    }

    /// Which of the lead's present keys (counting from 0) was submitted within `dup_ms`.
    pub fn recent_key(&mut self, keys: &Keys, now: f64, dup_ms: f64) -> Option<usize> {
        self.prune_sent(now, dup_ms);
        keys.each()
            .position(|k| self.sent.get(&k).is_some_and(|&t| t > now - dup_ms))
    }
}

/// Traffic state of one (base URL, project).
#[derive(Debug, Default)]
pub struct Shared {
    pub rate: RateLimiter,
    pub guard: DuplicateGuard,
    /// The key is blocked until this time (ms), as the server said.
    pub blocked_until: Option<f64>,
    /// Leads created, by key (only when the client remembers them: `knownMs`).
    pub known: crate::core::store::Known,
    /// An external store's health, as this realm saw it.
    pub external: crate::core::store::Health,
}

impl Shared {
    pub fn blocked_for(&mut self, now: f64) -> Option<f64> {
        match self.blocked_until {
            Some(t) if t > now => Some(t - now),
            Some(_) => {
                self.blocked_until = None;
                None
            }
            None => None,
        }
    }
}

/// `(base URL, project)` and its state; a realm has a handful of them.
type Registry = Vec<((String, String), Rc<RefCell<Shared>>)>;

thread_local! {
    static REGISTRY: RefCell<Registry> = const { RefCell::new(Vec::new()) };
}

/// The state for (base URL, project), shared by every client of this realm (JS realm = wasm instance).
pub fn shared_for(base_url: &str, project_id: &str) -> Rc<RefCell<Shared>> {
    let key = (
        base_url.trim_end_matches('/').to_string(),
        project_id.to_string(),
    );
    REGISTRY.with(|r| {
        let mut r = r.borrow_mut();
        if let Some((_, s)) = r.iter().find(|(k, _)| *k == key) {
            return s.clone();
        }
        let s = Rc::<RefCell<Shared>>::default();
        r.push((key, s.clone()));
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heap_sort_sorts() {
        let mut seed = 7u64;
        for n in 0..40 {
            let mut v: Vec<f64> = (0..n)
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                    (seed >> 40) as f64 % 13.0
                })
                .collect();
            let mut want = v.clone();
            want.sort_by(f64::total_cmp);
            heap_sort(&mut v);
            assert_eq!(v, want);
        }
    }

    const CFG: RateConfig = RateConfig {
        requests: 3,
        per_ms: 1000.0,
    };
    const W: f64 = 1000.0 + WINDOW_MARGIN_MS;

    /// Runs requests that each take `latency` and start as early as the limiter allows.
    fn schedule(rl: &mut RateLimiter, count: usize, latency: f64) -> Vec<f64> {
        let mut now = 0.0;
        let mut starts = Vec::new();
        let mut in_flight: Vec<(u64, f64)> = Vec::new();
        while starts.len() < count {
            match rl.try_acquire(now, CFG, 1e12) {
                Ok(t) => {
                    starts.push(now);
                    in_flight.push((t, now + latency));
                }
                Err(wait) => {
                    // Advance to the next event: a wait's end or a completion.
                    let next_end = in_flight.iter().map(|(_, e)| *e).fold(f64::MAX, f64::min);
                    now = match wait {
                        Wait::Until(t) => t.min(next_end),
                        Wait::ForCompletion => next_end,
                    };
                }
            }
            in_flight.retain(|(t, e)| {
                if *e <= now {
                    rl.complete(*t, *e);
                    false
                } else {
                    true
                }
            });
        }
        starts
    }

    #[test]
    fn never_more_than_n_in_any_window_even_counting_latency() {
        let mut rl = RateLimiter::default();
        let starts = schedule(&mut rl, 10, 200.0);
        assert_eq!(&starts[..3], &[0.0, 0.0, 0.0]);
        // The 4th waits for the 1st to end (200) and a window to pass.
        assert_eq!(starts[3], 200.0 + W);
        for &t in &starts {
            // Arrivals may be anywhere in [start, start + 200]: count every request whose
            // interval meets the window ending at t.
            let n = starts
                .iter()
                .filter(|&&s| s + 200.0 > t - 1000.0 && s <= t)
                .count();
            assert!(
                n <= 3,
                "{n} requests may have arrived within one window ending at {t}"
            );
        }
    }

    #[test]
    fn no_boundary_burst_unlike_a_fixed_window() {
        let mut rl = RateLimiter::default();
        for _ in 0..3 {
            let t = rl.try_acquire(900.0, CFG, 1e12).unwrap();
            rl.complete(t, 900.0);
        }
        // A fixed window starting at 1000 would let 3 more through at 1001.
        assert_eq!(
            rl.try_acquire(1001.0, CFG, 1e12),
            Err(Wait::Until(900.0 + W))
        );
    }

    #[test]
    fn window_slides_with_time() {
        let mut rl = RateLimiter::default();
        for at in [0.0, 400.0, 800.0] {
            let t = rl.try_acquire(at, CFG, 1e12).unwrap();
            rl.complete(t, at);
        }
        // The 4th may start once the first leaves the window, not when the 3rd does.
        assert_eq!(rl.try_acquire(900.0, CFG, 1e12), Err(Wait::Until(W)));
        assert!(rl.try_acquire(W, CFG, 1e12).is_ok());
    }

    #[test]
    fn requests_in_flight_hold_their_slot_until_they_end() {
        let mut rl = RateLimiter::default();
        let tickets: Vec<u64> = (0..3)
            .map(|_| rl.try_acquire(0.0, CFG, 1e12).unwrap())
            .collect();
        assert_eq!(rl.try_acquire(5000.0, CFG, 1e12), Err(Wait::ForCompletion));
        rl.complete(tickets[1], 5000.0);
        assert_eq!(
            rl.try_acquire(5000.0, CFG, 1e12),
            Err(Wait::Until(5000.0 + W))
        );
    }

    #[test]
    fn server_429_blocks_until_retry_after() {
        let mut rl = RateLimiter::default();
        rl.block_until(3000.0, CFG);
        assert_eq!(rl.try_acquire(0.0, CFG, 1e12), Err(Wait::Until(3000.0)));
        assert!(rl.try_acquire(3000.0, CFG, 1e12).is_ok());
    }

    #[test]
    fn guard_rule_one_recent_keys() {
        let mut g = DuplicateGuard::default();
        let k = Keys::new(Some("+919845317206"), Some("a@b.co"));
        assert_eq!(g.recent_key(&k, 0.0, 60_000.0), None);
        g.mark_sent(&k, 0.0);
        let phone_only = Keys::new(Some("+919845317206"), None);
        assert_eq!(g.recent_key(&phone_only, 59_999.0, 60_000.0), Some(0));
        let email_only = Keys::new(None, Some("a@b.co"));
        assert_eq!(g.recent_key(&email_only, 59_999.0, 60_000.0), Some(0));
        assert_eq!(email_only.which(0), 1, "its first key is an email");
        assert_eq!(
            g.recent_key(&k, 60_000.0, 60_000.0),
            None,
            "the window has passed"
        );
        g.release(&k);
        assert_eq!(
            g.recent_key(&k, 1.0, 60_000.0),
            None,
            "released keys are free again"
        );
        assert_eq!(
            recent(0, Some("+919845317206"), None, None).message(),
            "Refused locally: the phone number +919845317206 was already submitted recently; sending it again would count as a duplicate submission"
        );
    }

    #[test]
    fn guard_rule_two_counts_rejections_in_window() {
        let mut g = DuplicateGuard::default();
        g.record_rejections(4, 0.0);
        assert_eq!(g.rejections_in(10.0, 60_000.0), 4);
        g.record_rejections(1, 10_000.0);
        assert_eq!(g.rejections_in(20_000.0, 60_000.0), 5);
        assert_eq!(g.oldest_rejection(), Some(0.0));
        // The four oldest leave the window at 60 s.
        assert_eq!(g.rejections_in(60_000.0, 60_000.0), 1);
    }

    #[test]
    fn block_expires() {
        let mut s = Shared {
            blocked_until: Some(1000.0),
            ..Default::default()
        };
        assert_eq!(s.blocked_for(400.0), Some(600.0));
        assert_eq!(s.blocked_for(1000.0), None);
        assert_eq!(s.blocked_until, None);
    }

    #[test]
    fn registry_shares_per_base_and_project() {
        let a = shared_for("http://x/api/v1/", "p");
        let b = shared_for("http://x/api/v1", "p");
        let c = shared_for("http://x/api/v1", "q");
        assert!(Rc::ptr_eq(&a, &b));
        assert!(!Rc::ptr_eq(&a, &c));
    }
}
