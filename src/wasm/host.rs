//! The core's `Host` in JS (a monotonic clock, the caller's `AbortSignal`, the logger, the
//! progress callback, the bulk report), and the requests a task starts as what the JS driver
//! needs to make them: the caller's `fetch` (or the global one), the URL and a web-sys
//! `RequestInit` with its `Headers`.

use super::{call_back, Js};
use crate::core::api;
use crate::core::bulk::{Outcome, Progress};
use crate::core::engine::{Host, LogEvent, Outgoing};
use crate::core::error::VoxError;
use crate::core::options::Hooks;
use crate::core::value::{Json, Part, Value};
use js_sys::{Array, Reflect};
use wasm_bindgen::prelude::*;
use web_sys::{Headers, RequestInit, RequestRedirect};

#[wasm_bindgen(module = "/js/host.js")]
extern "C" {
    pub(crate) fn report() -> JsValue;
    #[wasm_bindgen(js_name = addOutcome)]
    fn add_outcome(report: &JsValue, kind: u8, index: f64, value: &JsValue, error: &JsValue);
    #[wasm_bindgen(js_name = finishReport)]
    pub(crate) fn finish_report(report: &JsValue, requests: f64) -> JsValue;
    fn now() -> f64;
}

/// One call's host: the client's hooks, the call's signal and progress callback, and for a
/// bulk its report and inputs.
pub struct WasmHost {
    pub signal: JsValue,
    pub on_progress: Option<Js>,
    pub logger: Option<Js>,
    /// `(report, inputs)` of a bulk call.
    pub report: Option<(JsValue, Js)>,
}

impl WasmHost {
    pub fn new(hooks: &Hooks<Js>, signal: JsValue) -> Self {
        WasmHost {
            signal,
            on_progress: None,
            logger: hooks.logger.clone(),
            report: None,
        }
    }
}

impl Host for WasmHost {
    type V = Js;

    fn now_ms(&self) -> f64 {
        now()
    }

    fn wall_ms(&self) -> f64 {
        js_sys::Date::now()
    }

    fn random(&self) -> f64 {
        js_sys::Math::random()
    }

    fn aborted(&self) -> bool {
        Js(self.signal.clone()).get("aborted").boolean() == Some(true)
    }

    fn log(&self, event: &LogEvent) {
        if let Some(logger) = &self.logger {
            call_back(&logger.0, &Js::build(event.to_json()).0);
        }
    }

    fn progress(&self, p: Progress) {
        if let Some(f) = &self.on_progress {
            call_back(&f.0, &Js::build(p.to_json()).0);
        }
    }

    fn outcome(&self, index: usize, outcome: Outcome<Js>) {
        let Some((report, inputs)) = &self.report else {
            return;
        };
        let i = index as f64;
        let error = |e: VoxError| Js::build(e.to_json()).0;
        match outcome {
            Outcome::Created(lead) => add_outcome(report, 0, i, &lead.0, &JsValue::UNDEFINED),
            Outcome::Failed(e) => add_outcome(report, 1, i, &inputs.at(index).0, &error(e)),
            Outcome::Unknown(e) => add_outcome(report, 2, i, &inputs.at(index).0, &error(e)),
        }
    }
}

/// `{ id, fetch, url, init, timeoutMs, maxBytes }` for the driver: the caller's `fetch` or the global one
/// (`undefined` when there is none), the URL, and a `RequestInit` with its `Headers`.
pub fn request(hooks: &Hooks<Js>, out: Outgoing<Js>) -> JsValue {
    let fetch = match &hooks.fetch {
        Some(f) => f.0.clone(),
        None => Reflect::get(&js_sys::global(), &JsValue::from_str("fetch")).unwrap_or_default(),
    };
    let init = RequestInit::new();
    init.set_method(out.method);
    // A 3xx is the core's to refuse (`redirect_refused`), never followed.
    init.set_redirect(RequestRedirect::Manual);
    if let Ok(headers) = Headers::new() {
        for (k, v) in &out.headers {
            let _ = headers.set(k, v);
        }
        init.set_headers(&headers);
    }
    if let Some(body) = out.body {
        let parts: Array = body
            .0
            .into_iter()
            .map(|p| match p {
                Part::Str(s) => super::js_str(&s),
                Part::Text(t) => t.0,
            })
            .collect();
        init.set_body(&parts.join("").into());
    }
    Js::build(Json::Object(vec![
        ("id", Json::Number(f64::from(out.id))),
        ("fetch", Json::Value(Js(fetch))),
        ("url", Json::Text(out.url)),
        ("init", Json::Value(Js(init.into()))),
        ("timeoutMs", Json::Number(out.timeout_ms)),
        ("maxBytes", Json::Number(f64::from(api::MAX_BODY_BYTES))),
    ]))
    .0
}
