//! The orchestration of every docs/sdk.md method as sans-IO state machines: a `Task` says which
//! HTTP requests to start and when to be woken, and is told how each one ended; between those
//! events it decides everything (key block, rate limit, retries, reconciliation, the duplicate
//! guard, bulk accounting). No JS and no async here: the wasm edge's driver performs the
//! requests, timers and operations of an external traffic store; the native tests drive tasks
//! with a fake clock, transport and store.

use crate::core::api::{self, BulkAnswer, HttpRequest, HttpResponse, LeadQuery, Page, Target};
use crate::core::bulk::{Outcome, Progress};
use crate::core::error::{self, Code, VoxError};
use crate::core::hash::{self, id_key, IdSet};
use crate::core::lead::{self, PreparedLead};
use crate::core::limits::{self, GuardConfig, Keys, RateConfig, Refusal, Shared, WINDOW_MARGIN_MS};
use crate::core::options::{object_id, Changes};
use crate::core::retry::{self, Decision, Kind};
use crate::core::store::{self, Mode, Op as StoreOp, Reply, Settled};
use crate::core::value::{Json, Parts, Value};
use std::cell::RefCell;
use std::rc::Rc;

pub use crate::core::bulk_task::BulkTask;

pub const DEFAULT_BASE_URL: &str = "https://crm.uservox.ai/api/v1";

/// How often a request that waits for another to complete (rate limit) looks again.
const COMPLETION_POLL_MS: f64 = 20.0;

/// A slot's lease beyond the attempt's timeout.
const LEASE_SLACK_MS: f64 = 1000.0;

/// How one attempt failed without an HTTP answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransportError {
    /// The attempt took longer than its timeout (and was cancelled).
    Timeout,
    /// The connection was refused: nothing reached the server.
    Refused(String),
    /// Any other failure without an answer (reset, DNS, CORS...).
    Network(String),
    /// The caller's signal aborted the attempt.
    Aborted,
    /// No request could be made at all (no `fetch` in this runtime).
    Unavailable(String),
    /// The answer's body was longer than [`api::MAX_BODY_BYTES`] (the driver stopped reading).
    TooLarge,
}

impl TransportError {
    /// The failure a driver reports by name: "timeout", "aborted", "refused", "unavailable" (no
    /// `fetch` to call), "too_large" or "network".
    pub fn from_kind(kind: &str, message: String) -> Self {
        match kind {
            "timeout" => TransportError::Timeout,
            "too_large" => TransportError::TooLarge,
            "aborted" => TransportError::Aborted,
            "refused" => TransportError::Refused(message),
            "unavailable" => TransportError::Unavailable(
                "This runtime has no global fetch: pass options.fetch".into(),
            ),
            _ => TransportError::Network(message),
        }
    }
}

/// docs/sdk.md "Log events".
#[derive(Clone, Debug, PartialEq)]
pub struct LogEvent {
    pub kind: &'static str,
    pub method: Option<&'static str>,
    pub path: Option<&'static str>,
    pub status: Option<u16>,
    pub attempt: Option<u32>,
    pub duration_ms: Option<f64>,
    pub message: Option<String>,
}

impl LogEvent {
    pub(crate) fn new(kind: &'static str) -> Self {
        LogEvent {
            kind,
            method: None,
            path: None,
            status: None,
            attempt: None,
            duration_ms: None,
            message: None,
        }
    }

    fn for_request<V>(kind: &'static str, req: &HttpRequest<V>, attempt: u32) -> Self {
        LogEvent {
            method: Some(req.method.as_str()),
            path: Some(req.path),
            attempt: Some(attempt),
            ..LogEvent::new(kind)
        }
    }

    pub fn to_json<V>(&self) -> Json<V> {
        let mut m = vec![("type", Json::text(self.kind))];
        if let Some(v) = self.method {
            m.push(("method", Json::text(v)));
        }
        if let Some(v) = self.path {
            m.push(("path", Json::text(v)));
        }
        if let Some(v) = self.status {
            m.push(("status", Json::Number(f64::from(v))));
        }
        if let Some(v) = self.attempt {
            m.push(("attempt", Json::Number(f64::from(v))));
        }
        if let Some(v) = self.duration_ms {
            m.push(("durationMs", Json::Number(v)));
        }
        if let Some(v) = &self.message {
            m.push(("message", Json::text(v.as_str())));
        }
        Json::Object(m)
    }
}

impl Progress {
    pub fn to_json<V>(self) -> Json<V> {
        let n = |x: usize| Json::Number(x as f64);
        Json::Object(vec![
            ("done", n(self.done)),
            ("total", n(self.total)),
            ("created", n(self.created)),
            ("failed", n(self.failed)),
            ("unknown", n(self.unknown)),
        ])
    }
}

/// One HTTP attempt for the driver to make.
#[derive(Clone, Debug)]
pub struct Outgoing<V> {
    /// The task's id for it: its result goes back with [`Task::deliver`].
    pub id: u32,
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<Parts<V>>,
    pub timeout_ms: f64,
}

/// The effects a task needs while it steps, supplied per call (the call's signal, progress
/// callback and bulk report live in the host).
pub trait Host {
    type V: Value;
    /// Milliseconds of a monotonic clock: every wait and window is measured on it.
    fn now_ms(&self) -> f64;
    /// Milliseconds since 1970 by the wall clock, read only to turn a `Retry-After` date into
    /// a wait (NaN when there is none).
    fn wall_ms(&self) -> f64 {
        f64::NAN
    }
    /// In [0, 1).
    fn random(&self) -> f64;
    fn aborted(&self) -> bool;
    fn log(&self, event: &LogEvent);
    fn progress(&self, _progress: Progress) {}
    /// The outcome of bulk input `index` (each input gets exactly one).
    fn outcome(&self, _index: usize, _outcome: Outcome<Self::V>) {}
}

#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub base_url: String,
    pub project_id: String,
    pub token: Option<String>,
    pub timeout_ms: f64,
    pub max_retries: u32,
    pub default_region: String,
    pub rate: Option<RateConfig>,
    pub guard: Option<GuardConfig>,
    pub store: StoreConfig,
}

/// Where the traffic state lives (docs/store.md).
#[derive(Clone, Debug, PartialEq)]
pub struct StoreConfig {
    /// An external store (the caller's `store` option) rather than the in-memory one.
    pub external: bool,
    /// The share of the limits this process keeps to while the external store fails.
    pub share: f64,
    /// How long the ids of created leads are remembered (0: not at all).
    pub known_ms: f64,
    /// How long the driver waits for the external store's answer.
    pub timeout_ms: f64,
}

impl StoreConfig {
    pub const KNOWN_MS: f64 = 30.0 * 24.0 * 3_600_000.0;

    pub fn in_memory() -> Self {
        StoreConfig {
            external: false,
            share: 0.25,
            known_ms: 0.0,
            timeout_ms: 1000.0,
        }
    }
}

