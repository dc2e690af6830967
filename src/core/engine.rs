//! The async orchestration of every SDK.md method over a `Host` (transport, clock,
//! randomness, abort signal, log): key block, rate limit, retries, reconciliation, the
//! duplicate guard and bulk accounting. No JS here: the wasm edge supplies the host.

use crate::core::api::{self, HttpRequest, HttpResponse, LeadQuery, Target};
use crate::core::bulk::{self, ItemResult, Ledger, Outcome, Progress, Sent};
use crate::core::error::{self, Code, VoxError};
use crate::core::join::{run_limited, JoinSet};
use crate::core::lead::{self, is_object_id, PreparedLead};
use crate::core::limits::{self, GuardConfig, RateConfig, Refusal, Shared, Wait};
use crate::core::retry::{self, Decision, Kind};
use serde_json::value::RawValue;
use serde_json::{json, Value};
use std::cell::{Cell, RefCell};
use std::collections::{HashSet, VecDeque};
use std::rc::Rc;

pub const DEFAULT_BASE_URL: &str = "https://crm.uservox.ai/api/v1";

/// How often a request that waits for another to complete (rate limit) looks again.
const COMPLETION_POLL_MS: f64 = 20.0;

/// Lookups in flight at once while reconciling one ambiguous bulk chunk.
const LOOKUP_CONCURRENCY: usize = 16;

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
}

/// SDK.md "Log events".
#[derive(Clone, Debug, PartialEq)]
pub struct LogEvent {
    pub kind: &'static str,
    pub method: Option<&'static str>,
    pub path: Option<String>,
    pub status: Option<u16>,
    pub attempt: Option<u32>,
    pub duration_ms: Option<f64>,
    pub message: Option<String>,
}

impl LogEvent {
    fn new(kind: &'static str) -> Self {
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

    fn for_request(kind: &'static str, req: &HttpRequest, attempt: u32) -> Self {
        LogEvent {
            method: Some(req.method.as_str()),
            path: Some(req.path.clone()),
            attempt: Some(attempt),
            ..LogEvent::new(kind)
        }
    }

    pub fn to_value(&self) -> Value {
        let mut m = serde_json::Map::new();
        m.insert("type".into(), json!(self.kind));
        let mut put = |k: &str, v: Value| {
            if !v.is_null() {
                m.insert(k.into(), v);
            }
        };
        put("method", json!(self.method));
        put("path", json!(self.path));
        put("status", json!(self.status));
        put("attempt", json!(self.attempt));
        put("durationMs", json!(self.duration_ms));
        put("message", json!(self.message));
        Value::Object(m)
    }
}

/// The effects the engine needs, supplied per call (the call's signal and progress callback
/// live in the host).
#[allow(async_fn_in_trait)]
pub trait Host {
    fn now_ms(&self) -> f64;
    /// In [0, 1).
    fn random(&self) -> f64;
    /// Resolves after `ms`, or earlier when the call is aborted.
    async fn sleep(&self, ms: f64);
    async fn send(
        &self,
        req: &HttpRequest,
        timeout_ms: f64,
    ) -> Result<HttpResponse, TransportError>;
    fn aborted(&self) -> bool;
    fn log(&self, event: &LogEvent);
    fn progress(&self, _progress: Progress) {}
}

#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub base_url: String,
    pub project_id: String,
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
}

/// A client: its configuration and the traffic state it shares with every other client for
/// the same (base URL, project).
pub struct Client {
    pub cfg: Config,
    shared: Rc<RefCell<Shared>>,
}

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
            chunk_size: bulk::MAX_CHUNK,
            concurrency: 4,
        }
    }
}

