//! docs/sdk.md's bulk initiate as a state machine: inputs are read and prepared a chunk at a time,
//! just before the chunk is sent (so a run holds only the leads in flight), up to
//! `concurrency` chunks are in flight, and each lead's outcome is decided once: created,
//! failed or unknown, after reconciliation by referenceId where an answer was ambiguous.

use crate::core::api::{self};
use crate::core::bulk::{self, BulkOptions, ItemResult, Ledger, Outcome, Sent};
use crate::core::engine::{
    claim_refusal, elapsed, found, grace_ms, lookup, settled, Answer, Client, Cx, Host, Poll,
    Reader, Request,
};
use crate::core::error::{self, Code, VoxError};
use crate::core::exists::{self, Check, Plan};
use crate::core::hash::HashedMap;
use crate::core::lead::{self, CheckedLead};
use crate::core::limits::{self, GuardConfig, Keys, Refusal};
use crate::core::options::object_id;
use crate::core::retry::{self, Kind};
use crate::core::store::{Reply, Settled};
use crate::core::value::{Json, Value};
use std::collections::VecDeque;

/// A step yields once it has run this long (checked every [`STEP_PIECE`] leads), or after
/// [`STEP_WORK`] leads prepared or settled, so that a process running an import stays
/// responsive whatever the machine and however warm its JIT.
const STEP_MS: f64 = 4.0;
const STEP_WORK: usize = 500;
/// Leads prepared or settled between two looks at the clock.
const STEP_PIECE: usize = 100;

/// Lookups in flight at once while reconciling one ambiguous chunk.
const LOOKUP_CONCURRENCY: usize = 16;

/// One lead of a bulk, ready to send.
#[derive(Clone, Debug)]
pub(crate) struct Item<V> {
    sent: Sent<V>,
    process_id: String,
    keys: Keys,
    /// Whether it exists in the project could not be checked.
    unchecked: bool,
}

impl<V> Item<V> {
    fn texts(&self) -> [Option<&str>; 3] {
        let s = &self.sent;
        [
            s.phone.as_deref(),
            s.email.as_deref(),
            s.reference_id.as_deref(),
        ]
    }
}

/// What a chunk needs from its bulk while it steps.
struct Env {
    existing: bool,
    init: Option<bool>,
    per_lead: bool,
    /// Unchecked leads of the bulk in flight in other chunks.
    unchecked_in_flight: usize,
    /// Why the leads could not be checked, when the whole bulk could not.
    unchecked_why: Option<String>,
    guard: Option<GuardConfig>,
}

/// What a chunk's answer decided for one lead.
enum Decided<V> {
    /// Created: the lead, and its `_id`.
    Created(V, String),
    /// Refused; `Some(reason)` settles the lead's guard keys with that reason.
    Failed(VoxError, Option<String>),
    /// Outcome not known: the lead's guard keys stay taken.
    Unknown(VoxError),
    /// Reconciliation showed it was not created: it goes again in a later chunk.
    Resend,
}

/// Why a chunk looks its leads up by referenceId.
enum Why {
    /// After a bulk answer, per lead looked up: `Ok(reason)`, a resent lead refused as a
    /// duplicate (created by an earlier attempt if it exists); `Err(error)`, a lead the answer
    /// did not name (created if it exists, else sent again while the budget lasts).
    Recheck(Vec<Result<String, VoxError>>),
    /// The chunk's request failed ambiguously (with this error).
    Reconcile(VoxError),
}

enum CState<V> {
    /// The store's claim of the leads' keys (`Some`: asked of the store).
    Claiming(Option<u32>),
    /// A query per key of each claimed lead: does the project have it?
    Checking {
        /// `(item, which key)` of every query, the next to start, those running.
        queries: Vec<(usize, usize)>,
        next: usize,
        running: Vec<(usize, Request<V>)>,
        /// Per item: the lead found, or the error of a query that failed.
        found: Vec<Option<Result<(usize, String), VoxError>>>,
    },
    Sending(Request<V>),
    /// After a timeout the request may still be running on the server: wait, then reconcile.
    Grace {
        until: f64,
        err: VoxError,
    },
    Lookups {
        why: Why,
        /// The positions (in `pending`) not yet looked up, and those in flight.
        next: usize,
        running: Vec<(usize, Request<V>)>,
        done: Vec<Option<Result<Option<V>, VoxError>>>,
    },
    Done,
}