impl Config {
    pub fn new(project_id: &str) -> Self {
        Config {
            base_url: DEFAULT_BASE_URL.to_string(),
            project_id: project_id.to_string(),
            token: None,
            timeout_ms: 30_000.0,
            max_retries: 2,
            default_region: "IN".to_string(),
            rate: Some(RateConfig {
                requests: 100,
                per_ms: 5000.0,
            }),
            guard: Some(GuardConfig {
                max: 5,
                window_ms: 60_000.0,
            }),
            store: StoreConfig::in_memory(),
        }
    }

    /// Removes the token from text that leaves the library (a server or a proxy may echo it).
    pub fn scrub(&self, text: &str) -> String {
        match &self.token {
            Some(t) if t.len() >= 4 && error::has(text, t) => {
                let mut out = String::with_capacity(text.len());
                let mut rest = text;
                while let Some(at) = rest
                    .as_bytes()
                    .windows(t.len())
                    .position(|w| w == t.as_bytes())
                {
                    out.push_str(rest.get(..at).unwrap_or_default());
                    out.push_str("[token]");
                    rest = rest.get(at + t.len()..).unwrap_or_default();
                }
                out.push_str(rest);
                // A number glued to the token was no number to the masking before.
                error::mask_phones_in_text(&out)
            }
            _ => text.to_string(),
        }
    }

    pub(crate) fn scrubbed(&self, mut e: VoxError) -> VoxError {
        e.message = self.scrub(&e.message);
        e
    }
}

/// A client: its configuration and the traffic state it shares with every other client for
/// the same (base URL, project).
pub struct Client {
    pub cfg: Config,
    shared: Rc<RefCell<Shared>>,
    /// The store's namespace for this (base URL, project) and the salt of its key hashes.
    ns: String,
    salt: String,
}

/// A failed request: the error, and whether a write may have been processed anyway.
pub(crate) struct Failure {
    pub err: VoxError,
    pub ambiguous: bool,
}

impl Failure {
    fn fail(err: VoxError) -> Self {
        Failure {
            err,
            ambiguous: false,
        }
    }
}

fn aborted_error() -> VoxError {
    VoxError::new(Code::Aborted, "The operation was aborted")
}

fn refusal_error(r: &Refusal) -> VoxError {
    let e = VoxError::new(Code::DuplicateSubmission, r.message());
    match r {
        Refusal::TooManyRejections { until_ms } => e.with_retry_after(Some(*until_ms as f64)),
        Refusal::Recent(_) => e,
        Refusal::Exists { which, lead_id } => e.with_details(error::Details::Existing {
            lead_id: lead_id.clone(),
            key: limits::KEY_NAMES.get(*which).map_or("phone", |(k, _)| *k),
        }),
    }
}

// ---- tasks: the driver's view -------------------------------------------------------------

/// What a task needs after a step.
#[derive(Debug)]
pub enum Step<V> {
    /// Waiting for the requests it started (see [`Task::take_sends`]) or until `wake`
    /// (monotonic ms), whichever comes first; the driver steps it again then.
    Pending {
        wake: Option<f64>,
    },
    Done(Result<V, VoxError>),
}

impl<V> Step<V> {
    /// What a driver is told after a step: `{ sends, wake }` (the requests to start, the ms
    /// until the next step, -1 for none) while the task runs, `{ done: true, value }` at the end.
    /// With `stores`: the store operations to start (`{ id, op, timeoutMs }`, beside the
    /// store itself, which the edge adds), when there are any.
    pub fn to_json(sends: Vec<V>, stores: Vec<Json<V>>, wake: Option<f64>, now: f64) -> Json<V> {
        let mut m = vec![
            (
                "sends",
                Json::Array(sends.into_iter().map(Json::Value).collect()),
            ),
            (
                "wake",
                Json::Number(wake.map_or(-1.0, |t| (t - now).max(0.0))),
            ),
        ];
        if !stores.is_empty() {
            m.push(("stores", Json::Array(stores)));
        }
        Json::Object(m)
    }

    /// With `stores`: what the store is still told (no answer awaited) as the task ends.
    pub fn done_json(value: V, stores: Vec<Json<V>>) -> Json<V> {
        let mut m = vec![("done", Json::Bool(true)), ("value", Json::Value(value))];
        if !stores.is_empty() {
            m.push(("stores", Json::Array(stores)));
        }
        Json::Object(m)
    }
}

/// One operation for an external store (docs/store.md): the driver calls the store's
/// `apply(op)` and hands the answer back with [`Task::deliver_store`] (none for `id` 0: the
/// task does not wait for it).
#[derive(Clone, Debug)]
pub struct StoreCall<V> {
    pub id: u32,
    pub op: Json<V>,
    pub timeout_ms: f64,
}

impl<V> StoreCall<V> {
    /// `{ id, op, timeoutMs, store }` for the driver.
    pub fn into_json(self, store: V) -> Json<V> {
        Json::Object(vec![
            ("id", Json::Number(f64::from(self.id))),
            ("op", self.op),
            ("timeoutMs", Json::Number(self.timeout_ms)),
            ("store", Json::Value(store)),
        ])
    }
}

/// The requests and timer of one task, and the results delivered to it.
pub(crate) struct Io<V> {
    sends: Vec<Outgoing<V>>,
    results: Vec<(u32, Result<HttpResponse<V>, TransportError>)>,
    store_calls: Vec<StoreCall<V>>,
    store_results: Vec<(u32, Result<V, String>)>,
    wake: Option<f64>,
    next_id: u32,
    /// HTTP requests made by the task.
    pub requests: u32,
}

/// One SDK call in progress.
pub struct Task<V> {
    op: Op<V>,
    io: Io<V>,
}

enum Op<V> {
    Failed(Option<VoxError>),
    Ready(Option<V>),
    Read(Request<V>),
    Initiate(Box<Initiate<V>>),
    Bulk(Box<BulkTask<V>>),
    Page(Box<PageTask<V>>),
}

impl<V: Value> Task<V> {
    fn new(op: Op<V>) -> Self {
        Task {
            op,
            io: Io {
                sends: Vec::new(),
                results: Vec::new(),
                store_calls: Vec::new(),
                store_results: Vec::new(),
                wake: None,
                next_id: 0,
                requests: 0,
            },
        }
    }

    /// A task that fails with `e` (refused before any request).
    pub fn failed(e: VoxError) -> Self {
        Task::new(Op::Failed(Some(e)))
    }

    /// A task whose value is `v` (nothing to do).
    pub fn done(v: V) -> Self {
        Task::new(Op::Ready(Some(v)))
    }

