//! Traffic state shared per (base URL, project): the sliding-window rate limiter, the
//! duplicate guard and the key-block state. Time is always passed in (milliseconds), never
//! read, so every rule is tested with a fake clock.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

/// Extra room added to the window so that requests sent exactly one window apart do not
/// arrive inside the server's window because of network jitter.
pub const WINDOW_MARGIN_MS: f64 = 100.0;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateConfig {
    pub requests: u32,
    pub per_ms: f64,
}

/// A sliding-window log: a request may start at `t` only if fewer than `requests` started in
/// `(t - per_ms - margin, t]`. Slots are reserved in order, so concurrent callers queue fairly.
#[derive(Debug, Default)]
pub struct RateLimiter {
    starts: VecDeque<f64>,
}

impl RateLimiter {
    /// Reserves the earliest start time `>= now` for one request and returns it.
    pub fn reserve(&mut self, now: f64, cfg: RateConfig) -> f64 {
        let window = cfg.per_ms + WINDOW_MARGIN_MS;
        let n = cfg.requests.max(1) as usize;
        // Only the last `n` starts can hold a new one back, and none older than a window.
        while self.starts.len() > n || self.starts.front().is_some_and(|&s| s <= now - window) {
            self.starts.pop_front();
        }
        let mut t = now;
        if self.starts.len() >= n {
            if let Some(&blocker) = self.starts.front() {
                t = t.max(blocker + window);
            }
        }
        // Keep the log ordered: a later reservation never starts before an earlier one.
        if let Some(&last) = self.starts.back() {
            t = t.max(last);
        }
        self.starts.push_back(t);
        t
    }