struct Chunk<V> {
    /// Leads sent, not decided yet.
    items: Vec<(usize, Item<V>)>,
    /// Leads to look up (after `items` were decided or moved here).
    pending: Vec<(usize, Item<V>)>,
    decided: VecDeque<(usize, Item<V>, Decided<V>)>,
    /// Leads to send again (found while settling).
    again: Vec<(usize, Item<V>)>,
    resends: u32,
    /// Rejections left in the duplicate budget, as the claim said.
    remaining: u32,
    /// Unchecked leads sent (they count against the duplicate budget while in flight).
    unchecked: usize,
    state: CState<V>,
}

impl<V: Value> Chunk<V> {
    fn new(items: Vec<(usize, Item<V>)>, resends: u32) -> Self {
        Chunk {
            items,
            pending: Vec::new(),
            decided: VecDeque::new(),
            again: Vec::new(),
            resends,
            remaining: u32::MAX,
            unchecked: 0,
            state: CState::Claiming(None),
        }
    }

    /// Refuses item `pos`'s lead without sending it.
    fn refuse<H: Host<V = V>>(&mut self, cx: &Cx<'_, H>, i: usize, item: Item<V>, r: &Refusal) {
        let err = cx.refused(r);
        self.decided
            .push_back((i, item, Decided::Failed(err, None)));
    }

    /// The claim's answer: refused leads are decided, the rest go on.
    fn claimed<H: Host<V = V>>(&mut self, cx: &mut Cx<'_, H>, reply: Reply, env: &Env) {
        let items = std::mem::take(&mut self.items);
        let mut remaining = u32::MAX;
        match reply {
            Reply::Budget(ms) => {
                let r = Refusal::TooManyRejections {
                    until_ms: ms.ceil() as u64,
                };
                for (i, item) in items {
                    self.refuse(cx, i, item, &r);
                }
            }
            Reply::Claimed {
                leads,
                remaining: left,
            } => {
                remaining = left;
                for ((i, item), c) in items.into_iter().zip(leads) {
                    match claim_refusal(&item.keys, &c, item.texts()) {
                        Some(r) => self.refuse(cx, i, item, &r),
                        None => self.items.push((i, item)),
                    }
                }
            }
            _ => self.items = items,
        }
        if env.per_lead && !self.items.is_empty() {
            let queries: Vec<(usize, usize)> = self
                .items
                .iter()
                .enumerate()
                .flat_map(|(n, (_, it))| {
                    (0..3)
                        .filter(|w| it.keys.0.get(*w).is_some_and(Option::is_some))
                        .map(move |w| (n, w))
                })
                .collect();
            self.state = CState::Checking {
                queries,
                next: 0,
                running: Vec::new(),
                found: (0..self.items.len()).map(|_| None).collect(),
            };
            self.remaining = remaining;
        } else {
            self.remaining = remaining;
            self.send(cx, env);
        }
    }

    /// Sends the chunk's leads, as many unchecked ones as the duplicate budget allows.
    fn send<H: Host<V = V>>(&mut self, cx: &mut Cx<'_, H>, env: &Env) {
        if env.guard.is_some() {
            let mut allowed = (self.remaining as usize).saturating_sub(env.unchecked_in_flight);
            let mut release = Vec::new();
            for (i, item) in std::mem::take(&mut self.items) {
                if !item.unchecked {
                    self.items.push((i, item));
                } else if allowed > 0 {
                    allowed -= 1;
                    self.unchecked += 1;
                    self.items.push((i, item));
                } else {
                    release.push((item.keys, Settled::Release));
                    let err = VoxError::new(
                        Code::DuplicateSubmission,
                        format!(
                            "Not sent: whether this lead already exists in the project could not be checked ({}), and the duplicate budget allows no more unchecked leads in flight ({} rejections left); send it again later",
                            env.unchecked_why.as_deref().unwrap_or("a query failed"),
                            self.remaining
                        ),
                    );
                    self.decided
                        .push_back((i, item, Decided::Failed(err, None)));
                }
            }
            cx.settle(release);
        }
        if self.items.is_empty() {
            self.state = CState::Done;
            return;
        }
        let req = if env.existing {
            let ids: Vec<&str> = self
                .items
                .iter()
                .filter_map(|(_, it)| it.sent.lead_id.as_deref())
                .collect();
            api::bulk_initiate_existing(&ids, env.init)
        } else {
            let bodies: Vec<&V> = self
                .items
                .iter()
                .filter_map(|(_, it)| it.sent.body.as_ref())
                .collect();
            api::bulk_initiate(&bodies, env.init)
        };
        self.state = CState::Sending(Request::new(
            req,
            Kind::Write,
            Reader::Bulk,
            cx.cfg().max_retries,
        ));
    }