    /// Advances as far as the results delivered so far allow.
    pub fn step<H: Host<V = V>>(&mut self, client: &Client, host: &H) -> Step<V> {
        self.io.wake = None;
        let mut cx = Cx {
            client,
            host,
            io: &mut self.io,
        };
        let done = match &mut self.op {
            Op::Failed(e) => Some(Err(e.take().unwrap_or_else(aborted_error))),
            Op::Ready(v) => Some(v.take().ok_or_else(aborted_error)),
            Op::Read(r) => match r.poll(&mut cx) {
                Poll::Pending => None,
                Poll::Ready(r) => Some(r.map(Answer::into_value).map_err(|f| f.err)),
            },
            Op::Initiate(i) => i.poll(&mut cx),
            Op::Bulk(b) => b.poll(&mut cx),
            Op::Page(p) => p.poll(&mut cx),
        };
        match done {
            Some(r) => Step::Done(r.map_err(|e| client.cfg.scrubbed(e))),
            None => Step::Pending { wake: self.io.wake },
        }
    }

    /// The requests the last step started.
    pub fn take_sends(&mut self) -> Vec<Outgoing<V>> {
        std::mem::take(&mut self.io.sends)
    }

    /// How request `id` ended.
    pub fn deliver(&mut self, id: u32, result: Result<HttpResponse<V>, TransportError>) {
        self.io.results.push((id, result));
    }

    /// The store operations the last step started.
    pub fn take_store_calls(&mut self) -> Vec<StoreCall<V>> {
        std::mem::take(&mut self.io.store_calls)
    }

    /// The external store's answer to operation `id`, or why there is none.
    pub fn deliver_store(&mut self, id: u32, result: Result<V, String>) {
        self.io.store_results.push((id, result));
    }
}

/// A store's answer: at once (the in-memory store, or the local limits), or later.
pub(crate) enum Asked {
    Ready(Reply),
    Pending(u32),
}

/// The slots a request holds: one of the local limiter's, one of the external store's.
#[derive(Clone, Debug, Default)]
pub(crate) struct Tickets {
    local: Option<u64>,
    store: Option<String>,
}

/// What a state machine sees while it steps.
pub(crate) struct Cx<'a, H: Host> {
    pub client: &'a Client,
    pub host: &'a H,
    io: &'a mut Io<H::V>,
}

impl<H: Host> Cx<'_, H> {
    pub fn cfg(&self) -> &Config {
        &self.client.cfg
    }

    pub fn now(&self) -> f64 {
        self.host.now_ms()
    }

    pub fn shared(&self) -> std::cell::RefMut<'_, Shared> {
        self.client.shared.borrow_mut()
    }

    pub fn requests(&self) -> u32 {
        self.io.requests
    }

    /// How the traffic state is decided now.
    pub fn mode(&self) -> Mode {
        if !self.cfg().store.external {
            return Mode::Local;
        }
        self.shared().external.mode(self.now())
    }

    fn local_op(&self, op: &StoreOp, mode: Mode) -> StoreOp {
        match mode {
            Mode::Local | Mode::External => op.clone(),
            Mode::Probation | Mode::Down => store::conservative(op, self.cfg().store.share),
        }
    }

    /// Applies `op` to the local state (with the conservative limits unless it is the store).
    pub fn apply_local(&self, op: &StoreOp) -> Reply {
        let op = self.local_op(op, self.mode());
        let now = self.now();
        self.shared().apply(&op, now)
    }

    /// Asks the store for a decision.
    pub fn ask(&mut self, op: &StoreOp) -> Asked {
        match self.mode() {
            Mode::Local | Mode::Down => Asked::Ready(self.apply_local(op)),
            Mode::External | Mode::Probation => Asked::Pending(self.push_store(op, true)),
        }
    }

    /// A decision of the store that a state machine waits for: asked at the first poll (`call`
    /// then remembers the question), `Some` once the answer is here.
    pub fn await_store(&mut self, call: &mut Option<u32>, op: &StoreOp) -> Option<Reply> {
        match *call {
            None => match self.ask(op) {
                Asked::Ready(r) => Some(r),
                Asked::Pending(id) => {
                    *call = Some(id);
                    None
                }
            },
            Some(id) => self.answer(id, op).map(|(r, _)| r),
        }
    }

    fn push_store(&mut self, op: &StoreOp, answer: bool) -> u32 {
        let id = if answer {
            self.io.next_id += 1;
            self.io.next_id
        } else {
            0
        };
        let client = self.client;
        self.io.store_calls.push(StoreCall {
            id,
            op: op.to_json(&client.ns, &client.salt),
            timeout_ms: client.cfg.store.timeout_ms,
        });
        id
    }

    /// The answer to store call `id` (asked with `op`) once it is here, and whether the store
    /// gave it; when the store failed, the local state's conservative answer.
    pub fn answer(&mut self, id: u32, op: &StoreOp) -> Option<(Reply, bool)> {
        let i = self.io.store_results.iter().position(|(r, _)| *r == id)?;
        let (_, result) = self.io.store_results.swap_remove(i);
        let now = self.now();
        match result.and_then(|v| Reply::read(op, &v)) {
            Ok(reply) => {
                let recovered = {
                    let mut s = self.shared();
                    let was_down = std::mem::take(&mut s.external.down);
                    if was_down {
                        let window = self.cfg().rate.map_or(0.0, |r| r.per_ms) + WINDOW_MARGIN_MS;
                        s.external.probation_until = Some(now + window);
                    }
                    was_down
                };
                if recovered {
                    self.log(LogEvent {
                        message: Some("The traffic store answers again; its limits apply (beside the local ones for one window)".into()),
                        ..LogEvent::new("store_recovered")
                    });
                }
                Some((reply, true))
            }
            Err(why) => {
                let first = {
                    let mut s = self.shared();
                    s.external.down_until = Some(now + store::RETRY_STORE_MS);
                    !std::mem::replace(&mut s.external.down, true)
                };
                if first {
                    self.log(LogEvent {
                        message: Some(format!(
                            "The traffic store failed ({why}); keeping to {}% of the limits in this process until it answers again",
                            (self.cfg().store.share * 100.0).round() as u32
                        )),
                        ..LogEvent::new("store_unavailable")
                    });
                }
                let op = store::conservative(op, self.cfg().store.share);
                let reply = self.shared().apply(&op, now);
                Some((reply, false))
            }
        }
    }

    /// Tells the store (and the local state) what happened; no answer is awaited.
    pub fn tell(&mut self, mut op: StoreOp) {
        if matches!(self.mode(), Mode::External | Mode::Probation) {
            self.push_store(&op, false);
        }
        if let StoreOp::Settle { known_ms, .. } = &mut op {
            // The in-memory copy beside an external store does not hold the index of leads.
            if self.cfg().store.external {
                *known_ms = 0.0;
            }
        }
        let now = self.now();
        self.shared().apply(&op, now);
    }

    /// The request holding `tickets` ended now.
    fn complete(&mut self, tickets: &Tickets, window_ms: f64) {
        if let Some(t) = tickets.local {
            let now = self.now();
            self.shared().rate.complete(t, now);
        }
        if let Some(ticket) = &tickets.store {
            if self.cfg().store.external {
                let op = StoreOp::Complete {
                    ticket: ticket.clone(),
                    window_ms,
                };
                self.push_store(&op, false);
            }
        }
    }

    /// Be stepped again at `t` at the latest.
    pub fn wake_at(&mut self, t: f64) {
        self.io.wake = Some(self.io.wake.map_or(t, |w| w.min(t)));
    }

    /// Hands a log event to the host, its message scrubbed of the token.
    pub fn log(&self, mut event: LogEvent) {
        if let Some(m) = &event.message {
            event.message = Some(self.cfg().scrub(m));
        }
        self.host.log(&event);
    }

    pub fn refused(&self, refusal: &Refusal) -> VoxError {
        let err = refusal_error(refusal);
        self.log(LogEvent {
            message: Some(err.message.clone()),
            ..LogEvent::new("duplicate_refused")
        });
        err
    }

    /// The guard's claim of the keys of `leads` (none without the guard).
    pub fn claim_op(&self, leads: Vec<Keys>) -> Option<StoreOp> {
        let g = self.cfg().guard?;
        Some(StoreOp::Claim {
            leads,
            max: g.max,
            window_ms: g.window_ms,
            dup_ms: g.window_ms,
        })
    }

    /// After the server answered for leads: their keys stay marked when they were created (and
    /// the store learns which lead has them) or rejected as duplicates (counted), and are
    /// freed when refused for another reason.
    pub fn settle(&mut self, leads: Vec<(Keys, Settled)>) {
        let Some(g) = self.cfg().guard else {
            return;
        };
        if leads.is_empty() {
            return;
        }
        let op = StoreOp::Settle {
            leads,
            dup_ms: g.window_ms,
            window_ms: g.window_ms,
            known_ms: self.cfg().store.known_ms,
        };
        self.tell(op);
    }

    /// Starts an attempt of `req`; returns its id.
    fn send(&mut self, req: &HttpRequest<H::V>) -> u32 {
        let cfg = &self.client.cfg;
        let mut headers = vec![("Accept", "application/json".to_string())];
        if req.body.is_some() {
            headers.push(("Content-Type", "application/json".to_string()));
        }
        if let Some(t) = &cfg.token {
            headers.push(("Authorization", format!("Bearer {t}")));
        }
        self.io.next_id += 1;
        self.io.requests += 1;
        let id = self.io.next_id;
        self.io.sends.push(Outgoing {
            id,
            method: req.method.as_str(),
            url: format!("{}{}", cfg.base_url, req.path_and_query()),
            headers,
            body: req.body.clone(),
            timeout_ms: cfg.timeout_ms,
        });
        id
    }

    fn take(&mut self, id: u32) -> Option<Result<HttpResponse<H::V>, TransportError>> {
        let i = self.io.results.iter().position(|(r, _)| *r == id)?;
        Some(self.io.results.swap_remove(i).1)
    }
}

