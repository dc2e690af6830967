//! The wasm edge against a running sandbox, under Node (`wasm-pack test --node`) and in
//! headless Chromium (`WASM_BINDGEN_USE_BROWSER=1 wasm-pack test --headless --chrome`).
//! The sandbox URL is given at compile time in `VOX_SANDBOX_URL` (the Makefile starts it).
#![cfg(target_arch = "wasm32")]
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use js_sys::{Array, Function, Object, Promise, Reflect, JSON};
use vox_crm::wasm::client::{TaskCore, VoxClientCore};
use vox_crm::wasm::phone::{
    mask_phone, normalize_phone, validate_lead, validate_phone, validate_phones,
};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

const PROJECT: &str = "6650a1b2c3d4e5f601234567";
const PROCESS: &str = "6650a1b2c3d4e5f6012345a1";
const TOKEN: &str = "sk_test_vox_sandbox";

fn sandbox_url() -> &'static str {
    match option_env!("VOX_SANDBOX_URL") {
        Some(u) => u,
        None => panic!(
            "VOX_SANDBOX_URL was not set when the tests were compiled: run them with `make test`"
        ),
    }
}

fn in_browser() -> bool {
    Reflect::has(&js_sys::global(), &"document".into()).unwrap_or(false)
}

fn obj(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &(*k).into(), v).unwrap();
    }
    o.into()
}

fn get(v: &JsValue, k: &str) -> JsValue {
    Reflect::get(v, &k.into()).unwrap()
}

fn get_str(v: &JsValue, k: &str) -> String {
    get(v, k)
        .as_string()
        .unwrap_or_else(|| panic!("{k} is not a string"))
}

fn client() -> VoxClientCore {
    VoxClientCore::new(obj(&[
        ("projectId", PROJECT.into()),
        ("token", TOKEN.into()),
        ("baseUrl", sandbox_url().into()),
        ("dangerouslyAllowBrowser", true.into()),
    ]))
    .unwrap()
}

/// A valid, pattern-free Indian mobile number, different on every call (a counter) and every
/// run (a base taken from the clock once).
fn fresh_phone() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static BASE: AtomicU64 = AtomicU64::new(0);
    static NEXT: AtomicU64 = AtomicU64::new(0);
    if BASE.load(Ordering::Relaxed) == 0 {
        BASE.store(
            js_sys::Date::now() as u64 % 1_000_000 + 1,
            Ordering::Relaxed,
        );
    }
    loop {
        let k = NEXT.fetch_add(1, Ordering::Relaxed);
        let n = (BASE.load(Ordering::Relaxed) * 104_729 + k * 7_919) % 100_000_000;
        let phone = format!("+9197{n:08}");
        if vox_crm::core::phone::validate(&phone, "IN").valid {
            return phone;
        }
    }
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(f: &Function, ms: f64);
}

/// Runs a task as the package's JS driver does, one request at a time: calls the fetch it
/// names with its URL and `RequestInit`, and hands each answer (or failure) back.
async fn drive(mut t: TaskCore) -> Result<JsValue, JsValue> {
    loop {
        let s = t.step()?;
        if get(&s, "done").as_bool() == Some(true) {
            return Ok(get(&s, "value"));
        }
        let sends: Array = get(&s, "sends").into();
        if sends.length() == 0 {
            let ms = get(&s, "wake").as_f64().unwrap_or(0.0).max(0.0);
            let wait = Promise::new(&mut |resolve, _| set_timeout(&resolve, ms));
            JsFuture::from(wait).await.unwrap();
        }
        for r in sends.iter() {
            let id = get(&r, "id").as_f64().unwrap() as u32;
            let fetch: Function = get(&r, "fetch").into();
            let sent = fetch
                .call2(&JsValue::NULL, &get(&r, "url"), &get(&r, "init"))
                .unwrap();
            match JsFuture::from(Promise::resolve(&sent)).await {
                Ok(res) => {
                    let status = get(&res, "status").as_f64().unwrap() as u16;
                    let headers: web_sys::Headers = get(&res, "headers").into();
                    let retry_after = headers.get("retry-after").unwrap();
                    let text: Function = get(&res, "text").into();
                    let text = JsFuture::from(Promise::from(text.call0(&res).unwrap()))
                        .await
                        .unwrap();
                    let body =
                        JSON::parse(&text.as_string().unwrap()).unwrap_or(JsValue::UNDEFINED);
                    t.deliver(id, status, retry_after, body);
                }
                Err(e) => t.fail(id, "network", format!("{:?}", get(&e, "message"))),
            }
        }
    }
}