    fn poll<H: Host<V = V>>(&mut self, cx: &mut Cx<'_, H>, env: &Env) -> bool {
        let existing = env.existing;
        loop {
            match &mut self.state {
                CState::Claiming(call) => {
                    let op = if existing {
                        None
                    } else {
                        cx.claim_op(self.items.iter().map(|(_, it)| it.keys).collect())
                    };
                    let Some(op) = op else {
                        self.remaining = u32::MAX;
                        self.send(cx, env);
                        continue;
                    };
                    let Some(reply) = cx.await_store(call, &op) else {
                        return false;
                    };
                    self.claimed(cx, reply, env);
                }
                CState::Checking {
                    queries,
                    next,
                    running,
                    found,
                } => {
                    let retries = cx.cfg().max_retries;
                    while running.len() < LOOKUP_CONCURRENCY && *next < queries.len() {
                        if let Some(((_, item), &(_, which))) = queries
                            .get(*next)
                            .and_then(|(n, _)| self.items.get(*n))
                            .zip(queries.get(*next))
                        {
                            let text = item
                                .texts()
                                .get(which)
                                .copied()
                                .flatten()
                                .unwrap_or_default();
                            running.push((
                                *next,
                                exists::key_query(retries, which, text, &item.process_id),
                            ));
                        }
                        *next += 1;
                    }
                    let mut k = 0;
                    while let Some((q, req)) = running.get_mut(k) {
                        match req.poll(cx) {
                            Poll::Pending => k += 1,
                            Poll::Ready(r) => {
                                if let Some(&(n, which)) = queries.get(*q) {
                                    let r = exists::first_id(r.map_err(|f| f.err));
                                    if let Some(slot) = found.get_mut(n) {
                                        match (r, &slot) {
                                            (_, Some(Ok(_))) => {}
                                            (Ok(Some(id)), _) => *slot = Some(Ok((which, id))),
                                            (Ok(None), _) => {}
                                            (Err(e), _) => *slot = Some(Err(e)),
                                        }
                                    }
                                }
                                running.swap_remove(k);
                            }
                        }
                    }
                    if !running.is_empty() || *next < queries.len() {
                        return false;
                    }
                    let found = std::mem::take(found);
                    let mut learned = Vec::new();
                    for ((i, mut item), f) in std::mem::take(&mut self.items).into_iter().zip(found)
                    {
                        match f {
                            Some(Ok((which, lead_id))) => {
                                learned.push((item.keys, Settled::Created(lead_id.clone())));
                                let r = Refusal::Exists { which, lead_id };
                                self.refuse(cx, i, item, &r);
                            }
                            Some(Err(_)) => {
                                item.unchecked = true;
                                self.items.push((i, item));
                            }
                            None => self.items.push((i, item)),
                        }
                    }
                    // The store learns which leads exist, so that no one asks again.
                    cx.settle(learned);
                    self.send(cx, env);
                }
                CState::Sending(req) => match req.poll(cx) {
                    Poll::Pending => return false,
                    Poll::Ready(Ok(Answer::Bulk(answer))) => {
                        let sent: Vec<&Sent<V>> =
                            self.items.iter().map(|(_, it)| &it.sent).collect();
                        let unreadable = answer.unreadable > 0;
                        let results = bulk::map_answer(&sent, answer, &cx.cfg().default_region);
                        let mut reasons = Vec::new();
                        for ((i, item), r) in
                            std::mem::take(&mut self.items).into_iter().zip(results)
                        {
                            let d = match r {
                                ItemResult::Created(lead, id) => Decided::Created(lead, id),
                                // On a resend, a duplicate may be our own earlier attempt, processed late.
                                ItemResult::Rejected(reason)
                                    if self.resends > 0
                                        && error::is_duplicate_reason(&reason)
                                        && item.sent.reference_id.is_some() =>
                                {
                                    reasons.push(Ok(reason));
                                    self.pending.push((i, item));
                                    continue;
                                }
                                ItemResult::Rejected(reason) => rejected(reason),
                                ItemResult::Missing => {
                                    let err = VoxError::invalid_response(if unreadable {
                                        "The bulk answer did not name this lead (it lists a created lead without an _id)"
                                    } else {
                                        "The bulk answer did not name this lead recognisably (by _id, referenceId, phone, email or its data as sent)"
                                    });
                                    // Its referenceId tells whether it was created.
                                    if item.sent.reference_id.is_some() {
                                        reasons.push(Err(err));
                                        self.pending.push((i, item));
                                        continue;
                                    }
                                    Decided::Unknown(err)
                                }
                            };
                            self.decided.push_back((i, item, d));
                        }
                        self.state = lookups(Why::Recheck(reasons), self.pending.len());
                    }
                    Poll::Ready(Ok(_)) => self.state = CState::Done,
                    Poll::Ready(Err(f)) if !f.ambiguous => {
                        let reason =
                            (f.err.code == Code::BadRequest).then(|| f.err.message.clone());
                        let settle = Some(reason.unwrap_or_default());
                        for (i, item) in std::mem::take(&mut self.items) {
                            self.decided.push_back((
                                i,
                                item,
                                Decided::Failed(f.err.clone(), settle.clone()),
                            ));
                        }
                        self.state = CState::Done;
                    }
                    Poll::Ready(Err(f)) => {
                        let reconcilable = !existing && f.err.code != Code::Aborted;
                        for (i, item) in std::mem::take(&mut self.items) {
                            if reconcilable && item.sent.reference_id.is_some() {
                                self.pending.push((i, item));
                            } else {
                                self.decided
                                    .push_back((i, item, Decided::Unknown(f.err.clone())));
                            }
                        }
                        let grace = grace_ms(cx.cfg(), &f.err);
                        self.state = if self.pending.is_empty() {
                            CState::Done
                        } else if grace > 0.0 {
                            CState::Grace {
                                until: cx.now() + grace,
                                err: f.err,
                            }
                        } else {
                            lookups(Why::Reconcile(f.err), self.pending.len())
                        };
                    }
                },
                CState::Grace { until, err } => {
                    if !elapsed(cx, *until) {
                        return false;
                    }
                    self.state = lookups(Why::Reconcile(err.clone()), self.pending.len());
                }
                CState::Lookups {
                    why,
                    next,
                    running,
                    done,
                } => {
                    // Start lookups while there is room; a slow one (retrying) holds no other back.
                    while running.len() < LOOKUP_CONCURRENCY && *next < self.pending.len() {
                        if let Some((_, item)) = self.pending.get(*next) {
                            let r = item.sent.reference_id.as_deref().unwrap_or_default();
                            running.push((
                                *next,
                                lookup(cx.cfg(), r, &item.process_id, cx.cfg().max_retries),
                            ));
                        }
                        *next += 1;
                    }
                    let mut k = 0;
                    while let Some((pos, req)) = running.get_mut(k) {
                        match req.poll(cx) {
                            Poll::Pending => k += 1,
                            Poll::Ready(r) => {
                                if let Some(slot) = done.get_mut(*pos) {
                                    *slot = Some(found(r));
                                }
                                running.swap_remove(k);
                            }
                        }
                    }
                    if !running.is_empty() || *next < self.pending.len() {
                        return false;
                    }
                    let budget = retry::reconcile_budget(cx.cfg().max_retries);
                    let results = std::mem::take(done);
                    for (n, ((i, item), lookup)) in std::mem::take(&mut self.pending)
                        .into_iter()
                        .zip(results)
                        .enumerate()
                    {
                        let d = match (&*why, lookup) {
                            (_, Some(Ok(Some(lead)))) => {
                                let id = lead.get("_id").string().unwrap_or_default();
                                Decided::Created(lead, id)
                            }
                            (Why::Recheck(reasons), lookup) => match reasons.get(n) {
                                Some(Err(_))
                                    if matches!(lookup, Some(Ok(None)))
                                        && self.resends < budget =>
                                {
                                    Decided::Resend
                                }
                                Some(Err(err)) => Decided::Unknown(err.clone()),
                                Some(Ok(reason)) => rejected(reason.clone()),
                                None => rejected(String::new()),
                            },
                            (Why::Reconcile(_), Some(Ok(None))) if self.resends < budget => {
                                Decided::Resend
                            }
                            (Why::Reconcile(err), _) => Decided::Unknown(err.clone()),
                        };
                        self.decided.push_back((i, item, d));
                    }
                    self.state = CState::Done;
                }
                CState::Done => return true,
            }
        }
    }
}

