//! Test doubles for the engine: a fake clock (sleeping advances it instantly), a small
//! in-memory CRM that answers initiate, bulk, get and query, and scripted faults.

use crate::core::api::{HttpRequest, HttpResponse, Method};
use crate::core::bulk::Progress;
use crate::core::engine::{Host, LogEvent, TransportError};
use serde_json::{json, Value};
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};

/// What happens to one request.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Answer this instead, without processing the request.
    Before(Result<HttpResponse, TransportError>),
    /// Process the request, then answer this instead.
    After(Result<HttpResponse, TransportError>),
    /// Answer this now; process the request later, just before the n-th next request.
    Late(usize, Result<HttpResponse, TransportError>),
}

pub fn status(code: u16, body: &str) -> HttpResponse {
    HttpResponse {
        status: code,
        retry_after: None,
        body: body.to_string(),
    }
}

pub fn rate_limited(secs: u32) -> HttpResponse {
    HttpResponse {
        status: 429,
        retry_after: Some(secs.to_string()),
        body: r#"{"success":false,"error":"Rate limit exceeded"}"#.into(),
    }
}

pub fn key_blocked(secs: u32) -> HttpResponse {
    HttpResponse {
        status: 429,
        retry_after: Some(secs.to_string()),
        body: r#"{"success":false,"error":"API key temporarily blocked due to repeated duplicate submissions"}"#.into(),
    }
}

#[derive(Default)]
pub struct FakeCrm {
    pub leads: Vec<Value>,
    pub created: usize,
    counter: usize,
}

const DUP_PHONE: &str =
    "A call attempt has already been made to this phone number for this project";

impl FakeCrm {
    fn create(&mut self, lead: &Value) -> Result<Value, String> {
        let phone = lead.get("phone").and_then(Value::as_str);
        if phone.is_some()
            && self
                .leads
                .iter()
                .any(|l| l.get("phone").and_then(Value::as_str) == phone)
        {
            return Err(DUP_PHONE.into());
        }
        if let Some(r) = lead.get("referenceId").and_then(Value::as_str) {
            if self
                .leads
                .iter()
                .any(|l| l.get("referenceId").and_then(Value::as_str) == Some(r))
            {
                return Err(format!(
                    "Lead with referenceId {r} already exists for this project and process"
                ));
            }
        }
        if lead.get("name").and_then(Value::as_str) == Some("REJECT") {
            return Err("Invalid lead".into());
        }
        self.counter += 1;
        let mut l = lead.clone();
        if let Value::Object(m) = &mut l {
            m.insert("_id".into(), json!(format!("{:024x}", self.counter)));
            m.insert("currentState".into(), json!("make_first_call"));
            m.insert("serverOnly".into(), json!({"kept": true}));
        }
        self.leads.push(l.clone());
        self.created += 1;
        Ok(l)
    }

    fn handle(&mut self, req: &HttpRequest) -> HttpResponse {
        let body: Value = req
            .body
            .as_deref()
            .and_then(|b| serde_json::from_str(b).ok())
            .unwrap_or(Value::Null);
        let q: HashMap<String, String> = req
            .query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.replace("%40", "@")))
            .collect();
        match (req.method, req.path.as_str()) {
            (Method::Post, "/leads/initiate") => match self.create(&body["lead"]) {
                Ok(mut l) => {
                    l["success"] = json!(true);
                    status(200, &l.to_string())
                }
                Err(e) => status(400, &json!({"success": false, "error": e}).to_string()),
            },
            (Method::Post, "/leads/bulk/initiate") => {
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
            (Method::Get, "/leads/get") => {
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
            (Method::Get, "/leads/query") => {
                let page: usize = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
                let limit: usize = q.get("limit").and_then(|p| p.parse().ok()).unwrap_or(20);
                let mut all: Vec<Value> = self.leads.clone();
                all.reverse();
                let total = all.len();
                let data: Vec<Value> = all
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

pub type BeforeSend = Box<dyn Fn(&mut FakeCrm)>;

pub struct FakeHost {
    pub now: Cell<f64>,
    pub latency_ms: f64,
    pub crm: RefCell<FakeCrm>,
    pub faults: RefCell<VecDeque<Option<Fault>>>,
    /// (time sent, request)
    pub sent: RefCell<Vec<(f64, HttpRequest)>>,
    pub logs: RefCell<Vec<LogEvent>>,
    pub progress: RefCell<Vec<Progress>>,
    pub abort_after_requests: Cell<Option<usize>>,
    /// Called before each request is handled (e.g. to add leads while paging).
    pub before_send: RefCell<Option<BeforeSend>>,
    /// Requests to process later: (requests still to come first, request).
    pub late: RefCell<Vec<(usize, HttpRequest)>>,
}

impl Default for FakeHost {
    fn default() -> Self {
        FakeHost {
            now: Cell::new(1_000_000.0),
            latency_ms: 10.0,
            crm: RefCell::default(),
            faults: RefCell::default(),
            sent: RefCell::default(),
            logs: RefCell::default(),
            progress: RefCell::default(),
            abort_after_requests: Cell::new(None),
            before_send: RefCell::new(None),
            late: RefCell::default(),
        }
    }
}

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
}

impl Host for FakeHost {
    fn now_ms(&self) -> f64 {
        self.now.get()
    }

    fn random(&self) -> f64 {
        0.5
    }

    async fn sleep(&self, ms: f64) {
        self.advance(ms.max(0.0));
    }

    async fn send(
        &self,
        req: &HttpRequest,
        _timeout_ms: f64,
    ) -> Result<HttpResponse, TransportError> {
        self.sent.borrow_mut().push((self.now.get(), req.clone()));
        self.advance(self.latency_ms);
        if let Some(f) = self.before_send.borrow().as_ref() {
            f(&mut self.crm.borrow_mut());
        }
        let due: Vec<HttpRequest> = {
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
                self.late.borrow_mut().push((n, req.clone()));
                r
            }
            Some(Fault::Before(r)) => r,
            Some(Fault::After(r)) => {
                self.crm.borrow_mut().handle(req);
                r
            }
            None => Ok(self.crm.borrow_mut().handle(req)),
        }
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
}