async fn ok(t: TaskCore) -> JsValue {
    drive(t)
        .await
        .unwrap_or_else(|e| panic!("rejected: {:?}", get(&e, "message")))
}

async fn err(t: TaskCore) -> JsValue {
    match drive(t).await {
        Ok(v) => panic!("expected a rejection, got {v:?}"),
        Err(e) => e,
    }
}

fn assert_vox_error(e: &JsValue, code: &str) {
    assert!(e.is_instance_of::<js_sys::Error>(), "a real Error");
    assert_eq!(get_str(e, "name"), "VoxError");
    assert_eq!(get_str(e, "code"), code, "message: {:?}", get(e, "message"));
}

#[wasm_bindgen_test]
async fn initiate_get_update_and_query_a_lead() {
    let c = client();
    let phone = fresh_phone();
    let reference = format!("wasm-{}", js_sys::Math::random());
    let lead = ok(c.initiate_lead(
        obj(&[
            ("name", "Wasm Test".into()),
            ("phone", phone.trim_start_matches("+91").into()),
            ("processId", PROCESS.into()),
            ("referenceId", reference.as_str().into()),
        ]),
        obj(&[("init", false.into())]),
    ))
    .await;
    let id = get_str(&lead, "_id");
    assert_eq!(get_str(&lead, "phone"), phone, "sent in E.164");
    assert_eq!(get_str(&lead, "currentState"), "new");
    assert!(get(&lead, "success").is_undefined());

    let by_ref = obj(&[
        ("referenceId", reference.as_str().into()),
        ("processId", PROCESS.into()),
    ]);
    let got = ok(c.get_lead(by_ref.clone(), obj(&[("masked", true.into())]))).await;
    assert_eq!(get_str(&got, "_id"), id);
    assert!(Array::is_array(&get(&got, "activities")));
    assert!(get_str(&got, "phone").starts_with("+********"));

    let upd = ok(c.update_lead(
        obj(&[("leadId", id.as_str().into())]),
        obj(&[
            ("metadata", obj(&[("tier", "gold".into())])),
            ("targetState", "interested".into()),
        ]),
        JsValue::UNDEFINED,
    ))
    .await;
    assert_eq!(get_str(&upd, "message"), "Lead update initiated");
    let after = ok(c.get_lead(by_ref, JsValue::UNDEFINED)).await;
    assert_eq!(get_str(&after, "currentState"), "interested");
    assert_eq!(get_str(&get(&after, "metadata"), "tier"), "gold");

    let page = ok(c.query_leads(
        obj(&[("referenceId", reference.as_str().into())]),
        JsValue::UNDEFINED,
    ))
    .await;
    let leads: Array = get(&page, "leads").into();
    assert_eq!(leads.length(), 1);
    assert_eq!(get(&page, "total").as_f64(), Some(1.0));
}

#[wasm_bindgen_test]
async fn bulk_maps_results_to_inputs() {
    let c = client();
    let phones: Vec<String> = (0..3).map(|_| fresh_phone()).collect();
    let leads = Array::new();
    leads.push(&obj(&[
        ("name", "A".into()),
        ("phone", phones[0].as_str().into()),
        ("processId", PROCESS.into()),
    ]));
    leads.push(&obj(&[
        ("name", "No contact".into()),
        ("processId", PROCESS.into()),
    ]));
    leads.push(&obj(&[
        ("name", "C".into()),
        ("phone", phones[2].as_str().into()),
        ("processId", PROCESS.into()),
    ]));
    let r = ok(c.bulk_initiate_leads(leads.into(), JsValue::UNDEFINED)).await;
    let created: Array = get(&r, "created").into();
    let failed: Array = get(&r, "failed").into();
    assert_eq!((created.length(), failed.length()), (2, 1));
    assert_eq!(get(&created.get(1), "index").as_f64(), Some(2.0));
    assert_eq!(get_str(&get(&created.get(1), "lead"), "phone"), phones[2]);
    assert_eq!(
        get_str(&get(&failed.get(0), "error"), "code"),
        "validation_error"
    );
    // One bulk, after the count of the project's leads and (when it has some) the cheaper of an
    // index of them or a query per lead's phone: at most 2 more.
    let requests = get(&r, "requests").as_f64().unwrap_or(0.0);
    assert!((1.0..=4.0).contains(&requests), "{requests} requests");
}

