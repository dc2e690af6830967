//! The exported client. Each method reads its JS arguments at once (so later changes by the
//! caller do not matter), runs the core engine with a `WasmHost`, and settles a promise.

use super::host::{Transport, WasmHost};
use super::{
    check_options, check_string_fields, get, is_browser, js_error, js_string, opt_bool,
    opt_function, opt_number, opt_string, to_js, to_value,
};
use crate::core::bulk::MAX_CHUNK;
use crate::core::engine::{BulkOptions, Client, Config, LeadPager};
use crate::core::error::{Code, VoxError};
use crate::core::limits::{GuardConfig, RateConfig};
use crate::core::phone;
use js_sys::{Function, Promise};
use serde_json::Value;
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

struct Inner {
    client: Client,
    transport: Transport,
}

impl Inner {
    fn error(&self, e: &VoxError) -> JsValue {
        let mut e = e.clone();
        e.message = self.transport.scrub(&e.message);
        js_error(&e)
    }

    fn host(&self, signal: JsValue, on_progress: Option<Function>) -> WasmHost<'_> {
        WasmHost {
            transport: &self.transport,
            signal,
            on_progress,
        }
    }
}

/// Per-call options: `{ init?, signal?, masked?, chunkSize?, concurrency?, onProgress? }`.
struct CallOptions {
    init: Option<bool>,
    masked: bool,
    signal: JsValue,
    bulk: BulkOptions,
    on_progress: Option<Function>,
}

fn call_options(opts: &JsValue) -> Result<CallOptions, VoxError> {
    check_options(opts, "options")?;
    let signal = get(opts, "signal");
    if !(signal.is_undefined() || signal.is_null())
        && (get(&signal, "aborted").as_bool().is_none()
            || !get(&signal, "addEventListener").is_function())
    {
        return Err(VoxError::invalid_argument("signal must be an AbortSignal"));
    }
    let defaults = BulkOptions::default();
    Ok(CallOptions {
        init: opt_bool(opts, "init")?,
        masked: opt_bool(opts, "masked")?.unwrap_or(false),
        signal,
        bulk: BulkOptions {
            init: opt_bool(opts, "init")?,
            chunk_size: opt_number(opts, "chunkSize", 1.0, MAX_CHUNK as f64, true)?
                .map_or(defaults.chunk_size, |n| n as usize),
            concurrency: opt_number(opts, "concurrency", 1.0, 64.0, true)?
                .map_or(defaults.concurrency, |n| n as usize),
        },
        on_progress: opt_function(opts, "onProgress")?,
    })
}

/// `{ leadId }` or `{ referenceId, processId }`, every id a real string.
fn target_value(target: &JsValue) -> Result<Value, VoxError> {
    check_string_fields(target, "target", &["leadId", "referenceId", "processId"])?;
    to_value(target, "target")
}

const QUERY_DATES: [&str; 4] = ["createdFrom", "createdTo", "updatedFrom", "updatedTo"];

/// A query object whose every field has the type API.md §3.5 gives it, checked before JSON
/// would quietly turn `NaN` into null, a `Date` id into text, or drop a function.
fn query_value(query: &JsValue) -> Result<Value, VoxError> {
    if query.is_undefined() || query.is_null() {
        return Ok(Value::Null);
    }
    if !query.is_object() || js_sys::Array::is_array(query) {
        return Err(VoxError::invalid_argument("query must be an object"));
    }
    let object: &js_sys::Object = query.unchecked_ref();
    for key in js_sys::Object::keys(object).iter() {
        let name = key.as_string().unwrap_or_default();
        let v = get(query, &name);
        if v.is_undefined() || v.is_null() {
            continue;
        }
        let what = format!("query.{name}");
        match name.as_str() {
            "page" | "limit" => {
                if !v.as_f64().is_some_and(f64::is_finite) {
                    return Err(VoxError::invalid_argument(format!(
                        "{what} must be a finite number"
                    )));
                }
            }
            "masked" => {
                v.as_bool().ok_or_else(|| {
                    VoxError::invalid_argument(format!("{what} must be a boolean"))
                })?;
            }
            n if QUERY_DATES.contains(&n) => {
                if let Some(d) = v.dyn_ref::<js_sys::Date>() {
                    if d.get_time().is_nan() {
                        return Err(VoxError::invalid_argument(format!(
                            "{what} is an invalid Date"
                        )));
                    }
                } else {
                    js_string(&v, &what)?;
                }
            }
            _ => {
                js_string(&v, &what)?;
            }
        }
    }
    to_value(query, "query")
}