/// A failed request: the error, and whether a write may have been processed anyway.
struct Failure {
    err: VoxError,
    ambiguous: bool,
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

/// One call of a client method: the client, the host, and the count of HTTP requests made.
struct Call<'a, H: Host> {
    client: &'a Client,
    host: &'a H,
    requests: Cell<u32>,
}

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

    fn call<'a, H: Host>(&'a self, host: &'a H) -> Call<'a, H> {
        Call {
            client: self,
            host,
            requests: Cell::new(0),
        }
    }

    pub async fn initiate_lead<H: Host>(
        &self,
        host: &H,
        lead: &Value,
        init: Option<bool>,
    ) -> Result<Value, VoxError> {
        self.call(host).initiate_lead(lead, init).await
    }

    pub async fn initiate_existing<H: Host>(
        &self,
        host: &H,
        lead_id: &str,
        init: Option<bool>,
    ) -> Result<Value, VoxError> {
        if !is_object_id(lead_id) {
            return Err(VoxError::invalid_argument(
                "leadId must be a 24-character hex id",
            ));
        }
        let c = self.call(host);
        c.execute(
            &api::initiate_existing(lead_id, init),
            Kind::Write,
            api::read_lead,
        )
        .await
        .map_err(|f| f.err)
    }

    /// SDK.md `BulkResult`, as JSON text (created leads are kept compact, not parsed).
    pub async fn bulk_initiate<H: Host>(
        &self,
        host: &H,
        leads: Vec<Value>,
        opts: BulkOptions,
    ) -> String {
        self.call(host).bulk(leads, false, opts).await
    }

    pub async fn bulk_initiate_existing<H: Host>(
        &self,
        host: &H,
        lead_ids: Vec<Value>,
        opts: BulkOptions,
    ) -> String {
        self.call(host).bulk(lead_ids, true, opts).await
    }

    pub async fn update_lead<H: Host>(
        &self,
        host: &H,
        target: &Value,
        changes: &Value,
    ) -> Result<Value, VoxError> {
        let target = Target::from_value(target)?;
        let req = api::update_lead(&target, &self.cfg.project_id, changes)?;
        self.call(host)
            .execute(&req, Kind::Write, api::read_update)
            .await
            .map_err(|f| f.err)
    }

    pub async fn get_lead<H: Host>(
        &self,
        host: &H,
        target: &Value,
        masked: bool,
    ) -> Result<Value, VoxError> {
        let target = Target::from_value(target)?;
        let req = api::get_lead(&target, &self.cfg.project_id, masked);
        self.call(host)
            .read(&req, api::read_lead_with_activities)
            .await
    }

    /// SDK.md's page `{ leads, page, limit, total, totalPages, hasNextPage }` as JSON text.
    pub async fn query_leads<H: Host>(&self, host: &H, query: &Value) -> Result<String, VoxError> {
        let q = LeadQuery::from_value(query, &self.cfg.default_region)?;
        let page = self
            .call(host)
            .read(&q.request(q.page), |b| api::read_query(b, q.page, q.limit))
            .await?;
        Ok(page.into_json())
    }

    pub async fn get_activity<H: Host>(
        &self,
        host: &H,
        activity_id: &str,
        masked: bool,
    ) -> Result<Value, VoxError> {
        if activity_id.is_empty() {
            return Err(VoxError::invalid_argument(
                "activityId must be a non-empty string",
            ));
        }
        self.call(host)
            .read(&api::get_activity(activity_id, masked), api::read_activity)
            .await
    }
}

impl<'a, H: Host> Call<'a, H> {
    fn cfg(&self) -> &Config {
        &self.client.cfg
    }

