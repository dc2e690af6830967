//! Test doubles for the core: `Tv`, a host value made of serde_json (what JS values are in the
//! wasm build), a fake clock (sleeping advances it instantly), a small in-memory CRM that
//! answers initiate, bulk, get and query, and scripted faults.
//!
//! `Tv` and its helpers are also built with the `testkit` feature, for the fuzz targets
//! (`fuzz/`); the fakes are for the unit tests only. Never in the package.

#[cfg(test)]
use crate::core::api::HttpResponse;
#[cfg(test)]
use crate::core::bulk::{Outcome, Progress};
#[cfg(test)]
use crate::core::engine::{Client, Host, LogEvent, Outgoing, Step, Task, TransportError};
use crate::core::value::{Json, JsonError, Kind, Part, Patch, TextError, TextState, Value};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::{json, Value as J};
#[cfg(test)]
use std::cell::Cell;
use std::cell::RefCell;
#[cfg(test)]
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

/// A stand-in for the WHATWG URL parser in the native tests: lower-cases the scheme and the
/// host, drops a default port and the port's leading zeros, and gives an empty path `/`.
#[cfg(test)]
pub fn parse_url(text: &str) -> Option<crate::core::options::UrlParts> {
    let (scheme, rest) = text.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let (authority, path) = rest.find('/').map_or((rest, "/"), |i| rest.split_at(i));
    let (credentials, host_port) = match authority.rsplit_once('@') {
        Some((_, hp)) => (true, hp),
        None => (false, authority),
    };
    let (host, port) = host_port.split_once(':').unwrap_or((host_port, ""));
    if host.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let port = port.trim_start_matches('0');
    let default = matches!((scheme.as_str(), port), ("http", "80") | ("https", "443"));
    let port = if port.is_empty() || default {
        String::new()
    } else {
        format!(":{port}")
    };
    Some(crate::core::options::UrlParts {
        href: format!("{scheme}://{}{port}{path}", host.to_ascii_lowercase()),
        protocol: format!("{scheme}:"),
        credentials,
    })
}

/// A host value for the native tests: a JSON value that can be changed in place through any
/// handle to it, as a JS object can. `{"$date": ms}` stands for a JS `Date` (`null`: an invalid
/// one) and `{"$fn": name}` for a function.
#[derive(Clone, Debug, PartialEq)]
pub struct Tv(Rc<RefCell<J>>);

pub fn tv(v: J) -> Tv {
    Tv(Rc::new(RefCell::new(v)))
}

/// What the host makes of an answer's text: `None` when it is not JSON.
pub fn parse(text: &str) -> Option<Tv> {
    serde_json::from_str(text).ok().map(tv)
}

/// A function value.
pub fn func(name: &str) -> J {
    json!({ "$fn": name })
}

/// The text of a request body, its host parts as they were written.
pub fn body_text<V: Value>(req: &crate::core::api::HttpRequest<V>) -> String {
    req.body.as_ref().map_or(String::new(), parts_text)
}

fn parts_text<V: Value>(parts: &crate::core::value::Parts<V>) -> String {
    parts
        .0
        .iter()
        .map(|p| match p {
            Part::Str(s) => s.clone(),
            Part::Text(v) => v.string().unwrap_or_default(),
        })
        .collect()
}

impl Tv {
    pub fn json(&self) -> J {
        self.0.borrow().clone()
    }

    /// This value as JSON text with `patch` applied to a copy (functions are not writable).
    fn written(&self, patch: &[(&str, Option<&str>)]) -> Result<Tv, JsonError> {
        let mut v = self.json();
        if let Some(m) = v.as_object_mut() {
            for (k, set) in patch {
                match set {
                    Some(s) => m.insert(k.to_string(), json!(s)),
                    None => m.remove(*k),
                };
            }
        }
        let text = v.to_string();
        if text.contains("\"$fn\"") {
            return Err(JsonError::Unwritable(None));
        }
        Ok(tv(J::String(text)))
    }
}

impl<'de> Deserialize<'de> for Tv {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        J::deserialize(d).map(tv)
    }
}