/// The server refused this lead inside a 200.
fn rejected<V>(reason: String) -> Decided<V> {
    let err = VoxError::new(Code::BadRequest, reason.clone()).with_status(200);
    Decided::Failed(err, Some(reason))
}

fn lookups<V>(why: Why, n: usize) -> CState<V> {
    CState::Lookups {
        why,
        next: 0,
        running: Vec::new(),
        done: (0..n).map(|_| None).collect(),
    }
}

/// Leads of a chunk to send again, with how often they were sent already.
type Resend<V> = (Vec<(usize, Item<V>)>, u32);

/// A bulk initiate in progress.
pub struct BulkTask<V> {
    inputs: V,
    total: usize,
    existing: bool,
    opts: BulkOptions,
    guard: Option<GuardConfig>,
    ledger: Ledger,
    /// Keys of the inputs prepared so far (a later input with one of them is refused).
    seen_in_input: HashedMap<()>,
    next_input: usize,
    /// The next chunk's leads prepared so far.
    filling: Vec<(usize, Item<V>)>,
    /// Leads that reconciliation showed were not created, to send again, with their resend count.
    resend: VecDeque<Resend<V>>,
    chunks: Vec<Chunk<V>>,
    /// Answered chunks whose outcomes are being handed out, a step's work at a time.
    settling: VecDeque<Chunk<V>>,
    /// `done` of the last progress report (`None` before the first).
    reported: Option<usize>,
    /// What the server says of the leads before they are sent (none for leadIds), asked once
    /// the first chunk is ready (`checking`).
    check: Option<Check<V>>,
    checking: bool,
    /// How the leads of the chunk being handed out ended, for the store.
    to_settle: Vec<(Keys, Settled)>,
}