    /// After a server 429 rate limit: nothing may start before `until`.
    pub fn push_back_until(&mut self, until: f64, cfg: RateConfig) {
        for _ in 0..cfg.requests.max(1) {
            self.starts.push_back(until - cfg.per_ms - WINDOW_MARGIN_MS);
        }
        let mut v: Vec<f64> = self.starts.drain(..).collect();
        v.sort_by(|a, b| a.total_cmp(b));
        self.starts = v.into();
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
}

impl Refusal {
    pub fn message(&self) -> String {
        match self {
            Refusal::Recent(key) => {
                let what = match key.split_once(':') {
                    Some(("phone", p)) => format!("the phone number {p}"),
                    Some(("email", e)) => format!("the email {e}"),
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
        }
    }
}

/// SDK.md "Duplicate guard". Keys are `phone:<E.164>` and `email:<lowercase>`.
#[derive(Debug, Default)]
pub struct DuplicateGuard {
    /// key -> time it was last submitted (in flight counts as submitted).
    sent: HashMap<String, f64>,
    rejections: VecDeque<f64>,
}

impl DuplicateGuard {
    fn prune(&mut self, now: f64, cfg: GuardConfig) {
        while self
            .rejections
            .front()
            .is_some_and(|&t| t <= now - cfg.window_ms)
        {
            self.rejections.pop_front();
        }
        if self.sent.len() > 4096 {
            self.sent.retain(|_, t| *t > now - cfg.window_ms);
        }
    }

    /// Rule 2 alone: may duplicate-prone requests be sent now?
    pub fn check_budget(&mut self, now: f64, cfg: GuardConfig) -> Result<(), Refusal> {
        self.prune(now, cfg);
        if self.rejections.len() >= cfg.max as usize {
            let oldest = self.rejections.front().copied().unwrap_or(now);
            let until = (oldest + cfg.window_ms - now).max(0.0);
            return Err(Refusal::TooManyRejections {
                until_ms: until.ceil() as u64,
            });
        }
        Ok(())
    }

    /// Rule 1 alone: was one of these keys submitted within the window (or is it in flight)?
    pub fn check_recent(&self, keys: &[String], now: f64, cfg: GuardConfig) -> Result<(), Refusal> {
        match keys
            .iter()
            .find(|k| self.sent.get(*k).is_some_and(|&t| t > now - cfg.window_ms))
        {
            Some(k) => Err(Refusal::Recent(k.clone())),
            None => Ok(()),
        }
    }

    /// Rules 1 and 2 for a lead with these keys.
    pub fn check(&mut self, keys: &[String], now: f64, cfg: GuardConfig) -> Result<(), Refusal> {
        self.check_budget(now, cfg)?;
        self.check_recent(keys, now, cfg)
    }

    /// The lead is being sent (or was accepted, or was rejected as a duplicate).
    pub fn mark_sent(&mut self, keys: &[String], now: f64) {
        for k in keys {
            self.sent.insert(k.clone(), now);
        }
    }

    /// The server refused the lead for another reason: its keys were not used up.
    pub fn release(&mut self, keys: &[String]) {
        for k in keys {
            self.sent.remove(k);
        }
    }

    /// The server rejected `count` leads as duplicates.
    pub fn record_rejections(&mut self, count: usize, now: f64) {
        for _ in 0..count {
            self.rejections.push_back(now);
        }
    }

    pub fn rejections_in_window(&mut self, now: f64, cfg: GuardConfig) -> usize {
        self.prune(now, cfg);
        self.rejections.len()
    }
}

/// Keys of a lead for the duplicate guard.
pub fn guard_keys(phone: Option<&str>, email: Option<&str>) -> Vec<String> {
    let mut keys = Vec::with_capacity(2);
    if let Some(p) = phone {
        keys.push(format!("phone:{p}"));
    }
    if let Some(e) = email {
        keys.push(format!("email:{e}"));
    }
    keys
}

/// Traffic state of one (base URL, project).
#[derive(Debug, Default)]
pub struct Shared {
    pub rate: RateLimiter,
    pub guard: DuplicateGuard,
    /// The key is blocked until this time (ms), as the server said.
    pub blocked_until: Option<f64>,
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

type Registry = HashMap<(String, String), Rc<RefCell<Shared>>>;

thread_local! {
    static REGISTRY: RefCell<Registry> = RefCell::new(HashMap::new());
}

/// The state for (base URL, project), shared by every client of this realm (JS realm = wasm instance).
pub fn shared_for(base_url: &str, project_id: &str) -> Rc<RefCell<Shared>> {
    let key = (
        base_url.trim_end_matches('/').to_string(),
        project_id.to_string(),
    );
    REGISTRY.with(|r| r.borrow_mut().entry(key).or_default().clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CFG: RateConfig = RateConfig {
        requests: 3,
        per_ms: 1000.0,
    };
    const W: f64 = 1000.0 + WINDOW_MARGIN_MS;

    #[test]
    fn sliding_window_never_lets_more_than_n_in_any_window() {
        let mut rl = RateLimiter::default();
        let starts: Vec<f64> = (0..10).map(|_| rl.reserve(0.0, CFG)).collect();
        assert_eq!(&starts[..3], &[0.0, 0.0, 0.0]);
        assert_eq!(&starts[3..6], &[W, W, W]);
        assert_eq!(&starts[6..9], &[2.0 * W, 2.0 * W, 2.0 * W]);
        for (i, s) in starts.iter().enumerate() {
            let in_window = starts.iter().filter(|t| **t > s - W && **t <= *s).count();
            assert!(
                in_window <= 3,
                "window ending at start {i} holds {in_window}"
            );
        }
    }

    #[test]
    fn no_boundary_burst_unlike_a_fixed_window() {
        // 3 at t=900, then at t=1001 a fixed window would allow 3 more: 6 within 101 ms.
        let mut rl = RateLimiter::default();
        for _ in 0..3 {
            assert_eq!(rl.reserve(900.0, CFG), 900.0);
        }
        assert_eq!(rl.reserve(1001.0, CFG), 900.0 + W);
    }

    #[test]
    fn window_slides_with_time() {
        let mut rl = RateLimiter::default();
        assert_eq!(rl.reserve(0.0, CFG), 0.0);
        assert_eq!(rl.reserve(400.0, CFG), 400.0);
        assert_eq!(rl.reserve(800.0, CFG), 800.0);
        // The 4th may start once the first leaves the window, not when the 3rd does.
        assert_eq!(rl.reserve(900.0, CFG), W);
        assert_eq!(rl.reserve(5000.0, CFG), 5000.0);
    }

    #[test]
    fn server_429_pushes_everything_back() {
        let mut rl = RateLimiter::default();
        rl.push_back_until(3000.0, CFG);
        assert_eq!(rl.reserve(0.0, CFG), 3000.0);
    }

    const G: GuardConfig = GuardConfig {
        max: 5,
        window_ms: 60_000.0,
    };

    #[test]
    fn guard_rule_one_recent_keys() {
        let mut g = DuplicateGuard::default();
        let k = guard_keys(Some("+919845317206"), Some("a@b.co"));
        assert!(g.check(&k, 0.0, G).is_ok());
        g.mark_sent(&k, 0.0);
        assert!(matches!(
            g.check(&k[..1], 59_999.0, G),
            Err(Refusal::Recent(_))
        ));
        assert!(g.check(&k, 60_000.0, G).is_ok(), "the window has passed");
        g.release(&k);
        assert!(g.check(&k, 1.0, G).is_ok(), "released keys are free again");
    }

    #[test]
    fn guard_rule_two_counts_rejections_in_window() {
        let mut g = DuplicateGuard::default();
        g.record_rejections(4, 0.0);
        assert!(g.check(&[], 10.0, G).is_ok());
        g.record_rejections(1, 10_000.0);
        assert_eq!(
            g.check(&[], 20_000.0, G),
            Err(Refusal::TooManyRejections { until_ms: 40_000 })
        );
        // The four oldest leave the window at 60 s.
        assert!(g.check(&[], 60_000.0, G).is_ok());
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