fn config(options: &JsValue) -> Result<(Config, Transport), VoxError> {
    if !options.is_object() {
        return Err(VoxError::invalid_argument(
            "new VoxClient(options): options must be an object with a projectId",
        ));
    }
    let project_id = opt_string(options, "projectId")?
        .filter(|p| !p.trim().is_empty())
        .ok_or_else(|| VoxError::invalid_argument("projectId is required"))?;
    let token = opt_string(options, "token")?.filter(|t| !t.is_empty());
    let allow_browser = opt_bool(options, "dangerouslyAllowBrowser")? == Some(true);
    if token.is_some() && is_browser() && !allow_browser {
        return Err(VoxError::new(
            Code::BrowserUnsafe,
            "A token in a web page is readable by every visitor. Point baseUrl at your own backend route that adds \
             the token, or pass dangerouslyAllowBrowser: true if you accept the risk.",
        ));
    }
    let mut cfg = Config::new(&project_id);
    if let Some(base) = opt_string(options, "baseUrl")? {
        let base = base.trim().trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://") || base.starts_with('/')) {
            return Err(VoxError::invalid_argument(
                "baseUrl must be an http(s) URL or an absolute path",
            ));
        }
        cfg.base_url = base;
    }
    if let Some(t) = opt_number(options, "timeoutMs", 1.0, 600_000.0, false)? {
        cfg.timeout_ms = t;
    }
    if let Some(n) = opt_number(options, "maxRetries", 0.0, 10.0, true)? {
        cfg.max_retries = n as u32;
    }
    if let Some(region) = opt_string(options, "defaultCountry")? {
        if !phone::is_known_region(&region) {
            return Err(VoxError::invalid_argument(format!(
                "defaultCountry '{region}' is not an ISO 3166 region code"
            )));
        }
        cfg.default_region = region.to_ascii_uppercase();
    }
    let rate = get(options, "rateLimit");
    if rate.as_bool() == Some(false) {
        cfg.rate = None;
    } else if !rate.is_undefined() && !rate.is_null() {
        let requests = opt_number(&rate, "requests", 1.0, 1e6, true)?;
        let per_ms = opt_number(&rate, "perMs", 1.0, 3.6e6, false)?;
        match (requests, per_ms) {
            (Some(r), Some(p)) => {
                cfg.rate = Some(RateConfig {
                    requests: r as u32,
                    per_ms: p,
                })
            }
            _ => {
                return Err(VoxError::invalid_argument(
                    "rateLimit must be { requests, perMs } or false",
                ))
            }
        }
    }
    let guard = get(options, "duplicateGuard");
    if guard.as_bool() == Some(false) {
        cfg.guard = None;
    } else if !guard.is_undefined() && !guard.is_null() {
        let max = opt_number(&guard, "max", 1.0, 1e6, true)?;
        let window = opt_number(&guard, "windowMs", 1.0, 8.64e7, false)?;
        match (max, window) {
            (Some(m), Some(w)) => {
                cfg.guard = Some(GuardConfig {
                    max: m as u32,
                    window_ms: w,
                })
            }
            _ => {
                return Err(VoxError::invalid_argument(
                    "duplicateGuard must be { max, windowMs } or false",
                ))
            }
        }
    }
    let fetch = match opt_function(options, "fetch")? {
        Some(f) => f,
        None => get(&js_sys::global(), "fetch")
            .dyn_into::<Function>()
            .map_err(|_| VoxError::invalid_argument("No global fetch here: pass options.fetch"))?,
    };
    let transport = Transport {
        fetch,
        base_url: cfg.base_url.clone(),
        token,
        logger: opt_function(options, "logger")?,
    };
    Ok((cfg, transport))
}

/// The client behind the package's `VoxClient` (the entry wraps it to add `iterateLeads`).
#[wasm_bindgen(js_name = VoxClientCore)]
pub struct VoxClientCore {
    inner: Rc<Inner>,
}

/// What a method resolves to: a value, or JSON text the JS engine parses itself (bulk reports).
enum Out {
    Value(Value),
    Json(String),
}

type Work = Pin<Box<dyn Future<Output = Result<Out, VoxError>>>>;