pub(crate) enum Poll<T> {
    Pending,
    Ready(T),
}

/// How a lead's submission ended, for the store: created (as the lead `lead`), or refused with
/// the server's `reason` (a duplicate, or another: empty when not the server's).
pub(crate) fn settled<V: Value>(result: Result<&V, &str>) -> Settled {
    match result {
        Ok(lead) => Settled::Created(lead.get("_id").string().unwrap_or_default()),
        Err(reason) if error::is_duplicate_reason(reason) => Settled::Duplicate,
        Err(_) => Settled::Release,
    }
}

/// The refusal a claim's answer for one lead means, if any.
pub(crate) fn claim_refusal(
    keys: &Keys,
    claimed: &store::Claimed,
    texts: [Option<&str>; 3],
) -> Option<Refusal> {
    let [phone, email, reference] = texts;
    match claimed {
        store::Claimed::Ok => None,
        store::Claimed::Known(n, id) => Some(Refusal::Exists {
            which: keys.which(*n),
            lead_id: id.clone(),
        }),
        store::Claimed::Recent(n) => Some(limits::recent(keys.which(*n), phone, email, reference)),
    }
}

/// Waits until `until` (or the call is aborted); `true` when the time has come.
pub(crate) fn elapsed<H: Host>(cx: &mut Cx<'_, H>, until: f64) -> bool {
    if cx.host.aborted() || cx.now() >= until {
        return true;
    }
    cx.wake_at(until);
    false
}

// ---- one request with its retries -------------------------------------------------------

/// How a 2xx body is read.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Reader {
    Lead,
    LeadWithActivities,
    Activity,
    Update,
    Query { page: u64, limit: Option<u64> },
    Bulk,
}

/// What a reader made of a body.
pub(crate) enum Answer<V> {
    Value(V),
    Page(Page<V>),
    Bulk(BulkAnswer<V>),
}

impl<V: Value> Answer<V> {
    fn into_value(self) -> V {
        match self {
            Answer::Value(v) => v,
            Answer::Page(p) => p.into_value(),
            Answer::Bulk(_) => V::build(Json::Null),
        }
    }
}

impl Reader {
    fn read<V: Value>(self, body: Option<&V>) -> Result<Answer<V>, VoxError> {
        Ok(match self {
            Reader::Lead => Answer::Value(api::read_lead(body)?),
            Reader::LeadWithActivities => Answer::Value(api::read_lead_with_activities(body)?),
            Reader::Activity => Answer::Value(api::read_activity(body)?),
            Reader::Update => Answer::Value(api::read_update(body)?),
            Reader::Query { page, limit } => Answer::Page(api::read_query(body, page, limit)?),
            Reader::Bulk => Answer::Bulk(api::read_bulk(body)?),
        })
    }
}

enum RState {
    /// About to make attempt `attempt + 1`.
    Start,
    /// Waiting for the rate limiter.
    Slot { logged: bool },
    /// Waiting for the external store's word on a slot.
    AwaitSlot {
        call: u32,
        tickets: Tickets,
        logged: bool,
    },
    InFlight {
        id: u32,
        tickets: Tickets,
        started: f64,
    },
    /// Backing off before the next attempt.
    Backoff { until: f64 },
}

/// A request with the key-block check, the rate limiter and the retry policy; a 2xx answer is
/// read with its reader.
pub(crate) struct Request<V> {
    req: HttpRequest<V>,
    kind: Kind,
    reader: Reader,
    max_retries: u32,
    attempt: u32,
    state: RState,
}

impl<V: Value> Request<V> {
    pub fn new(req: HttpRequest<V>, kind: Kind, reader: Reader, max_retries: u32) -> Self {
        Request {
            req,
            kind,
            reader,
            max_retries,
            attempt: 0,
            state: RState::Start,
        }
    }

    /// The attempts made so far.
    pub fn attempts(&self) -> u32 {
        self.attempt
    }