    fn shared(&self) -> std::cell::RefMut<'_, Shared> {
        self.client.shared.borrow_mut()
    }

    async fn read<T>(
        &self,
        req: &HttpRequest,
        reader: impl Fn(&str) -> Result<T, VoxError>,
    ) -> Result<T, VoxError> {
        self.execute(req, Kind::Read, reader)
            .await
            .map_err(|f| f.err)
    }

    /// Sends `req` with the key-block check, the rate limiter and the retry policy, and reads
    /// a 2xx answer with `reader`.
    async fn execute<T>(
        &self,
        req: &HttpRequest,
        kind: Kind,
        reader: impl Fn(&str) -> Result<T, VoxError>,
    ) -> Result<T, Failure> {
        self.execute_with(req, kind, reader, self.cfg().max_retries)
            .await
    }

    async fn execute_with<T>(
        &self,
        req: &HttpRequest,
        kind: Kind,
        reader: impl Fn(&str) -> Result<T, VoxError>,
        max_retries: u32,
    ) -> Result<T, Failure> {
        let mut out = None;
        let mut sink = |body: &str| {
            out = Some(reader(body)?);
            Ok(())
        };
        self.attempts(req, kind, &mut sink, max_retries).await?;
        out.ok_or_else(|| Failure::fail(VoxError::invalid_response("No answer was read")))
    }

    /// The retry loop, compiled once: `sink` reads a 2xx body (its error is the attempt's).
    async fn attempts(
        &self,
        req: &HttpRequest,
        kind: Kind,
        sink: &mut dyn FnMut(&str) -> Result<(), VoxError>,
        max_retries: u32,
    ) -> Result<(), Failure> {
        let host = self.host;
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            if host.aborted() {
                return Err(Failure::fail(aborted_error()));
            }
            let now = host.now_ms();
            let blocked = self.shared().blocked_for(now);
            if let Some(left) = blocked {
                let err = VoxError::new(
                    Code::KeyBlocked,
                    format!(
                        "The API key is blocked for repeated duplicate submissions for {} more s; no request was sent",
                        (left / 1000.0).ceil() as u64
                    ),
                )
                .with_retry_after(Some(left));
                host.log(&LogEvent {
                    message: Some(err.message.clone()),
                    ..LogEvent::for_request("key_blocked", req, attempt)
                });
                return Err(Failure::fail(err));
            }
            let ticket = self.acquire_slot(req, attempt).await?;
            host.log(&LogEvent::for_request("request", req, attempt));
            self.requests.set(self.requests.get() + 1);
            let started = host.now_ms();
            let sent = host.send(req, self.cfg().timeout_ms).await;
            if let Some(t) = ticket {
                self.shared().rate.complete(t, host.now_ms());
            }
            let duration = host.now_ms() - started;
            let mut refused = false;
            let err = match sent {
                Ok(resp) => {
                    host.log(&LogEvent {
                        status: Some(resp.status),
                        duration_ms: Some(duration),
                        ..LogEvent::for_request("response", req, attempt)
                    });
                    if (200..300).contains(&resp.status) {
                        match sink(&resp.body) {
                            Ok(()) => return Ok(()),
                            Err(e) => e.with_status(resp.status),
                        }
                    } else {
                        self.on_error_status(&resp)
                    }
                }
                Err(TransportError::Timeout) => VoxError::new(
                    Code::Timeout,
                    format!(
                        "{} {} timed out after {} ms",
                        req.method.as_str(),
                        req.path,
                        self.cfg().timeout_ms as u64
                    ),
                ),
                Err(TransportError::Refused(m)) => {
                    refused = true;
                    VoxError::new(Code::NetworkError, format!("Connection refused: {m}"))
                }
                Err(TransportError::Network(m)) => {
                    VoxError::new(Code::NetworkError, format!("Network error: {m}"))
                }
                Err(TransportError::Aborted) => {
                    // A write in flight may have been processed; the caller decides.
                    return Err(Failure {
                        err: aborted_error(),
                        ambiguous: kind == Kind::Write,
                    });
                }
            };
            if err.code == Code::KeyBlocked {
                host.log(&LogEvent {
                    message: Some(err.message.clone()),
                    ..LogEvent::for_request("key_blocked", req, attempt)
                });
                return Err(Failure::fail(err));
            }
            match retry::decide(kind, &err, refused, attempt, max_retries, host.random()) {
                Decision::RetryAfter(ms) => {
                    host.log(&LogEvent {
                        duration_ms: Some(ms),
                        message: Some(format!("{}: {}", err.code(), err.message)),
                        ..LogEvent::for_request("retry", req, attempt)
                    });
                    host.sleep(ms).await;
                }
                Decision::Fail => return Err(Failure::fail(err)),
                Decision::Ambiguous => {
                    return Err(Failure {
                        err,
                        ambiguous: true,
                    })
                }
            }
        }
    }

    /// Waits until the rate limiter lets one more request start; returns its ticket.
    async fn acquire_slot(&self, req: &HttpRequest, attempt: u32) -> Result<Option<u64>, Failure> {
        let Some(rate) = self.cfg().rate else {
            return Ok(None);
        };
        let mut logged = false;
        loop {
            let now = self.host.now_ms();
            let wait = match self.shared().rate.try_acquire(now, rate) {
                Ok(ticket) => return Ok(Some(ticket)),
                Err(Wait::Until(t)) => (t - now).max(1.0),
                Err(Wait::ForCompletion) => COMPLETION_POLL_MS,
            };
            if !logged {
                self.host.log(&LogEvent {
                    duration_ms: Some(wait),
                    ..LogEvent::for_request("rate_limit_wait", req, attempt)
                });
                logged = true;
            }
            self.host.sleep(wait).await;
            if self.host.aborted() {
                return Err(Failure::fail(aborted_error()));
            }
        }
    }

    /// Maps a non-2xx answer and updates the shared traffic state from it.
    fn on_error_status(&self, resp: &HttpResponse) -> VoxError {
        let retry_after = error::parse_retry_after(resp.retry_after.as_deref());
        let err = error::from_status(resp.status, &resp.body, retry_after);
        let now = self.host.now_ms();
        match err.code {
            Code::KeyBlocked => {
                let ms = retry_after.unwrap_or(3_600_000.0);
                self.shared().blocked_until = Some(now + ms);
                err.with_retry_after(Some(ms))
            }
            Code::RateLimited => {
                let ms = retry_after.unwrap_or(1000.0);
                if let Some(rate) = self.cfg().rate {
                    self.shared().rate.block_until(now + ms, rate);
                }
                err.with_retry_after(Some(ms))
            }
            _ => err,
        }
    }

    /// Get Lead by referenceId: `Ok(None)` when the server says it does not exist.
    async fn lookup_reference(
        &self,
        reference_id: &str,
        process_id: &str,
    ) -> Result<Option<Value>, VoxError> {
        let target = Target::Reference {
            reference_id: reference_id.to_string(),
            process_id: process_id.to_string(),
        };
        let req = api::get_lead(&target, &self.cfg().project_id, false);
        let retries = retry::lookup_retries(self.cfg().max_retries);
        match self
            .execute_with(&req, Kind::Read, api::read_lead, retries)
            .await
            .map_err(|f| f.err)
        {
            Ok(mut lead) => {
                if let Value::Object(m) = &mut lead {
                    m.remove("activities");
                }
                Ok(Some(lead))
            }
            Err(e) if e.code == Code::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Looks these bulk items up by referenceId, several at a time; results sorted by index.
    async fn lookup_many(
        &self,
        items: Vec<(usize, &Item)>,
    ) -> Vec<(usize, Result<Option<Value>, VoxError>)> {
        let lookups = items.into_iter().map(|(i, item)| async move {
            let found = match &item.sent.reference_id {
                Some(r) => self.lookup_reference(r, &item.process_id).await,
                None => Ok(None),
            };
            (i, found)
        });
        // A slow lookup (retrying) does not hold the others back.
        run_limited(lookups, LOOKUP_CONCURRENCY).await
    }

    fn guard_refusal(&self, keys: &[String]) -> Option<VoxError> {
        let cfg = self.cfg().guard?;
        let now = self.host.now_ms();
        let refusal = self.shared().guard.check(keys, now, cfg).err()?;
        let err = refusal_error(&refusal);
        self.host.log(&LogEvent {
            message: Some(err.message.clone()),
            ..LogEvent::new("duplicate_refused")
        });
        Some(err)
    }

    /// After the server answered for a lead: keep its keys when it was created or rejected as
    /// a duplicate (and count the latter), free them when it was refused for another reason.
    fn settle_keys(&self, keys: &[String], outcome: Result<(), &str>) {
        if self.cfg().guard.is_none() {
            return;
        }
        let now = self.host.now_ms();
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

    async fn initiate_lead(&self, lead: &Value, init: Option<bool>) -> Result<Value, VoxError> {
        if !lead.is_object() {
            return Err(VoxError::invalid_argument("lead must be an object"));
        }
        let p = lead::prepare_lead(lead, &self.cfg().project_id, &self.cfg().default_region)?;
        let keys = limits::guard_keys(p.phone.as_deref(), p.email.as_deref());
        if let Some(err) = self.guard_refusal(&keys) {
            return Err(err);
        }
        if self.cfg().guard.is_some() {
            self.shared().guard.mark_sent(&keys, self.host.now_ms());
        }
        let req = api::initiate_lead(&p.body, init);
        let mut resends = 0;
        loop {
            match self.execute(&req, Kind::Write, api::read_lead).await {
                Ok(created) => {
                    self.settle_keys(&keys, Ok(()));
                    return Ok(created);
                }
                Err(f) if f.ambiguous => {
                    // Keys stay taken: the lead may exist now.
                    if f.err.code == Code::Aborted {
                        return Err(f.err);
                    }
                    let Some(r) = p.reference_id.as_deref() else {
                        return Err(f.err);
                    };
                    self.grace_after(&f.err).await;
                    match self.lookup_reference(r, &p.process_id).await {
                        Ok(Some(found)) => return Ok(found),
                        Ok(None) if resends < retry::reconcile_budget(self.cfg().max_retries) => {
                            resends += 1
                        }
                        _ => return Err(f.err),
                    }
                }
                Err(f) => {
                    let reason = if f.err.code == Code::BadRequest {
                        f.err.message.as_str()
                    } else {
                        ""
                    };
                    // A resent lead refused as a duplicate may be our own earlier attempt,
                    // processed late: if its referenceId exists, that is the lead we created.
                    if resends > 0 && error::is_duplicate_reason(reason) {
                        if let Some(r) = p.reference_id.as_deref() {
                            if let Ok(Some(found)) = self.lookup_reference(r, &p.process_id).await {
                                self.settle_keys(&keys, Ok(()));
                                return Ok(found);
                            }
                        }
                    }
                    self.settle_keys(&keys, Err(reason));
                    return Err(f.err);
                }
            }
        }
    }

    /// Before reconciling after a timeout, gives the request time to finish on the server: it
    /// may still be in progress there, and a lookup now could miss a lead about to be created.
    async fn grace_after(&self, err: &VoxError) {
        if err.code == Code::Timeout {
            self.host
                .sleep(retry::reconcile_grace_ms(self.cfg().timeout_ms))
                .await;
        }
    }

    // ---- bulk ---------------------------------------------------------------------------

    /// Bulk initiate of new leads (`existing == false`) or of existing lead ids.
    /// Each input is dropped once prepared, so a large bulk holds only the compact request bodies.
    async fn bulk(&self, inputs: Vec<Value>, existing: bool, opts: BulkOptions) -> String {
        let total = inputs.len();
        let mut ledger = Ledger::new(total);
        let mut items: Vec<Option<Item>> = Vec::with_capacity(total);
        let guard = if existing { None } else { self.cfg().guard };
        let mut seen_in_input: HashSet<String> = HashSet::new();
        for (i, input) in inputs.into_iter().enumerate() {
            match self.prepare_item(&input, existing) {
                Err(e) => {
                    ledger.set(i, Outcome::Failed(e));
                    items.push(None);
                }
                Ok(item) => {
                    let refusal = match (
                        &guard,
                        item.keys.iter().find(|k| seen_in_input.contains(*k)),
                    ) {
                        (None, _) => None,
                        (Some(_), Some(k)) => Some(Refusal::Recent(k.clone())),
                        (Some(cfg), None) => self
                            .shared()
                            .guard
                            .check_recent(&item.keys, self.host.now_ms(), *cfg)
                            .err(),
                    };
                    seen_in_input.extend(item.keys.iter().cloned());
                    if let Some(r) = refusal {
                        let err = refusal_error(&r);
                        self.host.log(&LogEvent {
                            message: Some(err.message.clone()),
                            ..LogEvent::new("duplicate_refused")
                        });
                        ledger.set(i, Outcome::Failed(err));
                        items.push(None);
                    } else {
                        items.push(Some(item));
                    }
                }
            }
        }
        let pending: Vec<usize> = (0..total)
            .filter(|&i| items.get(i).is_some_and(Option::is_some))
            .collect();
        let mut queue: VecDeque<(Vec<usize>, u32)> =
            bulk::chunk_ranges(pending.len(), opts.chunk_size)
                .into_iter()
                .map(|r| (pending.get(r).map(<[usize]>::to_vec).unwrap_or_default(), 0))
                .collect();
        let mut running = JoinSet::new();
        let mut reported = false;
        loop {
            while running.len() < opts.concurrency.max(1) {
                let Some((chunk, resends)) = queue.pop_front() else {
                    break;
                };
                if let Some(err) = self.chunk_blocker(guard) {
                    for &i in &chunk {
                        ledger.set(i, Outcome::Failed(err.clone()));
                    }
                    continue;
                }
                let sent: Vec<(usize, Item)> = chunk
                    .iter()
                    .filter_map(|&i| items.get(i).and_then(Clone::clone).map(|it| (i, it)))
                    .collect();
                if guard.is_some() {
                    let now = self.host.now_ms();
                    let mut s = self.shared();
                    for (_, it) in &sent {
                        s.guard.mark_sent(&it.keys, now);
                    }
                }
                running.push(self.run_chunk(sent, existing, opts.init, resends));
            }
            let Some(done) = running.next().await else {
                break;
            };
            for (i, outcome, keys_outcome) in done.outcomes {
                if let (Some(_), Some(Some(item))) = (guard, items.get(i)) {
                    match &keys_outcome {
                        KeyOutcome::Keep => {}
                        KeyOutcome::Settle(r) => {
                            self.settle_keys(&item.keys, r.as_deref().map_or(Ok(()), Err))
                        }
                    }
                }
                ledger.set(i, outcome);
                // Decided: its request body is no longer needed.
                if let Some(slot) = items.get_mut(i) {
                    *slot = None;
                }
            }
            if !done.resend.is_empty() {
                queue.push_back((done.resend, done.resends + 1));
            }
            ledger.requests = self.requests.get();
            self.host.progress(ledger.progress());
            reported = true;
        }
        ledger.requests = self.requests.get();
        if !reported || ledger.progress().done < total {
            self.host.progress(ledger.progress());
        }
        ledger.into_result()
    }

    /// Why the next chunk may not be sent at all: aborted, key blocked, or the duplicate
    /// guard's rejection budget used up (rule 2).
    fn chunk_blocker(&self, guard: Option<GuardConfig>) -> Option<VoxError> {
        if self.host.aborted() {
            return Some(VoxError::new(
                Code::Aborted,
                "Not sent: the operation was aborted",
            ));
        }
        let now = self.host.now_ms();
        if let Some(left) = self.shared().blocked_for(now) {
            return Some(
                VoxError::new(
                    Code::KeyBlocked,
                    "Not sent: the API key is blocked for repeated duplicate submissions",
                )
                .with_retry_after(Some(left)),
            );
        }
        let cfg = guard?;
        let refusal = self.shared().guard.check_budget(now, cfg).err()?;
        let err = refusal_error(&refusal);
        self.host.log(&LogEvent {
            message: Some(err.message.clone()),
            ..LogEvent::new("duplicate_refused")
        });
        Some(err)
    }

    fn prepare_item(&self, input: &Value, existing: bool) -> Result<Item, VoxError> {
        if existing {
            return match input.as_str() {
                Some(id) if is_object_id(id) => Ok(Item {
                    sent: Sent {
                        lead_id: Some(id.to_string()),
                        reference_id: None,
                        phone: None,
                        email: None,
                        body: None,
                    },
                    process_id: String::new(),
                    keys: Vec::new(),
                }),
                _ => Err(VoxError::new(
                    Code::ValidationError,
                    "leadId must be a 24-character hex id",
                )),
            };
        }
        let PreparedLead {
            body,
            phone,
            email,
            reference_id,
            process_id,
        } = lead::prepare_lead(input, &self.cfg().project_id, &self.cfg().default_region)?;
        let keys = limits::guard_keys(phone.as_deref(), email.as_deref());
        Ok(Item {
            sent: Sent {
                lead_id: None,
                reference_id,
                phone,
                email,
                body: Some(body.to_string()),
            },
            process_id,
            keys,
        })
    }

    /// Sends one chunk and decides every lead's outcome, reconciling by referenceId after an
    /// ambiguous failure.
    async fn run_chunk(
        &self,
        chunk: Vec<(usize, Item)>,
        existing: bool,
        init: Option<bool>,
        resends: u32,
    ) -> ChunkDone {
        let req = if existing {
            let ids: Vec<String> = chunk
                .iter()
                .filter_map(|(_, it)| it.sent.lead_id.clone())
                .collect();
            api::bulk_initiate_existing(&ids, init)
        } else {
            let bodies: Vec<&str> = chunk
                .iter()
                .filter_map(|(_, it)| it.sent.body.as_deref())
                .collect();
            api::bulk_initiate(&bodies, init)
        };
        let mut done = ChunkDone {
            outcomes: Vec::with_capacity(chunk.len()),
            resend: Vec::new(),
            resends,
        };
        match self.execute(&req, Kind::Write, api::read_bulk).await {
            Ok(answer) => {
                let sent: Vec<Sent> = chunk.iter().map(|(_, it)| it.sent.clone()).collect();
                let mut recheck = Vec::new();
                for ((i, item), r) in chunk.iter().zip(bulk::map_answer(&sent, answer)) {
                    match r {
                        ItemResult::Created(raw) => done.created_raw(*i, raw),
                        // On a resend, a duplicate may be our own earlier attempt, processed late.
                        ItemResult::Rejected(reason)
                            if resends > 0
                                && error::is_duplicate_reason(&reason)
                                && item.sent.reference_id.is_some() =>
                        {
                            recheck.push((*i, item, reason))
                        }
                        ItemResult::Rejected(reason) => done.rejected(*i, reason),
                        ItemResult::Missing => done.unknown(
                            *i,
                            VoxError::invalid_response("The bulk answer did not mention this lead"),
                        ),
                    }
                }
                let items = recheck.iter().map(|(i, it, _)| (*i, *it)).collect();
                let found = self.lookup_many(items).await;
                for ((i, _, reason), (_, lookup)) in recheck.into_iter().zip(found) {
                    match lookup {
                        Ok(Some(lead)) => done.created(i, lead),
                        _ => done.rejected(i, reason),
                    }
                }
            }
            Err(f) if !f.ambiguous => {
                let reason = (f.err.code == Code::BadRequest).then(|| f.err.message.clone());
                let settle = KeyOutcome::Settle(Some(reason.unwrap_or_default()));
                for (i, _) in &chunk {
                    done.outcomes
                        .push((*i, Outcome::Failed(f.err.clone()), settle.clone()));
                }
            }
            Err(f) => {
                let reconcilable = !existing && f.err.code != Code::Aborted;
                let (with_ref, without): (Vec<_>, Vec<_>) = chunk
                    .iter()
                    .partition(|(_, it)| reconcilable && it.sent.reference_id.is_some());
                for (i, _) in without {
                    done.unknown(*i, f.err.clone());
                }
                if !with_ref.is_empty() {
                    self.grace_after(&f.err).await;
                }
                let found = self
                    .lookup_many(with_ref.iter().map(|(i, it)| (*i, it)).collect())
                    .await;
                for (i, lookup) in found {
                    match lookup {
                        Ok(Some(lead)) => done.created(i, lead),
                        Ok(None) if resends < retry::reconcile_budget(self.cfg().max_retries) => {
                            done.resend.push(i)
                        }
                        _ => done.unknown(i, f.err.clone()),
                    }
                }
            }
        }
        done
    }
}

/// One lead of a bulk, ready to send.
#[derive(Clone, Debug)]
struct Item {
    sent: Sent,
    process_id: String,
    keys: Vec<String>,
}

/// What to do with a lead's duplicate-guard keys once its chunk is answered.
#[derive(Clone, Debug)]
enum KeyOutcome {
    /// Outcome unknown: the keys stay taken.
    Keep,
    /// `None`: created; `Some(reason)`: refused with this reason.
    Settle(Option<String>),
}

struct ChunkDone {
    outcomes: Vec<(usize, Outcome, KeyOutcome)>,
    /// Leads that reconciliation showed were not created: sent again in a later chunk.
    resend: Vec<usize>,
    resends: u32,
}

impl ChunkDone {
    fn created_raw(&mut self, i: usize, raw: Box<RawValue>) {
        self.outcomes
            .push((i, Outcome::Created(raw), KeyOutcome::Settle(None)));
    }

    fn created(&mut self, i: usize, lead: Value) {
        self.outcomes.push((
            i,
            Outcome::Created(bulk::compact(&lead)),
            KeyOutcome::Settle(None),
        ));
    }

    /// The server refused this lead inside a 200.
    fn rejected(&mut self, i: usize, reason: String) {
        let err = VoxError::new(Code::BadRequest, reason.clone()).with_status(200);
        self.outcomes
            .push((i, Outcome::Failed(err), KeyOutcome::Settle(Some(reason))));
    }

    /// The outcome is not known: the lead's keys stay taken.
    fn unknown(&mut self, i: usize, err: VoxError) {
        self.outcomes
            .push((i, Outcome::Unknown(err), KeyOutcome::Keep));
    }
}

/// SDK.md `iterateLeads`: every page of a query in turn, each lead once (by `_id`) even when
/// new leads shift the pages while iterating.
pub struct LeadPager {
    query: LeadQuery,
    next_page: u64,
    seen: HashSet<String>,
    done: bool,
}

impl LeadPager {
    pub fn new(query: &Value, default_region: &str) -> Result<LeadPager, VoxError> {
        let query = LeadQuery::from_value(query, default_region)?;
        Ok(LeadPager {
            next_page: query.page,
            query,
            seen: HashSet::new(),
            done: false,
        })
    }

    /// The next page's leads not seen before, as a JSON array; `None` when every page has been
    /// read.
    pub async fn next<H: Host>(
        &mut self,
        client: &Client,
        host: &H,
    ) -> Result<Option<String>, VoxError> {
        while !self.done {
            let page_no = self.next_page;
            let req = self.query.request(page_no);
            let limit = self.query.limit;
            let page = client
                .call(host)
                .read(&req, |b| api::read_query(b, page_no, limit))
                .await?;
            self.next_page += 1;
            self.done = !page.has_next_page || page.leads.is_empty();
            let fresh: Vec<Box<RawValue>> = page
                .leads
                .into_iter()
                .zip(page.ids)
                .filter(|(_, id)| match id {
                    Some(id) => self.seen.insert(id.clone()),
                    None => true,
                })
                .map(|(l, _)| l)
                .collect();
            if !fresh.is_empty() {
                return Ok(Some(api::leads_json(&fresh)));
            }
        }
        Ok(None)
    }
}