impl<V: Value> BulkTask<V> {
    pub(crate) fn new(
        client: &Client,
        inputs: &V,
        existing: bool,
        opts: BulkOptions,
    ) -> Result<Self, VoxError> {
        let what = if existing { "leadIds" } else { "leads" };
        let total = inputs
            .array_len()
            .ok_or_else(|| VoxError::invalid_argument(format!("{what} must be an array")))?;
        Ok(BulkTask {
            inputs: inputs.clone(),
            total,
            existing,
            opts,
            guard: if existing { None } else { client.cfg.guard },
            ledger: Ledger::new(total),
            seen_in_input: HashedMap::default(),
            next_input: 0,
            filling: Vec::new(),
            resend: VecDeque::new(),
            chunks: Vec::new(),
            settling: VecDeque::new(),
            reported: None,
            check: (!existing && total > 0).then(Check::start),
            checking: false,
            to_settle: Vec::new(),
        })
    }

    fn plan(&self) -> Option<&Plan> {
        match &self.check {
            Some(Check::Ready(plan)) => Some(plan),
            _ => None,
        }
    }

    fn env(&self) -> Env {
        Env {
            existing: self.existing,
            init: self.opts.init,
            per_lead: matches!(self.plan(), Some(Plan::PerLead)),
            unchecked_in_flight: self.chunks.iter().map(|c| c.unchecked).sum(),
            unchecked_why: match self.plan() {
                Some(Plan::Unchecked(e)) => Some(e.message.clone()),
                _ => None,
            },
            guard: self.guard,
        }
    }