    pub fn poll<H: Host<V = V>>(&mut self, cx: &mut Cx<'_, H>) -> Poll<Result<Answer<V>, Failure>> {
        loop {
            match self.state {
                RState::Start => {
                    self.attempt += 1;
                    if cx.host.aborted() {
                        return Poll::Ready(Err(Failure::fail(aborted_error())));
                    }
                    let blocked = cx.shared().blocked_for(cx.now());
                    if let Some(left) = blocked {
                        let err = VoxError::new(
                            Code::KeyBlocked,
                            format!(
                                "The API key is blocked for repeated duplicate submissions for {} more s; no request was sent",
                                (left / 1000.0).ceil() as u64
                            ),
                        )
                        .with_retry_after(Some(left));
                        self.log(cx, "key_blocked", Some(err.message.clone()));
                        return Poll::Ready(Err(Failure::fail(err)));
                    }
                    self.state = RState::Slot { logged: false };
                }
                RState::Slot { logged } => {
                    let Some(rate) = cx.cfg().rate else {
                        self.start(cx, Tickets::default());
                        return Poll::Pending;
                    };
                    let acquire = self.acquire_op(cx, rate);
                    let mut tickets = Tickets::default();
                    let mode = cx.mode();
                    if mode != Mode::External {
                        // The in-memory store, or the local limits beside (or instead of) the store.
                        match cx.apply_local(&acquire) {
                            Reply::Ticket(t) => tickets.local = t.parse().ok(),
                            other => match self.refused_slot(cx, other, logged) {
                                Some(p) => return p,
                                None => continue,
                            },
                        }
                    }
                    if mode == Mode::Local || mode == Mode::Down {
                        self.start(cx, tickets);
                        return Poll::Pending;
                    }
                    match cx.ask(&acquire) {
                        Asked::Pending(call) => {
                            self.state = RState::AwaitSlot {
                                call,
                                tickets,
                                logged,
                            };
                            return Poll::Pending;
                        }
                        Asked::Ready(_) => self.state = RState::Slot { logged },
                    }
                }
                RState::AwaitSlot {
                    call,
                    ref tickets,
                    logged,
                } => {
                    let Some(rate) = cx.cfg().rate else {
                        return Poll::Pending;
                    };
                    let mut tickets = tickets.clone();
                    let acquire = self.acquire_op(cx, rate);
                    let Some((reply, from_store)) = cx.answer(call, &acquire) else {
                        return Poll::Pending;
                    };
                    match reply {
                        Reply::Ticket(t) if from_store => {
                            tickets.store = Some(t);
                            if tickets.local.is_none() {
                                // The local window keeps count too, for when the store fails.
                                let now = cx.now();
                                let lease = cx.cfg().timeout_ms + LEASE_SLACK_MS;
                                tickets.local = Some(cx.shared().rate.record(now, rate, lease));
                            }
                        }
                        Reply::Ticket(t) => tickets.local = tickets.local.or(t.parse().ok()),
                        other => {
                            // No slot after all: the local one is given back.
                            if let Some(t) = tickets.local {
                                cx.shared().rate.cancel(t);
                            }
                            match self.refused_slot(cx, other, logged) {
                                Some(p) => return p,
                                None => continue,
                            }
                        }
                    }
                    self.start(cx, tickets);
                    return Poll::Pending;
                }
                RState::InFlight {
                    id,
                    ref tickets,
                    started,
                } => {
                    let Some(result) = cx.take(id) else {
                        return Poll::Pending;
                    };
                    let now = cx.now();
                    let window = cx.cfg().rate.map_or(0.0, |r| r.per_ms) + WINDOW_MARGIN_MS;
                    let tickets = tickets.clone();
                    cx.complete(&tickets, window);
                    match self.answered(cx, result, now - started) {
                        Ok(answer) => return Poll::Ready(Ok(answer)),
                        Err(Some(f)) => return Poll::Ready(Err(f)),
                        Err(None) => {}
                    }
                }
                RState::Backoff { until } => {
                    if !elapsed(cx, until) {
                        return Poll::Pending;
                    }
                    self.state = RState::Start;
                }
            }
        }
    }

    fn log<H: Host>(&self, cx: &Cx<'_, H>, kind: &'static str, message: Option<String>) {
        cx.log(LogEvent {
            message,
            ..LogEvent::for_request(kind, &self.req, self.attempt)
        });
    }

    fn acquire_op<H: Host>(&self, cx: &Cx<'_, H>, rate: RateConfig) -> StoreOp {
        StoreOp::Acquire {
            requests: rate.requests,
            window_ms: rate.per_ms + WINDOW_MARGIN_MS,
            // An attempt ends by its timeout; the lease covers a process that never says so.
            lease_ms: cx.cfg().timeout_ms + LEASE_SLACK_MS,
        }
    }

    /// Sends the attempt holding `tickets`.
    fn start<H: Host<V = V>>(&mut self, cx: &mut Cx<'_, H>, tickets: Tickets) {
        self.log(cx, "request", None);
        let id = cx.send(&self.req);
        self.state = RState::InFlight {
            id,
            tickets,
            started: cx.now(),
        };
    }

    /// No slot now: waits (`Some(Pending)`), ends the call (aborted), or starts the attempt
    /// again (`None`: the key is blocked, which the start reports).
    fn refused_slot<H: Host<V = V>>(
        &mut self,
        cx: &mut Cx<'_, H>,
        reply: Reply,
        logged: bool,
    ) -> Option<Poll<Result<Answer<V>, Failure>>> {
        let now = cx.now();
        let ms = match reply {
            Reply::Blocked(left) => {
                {
                    let mut s = cx.shared();
                    let until = now + left;
                    s.blocked_until = Some(s.blocked_until.map_or(until, |b| b.max(until)));
                }
                // The attempt starts again, and finds the key blocked.
                self.state = RState::Start;
                self.attempt -= 1;
                return None;
            }
            Reply::Wait(ms) if ms < 0.0 => COMPLETION_POLL_MS,
            Reply::Wait(ms) if ms > wait_cap(cx.cfg()) => {
                // Paused by a 429 that asked for longer than a call waits: say so at once.
                let err = VoxError::new(
                    Code::RateLimited,
                    format!(
                        "The server asked this project to pause for {} more s (Retry-After); no request was sent",
                        (ms / 1000.0).ceil() as u64
                    ),
                )
                .with_retry_after(Some(ms));
                self.log(cx, "rate_limit_wait", Some(err.message.clone()));
                return Some(Poll::Ready(Err(Failure::fail(err))));
            }
            Reply::Wait(ms) => ms.max(1.0),
            _ => COMPLETION_POLL_MS,
        };
        if logged && cx.host.aborted() {
            return Some(Poll::Ready(Err(Failure::fail(aborted_error()))));
        }
        if !logged {
            cx.log(LogEvent {
                duration_ms: Some(ms),
                ..LogEvent::for_request("rate_limit_wait", &self.req, self.attempt)
            });
        }
        self.state = RState::Slot { logged: true };
        cx.wake_at(now + ms);
        Some(Poll::Pending)
    }

