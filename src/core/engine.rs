//! The orchestration of every SDK.md method as sans-IO state machines: a `Task` says which
//! HTTP requests to start and when to be woken, and is told how each one ended; between those
//! events it decides everything (key block, rate limit, retries, reconciliation, the duplicate
//! guard, bulk accounting). No JS and no async here: the wasm edge's driver performs the
//! requests and timers, the native tests drive tasks with a fake clock and transport.

use crate::core::api::{self, BulkAnswer, HttpRequest, HttpResponse, LeadQuery, Page, Target};
use crate::core::bulk::{Outcome, Progress};
use crate::core::error::{self, Code, VoxError};
use crate::core::hash::{id_key, IdSet};
use crate::core::lead::{self, PreparedLead};
use crate::core::limits::{self, GuardConfig, Keys, RateConfig, Refusal, Shared, Wait};
use crate::core::options::{object_id, Changes};
use crate::core::retry::{self, Decision, Kind};
use crate::core::value::{Json, Parts, Value};
use std::cell::RefCell;
use std::rc::Rc;

pub use crate::core::bulk_task::BulkTask;

pub const DEFAULT_BASE_URL: &str = "https://crm.uservox.ai/api/v1";

/// How often a request that waits for another to complete (rate limit) looks again.
const COMPLETION_POLL_MS: f64 = 20.0;

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
}

impl TransportError {
    /// The failure a driver reports by name: "timeout", "aborted", "refused", "unavailable" (no
    /// `fetch` to call) or "network".
    pub fn from_kind(kind: &str, message: String) -> Self {
        match kind {
            "timeout" => TransportError::Timeout,
            "aborted" => TransportError::Aborted,
            "refused" => TransportError::Refused(message),
            "unavailable" => TransportError::Unavailable(
                "This runtime has no global fetch: pass options.fetch".into(),
            ),
            _ => TransportError::Network(message),
        }
    }
}

/// SDK.md "Log events".
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
    /// Milliseconds of a monotonic clock.
    fn now_ms(&self) -> f64;
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
    pub fn to_json(sends: Vec<V>, wake: Option<f64>, now: f64) -> Json<V> {
        Json::Object(vec![
            (
                "sends",
                Json::Array(sends.into_iter().map(Json::Value).collect()),
            ),
            (
                "wake",
                Json::Number(wake.map_or(-1.0, |t| (t - now).max(0.0))),
            ),
        ])
    }

    pub fn done_json(value: V) -> Json<V> {
        Json::Object(vec![
            ("done", Json::Bool(true)),
            ("value", Json::Value(value)),
        ])
    }
}

/// The requests and timer of one task, and the results delivered to it.
pub(crate) struct Io<V> {
    sends: Vec<Outgoing<V>>,
    results: Vec<(u32, Result<HttpResponse<V>, TransportError>)>,
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

