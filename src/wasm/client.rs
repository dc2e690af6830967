//! The exported client. Each method hands its JS arguments to the core as they are (the core
//! reads them at once, so later changes by the caller do not matter) and returns the core's
//! task as a `TaskCore`, which the JS driver (`js/api.mjs`) runs: it makes the requests the
//! task starts, wakes it when it asks, and hands each result back.

use super::host::{finish_report, report, request, WasmHost};
use super::{is_browser, js_error, Js};
use crate::core::api::HttpResponse;
use crate::core::engine::{Client, Host, Pages, Step, Task, TransportError};
use crate::core::options::{CallOptions, ClientOptions, Env, Hooks};
use crate::core::value::Value;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

struct Inner {
    client: Client,
    hooks: Hooks<Js>,
}

/// The client behind the package's `VoxClient` (the entry wraps it to add `iterateLeads`).
#[wasm_bindgen(js_name = VoxClientCore)]
pub struct VoxClientCore {
    inner: Rc<Inner>,
}

/// One call in progress, for the JS driver.
#[wasm_bindgen(js_name = TaskCore)]
pub struct TaskCore {
    inner: Rc<Inner>,
    task: Option<Task<Js>>,
    host: WasmHost,
    /// The pages of an `iterateLeads`.
    pages: Option<Pages>,
}

impl VoxClientCore {
    /// A task made with the call's options (a task that fails at once when they are wrong).
    fn task(
        &self,
        options: JsValue,
        make: impl FnOnce(&Client, &WasmHost, CallOptions<Js>) -> Task<Js>,
    ) -> TaskCore {
        let mut host = WasmHost::new(&self.inner.hooks, JsValue::UNDEFINED);
        let task = match CallOptions::read(&Js(options)) {
            Err(e) => Task::failed(e),
            Ok(o) => {
                host.signal = o
                    .signal
                    .as_ref()
                    .map_or(JsValue::UNDEFINED, |s| s.0.clone());
                host.on_progress = o.on_progress.clone();
                make(&self.inner.client, &host, o)
            }
        };
        TaskCore {
            inner: self.inner.clone(),
            task: Some(task),
            host,
            pages: None,
        }
    }

    fn bulk(&self, items: JsValue, options: JsValue, existing: bool) -> TaskCore {
        let items = Js(items);
        let mut t = self.task(options, |c, _, o: CallOptions<Js>| {
            c.bulk_initiate(&items, existing, o.bulk)
        });
        t.host.report = Some((report(), items));
        t
    }
}