    /// The attempt ended: its answer, its final failure, or `Err(None)` after scheduling a retry.
    fn answered<H: Host<V = V>>(
        &mut self,
        cx: &mut Cx<'_, H>,
        result: Result<HttpResponse<V>, TransportError>,
        duration: f64,
    ) -> Result<Answer<V>, Option<Failure>> {
        let mut refused = false;
        let err = match result {
            Ok(resp) => {
                cx.log(LogEvent {
                    status: Some(resp.status),
                    duration_ms: Some(duration),
                    ..LogEvent::for_request("response", &self.req, self.attempt)
                });
                if (200..300).contains(&resp.status) {
                    match self.reader.read(resp.body.as_ref()) {
                        Ok(a) => return Ok(a),
                        Err(e) => e.with_status(resp.status),
                    }
                } else {
                    on_error_status(cx, &resp)
                }
            }
            Err(TransportError::Timeout) => VoxError::new(
                Code::Timeout,
                format!(
                    "{} {} timed out after {} ms",
                    self.req.method.as_str(),
                    self.req.path,
                    cx.cfg().timeout_ms as u64
                ),
            ),
            Err(TransportError::Refused(m)) => {
                refused = true;
                VoxError::new(Code::NetworkError, format!("Connection refused: {m}"))
            }
            Err(TransportError::Network(m)) => {
                VoxError::new(Code::NetworkError, format!("Network error: {m}"))
            }
            Err(TransportError::Unavailable(m)) => VoxError::invalid_argument(m),
            Err(TransportError::Aborted) => {
                // A write in flight may have been processed; the caller decides.
                return Err(Some(Failure {
                    err: aborted_error(),
                    ambiguous: self.kind == Kind::Write,
                }));
            }
            Err(TransportError::TooLarge) => {
                // Not asked again (it would be as large); a write that got an answer may have run.
                let err = VoxError::invalid_response(format!(
                    "The server's answer to {} {} is larger than {} MiB, the most vox-crm reads",
                    self.req.method.as_str(),
                    self.req.path,
                    api::MAX_BODY_BYTES >> 20
                ));
                return Err(Some(Failure {
                    err,
                    ambiguous: self.kind == Kind::Write,
                }));
            }
        };
        if err.code == Code::KeyBlocked {
            self.log(cx, "key_blocked", Some(err.message.clone()));
            return Err(Some(Failure::fail(err)));
        }
        match retry::decide(
            self.kind,
            &err,
            refused,
            self.attempt,
            self.max_retries,
            cx.host.random(),
            wait_cap(cx.cfg()),
        ) {
            Decision::RetryAfter(ms) => {
                cx.log(LogEvent {
                    duration_ms: Some(ms),
                    message: Some(format!("{}: {}", err.code(), err.message)),
                    ..LogEvent::for_request("retry", &self.req, self.attempt)
                });
                self.state = RState::Backoff {
                    until: cx.now() + ms,
                };
                Err(None)
            }
            Decision::Fail => Err(Some(Failure::fail(err))),
            Decision::Ambiguous => Err(Some(Failure {
                err,
                ambiguous: true,
            })),
        }
    }
}

/// The longest wait a call of `cfg` makes at once (`retry::wait_cap_ms`).
fn wait_cap(cfg: &Config) -> f64 {
    retry::wait_cap_ms(cfg.rate.map_or(0.0, |r| r.per_ms + WINDOW_MARGIN_MS))
}

/// Maps a non-2xx answer and updates the traffic state from it.
fn on_error_status<H: Host>(cx: &mut Cx<'_, H>, resp: &HttpResponse<H::V>) -> VoxError {
    let retry_after = error::parse_retry_after(resp.retry_after.as_deref(), cx.host.wall_ms());
    let err = error::from_status(resp.status, resp.body.as_ref(), retry_after);
    match err.code {
        Code::KeyBlocked => {
            let ms = retry_after.unwrap_or(3_600_000.0);
            cx.tell(StoreOp::Block { ms });
            err.with_retry_after(Some(ms))
        }
        Code::RateLimited => {
            let ms = retry_after.unwrap_or(1000.0);
            if let Some(rate) = cx.cfg().rate {
                cx.tell(StoreOp::Pause {
                    ms,
                    requests: rate.requests,
                    window_ms: rate.per_ms + WINDOW_MARGIN_MS,
                });
            }
            err.with_retry_after(Some(ms))
        }
        _ => err,
    }
}

/// Get Lead by referenceId, for reconciliation, with at most `retries` retries.
pub(crate) fn lookup<V: Value>(
    cfg: &Config,
    reference_id: &str,
    process_id: &str,
    retries: u32,
) -> Request<V> {
    let target = Target::Reference {
        reference_id: reference_id.to_string(),
        process_id: process_id.to_string(),
    };
    let req = api::get_lead(&target, &cfg.project_id, false);
    Request::new(req, Kind::Read, Reader::Lead, retries)
}

/// A lookup's verdict: `Ok(None)` when the server says the lead does not exist.
pub(crate) fn found<V: Value>(r: Result<Answer<V>, Failure>) -> Result<Option<V>, VoxError> {
    match r {
        Ok(a) => {
            let lead = a.into_value();
            lead.remove("activities");
            Ok(Some(lead))
        }
        Err(f) if f.err.code == Code::NotFound => Ok(None),
        Err(f) => Err(f.err),
    }
}

/// How long to wait after a failed write before looking its lead up: after a timeout the
/// request may still be in progress on the server, and a lookup now could miss it.
pub(crate) fn grace_ms(cfg: &Config, err: &VoxError) -> f64 {
    if err.code == Code::Timeout {
        retry::reconcile_grace_ms(cfg.timeout_ms)
    } else {
        0.0
    }
}

// ---- initiate one lead --------------------------------------------------------------------

enum IState<V> {
    /// The duplicate guard's claim of the lead's keys (`Some`: asked of the store).
    Claim(Option<u32>),
    Sending(Request<V>),
    /// After an ambiguous failure: a grace period, then a lookup by referenceId.
    Grace {
        until: f64,
        err: VoxError,
    },
    Lookup {
        req: Request<V>,
        err: VoxError,
    },
    /// A resend refused as a duplicate: our own earlier attempt, processed late, if the lead
    /// exists by its referenceId.
    Recheck {
        req: Request<V>,
        err: VoxError,
        reason: String,
    },
}

struct Initiate<V> {
    lead: PreparedLead<V>,
    init: Option<bool>,
    keys: Keys,
    resends: u32,
    /// Requests this call may still make (`retry::call_attempts`), lookups included.
    left: u32,
    state: IState<V>,
}

impl<V: Value> Initiate<V> {
    /// Retries a request of this call may make now, within what is left of its budget (one
    /// attempt is kept for the lookup an ambiguous write needs).
    fn retries(&self, cfg: &Config, keep: u32) -> u32 {
        cfg.max_retries.min(self.left.saturating_sub(1 + keep))
    }

    fn sending(&self, cfg: &Config) -> IState<V> {
        let req = api::initiate_lead(self.lead.body.clone(), self.init);
        IState::Sending(Request::new(
            req,
            Kind::Write,
            Reader::Lead,
            self.retries(cfg, 1),
        ))
    }

    fn lookup(&self, cfg: &Config) -> Request<V> {
        let r = self.lead.reference_id.as_deref().unwrap_or_default();
        lookup(cfg, r, &self.lead.process_id, self.retries(cfg, 0))
    }