    /// After the server answered for a lead: keep its keys when it was created or rejected as
    /// a duplicate (and count the latter), free them when it was refused for another reason.
    pub fn settle_keys(&self, keys: &Keys, outcome: Result<(), &str>) {
        if self.cfg().guard.is_none() {
            return;
        }
        let now = self.now();
        let mut s = self.shared();
        match outcome {
            Ok(()) => s.guard.mark_sent(keys, now),
            Err(reason) if error::is_duplicate_reason(reason) => {
                s.guard.mark_sent(keys, now);
                s.guard.record_rejections(1, now);
            }
            Err(_) => s.guard.release(keys),
        }
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
    InFlight {
        id: u32,
        ticket: Option<u64>,
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
                    let ticket = match cx.cfg().rate {
                        None => None,
                        Some(rate) => {
                            let now = cx.now();
                            let wait = match cx.shared().rate.try_acquire(now, rate) {
                                Ok(ticket) => Ok(Some(ticket)),
                                Err(Wait::Until(t)) => Err((t - now).max(1.0)),
                                Err(Wait::ForCompletion) => Err(COMPLETION_POLL_MS),
                            };
                            match wait {
                                Ok(t) => t,
                                Err(_) if logged && cx.host.aborted() => {
                                    return Poll::Ready(Err(Failure::fail(aborted_error())))
                                }
                                Err(ms) => {
                                    if !logged {
                                        cx.log(LogEvent {
                                            duration_ms: Some(ms),
                                            ..LogEvent::for_request(
                                                "rate_limit_wait",
                                                &self.req,
                                                self.attempt,
                                            )
                                        });
                                        self.state = RState::Slot { logged: true };
                                    }
                                    cx.wake_at(now + ms);
                                    return Poll::Pending;
                                }
                            }
                        }
                    };
                    self.log(cx, "request", None);
                    let id = cx.send(&self.req);
                    self.state = RState::InFlight {
                        id,
                        ticket,
                        started: cx.now(),
                    };
                    return Poll::Pending;
                }
                RState::InFlight {
                    id,
                    ticket,
                    started,
                } => {
                    let Some(result) = cx.take(id) else {
                        return Poll::Pending;
                    };
                    let now = cx.now();
                    if let Some(t) = ticket {
                        cx.shared().rate.complete(t, now);
                    }
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

/// Maps a non-2xx answer and updates the shared traffic state from it.
fn on_error_status<H: Host>(cx: &Cx<'_, H>, resp: &HttpResponse<H::V>) -> VoxError {
    let retry_after = error::parse_retry_after(resp.retry_after.as_deref());
    let err = error::from_status(resp.status, resp.body.as_ref(), retry_after);
    let now = cx.now();
    match err.code {
        Code::KeyBlocked => {
            let ms = retry_after.unwrap_or(3_600_000.0);
            cx.shared().blocked_until = Some(now + ms);
            err.with_retry_after(Some(ms))
        }
        Code::RateLimited => {
            let ms = retry_after.unwrap_or(1000.0);
            if let Some(rate) = cx.cfg().rate {
                cx.shared().rate.block_until(now + ms, rate);
            }
            err.with_retry_after(Some(ms))
        }
        _ => err,
    }
}

/// Get Lead by referenceId, for reconciliation (more retries than a caller's read).
pub(crate) fn lookup<V: Value>(cfg: &Config, reference_id: &str, process_id: &str) -> Request<V> {
    let target = Target::Reference {
        reference_id: reference_id.to_string(),
        process_id: process_id.to_string(),
    };
    let req = api::get_lead(&target, &cfg.project_id, false);
    Request::new(
        req,
        Kind::Read,
        Reader::Lead,
        retry::lookup_retries(cfg.max_retries),
    )
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
    state: IState<V>,
}

impl<V: Value> Initiate<V> {
    fn sending(&self, cfg: &Config) -> IState<V> {
        let req = api::initiate_lead(self.lead.body.clone(), self.init);
        IState::Sending(Request::new(
            req,
            Kind::Write,
            Reader::Lead,
            cfg.max_retries,
        ))
    }

    fn poll<H: Host<V = V>>(&mut self, cx: &mut Cx<'_, H>) -> Option<Result<V, VoxError>> {
        loop {
            let next = match &mut self.state {
                IState::Sending(r) => match r.poll(cx) {
                    Poll::Pending => return None,
                    Poll::Ready(Ok(a)) => {
                        cx.settle_keys(&self.keys, Ok(()));
                        return Some(Ok(a.into_value()));
                    }
                    Poll::Ready(Err(f)) if f.ambiguous => {
                        // Keys stay taken: the lead may exist now.
                        if f.err.code == Code::Aborted || self.lead.reference_id.is_none() {
                            return Some(Err(f.err));
                        }
                        IState::Grace {
                            until: cx.now() + grace_ms(cx.cfg(), &f.err),
                            err: f.err,
                        }
                    }
                    Poll::Ready(Err(f)) => {
                        let reason = if f.err.code == Code::BadRequest {
                            f.err.message.clone()
                        } else {
                            String::new()
                        };
                        match &self.lead.reference_id {
                            Some(r) if self.resends > 0 && error::is_duplicate_reason(&reason) => {
                                IState::Recheck {
                                    req: lookup(cx.cfg(), r, &self.lead.process_id),
                                    err: f.err,
                                    reason,
                                }
                            }
                            _ => {
                                cx.settle_keys(&self.keys, Err(&reason));
                                return Some(Err(f.err));
                            }
                        }
                    }
                },
                IState::Grace { until, err } => {
                    if !elapsed(cx, *until) {
                        return None;
                    }
                    let r = self.lead.reference_id.as_deref().unwrap_or_default();
                    IState::Lookup {
                        req: lookup(cx.cfg(), r, &self.lead.process_id),
                        err: err.clone(),
                    }
                }
                IState::Lookup { req, err } => match req.poll(cx) {
                    Poll::Pending => return None,
                    Poll::Ready(r) => match found(r) {
                        Ok(Some(lead)) => return Some(Ok(lead)),
                        Ok(None)
                            if self.resends < retry::reconcile_budget(cx.cfg().max_retries) =>
                        {
                            self.resends += 1;
                            self.sending(cx.cfg())
                        }
                        _ => return Some(Err(err.clone())),
                    },
                },
                IState::Recheck { req, err, reason } => match req.poll(cx) {
                    Poll::Pending => return None,
                    Poll::Ready(r) => {
                        if let Ok(Some(lead)) = found(r) {
                            cx.settle_keys(&self.keys, Ok(()));
                            return Some(Ok(lead));
                        }
                        cx.settle_keys(&self.keys, Err(reason));
                        return Some(Err(err.clone()));
                    }
                },
            };
            self.state = next;
        }
    }
}

// ---- iterate ------------------------------------------------------------------------------

/// SDK.md `iterateLeads`: every page of a query in turn, each lead once (by `_id`) even when
/// new leads shift the pages while iterating.
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
            p.next_page = *page_no + 1;
            self.req = None;
            p.done = !page.has_next_page || page.ids.is_empty();
            let fresh: Vec<usize> = (0..page.ids.len())
                .filter(|&i| match page.ids.get(i).and_then(Option::as_ref) {
                    Some(id) => p.seen.insert(id_key(id)),
                    None => true,
                })
                .collect();
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
        Client { cfg, shared }
    }

    /// A client whose traffic state is its own (tests).
    pub fn isolated(cfg: Config) -> Self {
        Client {
            cfg,
            shared: Rc::default(),
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

    /// SDK.md `initiateLead`. Refusals that need no request (invalid lead, duplicate guard)
    /// are decided here; the host is needed for them.
    pub fn initiate_lead<H: Host>(
        &self,
        host: &H,
        source: &H::V,
        init: Option<bool>,
    ) -> Task<H::V> {
        if !source.is_object() {
            return Task::failed(VoxError::invalid_argument("lead must be an object"));
        }
        let prepared = lead::read_lead(source)
            .and_then(|l| lead::prepare_lead(l, &self.cfg.project_id, &self.cfg.default_region));
        let lead = match prepared {
            Ok(p) => p,
            Err(e) => return Task::failed(e),
        };
        let keys = Keys::new(lead.phone.as_deref(), lead.email.as_deref());
        if let Some(cfg) = self.cfg.guard {
            let now = host.now_ms();
            let mut shared = self.shared.borrow_mut();
            let refusal = match shared.guard.check_budget(now, cfg) {
                Err(r) => Some(r),
                Ok(()) => shared
                    .guard
                    .check_recent(&keys, now, cfg)
                    .err()
                    .map(|which| {
                        limits::recent(which, lead.phone.as_deref(), lead.email.as_deref())
                    }),
            };
            if let Some(r) = refusal {
                let err = refusal_error(&r);
                host.log(&LogEvent {
                    message: Some(self.cfg.scrub(&err.message)),
                    ..LogEvent::new("duplicate_refused")
                });
                return Task::failed(err);
            }
            shared.guard.mark_sent(&keys, now);
        }
        let mut i = Initiate {
            lead,
            init,
            keys,
            resends: 0,
            state: IState::Grace {
                until: 0.0,
                err: aborted_error(),
            },
        };
        i.state = i.sending(&self.cfg);
        Task::new(Op::Initiate(Box::new(i)))
    }

    pub fn initiate_existing<V: Value>(&self, lead_id: &V, init: Option<bool>) -> Task<V> {
        match object_id(lead_id, "leadId") {
            Ok(id) => self.read(api::initiate_existing(&id, init), Kind::Write, Reader::Lead),
            Err(e) => Task::failed(e),
        }
    }

    /// SDK.md's bulk initiate of new leads (`existing == false`) or of existing lead ids:
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

    /// SDK.md's page `{ leads, page, limit, total, totalPages, hasNextPage }`.
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
