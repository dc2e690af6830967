//! The core's `Host` in JS: fetch (the global one or the caller's), timers, the caller's
//! `AbortSignal`, the logger and the progress callback.

use super::{get, to_js};
use crate::core::api::{HttpRequest, HttpResponse};
use crate::core::bulk::Progress;
use crate::core::engine::{Host, LogEvent, TransportError};
use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(module = "/js/host.js")]
extern "C" {
    #[wasm_bindgen(js_name = sendOnce)]
    fn send_once(
        fetch: &Function,
        url: &str,
        method: &str,
        headers: &JsValue,
        body: &JsValue,
        timeout_ms: f64,
        signal: &JsValue,
    ) -> Promise;
    #[wasm_bindgen(js_name = sleep)]
    fn sleep_js(ms: f64, signal: &JsValue) -> Promise;
}

/// What every call of one client shares.
pub struct Transport {
    pub fetch: Function,
    pub base_url: String,
    pub token: Option<String>,
    pub logger: Option<Function>,
}

impl Transport {
    /// Removes the token from any text that leaves the library.
    pub fn scrub(&self, text: &str) -> String {
        match &self.token {
            Some(t) if t.len() >= 4 && text.contains(t.as_str()) => {
                text.replace(t.as_str(), "[token]")
            }
            _ => text.to_string(),
        }
    }
}

pub struct WasmHost<'a> {
    pub transport: &'a Transport,
    pub signal: JsValue,
    pub on_progress: Option<Function>,
}

impl WasmHost<'_> {
    fn headers(&self, with_body: bool) -> JsValue {
        let h = Object::new();
        let set = |k: &str, v: &str| {
            let _ = Reflect::set(&h, &JsValue::from_str(k), &JsValue::from_str(v));
        };
        set("Accept", "application/json");
        if with_body {
            set("Content-Type", "application/json");
        }
        if let Some(t) = &self.transport.token {
            set("Authorization", &format!("Bearer {t}"));
        }
        h.into()
    }
}

impl Host for WasmHost<'_> {
    fn now_ms(&self) -> f64 {
        js_sys::Date::now()
    }

    fn random(&self) -> f64 {
        js_sys::Math::random()
    }

    async fn sleep(&self, ms: f64) {
        let _ = JsFuture::from(sleep_js(ms, &self.signal)).await;
    }

    async fn send(
        &self,
        req: &HttpRequest,
        timeout_ms: f64,
    ) -> Result<HttpResponse, TransportError> {
        let url = format!("{}{}", self.transport.base_url, req.path_and_query());
        let body = req
            .body
            .as_deref()
            .map_or(JsValue::UNDEFINED, JsValue::from_str);
        let promise = send_once(
            &self.transport.fetch,
            &url,
            req.method.as_str(),
            &self.headers(req.body.is_some()),
            &body,
            timeout_ms,
            &self.signal,
        );
        match JsFuture::from(promise).await {
            Ok(res) => Ok(HttpResponse {
                status: get(&res, "status").as_f64().map_or(0, |s| s as u16),
                retry_after: get(&res, "retryAfter").as_string(),
                body: get(&res, "body").as_string().unwrap_or_default(),
            }),
            Err(e) => {
                let message = self
                    .transport
                    .scrub(&get(&e, "message").as_string().unwrap_or_default());
                Err(match get(&e, "kind").as_string().as_deref() {
                    Some("timeout") => TransportError::Timeout,
                    Some("aborted") => TransportError::Aborted,
                    Some("refused") => TransportError::Refused(message),
                    _ => TransportError::Network(message),
                })
            }
        }
    }

    fn aborted(&self) -> bool {
        get(&self.signal, "aborted").as_bool().unwrap_or(false)
    }

    fn log(&self, event: &LogEvent) {
        if let Some(logger) = &self.transport.logger {
            let mut v = event.to_value();
            if let Some(serde_json::Value::String(m)) = v.get_mut("message") {
                *m = self.transport.scrub(m);
            }
            // A logger that throws must not break the call.
            let _ = logger.call1(&JsValue::NULL, &to_js(&v));
        }
    }

    fn progress(&self, p: Progress) {
        if let Some(f) = &self.on_progress {
            let v = serde_json::json!({
                "done": p.done, "total": p.total, "created": p.created, "failed": p.failed, "unknown": p.unknown
            });
            let _ = f.call1(&JsValue::NULL, &to_js(&v));
        }
    }
}