    fn poll<H: Host<V = V>>(&mut self, cx: &mut Cx<'_, H>) -> Option<Result<V, VoxError>> {
        loop {
            let next = match &mut self.state {
                IState::Claim(call) => {
                    let Some(op) = cx.claim_op(vec![self.keys]) else {
                        self.state = self.sending(cx.cfg());
                        continue;
                    };
                    let reply = cx.await_store(call, &op)?;
                    let l = &self.lead;
                    let texts = [
                        l.phone.as_deref(),
                        l.email.as_deref(),
                        l.reference_id.as_deref(),
                    ];
                    let refusal = match reply {
                        Reply::Budget(ms) => Some(Refusal::TooManyRejections {
                            until_ms: ms.ceil() as u64,
                        }),
                        Reply::Claimed { leads, .. } => leads
                            .first()
                            .and_then(|c| claim_refusal(&self.keys, c, texts)),
                        _ => None,
                    };
                    if let Some(r) = refusal {
                        return Some(Err(cx.refused(&r)));
                    }
                    self.sending(cx.cfg())
                }
                IState::Sending(r) => {
                    let Poll::Ready(res) = r.poll(cx) else {
                        return None;
                    };
                    self.left = self.left.saturating_sub(r.attempts());
                    match res {
                        Ok(a) => {
                            let lead = a.into_value();
                            cx.settle(vec![(self.keys, settled(Ok(&lead)))]);
                            return Some(Ok(lead));
                        }
                        Err(f) if f.ambiguous => {
                            // Keys stay taken: the lead may exist now.
                            if f.err.code == Code::Aborted
                                || self.lead.reference_id.is_none()
                                || self.left == 0
                            {
                                return Some(Err(f.err));
                            }
                            IState::Grace {
                                until: cx.now() + grace_ms(cx.cfg(), &f.err),
                                err: f.err,
                            }
                        }
                        Err(f) => {
                            let reason = if f.err.code == Code::BadRequest {
                                f.err.message.clone()
                            } else {
                                String::new()
                            };
                            let recheck = self.resends > 0
                                && self.left > 0
                                && self.lead.reference_id.is_some()
                                && error::is_duplicate_reason(&reason);
                            if !recheck {
                                cx.settle(vec![(self.keys, settled::<V>(Err(&reason)))]);
                                return Some(Err(f.err));
                            }
                            IState::Recheck {
                                req: self.lookup(cx.cfg()),
                                err: f.err,
                                reason,
                            }
                        }
                    }
                }
                IState::Grace { until, err } => {
                    if !elapsed(cx, *until) {
                        return None;
                    }
                    let err = err.clone();
                    IState::Lookup {
                        req: self.lookup(cx.cfg()),
                        err,
                    }
                }
                IState::Lookup { req, err } => {
                    let Poll::Ready(r) = req.poll(cx) else {
                        return None;
                    };
                    self.left = self.left.saturating_sub(req.attempts());
                    match found(r) {
                        Ok(Some(lead)) => return Some(Ok(lead)),
                        // A resend needs room for itself and the lookup it may need.
                        Ok(None)
                            if self.resends < retry::reconcile_budget(cx.cfg().max_retries)
                                && self.left >= 2 =>
                        {
                            self.resends += 1;
                            self.sending(cx.cfg())
                        }
                        _ => return Some(Err(err.clone())),
                    }
                }
                IState::Recheck { req, err, reason } => match req.poll(cx) {
                    Poll::Pending => return None,
                    Poll::Ready(r) => {
                        if let Ok(Some(lead)) = found(r) {
                            cx.settle(vec![(self.keys, settled(Ok(&lead)))]);
                            return Some(Ok(lead));
                        }
                        let reason = reason.clone();
                        cx.settle(vec![(self.keys, settled::<V>(Err(&reason)))]);
                        return Some(Err(err.clone()));
                    }
                },
            };
            self.state = next;
        }
    }
}

// ---- iterate ------------------------------------------------------------------------------

/// docs/sdk.md `iterateLeads`: every page of a query in turn, each lead once (by `_id`) even when
/// new leads shift the pages while iterating. It ends after the page that says there is no
/// next one, the page numbered `totalPages`, or a page that brings no lead with an unseen
/// `_id` — so a server that repeats a page, or ignores `page`, cannot make it run for ever.
struct LeadPager {
    query: LeadQuery,
    next_page: u64,
    seen: IdSet,
    done: bool,
}

impl LeadPager {
    /// A pager with no pages left.
    fn finished() -> LeadPager {
        LeadPager {
            query: LeadQuery::default(),
            next_page: 1,
            seen: IdSet::default(),
            done: true,
        }
    }

    fn new<V: Value>(query: &V, default_region: &str) -> Result<LeadPager, VoxError> {
        let query = LeadQuery::read(query, default_region)?;
        Ok(LeadPager {
            next_page: query.page,
            query,
            seen: IdSet::default(),
            done: false,
        })
    }
}

/// The pages of one `iterateLeads`: each [`Pages::next`] is a task for the next page's leads
/// not seen before (an array), or null when every page has been read. They run one at a time.
#[derive(Clone)]
pub struct Pages(Rc<RefCell<Option<LeadPager>>>);

impl Pages {
    pub fn new<V: Value>(query: &V, default_region: &str) -> Result<Pages, VoxError> {
        let pager = LeadPager::new(query, default_region)?;
        Ok(Pages(Rc::new(RefCell::new(Some(pager)))))
    }

    /// The task that checks the query (done with null) and, when it is right, its pages.
    pub fn start<V: Value>(query: &V, default_region: &str) -> (Task<V>, Option<Pages>) {
        match Pages::new(query, default_region) {
            Ok(p) => (Task::done(V::build(Json::Null)), Some(p)),
            Err(e) => (Task::failed(e), None),
        }
    }

    /// The next page's task, or one that fails when `pages` is not a pager.
    pub fn next_of<V: Value>(pages: Option<&Pages>) -> Task<V> {
        pages.map_or_else(
            || Task::failed(VoxError::invalid_argument("not a pager")),
            Pages::next,
        )
    }

    pub fn next<V: Value>(&self) -> Task<V> {
        let Some(pager) = self.0.borrow_mut().take() else {
            return Task::failed(VoxError::invalid_argument(
                "next() called again before the previous page arrived",
            ));
        };
        Task::new(Op::Page(Box::new(PageTask {
            pager,
            home: self.clone(),
            req: None,
        })))
    }
}

struct PageTask<V> {
    pager: LeadPager,
    /// Where the pager goes back when this page is done.
    home: Pages,
    req: Option<(u64, Request<V>)>,
}

impl<V: Value> PageTask<V> {
    fn poll<H: Host<V = V>>(&mut self, cx: &mut Cx<'_, H>) -> Option<Result<V, VoxError>> {
        let done = self.page(cx)?;
        let pager = std::mem::replace(&mut self.pager, LeadPager::finished());
        *self.home.0.borrow_mut() = Some(pager);
        Some(done)
    }