    /// Records the outcome of input `i` and hands it to the host (the first one stands).
    fn decide<H: Host<V = V>>(&mut self, cx: &Cx<'_, H>, i: usize, outcome: Outcome<V>) {
        let outcome = match outcome {
            Outcome::Failed(e) => Outcome::Failed(cx.cfg().scrubbed(e)),
            Outcome::Unknown(e) => Outcome::Unknown(cx.cfg().scrubbed(e)),
            created => created,
        };
        if let Some(o) = self.ledger.set(i, outcome) {
            cx.host.outcome(i, o);
        }
    }

    pub(crate) fn poll<H: Host<V = V>>(
        &mut self,
        cx: &mut Cx<'_, H>,
    ) -> Option<Result<V, VoxError>> {
        // Work of one step, in leads prepared or settled, and its time: past either bound the
        // task yields (and is stepped again at once), so that a process running an import stays
        // responsive.
        if let Some(check) = self.check.as_mut().filter(|_| self.checking) {
            check.poll(cx, self.total)?;
        }
        let mut work = 0;
        let started = cx.now();
        loop {
            if work >= STEP_WORK || (work > 0 && cx.now() - started >= STEP_MS) {
                cx.wake_at(cx.now());
                return None;
            }
            if !self.settling.is_empty() {
                work += self.settle(cx, STEP_PIECE);
                continue;
            }
            // One answered chunk at a time (answers waiting for the others stay in the
            // inbox), else a new chunk.
            let mut k = 0;
            let env = self.env();
            let finished = loop {
                let Some(chunk) = self.chunks.get_mut(k) else {
                    break None;
                };
                if chunk.poll(cx, &env) {
                    break Some(self.chunks.swap_remove(k));
                }
                k += 1;
            };
            match finished {
                Some(chunk) => self.settling.push_back(chunk),
                None => {
                    let n = self.fill(cx);
                    if n == 0 && self.settling.is_empty() {
                        break;
                    }
                    work += n;
                }
            }
        }
        let left =
            !self.resend.is_empty() || self.next_input < self.total || !self.filling.is_empty();
        if left && self.chunks.len() < self.opts.concurrency.max(1) {
            // Room for a chunk not filled in this step (one a step): the next step fills it.
            cx.wake_at(cx.now());
        }
        if left || !self.chunks.is_empty() || !self.settling.is_empty() {
            return None;
        }
        let left = self.ledger.undecided();
        for (i, o) in left {
            cx.host.outcome(i, o);
        }
        self.ledger.requests = cx.requests();
        // The last report says done == total, also when the last outcomes were decided
        // without a chunk (refused locally, not sent after a block or an abort).
        let progress = self.ledger.progress();
        if self.reported != Some(progress.done) {
            cx.host.progress(progress);
        }
        Some(Ok(V::build(Json::Number(f64::from(self.ledger.requests)))))
    }