#[wasm_bindgen_test]
async fn server_errors_become_vox_errors() {
    let c = client();
    let e = err(c.get_lead(
        obj(&[("leadId", "6650a1b2c3d4e5f60123ffff".into())]),
        JsValue::UNDEFINED,
    ))
    .await;
    assert_vox_error(&e, "not_found");
    assert_eq!(get(&e, "status").as_f64(), Some(404.0));
    assert!(get_str(&e, "message").contains("not found"));

    let bad_token = VoxClientCore::new(obj(&[
        ("projectId", PROJECT.into()),
        ("token", "sk_wrong_token_123".into()),
        ("baseUrl", sandbox_url().into()),
        ("dangerouslyAllowBrowser", true.into()),
    ]))
    .unwrap();
    let e =
        err(bad_token.get_activity("6650a1b2c3d4e5f60123ffff".into(), JsValue::UNDEFINED)).await;
    assert_vox_error(&e, "forbidden");
    assert!(!get_str(&e, "message").contains("sk_wrong_token_123"));
}

#[wasm_bindgen_test]
async fn local_refusals_cost_no_request() {
    let c = client();
    let e = err(c.initiate_lead(obj(&[("name", "x".into())]), JsValue::UNDEFINED)).await;
    assert_vox_error(&e, "validation_error");
    assert!(Array::is_array(&get(&e, "details")));
    let e = err(c.get_lead(JsValue::from(42), JsValue::UNDEFINED)).await;
    assert_vox_error(&e, "invalid_argument");
    let e = err(c.bulk_initiate_leads("not a list".into(), JsValue::UNDEFINED)).await;
    assert_vox_error(&e, "invalid_argument");
}

#[wasm_bindgen_test]
async fn an_unreachable_server_is_a_network_error() {
    let c = VoxClientCore::new(obj(&[
        ("projectId", PROJECT.into()),
        ("baseUrl", "http://127.0.0.1:9/api/v1".into()),
        ("maxRetries", 0.into()),
    ]))
    .unwrap();
    let e = err(c.get_activity("6650a1b2c3d4e5f60123ffff".into(), JsValue::UNDEFINED)).await;
    assert_vox_error(&e, "network_error");
}

#[wasm_bindgen_test]
fn a_token_in_a_browser_needs_consent() {
    let opts = obj(&[("projectId", PROJECT.into()), ("token", TOKEN.into())]);
    let r = VoxClientCore::new(opts);
    if in_browser() {
        let e = r.err().expect("refused in a browser");
        assert_vox_error(&e, "browser_unsafe");
        assert!(!get_str(&e, "message").contains(TOKEN));
        // Without a token (a backend route adds it) the browser is fine.
        assert!(VoxClientCore::new(obj(&[
            ("projectId", PROJECT.into()),
            ("baseUrl", "/api/v1".into())
        ]))
        .is_ok());
    } else {
        assert!(r.is_ok(), "Node is a server: a token is expected there");
    }
}

#[wasm_bindgen_test]
fn phone_functions() {
    let v = validate_phone("098453 17206".into(), JsValue::UNDEFINED).unwrap();
    assert_eq!(get(&v, "valid").as_bool(), Some(true));
    assert_eq!(get_str(&v, "e164"), "+919845317206");
    let junk = validate_phone("9999999999".into(), JsValue::UNDEFINED).unwrap();
    assert_eq!(get_str(&junk, "reason"), "repeating_digits");
    let many: Array = validate_phones(
        Array::of2(&"+919845317206".into(), &"12".into()).into(),
        JsValue::UNDEFINED,
    )
    .unwrap()
    .into();
    assert_eq!(many.length(), 2);
    assert_eq!(get(&many.get(1), "valid").as_bool(), Some(false));
    assert_eq!(
        normalize_phone("+91 98453-17206".into(), JsValue::UNDEFINED).unwrap(),
        "+919845317206"
    );
    assert_vox_error(
        &normalize_phone("12".into(), JsValue::UNDEFINED).unwrap_err(),
        "invalid_phone",
    );
    assert_eq!(
        mask_phone("+919845317206".into(), JsValue::UNDEFINED).unwrap(),
        "+91******7206"
    );
    let l = validate_lead(obj(&[("name", "A".into())]), JsValue::UNDEFINED).unwrap();
    assert_eq!(get(&l, "valid").as_bool(), Some(false));
    assert_vox_error(
        &validate_phone(JsValue::from(5), JsValue::UNDEFINED).unwrap_err(),
        "invalid_argument",
    );
}