    fn page<H: Host<V = V>>(&mut self, cx: &mut Cx<'_, H>) -> Option<Result<V, VoxError>> {
        loop {
            let p = &mut self.pager;
            let Some((page_no, req)) = &mut self.req else {
                if p.done {
                    return Some(Ok(V::build(Json::Null)));
                }
                let page_no = p.next_page;
                let reader = Reader::Query {
                    page: page_no,
                    limit: p.query.limit,
                };
                let req = Request::new(
                    p.query.request(page_no),
                    Kind::Read,
                    reader,
                    cx.cfg().max_retries,
                );
                self.req = Some((page_no, req));
                continue;
            };
            let page = match req.poll(cx) {
                Poll::Pending => return None,
                Poll::Ready(Ok(Answer::Page(page))) => page,
                Poll::Ready(Ok(_)) => return Some(Err(VoxError::invalid_response("Not a page"))),
                Poll::Ready(Err(f)) => return Some(Err(f.err)),
            };
            let page_no = *page_no;
            p.next_page = page_no + 1;
            self.req = None;
            let mut unseen = 0;
            let fresh: Vec<usize> = (0..page.ids.len())
                .filter(|&i| match page.ids.get(i).and_then(Option::as_ref) {
                    Some(id) => {
                        let new = p.seen.insert(id_key(id));
                        unseen += usize::from(new);
                        new
                    }
                    None => true,
                })
                .collect();
            // The last page: the server says so, or it is past `totalPages`, or it brought no
            // lead not seen before (a server that repeats a page or ignores `page`).
            p.done = !page.has_next_page
                || unseen == 0
                || page.total_pages.is_some_and(|tp| page_no >= tp);
            // Usually every lead is new: the page's own array goes to the caller.
            if fresh.len() == page.ids.len() && !fresh.is_empty() {
                return Some(Ok(page.leads));
            }
            if !fresh.is_empty() {
                let leads = fresh.into_iter().map(|i| Json::Value(page.leads.at(i)));
                return Some(Ok(V::build(Json::Array(leads.collect()))));
            }
        }
    }
}

// ---- the client's methods -----------------------------------------------------------------

impl Client {
    pub fn new(cfg: Config) -> Self {
        let shared = limits::shared_for(&cfg.base_url, &cfg.project_id);
        Client::with_shared(cfg, shared)
    }

    /// A client whose traffic state is its own (tests).
    pub fn isolated(cfg: Config) -> Self {
        Client::with_shared(cfg, Rc::default())
    }

    fn with_shared(cfg: Config, shared: Rc<RefCell<Shared>>) -> Self {
        let base = cfg.base_url.trim_end_matches('/');
        let ns = store::hex(hash::hash_parts(&[base, "\n", &cfg.project_id]));
        let token = cfg.token.as_deref().unwrap_or_default();
        let salt = store::hex(hash::hash_parts(&["vox-crm store salt\n", token]));
        Client {
            cfg,
            shared,
            ns,
            salt,
        }
    }

    fn read<V: Value>(&self, req: HttpRequest<V>, kind: Kind, reader: Reader) -> Task<V> {
        Task::new(Op::Read(Request::new(
            req,
            kind,
            reader,
            self.cfg.max_retries,
        )))
    }

    /// docs/sdk.md `initiateLead`. Refusals that need no request (invalid lead, duplicate guard)
    /// are decided here; the host is needed for them.
    pub fn initiate_lead<V: Value>(&self, source: &V, init: Option<bool>) -> Task<V> {
        if !source.is_object() {
            return Task::failed(VoxError::invalid_argument("lead must be an object"));
        }
        let prepared = lead::read_lead(source)
            .and_then(|l| lead::prepare_lead(l, &self.cfg.project_id, &self.cfg.default_region));
        let lead = match prepared {
            Ok(p) => p,
            Err(e) => return Task::failed(e),
        };
        let keys = Keys::new(lead.phone.as_deref(), lead.email.as_deref())
            .with_reference(&lead.process_id, lead.reference_id.as_deref());
        let i = Initiate {
            lead,
            init,
            keys,
            resends: 0,
            left: retry::call_attempts(self.cfg.max_retries),
            state: IState::Claim(None),
        };
        Task::new(Op::Initiate(Box::new(i)))
    }

    pub fn initiate_existing<V: Value>(&self, lead_id: &V, init: Option<bool>) -> Task<V> {
        match object_id(lead_id, "leadId") {
            Ok(id) => self.read(api::initiate_existing(&id, init), Kind::Write, Reader::Lead),
            Err(e) => Task::failed(e),
        }
    }

    /// docs/sdk.md's bulk initiate of new leads (`existing == false`) or of existing lead ids:
    /// every input's outcome goes to `host.outcome`; the task's value is the request count.
    pub fn bulk_initiate<V: Value>(
        &self,
        inputs: &V,
        existing: bool,
        opts: crate::core::bulk::BulkOptions,
    ) -> Task<V> {
        match BulkTask::new(self, inputs, existing, opts) {
            Ok(b) => Task::new(Op::Bulk(Box::new(b))),
            Err(e) => Task::failed(e),
        }
    }

    pub fn update_lead<V: Value>(&self, target: &V, changes: &V) -> Task<V> {
        let request = || -> Result<HttpRequest<V>, VoxError> {
            let target = Target::read(target)?;
            let changes = Changes::read(changes)?;
            let metadata = match &changes.metadata {
                Some(m) => Some(m.to_json(&[]).map_err(|_| {
                    VoxError::invalid_argument(
                        "changes.metadata cannot be written as JSON (a cycle, a BigInt, a lone surrogate or a value that throws?)",
                    )
                })?),
                None => None,
            };
            Ok(api::update_lead(
                &target,
                &self.cfg.project_id,
                &changes,
                metadata,
            ))
        };
        match request() {
            Ok(req) => self.read(req, Kind::Write, Reader::Update),
            Err(e) => Task::failed(e),
        }
    }

    pub fn get_lead<V: Value>(&self, target: &V, masked: bool) -> Task<V> {
        match Target::read(target) {
            Ok(t) => self.read(
                api::get_lead(&t, &self.cfg.project_id, masked),
                Kind::Read,
                Reader::LeadWithActivities,
            ),
            Err(e) => Task::failed(e),
        }
    }

    /// docs/sdk.md's page `{ leads, page, limit, total, totalPages, hasNextPage }`.
    pub fn query_leads<V: Value>(&self, query: &V) -> Task<V> {
        match LeadQuery::read(query, &self.cfg.default_region) {
            Ok(q) => {
                let reader = Reader::Query {
                    page: q.page,
                    limit: q.limit,
                };
                self.read(q.request(q.page), Kind::Read, reader)
            }
            Err(e) => Task::failed(e),
        }
    }

    pub fn get_activity<V: Value>(&self, activity_id: &V, masked: bool) -> Task<V> {
        match object_id(activity_id, "activityId") {
            Ok(id) => self.read(api::get_activity(&id, masked), Kind::Read, Reader::Activity),
            Err(e) => Task::failed(e),
        }
    }
}