/// Runs `f` with the client; the returned promise settles with its value or its `VoxError`.
/// Every method goes through one boxed future type, so the promise plumbing is compiled once.
fn run<F, Fut>(inner: &Rc<Inner>, f: F) -> Promise
where
    F: FnOnce(Rc<Inner>) -> Fut + 'static,
    Fut: Future<Output = Result<Value, VoxError>> + 'static,
{
    let work = f(inner.clone());
    settle(
        inner.clone(),
        Box::pin(async move { work.await.map(Out::Value) }),
    )
}

fn settle(inner: Rc<Inner>, work: Work) -> Promise {
    future_to_promise(async move {
        match work.await {
            Ok(Out::Value(v)) => Ok(to_js(&v)),
            Ok(Out::Json(text)) => js_sys::JSON::parse(&text).map_err(|_| {
                inner.error(&VoxError::invalid_response(
                    "Could not build the bulk report",
                ))
            }),
            Err(e) => Err(inner.error(&e)),
        }
    })
}

fn rejected(inner: &Inner, e: &VoxError) -> Promise {
    Promise::reject(&inner.error(e))
}

#[wasm_bindgen(js_class = VoxClientCore)]
impl VoxClientCore {
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<VoxClientCore, JsValue> {
        let (cfg, transport) = config(&options).map_err(|e| js_error(&e))?;
        Ok(VoxClientCore {
            inner: Rc::new(Inner {
                client: Client::new(cfg),
                transport,
            }),
        })
    }

    #[wasm_bindgen(getter, js_name = projectId)]
    pub fn project_id(&self) -> String {
        self.inner.client.cfg.project_id.clone()
    }

    #[wasm_bindgen(getter, js_name = baseUrl)]
    pub fn base_url(&self) -> String {
        self.inner.client.cfg.base_url.clone()
    }

    #[wasm_bindgen(js_name = initiateLead)]
    pub fn initiate_lead(&self, lead: JsValue, options: JsValue) -> Promise {
        let args = call_options(&options).and_then(|o| Ok((o, to_value(&lead, "lead")?)));
        match args {
            Err(e) => rejected(&self.inner, &e),
            Ok((o, lead)) => run(&self.inner, move |i| async move {
                i.client
                    .initiate_lead(&i.host(o.signal, None), &lead, o.init)
                    .await
            }),
        }
    }

    #[wasm_bindgen(js_name = initiateExistingLead)]
    pub fn initiate_existing_lead(&self, lead_id: JsValue, options: JsValue) -> Promise {
        let args = call_options(&options).and_then(|o| Ok((o, js_string(&lead_id, "leadId")?)));
        match args {
            Err(e) => rejected(&self.inner, &e),
            Ok((o, id)) => run(&self.inner, move |i| async move {
                i.client
                    .initiate_existing(&i.host(o.signal, None), &id, o.init)
                    .await
            }),
        }
    }

    #[wasm_bindgen(js_name = bulkInitiateLeads)]
    pub fn bulk_initiate_leads(&self, leads: JsValue, options: JsValue) -> Promise {
        self.bulk(leads, options, false)
    }

    #[wasm_bindgen(js_name = bulkInitiateExisting)]
    pub fn bulk_initiate_existing(&self, lead_ids: JsValue, options: JsValue) -> Promise {
        self.bulk(lead_ids, options, true)
    }

    fn bulk(&self, items: JsValue, options: JsValue, existing: bool) -> Promise {
        let what = if existing { "leadIds" } else { "leads" };
        let args = call_options(&options).and_then(|o| {
            if !js_sys::Array::is_array(&items) {
                return Err(VoxError::invalid_argument(format!(
                    "{what} must be an array"
                )));
            }
            match to_value(&items, what) {
                Ok(Value::Array(a)) => Ok((o, a)),
                // One unreadable item (a lone surrogate, a cycle) must not sink the others:
                // read them one by one; an unreadable one is refused on its own (not an object).
                Err(_) => {
                    let list: &js_sys::Array = items.unchecked_ref();
                    let values = list
                        .iter()
                        .map(|v| to_value(&v, what).unwrap_or(Value::Null))
                        .collect();
                    Ok((o, values))
                }
                Ok(_) => Err(VoxError::invalid_argument(format!(
                    "{what} must be an array"
                ))),
            }
        });
        match args {
            Err(e) => rejected(&self.inner, &e),
            Ok((o, list)) => {
                let i = self.inner.clone();
                let work: Work = Box::pin(async move {
                    let host = i.host(o.signal, o.on_progress);
                    Ok(Out::Json(if existing {
                        i.client.bulk_initiate_existing(&host, list, o.bulk).await
                    } else {
                        i.client.bulk_initiate(&host, list, o.bulk).await
                    }))
                });
                settle(self.inner.clone(), work)
            }
        }
    }