    /// Starts chunks while fewer than `concurrency` are in flight and leads are left.
    /// Prepares leads for the next chunk, at most [`STEP_PIECE`] at a time, and starts it once
    /// it is full (or the inputs are all read) while fewer than `concurrency` are in flight;
    /// returns how many leads it prepared (0: nothing left to do now).
    fn fill<H: Host<V = V>>(&mut self, cx: &mut Cx<'_, H>) -> usize {
        let mut prepared = 0;
        while self.chunks.len() < self.opts.concurrency.max(1) && prepared == 0 {
            let (items, resends) = match self.resend.pop_front() {
                Some(c) => c,
                None => {
                    let size = self.opts.chunk_size.clamp(1, bulk::MAX_CHUNK);
                    let start = self.next_input;
                    let end = (start + (size - self.filling.len()).min(STEP_PIECE)).min(self.total);
                    self.next_input = end;
                    prepared += end - start;
                    let items = self.prepare(cx, start, end);
                    self.filling.extend(items);
                    if self.filling.len() < size && self.next_input < self.total {
                        return prepared.max(1);
                    }
                    if self.filling.is_empty() {
                        if prepared == 0 {
                            return 0;
                        }
                        continue;
                    }
                    if self.check.is_some() && self.plan().is_none() {
                        // A chunk to send: first what the server says of its leads (the next
                        // steps ask); a bulk with nothing to send asks nothing.
                        self.checking = true;
                        return 0;
                    }
                    (std::mem::take(&mut self.filling), 0)
                }
            };
            if let Some(err) = self.blocker(cx) {
                for (i, _) in &items {
                    self.decide(cx, *i, Outcome::Failed(err.clone()));
                }
                continue;
            }
            let items = self.checked(cx, items, resends);
            let mut chunk = Chunk::new(items, resends);
            let env = self.env();
            if resends > 0 {
                // Leads sent before and not created: their keys are ours already.
                chunk.send(cx, &env);
            }
            // Its first poll claims the leads (or starts the request, or waits for the limiter).
            if chunk.poll(cx, &env) {
                self.settling.push_back(chunk);
            } else {
                self.chunks.push(chunk);
            }
        }
        prepared
    }

    /// Hands out at most `budget` outcomes of the answered chunks (their guard keys settled
    /// too); a chunk whose outcomes are all out queues its resends and reports progress.
    /// Returns how many it handed out (at least 1 while a chunk is settling).
    fn settle<H: Host<V = V>>(&mut self, cx: &mut Cx<'_, H>, budget: usize) -> usize {
        let mut done = 0;
        while let Some(chunk) = self.settling.front_mut() {
            let Some((i, item, decided)) = chunk.decided.pop_front() else {
                let Some(chunk) = self.settling.pop_front() else {
                    break;
                };
                // The store hears of a chunk's leads at once (one operation, not one a step).
                cx.settle(std::mem::take(&mut self.to_settle));
                if !chunk.again.is_empty() {
                    self.resend.push_back((chunk.again, chunk.resends + 1));
                }
                self.ledger.requests = cx.requests();
                let progress = self.ledger.progress();
                self.reported = Some(progress.done);
                cx.host.progress(progress);
                done += 1;
                continue;
            };
            match decided {
                Decided::Resend => chunk.again.push((i, item)),
                Decided::Created(lead, id) => {
                    if !self.existing {
                        self.to_settle.push((item.keys, Settled::Created(id)));
                    }
                    self.decide(cx, i, Outcome::Created(lead));
                }
                Decided::Failed(e, settle) => {
                    if let Some(reason) = settle {
                        self.to_settle.push((item.keys, settled::<V>(Err(&reason))));
                    }
                    self.decide(cx, i, Outcome::Failed(e));
                }
                Decided::Unknown(e) => self.decide(cx, i, Outcome::Unknown(e)),
            }
            done += 1;
            if done >= budget {
                break;
            }
        }
        done
    }

    /// New leads against the project's index (found ones are refused, and the store learns
    /// them), or marked unchecked when the server could not say.
    fn checked<H: Host<V = V>>(
        &mut self,
        cx: &mut Cx<'_, H>,
        items: Vec<(usize, Item<V>)>,
        resends: u32,
    ) -> Vec<(usize, Item<V>)> {
        if resends > 0 || self.existing {
            return items;
        }
        let mut out = Vec::with_capacity(items.len());
        let mut learned = Vec::new();
        for (i, mut item) in items {
            match self.plan() {
                Some(Plan::Index(index)) => {
                    let hit =
                        item.keys.0.iter().enumerate().find_map(|(w, k)| {
                            k.and_then(|k| index.get(&k)).map(|id| (w, id.clone()))
                        });
                    if let Some((which, lead_id)) = hit {
                        learned.push((item.keys, Settled::Created(lead_id.clone())));
                        let err = cx.refused(&Refusal::Exists { which, lead_id });
                        self.decide(cx, i, Outcome::Failed(err));
                        continue;
                    }
                }
                Some(Plan::Unchecked(_)) => item.unchecked = true,
                _ => {}
            }
            out.push((i, item));
        }
        cx.settle(learned);
        out
    }