#[wasm_bindgen(js_class = VoxClientCore)]
impl VoxClientCore {
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<VoxClientCore, JsValue> {
        let env = Env {
            browser: is_browser(),
            parse_url: super::parse_url,
        };
        let (cfg, hooks) = ClientOptions::read(&Js(options))
            .and_then(|o| o.into_config(env))
            .map_err(|e| js_error(&e))?;
        Ok(VoxClientCore {
            inner: Rc::new(Inner {
                client: Client::new(cfg),
                hooks,
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
    pub fn initiate_lead(&self, lead: JsValue, options: JsValue) -> TaskCore {
        self.task(options, |c, _, o| c.initiate_lead(&Js(lead), o.init))
    }

    #[wasm_bindgen(js_name = initiateExistingLead)]
    pub fn initiate_existing_lead(&self, lead_id: JsValue, options: JsValue) -> TaskCore {
        self.task(options, |c, _, o| c.initiate_existing(&Js(lead_id), o.init))
    }

    #[wasm_bindgen(js_name = bulkInitiateLeads)]
    pub fn bulk_initiate_leads(&self, leads: JsValue, options: JsValue) -> TaskCore {
        self.bulk(leads, options, false)
    }

    #[wasm_bindgen(js_name = bulkInitiateExisting)]
    pub fn bulk_initiate_existing(&self, lead_ids: JsValue, options: JsValue) -> TaskCore {
        self.bulk(lead_ids, options, true)
    }

    #[wasm_bindgen(js_name = updateLead)]
    pub fn update_lead(&self, target: JsValue, changes: JsValue, options: JsValue) -> TaskCore {
        self.task(options, |c, _, _| c.update_lead(&Js(target), &Js(changes)))
    }

    #[wasm_bindgen(js_name = getLead)]
    pub fn get_lead(&self, target: JsValue, options: JsValue) -> TaskCore {
        self.task(options, |c, _, o| c.get_lead(&Js(target), o.masked))
    }

    #[wasm_bindgen(js_name = queryLeads)]
    pub fn query_leads(&self, query: JsValue, options: JsValue) -> TaskCore {
        self.task(options, |c, _, _| c.query_leads(&Js(query)))
    }

    #[wasm_bindgen(js_name = getActivity)]
    pub fn get_activity(&self, activity_id: JsValue, options: JsValue) -> TaskCore {
        self.task(options, |c, _, o| {
            c.get_activity(&Js(activity_id), o.masked)
        })
    }

    /// The pages of a query, for `iterateLeads`: a task that checks the query, then one per
    /// page from its `nextPage()`.
    pub fn pager(&self, query: JsValue, options: JsValue) -> TaskCore {
        let mut pages = None;
        let mut t = self.task(options, |c, _, _| {
            let (task, p) = Pages::start(&Js(query), &c.cfg.default_region);
            pages = p;
            task
        });
        t.pages = pages;
        t
    }
}

#[wasm_bindgen(js_class = TaskCore)]
impl TaskCore {
    /// The call's `AbortSignal` (or `undefined`), for the driver.
    #[wasm_bindgen(getter)]
    pub fn signal(&self) -> JsValue {
        self.host.signal.clone()
    }

    /// Advances the task: `{ sends: [{ id, fetch, url, init, timeoutMs }], wake, stores? }`
    /// (`wake`: ms until it wants to be stepped again, -1 for never; `stores`: operations for
    /// the traffic store, `[{ id, op, timeoutMs, store }]`) while it runs, `{ done: true, value }`
    /// at the end; throws the `VoxError` the call fails with.
    pub fn step(&mut self) -> Result<JsValue, JsValue> {
        let Some(task) = self.task.as_mut() else {
            return Ok(Js::build(Step::done_json(Js(JsValue::UNDEFINED), Vec::new())).0);
        };
        let step = task.step(&self.inner.client, &self.host);
        let store = &self.inner.hooks.store;
        let stores = task
            .take_store_calls()
            .into_iter()
            .filter_map(|c| store.as_ref().map(|s| c.into_json(s.clone())))
            .collect();
        let json = match step {
            Step::Done(r) => {
                let value = r.map_err(|e| js_error(&e))?;
                let value = match &self.host.report {
                    Some((report, _)) => Js(finish_report(report, value.number().unwrap_or(0.0))),
                    None => value,
                };
                Step::done_json(value, stores)
            }
            Step::Pending { wake } => {
                let sends = task
                    .take_sends()
                    .into_iter()
                    .map(|o| Js(request(&self.inner.hooks, o)))
                    .collect();
                Step::to_json(sends, stores, wake, self.host.now_ms())
            }
        };
        Ok(Js::build(json).0)
    }

    /// Request `id` was answered: its status, `Retry-After` and body as `JSON.parse` read it
    /// (`undefined` when it was not JSON).
    pub fn deliver(&mut self, id: u32, status: u16, retry_after: Option<String>, body: JsValue) {
        if let Some(t) = self.task.as_mut() {
            let body = (!body.is_undefined()).then_some(Js(body));
            t.deliver(
                id,
                Ok(HttpResponse {
                    status,
                    retry_after,
                    body,
                }),
            );
        }
    }

    /// Request `id` got no answer (`kind` as `TransportError::from_kind` reads it).
    pub fn fail(&mut self, id: u32, kind: &str, message: String) {
        if let Some(t) = self.task.as_mut() {
            t.deliver(id, Err(TransportError::from_kind(kind, message)));
        }
    }

    /// The store's answer to operation `id` (`reply`), or why there is none (`failure`, when
    /// `apply` threw, rejected or took longer than `storeTimeoutMs`).
    #[wasm_bindgen(js_name = deliverStore)]
    pub fn deliver_store(&mut self, id: u32, reply: JsValue, failure: Option<String>) {
        if let Some(t) = self.task.as_mut() {
            t.deliver_store(id, failure.map_or(Ok(Js(reply)), Err));
        }
    }

    /// A task for the next page of a pager (see `VoxClientCore::pager`): its value is the
    /// page's new leads, or null when there are none left.
    #[wasm_bindgen(js_name = nextPage)]
    pub fn next_page(&self) -> TaskCore {
        let task = Pages::next_of(self.pages.as_ref());
        TaskCore {
            inner: self.inner.clone(),
            task: Some(task),
            host: WasmHost::new(&self.inner.hooks, self.host.signal.clone()),
            pages: None,
        }
    }
}