pub fn build_json(j: Json<Tv>) -> J {
    match j {
        Json::Null => J::Null,
        Json::Bool(b) => J::Bool(b),
        // Whole numbers as integers, as JSON.parse would read them back.
        Json::Number(n) if n.fract() == 0.0 && n.abs() < 9e15 => json!(n as i64),
        Json::Number(n) => json!(n),
        Json::Text(s) => J::String(s),
        Json::Value(v) => v.json(),
        Json::Object(m) => J::Object(
            m.into_iter()
                .map(|(k, v)| (k.to_string(), build_json(v)))
                .collect(),
        ),
        Json::Array(a) => J::Array(a.into_iter().map(build_json).collect()),
    }
}

impl Value for Tv {
    fn kind(&self) -> Kind {
        match &*self.0.borrow() {
            J::Null => Kind::Absent,
            J::Bool(b) => Kind::Bool(*b),
            J::Number(n) => Kind::Number(n.as_f64().unwrap_or(f64::NAN)),
            J::String(_) => Kind::Text,
            J::Array(_) => Kind::Array,
            J::Object(m) => match (m.get("$date"), m.get("$fn")) {
                (Some(d), _) => Kind::Date(d.as_f64().unwrap_or(f64::NAN)),
                (_, Some(_)) => Kind::Function,
                _ => Kind::Object,
            },
        }
    }

    fn text_state(&self, max: usize) -> TextState {
        match &*self.0.borrow() {
            J::Null => TextState::Absent,
            J::String(s) if s.encode_utf16().count() > max => TextState::Bad(TextError::TooLong),
            J::String(s) if s.trim().is_empty() => TextState::Blank,
            J::String(_) => TextState::Text,
            _ => TextState::Bad(TextError::NotText),
        }
    }

    fn string(&self) -> Option<String> {
        self.0.borrow().as_str().map(str::to_string)
    }

    fn get(&self, key: &str) -> Self {
        tv(self.0.borrow().get(key).cloned().unwrap_or(J::Null))
    }

    fn array_len(&self) -> Option<usize> {
        self.0.borrow().as_array().map(Vec::len)
    }

    fn at(&self, i: usize) -> Self {
        tv(self.0.borrow().get(i).cloned().unwrap_or(J::Null))
    }

    fn keys(&self) -> Vec<String> {
        self.0
            .borrow()
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn read<T: DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_value(self.json()).ok()
    }