    /// Why the next chunk may not be sent at all: aborted, key blocked, or the duplicate
    /// guard's rejection budget used up (rule 2).
    fn blocker<H: Host<V = V>>(&self, cx: &Cx<'_, H>) -> Option<VoxError> {
        if cx.host.aborted() {
            return Some(VoxError::new(
                Code::Aborted,
                "Not sent: the operation was aborted",
            ));
        }
        let now = cx.now();
        if let Some(left) = cx.shared().blocked_for(now) {
            return Some(
                VoxError::new(
                    Code::KeyBlocked,
                    "Not sent: the API key is blocked for repeated duplicate submissions",
                )
                .with_retry_after(Some(left)),
            );
        }
        None
    }

    /// One input, checked and written for sending; refusals (invalid, or a duplicate of an
    /// earlier input or of a recent submission) are its outcome.
    fn prepare<H: Host<V = V>>(
        &mut self,
        cx: &Cx<'_, H>,
        start: usize,
        end: usize,
    ) -> Vec<(usize, Item<V>)> {
        let mut items = Vec::with_capacity(end - start);
        if self.existing {
            for i in start..end {
                match object_id(&self.inputs.at(i), "leadId") {
                    Ok(id) => items.push((
                        i,
                        Item {
                            sent: Sent {
                                lead_id: Some(id),
                                reference_id: None,
                                phone: None,
                                email: None,
                                body: None,
                            },
                            process_id: String::new(),
                            keys: Keys::default(),
                            unchecked: false,
                        },
                    )),
                    Err(e) => self.decide(
                        cx,
                        i,
                        Outcome::Failed(VoxError::new(Code::ValidationError, e.message)),
                    ),
                }
            }
            return items;
        }
        let cfg = cx.cfg();
        let mut admitted = Vec::with_capacity(end - start);
        for (i, read) in (start..end).zip(lead::read_leads(&self.inputs, start, end)) {
            let checked = read
                .and_then(|l| lead::check_lead(l, &cfg.project_id, &cfg.default_region))
                .and_then(|c| self.admit(cx, c));
            match checked {
                Ok((c, keys)) => admitted.push((i, c, keys)),
                Err(e) => self.decide(cx, i, Outcome::Failed(e)),
            }
        }
        let (meta, leads): (Vec<(usize, Keys)>, Vec<_>) =
            admitted.into_iter().map(|(i, c, k)| ((i, k), c)).unzip();
        for ((i, keys), written) in meta
            .into_iter()
            .zip(lead::write_leads(leads, &cfg.project_id))
        {
            match written {
                Ok(p) => items.push((
                    i,
                    Item {
                        sent: Sent {
                            lead_id: None,
                            reference_id: p.reference_id,
                            phone: p.phone,
                            email: p.email,
                            body: Some(p.body),
                        },
                        process_id: p.process_id,
                        keys,
                        unchecked: false,
                    },
                )),
                Err(e) => {
                    // Never sent: a later input with its phone or email is no duplicate of it.
                    for k in keys.each() {
                        self.seen_in_input.remove(&k);
                    }
                    self.decide(cx, i, Outcome::Failed(e));
                }
            }
        }
        items
    }

    /// The duplicate guard's word on a checked lead: refused when its phone or email is an
    /// earlier input's or was submitted recently (rule 1).
    fn admit<H: Host<V = V>>(
        &mut self,
        cx: &Cx<'_, H>,
        c: CheckedLead<V>,
    ) -> Result<(CheckedLead<V>, Keys), VoxError> {
        let keys = c.keys();
        if self.guard.is_none() {
            return Ok((c, keys));
        }
        let seen = keys
            .0
            .iter()
            .position(|k| k.is_some_and(|k| self.seen_in_input.contains_key(&k)));
        for k in keys.each() {
            self.seen_in_input.insert(k, ());
        }
        match seen {
            Some(which) => Err(cx.refused(&limits::recent(
                which,
                c.phone(),
                c.email(),
                c.reference_id(),
            ))),
            None => Ok((c, keys)),
        }
    }
}