    #[wasm_bindgen(js_name = updateLead)]
    pub fn update_lead(&self, target: JsValue, changes: JsValue, options: JsValue) -> Promise {
        let args = call_options(&options)
            .and_then(|o| Ok((o, target_value(&target)?, to_value(&changes, "changes")?)));
        match args {
            Err(e) => rejected(&self.inner, &e),
            Ok((o, target, changes)) => run(&self.inner, move |i| async move {
                i.client
                    .update_lead(&i.host(o.signal, None), &target, &changes)
                    .await
            }),
        }
    }

    #[wasm_bindgen(js_name = getLead)]
    pub fn get_lead(&self, target: JsValue, options: JsValue) -> Promise {
        let args = call_options(&options).and_then(|o| Ok((o, target_value(&target)?)));
        match args {
            Err(e) => rejected(&self.inner, &e),
            Ok((o, target)) => run(&self.inner, move |i| async move {
                i.client
                    .get_lead(&i.host(o.signal, None), &target, o.masked)
                    .await
            }),
        }
    }

    #[wasm_bindgen(js_name = queryLeads)]
    pub fn query_leads(&self, query: JsValue, options: JsValue) -> Promise {
        let args = call_options(&options).and_then(|o| Ok((o, query_value(&query)?)));
        match args {
            Err(e) => rejected(&self.inner, &e),
            Ok((o, query)) => {
                let i = self.inner.clone();
                let work: Work = Box::pin(async move {
                    let host = i.host(o.signal, None);
                    i.client.query_leads(&host, &query).await.map(Out::Json)
                });
                settle(self.inner.clone(), work)
            }
        }
    }

    #[wasm_bindgen(js_name = getActivity)]
    pub fn get_activity(&self, activity_id: JsValue, options: JsValue) -> Promise {
        let args =
            call_options(&options).and_then(|o| Ok((o, js_string(&activity_id, "activityId")?)));
        match args {
            Err(e) => rejected(&self.inner, &e),
            Ok((o, id)) => run(&self.inner, move |i| async move {
                i.client
                    .get_activity(&i.host(o.signal, None), &id, o.masked)
                    .await
            }),
        }
    }

    /// The pages of a query, for `iterateLeads`.
    pub fn pager(&self, query: JsValue, options: JsValue) -> Result<LeadPagerCore, JsValue> {
        let o = call_options(&options).map_err(|e| self.inner.error(&e))?;
        let query = query_value(&query).map_err(|e| self.inner.error(&e))?;
        let pager = LeadPager::new(&query, &self.inner.client.cfg.default_region)
            .map_err(|e| self.inner.error(&e))?;
        Ok(LeadPagerCore {
            inner: self.inner.clone(),
            signal: o.signal,
            pager: Rc::new(RefCell::new(Some(pager))),
        })
    }
}

#[wasm_bindgen(js_name = LeadPagerCore)]
pub struct LeadPagerCore {
    inner: Rc<Inner>,
    signal: JsValue,
    pager: Rc<RefCell<Option<LeadPager>>>,
}

#[wasm_bindgen(js_class = LeadPagerCore)]
impl LeadPagerCore {
    /// The next page's new leads, or `null` when there are no more.
    pub fn next(&self) -> Promise {
        let Some(mut pager) = self.pager.borrow_mut().take() else {
            return rejected(
                &self.inner,
                &VoxError::invalid_argument("next() called again before the previous page arrived"),
            );
        };
        let slot = self.pager.clone();
        let signal = self.signal.clone();
        let i = self.inner.clone();
        let work: Work = Box::pin(async move {
            let r = pager.next(&i.client, &i.host(signal, None)).await;
            *slot.borrow_mut() = Some(pager);
            r.map(|page| page.map_or(Out::Value(Value::Null), Out::Json))
        });
        settle(self.inner.clone(), work)
    }
}