    fn to_json_many(items: &[(&Self, Patch<'_>)]) -> Vec<Result<Self, JsonError>> {
        items.iter().map(|(v, patch)| v.written(patch)).collect()
    }

    fn build(json: Json<Self>) -> Self {
        tv(build_json(json))
    }

    fn set(&self, key: &str, value: Self) {
        if let Some(m) = self.0.borrow_mut().as_object_mut() {
            m.insert(key.to_string(), value.json());
        }
    }

    fn remove(&self, key: &str) {
        if let Some(m) = self.0.borrow_mut().as_object_mut() {
            m.remove(key);
        }
    }
}

/// What happens to one request.
#[cfg(test)]
#[derive(Clone, Debug)]
pub enum Fault {
    /// Answer this instead, without processing the request.
    Before(Result<HttpResponse<Tv>, TransportError>),
    /// Process the request, then answer this instead.
    After(Result<HttpResponse<Tv>, TransportError>),
    /// Answer this now; process the request later, just before the n-th next request.
    Late(usize, Result<HttpResponse<Tv>, TransportError>),
}

#[cfg(test)]
pub fn status(code: u16, body: &str) -> HttpResponse<Tv> {
    HttpResponse {
        status: code,
        retry_after: None,
        body: parse(body),
    }
}

#[cfg(test)]
pub fn rate_limited(secs: u32) -> HttpResponse<Tv> {
    HttpResponse {
        retry_after: Some(secs.to_string()),
        ..status(429, r#"{"success":false,"error":"Rate limit exceeded"}"#)
    }
}

#[cfg(test)]
pub fn key_blocked(secs: u32) -> HttpResponse<Tv> {
    HttpResponse {
        retry_after: Some(secs.to_string()),
        ..status(
            429,
            r#"{"success":false,"error":"API key temporarily blocked due to repeated duplicate submissions"}"#,
        )
    }
}

/// A request as the fake CRM saw it.
#[cfg(test)]
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: &'static str,
    pub url: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<String>,
}

#[cfg(test)]
impl Recorded {
    pub fn json(&self) -> J {
        self.body
            .as_deref()
            .and_then(|b| serde_json::from_str(b).ok())
            .unwrap_or(J::Null)
    }
}

#[cfg(test)]
#[derive(Default)]
pub struct FakeCrm {
    pub leads: Vec<J>,
    pub created: usize,
    /// Leads refused as duplicates (the server's count toward a key block).
    pub duplicate_rejections: usize,
    counter: usize,
}

#[cfg(test)]
const DUP_PHONE: &str =
    "A call attempt has already been made to this phone number for this project";

#[cfg(test)]
impl FakeCrm {
    fn create(&mut self, lead: &J) -> Result<J, String> {
        let phone = lead.get("phone").and_then(J::as_str);
        if phone.is_some()
            && self
                .leads
                .iter()
                .any(|l| l.get("phone").and_then(J::as_str) == phone)
        {
            self.duplicate_rejections += 1;
            return Err(DUP_PHONE.into());
        }
        if let Some(r) = lead.get("referenceId").and_then(J::as_str) {
            if self
                .leads
                .iter()
                .any(|l| l.get("referenceId").and_then(J::as_str) == Some(r))
            {
                self.duplicate_rejections += 1;
                return Err(format!(
                    "Lead with referenceId {r} already exists for this project and process"
                ));
            }
        }
        if lead.get("name").and_then(J::as_str) == Some("REJECT") {
            return Err("Invalid lead".into());
        }
        self.counter += 1;
        let mut l = lead.clone();
        if let J::Object(m) = &mut l {
            m.insert("_id".into(), json!(format!("{:024x}", self.counter)));
            m.insert("currentState".into(), json!("make_first_call"));
            m.insert("serverOnly".into(), json!({"kept": true}));
        }
        self.leads.push(l.clone());
        self.created += 1;
        Ok(l)
    }

    fn handle(&mut self, req: &Recorded) -> HttpResponse<Tv> {
        let body = req.json();
        let q: HashMap<String, String> = req
            .query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.replace("%40", "@").replace("%2B", "+")))
            .collect();
        match (req.method, req.path.as_str()) {
            ("POST", "/leads/initiate") => match self.create(&body["lead"]) {
                Ok(mut l) => {
                    l["success"] = json!(true);
                    status(200, &l.to_string())
                }
                Err(e) => status(400, &json!({"success": false, "error": e}).to_string()),
            },
            ("POST", "/leads/bulk/initiate") => {
                let mut ok = Vec::new();
                let mut errors = Vec::new();
                for l in body["leads"].as_array().cloned().unwrap_or_default() {
                    match self.create(&l) {
                        Ok(c) => ok.push(c),
                        Err(e) => errors.push(
                            json!({"data": l, "referenceId": l.get("referenceId"), "error": e}),
                        ),
                    }
                }
                status(200, &json!({"success": ok, "errors": errors}).to_string())
            }
            ("GET", "/leads/get") => {
                let found = self.leads.iter().find(|l| {
                    q.get("leadId").is_some_and(|id| l["_id"] == json!(id))
                        || q.get("referenceId")
                            .is_some_and(|r| l["referenceId"] == json!(r))
                });
                match found {
                    Some(l) => {
                        let mut l = l.clone();
                        l["activities"] = json!([]);
                        status(200, &json!({"success": true, "data": l}).to_string())
                    }
                    None => status(404, r#"{"success":false,"error":"Lead not found"}"#),
                }
            }
            ("GET", "/leads/query") => {
                let page: usize = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
                let limit: usize = q.get("limit").and_then(|p| p.parse().ok()).unwrap_or(20);
                let mut all: Vec<J> = self
                    .leads
                    .iter()
                    .filter(|l| {
                        ["phone", "email", "referenceId"]
                            .iter()
                            .all(|k| q.get(*k).is_none_or(|v| l.get(*k) == Some(&json!(v))))
                    })
                    .cloned()
                    .collect();
                if q.get("order").map(String::as_str) != Some("asc") {
                    all.reverse();
                }
                let total = all.len();
                let data: Vec<J> = all
                    .into_iter()
                    .skip((page - 1) * limit)
                    .take(limit)
                    .collect();
                let pages = total.div_ceil(limit);
                status(200, &json!({"success": true, "data": data, "pagination":
                    {"page": page, "limit": limit, "total": total, "totalPages": pages, "hasNextPage": page < pages}}).to_string())
            }
            _ => status(404, r#"{"error":"Not found"}"#),
        }
    }
}

#[cfg(test)]
pub type BeforeSend = Box<dyn Fn(&mut FakeCrm)>;

#[cfg(test)]
pub struct FakeHost {
    pub now: Cell<f64>,
    pub latency_ms: f64,
    pub crm: RefCell<FakeCrm>,
    pub faults: RefCell<VecDeque<Option<Fault>>>,
    /// (time sent, request)
    pub sent: RefCell<Vec<(f64, Recorded)>>,
    pub logs: RefCell<Vec<LogEvent>>,
    pub progress: RefCell<Vec<Progress>>,
    pub outcomes: RefCell<Vec<(usize, Outcome<Tv>)>>,
    pub abort_after_requests: Cell<Option<usize>>,
    /// Called before each request is handled (e.g. to add leads while paging).
    pub before_send: RefCell<Option<BeforeSend>>,
    /// Requests to process later: (requests still to come first, request).
    pub late: RefCell<Vec<(usize, Recorded)>>,
    /// The external traffic store the clients with `store.external` talk to.
    pub store: FakeStore,
}

/// An external traffic store for the tests: the in-memory store's rules behind the wire
/// format, one per namespace, shared by every client of a `FakeHost` (the processes of a
/// project), and able to fail.
#[cfg(test)]
#[derive(Default)]
pub struct FakeStore {
    pub stores: RefCell<Vec<(String, crate::core::limits::Shared)>>,
    /// While set, every operation fails.
    pub down: Cell<bool>,
    /// Every operation received, as JSON.
    pub ops: RefCell<Vec<J>>,
}

#[cfg(test)]
impl FakeStore {
    fn apply(&self, op: &J, now: f64) -> Result<J, String> {
        self.ops.borrow_mut().push(op.clone());
        if self.down.get() {
            return Err("connection refused".into());
        }
        let ns = op["ns"].as_str().unwrap_or_default().to_string();
        let mut stores = self.stores.borrow_mut();
        let pos = match stores.iter().position(|(n, _)| *n == ns) {
            Some(p) => p,
            None => {
                stores.push((ns, Default::default()));
                stores.len() - 1
            }
        };
        let parsed = crate::core::store::wire::op_of(op, &[]);
        let reply = stores[pos].1.apply(&parsed, now);
        Ok(crate::core::store::wire::reply_json(&reply))
    }
}

#[cfg(test)]
impl Default for FakeHost {
    fn default() -> Self {
        FakeHost {
            now: Cell::new(FAKE_START_MS),
            latency_ms: 10.0,
            crm: RefCell::default(),
            faults: RefCell::default(),
            sent: RefCell::default(),
            logs: RefCell::default(),
            progress: RefCell::default(),
            outcomes: RefCell::default(),
            abort_after_requests: Cell::new(None),
            before_send: RefCell::new(None),
            late: RefCell::default(),
            store: FakeStore::default(),
        }
    }
}

#[cfg(test)]
impl FakeHost {
    /// The next requests meet these faults in order (`None` = handled normally).
    pub fn script(&self, faults: Vec<Option<Fault>>) {
        self.faults.borrow_mut().extend(faults);
    }

    pub fn requests(&self) -> usize {
        self.sent.borrow().len()
    }

    pub fn paths(&self) -> Vec<String> {
        self.sent
            .borrow()
            .iter()
            .map(|(_, r)| r.path.clone())
            .collect()
    }

    pub fn log_kinds(&self) -> Vec<&'static str> {
        self.logs.borrow().iter().map(|e| e.kind).collect()
    }

    pub fn advance(&self, ms: f64) {
        self.now.set(self.now.get() + ms);
    }

    /// Makes one attempt: the clock advances by the latency, and scripted faults apply.
    pub fn send(&self, out: &Outgoing<Tv>) -> Result<HttpResponse<Tv>, TransportError> {
        let rest = out
            .url
            .strip_prefix(crate::core::engine::DEFAULT_BASE_URL)
            .or_else(|| out.url.split_once("/api/v1").map(|(_, p)| p))
            .unwrap_or(&out.url);
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let req = Recorded {
            method: out.method,
            url: out.url.clone(),
            path: path.to_string(),
            query: query.to_string(),
            headers: out.headers.clone(),
            body: out.body.as_ref().map(parts_text),
        };
        self.sent.borrow_mut().push((self.now.get(), req.clone()));
        self.advance(self.latency_ms);
        if let Some(f) = self.before_send.borrow().as_ref() {
            f(&mut self.crm.borrow_mut());
        }
        let due: Vec<Recorded> = {
            let mut late = self.late.borrow_mut();
            late.iter_mut().for_each(|(n, _)| *n = n.saturating_sub(1));
            let (now, later): (Vec<_>, Vec<_>) = late.drain(..).partition(|(n, _)| *n == 0);
            *late = later;
            now.into_iter().map(|(_, r)| r).collect()
        };
        for r in &due {
            self.crm.borrow_mut().handle(r);
        }
        let fault = self.faults.borrow_mut().pop_front().flatten();
        match fault {
            Some(Fault::Late(n, r)) => {
                self.late.borrow_mut().push((n, req));
                r
            }
            Some(Fault::Before(r)) => r,
            Some(Fault::After(r)) => {
                self.crm.borrow_mut().handle(&req);
                r
            }
            None => Ok(self.crm.borrow_mut().handle(&req)),
        }
    }

    /// The bulk report as docs/sdk.md shapes it, from the outcomes (sorted by index):
    /// `{ created: [{ index, lead }], failed: [{ index, error }], unknown: [...] }`.
    pub fn report(&self) -> J {
        let mut outcomes: Vec<(usize, J, &'static str)> = self
            .outcomes
            .borrow()
            .iter()
            .map(|(i, o)| match o {
                Outcome::Created(l) => (*i, json!({"index": i, "lead": l.json()}), "created"),
                Outcome::Failed(e) => (
                    *i,
                    json!({"index": i, "error": build_json(e.to_json())}),
                    "failed",
                ),
                Outcome::Unknown(e) => (
                    *i,
                    json!({"index": i, "error": build_json(e.to_json())}),
                    "unknown",
                ),
            })
            .collect();
        outcomes.sort_by_key(|(i, _, _)| *i);
        let mut r = json!({"created": [], "failed": [], "unknown": []});
        for (_, item, kind) in outcomes {
            if let Some(a) = r[kind].as_array_mut() {
                a.push(item);
            }
        }
        r
    }
}

/// The fake wall clock when a `FakeHost` starts: 2026-12-01T00:00:00Z.
#[cfg(test)]
pub const FAKE_EPOCH_MS: f64 = 1_796_083_200_000.0;

#[cfg(test)]
const FAKE_START_MS: f64 = 1_000_000.0;

#[cfg(test)]
impl Host for FakeHost {
    type V = Tv;

    fn now_ms(&self) -> f64 {
        self.now.get()
    }

    fn wall_ms(&self) -> f64 {
        FAKE_EPOCH_MS + self.now.get() - FAKE_START_MS
    }

    fn random(&self) -> f64 {
        0.5
    }

    fn aborted(&self) -> bool {
        self.abort_after_requests
            .get()
            .is_some_and(|n| self.requests() >= n)
    }

    fn log(&self, event: &LogEvent) {
        self.logs.borrow_mut().push(event.clone());
    }

    fn progress(&self, p: Progress) {
        self.progress.borrow_mut().push(p);
    }

    fn outcome(&self, index: usize, outcome: Outcome<Tv>) {
        self.outcomes.borrow_mut().push((index, outcome));
    }
}

/// Drives a task to its end with the fake host: each request it starts is answered at once
/// (the clock advancing by the latency), and when it only waits, the clock jumps to its wake
/// time.
#[cfg(test)]
pub fn run(
    client: &Client,
    host: &FakeHost,
    mut task: Task<Tv>,
) -> Result<Tv, crate::core::error::VoxError> {
    for _ in 0..1_000_000 {
        match task.step(client, host) {
            Step::Done(r) => {
                for c in task.take_store_calls() {
                    let _ = host.store.apply(&build_json(c.op), host.now.get());
                }
                return r;
            }
            Step::Pending { wake } => {
                let sends = task.take_sends();
                let calls = task.take_store_calls();
                let answered = calls.iter().any(|c| c.id != 0);
                for c in calls {
                    let op = build_json(c.op);
                    let reply = host.store.apply(&op, host.now.get());
                    if c.id != 0 {
                        task.deliver_store(c.id, reply.map(tv));
                    }
                }
                if sends.is_empty() && !answered {
                    let wake = wake.expect("a task waits for nothing");
                    host.now.set(host.now.get().max(wake));
                }
                for s in sends {
                    let r = host.send(&s);
                    task.deliver(s.id, r);
                }
            }
        }
    }
    panic!("the task never ended");
}
