//! Engine behaviour with a fake clock and a fake CRM: what a user of each method notices.

use crate::core::bulk::BulkOptions;
use crate::core::engine::{Client, Config, Pages, TransportError};
use crate::core::error::VoxError;
use crate::core::limits::{GuardConfig, RateConfig, WINDOW_MARGIN_MS};
use crate::core::testkit::{key_blocked, rate_limited, run, status, tv, FakeHost, Fault, Tv};
use crate::core::value::Value;
use serde_json::{json, Value as J};

const PROJECT: &str = "6650a1b2c3d4e5f601234567";
const PROC: &str = "6650a1b2c3d4e5f6012345a1";
const MISSING: &str = "0123456789abcdef01234567";

fn client() -> Client {
    Client::isolated(Config::new(PROJECT))
}

fn client_with(f: impl FnOnce(&mut Config)) -> Client {
    let mut cfg = Config::new(PROJECT);
    f(&mut cfg);
    Client::isolated(cfg)
}

/// A valid Indian mobile number unique per `i`.
fn phone(i: usize) -> String {
    format!("+9198{:08}", 10_000_000 + i * 7 + 13)
}

fn lead_json(i: usize) -> J {
    json!({"name": format!("Lead {i}"), "phone": phone(i), "processId": PROC})
}

fn lead(i: usize) -> Tv {
    tv(lead_json(i))
}

fn lead_ref(i: usize) -> Tv {
    let mut l = lead_json(i);
    l["referenceId"] = json!(format!("ref-{i}"));
    tv(l)
}

fn target(id: &str) -> Tv {
    tv(json!({ "leadId": id }))
}

/// Runs a bulk of these inputs; the report as docs/sdk.md shapes it (from the host's outcomes).
fn bulk(c: &Client, h: &FakeHost, inputs: Vec<J>, opts: BulkOptions) -> J {
    let requests = run(c, h, c.bulk_initiate(&tv(J::Array(inputs)), false, opts))
        .unwrap()
        .json();
    let mut r = h.report();
    r["requests"] = requests;
    h.outcomes.borrow_mut().clear();
    r
}

/// Runs the task `f` makes with `c`.
fn go(
    c: &Client,
    h: &FakeHost,
    f: impl FnOnce(&Client) -> crate::core::engine::Task<Tv>,
) -> Result<Tv, VoxError> {
    run(c, h, f(c))
}

fn leads(n: usize, f: fn(usize) -> J) -> Vec<J> {
    (0..n).map(f).collect()
}

fn lead_ref_json(i: usize) -> J {
    lead_ref(i).json()
}

fn len(v: &J, k: &str) -> usize {
    v[k].as_array().map_or(usize::MAX, Vec::len)
}

#[test]
fn initiate_returns_the_lead_with_unknown_fields() {
    let h = FakeHost::default();
    let l = go(&client(), &h, |c| c.initiate_lead(&lead(1), None))
        .unwrap()
        .json();
    assert_eq!(l["phone"], json!(phone(1)));
    assert_eq!(l["serverOnly"], json!({"kept": true}));
    assert!(l.get("success").is_none());
    let sent = h.sent.borrow()[0].1.json();
    assert_eq!(
        sent["lead"]["projectId"], PROJECT,
        "the client's project is filled in"
    );
    assert!(
        sent.get("init").is_none(),
        "init omitted means the API default"
    );
}

#[test]
fn scrubbing_the_token_masks_a_number_glued_to_it() {
    let mut cfg = Config::new(PROJECT);
    cfg.token = Some("sk_live_SECRET".into());
    let out = cfg.scrub("echo: 9845317206sk_live_SECRET and sk_live_SECRET");
    assert_eq!(out, "echo: ******7206[token] and [token]");
    assert_eq!(cfg.scrub("no token, 9845317206"), "no token, 9845317206");
}

#[test]
fn requests_carry_the_token_and_the_base_url() {
    let h = FakeHost::default();
    let c = client_with(|c| {
        c.token = Some("sk_test_Secret1".into());
        c.base_url = "http://127.0.0.1:4010/api/v1".into();
    });
    go(&c, &h, |c| c.initiate_lead(&lead(1), None)).unwrap();
    let sent = h.sent.borrow();
    let r = &sent[0].1;
    assert_eq!(r.url, "http://127.0.0.1:4010/api/v1/leads/initiate");
    let header = |k: &str| {
        r.headers
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(header("Authorization"), Some("Bearer sk_test_Secret1"));
    assert_eq!(header("Content-Type"), Some("application/json"));
    assert_eq!(header("Accept"), Some("application/json"));
}

#[test]
fn invalid_lead_costs_no_request() {
    let h = FakeHost::default();
    let err = go(&client(), &h, |c| {
        c.initiate_lead(&tv(json!({"phone": "12"})), None)
    })
    .unwrap_err();
    assert_eq!(err.code(), "validation_error");
    let Some(crate::core::error::Details::Fields(fields)) = &err.details else {
        panic!("{err:?}")
    };
    assert!(fields.len() >= 2);
    assert_eq!(h.requests(), 0);
}

#[test]
fn duplicate_guard_refuses_a_recent_phone_locally() {
    let h = FakeHost::default();
    let c = client();
    go(&c, &h, |c| c.initiate_lead(&lead(1), None)).unwrap();
    let mut again = lead_json(1);
    again["name"] = json!("Someone else");
    let again = tv(again);
    let err = go(&c, &h, |c| c.initiate_lead(&again, None)).unwrap_err();
    assert_eq!(err.code(), "duplicate_submission");
    assert!(
        !err.message.contains(&phone(1)),
        "the phone is masked in the message"
    );
    assert_eq!(h.requests(), 1);
    assert!(h.log_kinds().contains(&"duplicate_refused"));
    // After the window it reaches the server, which rejects it as a duplicate.
    h.advance(60_001.0);
    let err = go(&c, &h, |c| c.initiate_lead(&again, None)).unwrap_err();
    assert_eq!(err.code(), "bad_request");
    assert!(err.message.contains("already been made"));
}

#[test]
fn duplicate_rejections_never_reach_the_block_threshold() {
    // Leads created elsewhere (the client never saw them): every initiate is a server duplicate.
    let h = FakeHost::default();
    for i in 0..10 {
        h.crm
            .borrow_mut()
            .leads
            .push(json!({"_id": format!("{i:024x}"), "phone": phone(i)}));
    }
    let c = client();
    let mut server_rejections = 0;
    for i in 0..10 {
        match go(&c, &h, |c| c.initiate_lead(&lead(i), None))
            .unwrap_err()
            .code()
        {
            "bad_request" => server_rejections += 1,
            "duplicate_submission" => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(
        server_rejections, 5,
        "the 6th would block the key; it is refused locally"
    );
    assert_eq!(h.requests(), 5);
    h.advance(60_000.0);
    assert_eq!(
        go(&c, &h, |c| c.initiate_lead(&lead(7), None))
            .unwrap_err()
            .code(),
        "bad_request"
    );
}

#[test]
fn guard_can_be_turned_off() {
    let h = FakeHost::default();
    let c = client_with(|c| c.guard = None);
    go(&c, &h, |c| c.initiate_lead(&lead(1), None)).unwrap();
    assert_eq!(
        go(&c, &h, |c| c.initiate_lead(&lead(1), None))
            .unwrap_err()
            .code(),
        "bad_request"
    );
    assert_eq!(h.requests(), 2);
}

#[test]
fn rate_limit_429_is_waited_out_and_resent() {
    let h = FakeHost::default();
    h.script(vec![Some(Fault::Before(Ok(rate_limited(3))))]);
    let t0 = h.now.get();
    let l = go(&client(), &h, |c| c.initiate_lead(&lead(1), None))
        .unwrap()
        .json();
    assert_eq!(l["phone"], json!(phone(1)));
    assert_eq!(h.requests(), 2);
    let (t1, _) = h.sent.borrow()[1].clone();
    assert!(
        t1 - t0 >= 3000.0,
        "Retry-After honoured: waited {}",
        t1 - t0
    );
    assert_eq!(h.crm.borrow().created, 1);
    assert!(h.log_kinds().contains(&"retry"));
}

#[test]
fn key_block_fails_fast_until_it_expires() {
    let h = FakeHost::default();
    h.script(vec![Some(Fault::Before(Ok(key_blocked(120))))]);
    let c = client();
    let err = go(&c, &h, |c| c.get_lead(&target(MISSING), false)).unwrap_err();
    assert_eq!(err.code(), "key_blocked");
    assert_eq!(err.retry_after_ms, Some(120_000.0));
    let err = go(&c, &h, |c| c.initiate_lead(&lead(1), None)).unwrap_err();
    assert_eq!(err.code(), "key_blocked");
    assert!(err.retry_after_ms.unwrap() <= 120_000.0);
    assert_eq!(h.requests(), 1, "no request while blocked");
    h.advance(120_000.0);
    go(&c, &h, |c| c.initiate_lead(&lead(1), None)).unwrap();
    assert_eq!(h.requests(), 2);
}

#[test]
fn ambiguous_write_with_reference_is_reconciled_not_resent() {
    // The server created the lead, then the connection dropped.
    let h = FakeHost::default();
    h.script(vec![Some(Fault::After(Err(TransportError::Network(
        "reset".into(),
    ))))]);
    let l = go(&client(), &h, |c| c.initiate_lead(&lead_ref(1), None))
        .unwrap()
        .json();
    assert_eq!(l["referenceId"], "ref-1");
    assert!(l.get("activities").is_none());
    assert_eq!(h.crm.borrow().created, 1, "created once");
    assert_eq!(h.paths(), vec!["/leads/initiate", "/leads/get"]);
}

#[test]
fn ambiguous_write_not_created_is_resent_once_looked_up() {
    let h = FakeHost::default();
    h.script(vec![Some(Fault::Before(Ok(status(
        502,
        "<html>Bad gateway</html>",
    ))))]);
    let l = go(&client(), &h, |c| c.initiate_lead(&lead_ref(2), None))
        .unwrap()
        .json();
    assert_eq!(l["referenceId"], "ref-2");
    assert_eq!(h.crm.borrow().created, 1);
    assert_eq!(
        h.paths(),
        vec!["/leads/initiate", "/leads/get", "/leads/initiate"]
    );
}

#[test]
fn after_a_timeout_the_lookup_waits_for_the_request_to_finish() {
    let h = FakeHost::default();
    h.script(vec![Some(Fault::After(Err(TransportError::Timeout)))]);
    let c = client_with(|c| c.timeout_ms = 3000.0);
    go(&c, &h, |c| c.initiate_lead(&lead_ref(6), None)).unwrap();
    let sent = h.sent.borrow();
    assert_eq!(sent[1].1.path, "/leads/get");
    assert!(sent[1].0 - sent[0].0 >= 3000.0, "grace before the lookup");
    assert_eq!(h.crm.borrow().created, 1);
}

#[test]
fn a_resend_refused_as_our_own_late_lead_counts_as_created() {
    // The first attempt times out and reaches the server only after the lookup said
    // "not found": the resend is then refused as a duplicate of our own lead.
    let h = FakeHost::default();
    h.script(vec![Some(Fault::Late(2, Err(TransportError::Timeout)))]);
    let l = go(&client(), &h, |c| c.initiate_lead(&lead_ref(7), None))
        .unwrap()
        .json();
    assert_eq!(l["referenceId"], "ref-7");
    assert_eq!(h.crm.borrow().created, 1);
    assert_eq!(
        h.paths(),
        vec![
            "/leads/initiate",
            "/leads/get",
            "/leads/initiate",
            "/leads/get"
        ]
    );
}

#[test]
fn bulk_resend_refused_as_our_own_late_leads_counts_them_created() {
    let h = FakeHost::default();
    let mut script = vec![Some(Fault::Late(6, Err(TransportError::Timeout)))];
    script.extend(vec![None; 5]); // five lookups: not found yet
    h.script(script);
    let r = bulk(
        &client(),
        &h,
        leads(5, lead_ref_json),
        BulkOptions::default(),
    );
    assert_eq!(len(&r, "created"), 5, "{r}");
    assert_eq!(h.crm.borrow().created, 5);
}

#[test]
fn ambiguous_write_without_reference_is_never_resent() {
    let h = FakeHost::default();
    h.script(vec![Some(Fault::After(Err(TransportError::Timeout)))]);
    let err = go(&client(), &h, |c| c.initiate_lead(&lead(3), None)).unwrap_err();
    assert_eq!(err.code(), "timeout");
    assert_eq!(h.requests(), 1);
    // The phone stays taken: sending it again now could create it twice.
    assert_eq!(
        go(&client(), &h, |c| c.initiate_lead(&lead(3), None))
            .unwrap_err()
            .code(),
        "bad_request"
    );
}

#[test]
fn refused_connection_is_resent() {
    let h = FakeHost::default();
    h.script(vec![Some(Fault::Before(Err(TransportError::Refused(
        "ECONNREFUSED".into(),
    ))))]);
    go(&client(), &h, |c| c.initiate_lead(&lead(4), None)).unwrap();
    assert_eq!(h.requests(), 2);
}

#[test]
fn reads_retry_on_5xx_and_malformed_bodies() {
    let h = FakeHost::default();
    let c = client();
    let created = go(&c, &h, |c| c.initiate_lead(&lead(5), None))
        .unwrap()
        .json();
    let id = created["_id"].as_str().unwrap().to_string();
    h.script(vec![
        Some(Fault::Before(Ok(status(503, "unavailable")))),
        Some(Fault::Before(Ok(status(200, "{\"success\":tr")))),
    ]);
    let got = go(&c, &h, |c| c.get_lead(&target(&id), false))
        .unwrap()
        .json();
    assert_eq!(got["activities"], json!([]));
    assert_eq!(h.requests(), 4);
    h.script(vec![Some(Fault::Before(Ok(status(500, "{}")))); 3]);
    let err = go(&c, &h, |c| c.get_lead(&target(&id), false)).unwrap_err();
    assert_eq!((err.code(), err.status), ("server_error", Some(500)));
    assert_eq!(h.requests(), 7, "maxRetries 2: three attempts");
}

#[test]
fn errors_carry_the_servers_reason() {
    let h = FakeHost::default();
    let err = go(&client(), &h, |c| c.get_lead(&target(MISSING), false)).unwrap_err();
    assert_eq!((err.code(), err.status), ("not_found", Some(404)));
    assert_eq!(err.message, "Lead not found");
}

#[test]
fn the_rate_limiter_spaces_requests_in_a_sliding_window() {
    let h = FakeHost {
        latency_ms: 0.0,
        ..Default::default()
    };
    let c = client_with(|c| {
        c.rate = Some(RateConfig {
            requests: 100,
            per_ms: 5000.0,
        })
    });
    for i in 0..250 {
        go(&c, &h, |c| c.get_lead(&target(&format!("{i:024x}")), false)).unwrap_err();
    }
    let times: Vec<f64> = h.sent.borrow().iter().map(|(t, _)| *t).collect();
    let window = 5000.0 + WINDOW_MARGIN_MS;
    for &t in &times {
        let n = times.iter().filter(|&&s| s > t - 5000.0 && s <= t).count();
        assert!(n <= 100, "{n} requests within 5 s");
    }
    assert!(
        times[249] - times[0] <= 2.0 * window + 1.0,
        "waits only as long as needed"
    );
    assert!(h.log_kinds().contains(&"rate_limit_wait"));
}

#[test]
fn bulk_chunks_maps_and_accounts_every_input() {
    let h = FakeHost::default();
    let mut leads = leads(2500, lead_json);
    leads[10] = json!({"name": "no phone", "processId": PROC});
    leads[20] = lead_json(19); // same phone as #19: refused locally
    leads[30]["name"] = json!("REJECT"); // the server refuses it inside a 200
    let r = bulk(&client(), &h, leads, BulkOptions::default());
    // How many leads the project has (none), then 3 chunks.
    assert_eq!(r["requests"], 4);
    assert_eq!(len(&r, "created"), 2497);
    assert_eq!(len(&r, "failed"), 3);
    assert_eq!(len(&r, "unknown"), 0);
    let failed: Vec<(u64, String)> = r["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["index"].as_u64().unwrap(),
                f["error"]["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        failed,
        vec![
            (10, "validation_error".into()),
            (20, "duplicate_submission".into()),
            (30, "bad_request".into())
        ]
    );
    for c in r["created"].as_array().unwrap() {
        let i = c["index"].as_u64().unwrap() as usize;
        assert_eq!(
            c["lead"]["phone"],
            json!(phone(i)),
            "created lead {i} maps to its input"
        );
    }
    let p = h.progress.borrow();
    assert_eq!(p.len(), 3);
    assert_eq!(p.last().unwrap().done, 2500);
    assert!(p.windows(2).all(|w| w[0].done < w[1].done));
}

#[test]
fn bulk_last_progress_counts_leads_refused_after_the_last_chunk() {
    // Found by the bulk_map fuzz target: the last input is refused locally after the only
    // chunk settled; the last report must still say done == total.
    let h = FakeHost::default();
    let inputs = vec![
        lead_json(0),
        json!({"name": "B", "phone": "12", "processId": PROC}),
    ];
    let opts = BulkOptions {
        init: None,
        chunk_size: 1,
        concurrency: 1,
    };
    let r = bulk(&client(), &h, inputs, opts);
    assert_eq!((len(&r, "created"), len(&r, "failed")), (1, 1));
    let p = h.progress.borrow();
    let last = p.last().unwrap();
    assert_eq!((last.done, last.total, last.failed), (2, 2, 1));
}

#[test]
fn bulk_ambiguous_chunks_are_reconciled_by_reference() {
    let h = FakeHost::default();
    // Chunk 1 processed then dropped; chunk 2 never processed (502).
    // The count of the project's leads first.
    let mut script = vec![
        None,
        Some(Fault::After(Err(TransportError::Network("reset".into())))),
    ];
    script.extend(vec![None; 10]); // the ten lookups
    script.push(Some(Fault::Before(Ok(status(502, "<html></html>")))));
    h.script(script);
    let inputs = leads(20, lead_ref_json);
    let opts = BulkOptions {
        chunk_size: 10,
        concurrency: 1,
        ..Default::default()
    };
    let r = bulk(&client(), &h, inputs.clone(), opts);
    assert_eq!(len(&r, "created"), 20);
    assert_eq!(h.crm.borrow().created, 20, "nothing created twice");
    // The count + 2 chunks + 20 lookups + 1 resend of the 10 not created.
    assert_eq!(r["requests"], 24);
}

#[test]
fn bulk_ambiguous_without_reference_reports_unknown() {
    let h = FakeHost::default();
    h.script(vec![
        None,
        None,
        Some(Fault::After(Err(TransportError::Timeout))),
    ]);
    let inputs = leads(20, lead_json);
    let opts = BulkOptions {
        chunk_size: 10,
        concurrency: 1,
        ..Default::default()
    };
    let r = bulk(&client(), &h, inputs.clone(), opts);
    assert_eq!(len(&r, "created"), 10);
    assert_eq!(len(&r, "unknown"), 10);
    assert_eq!(r["unknown"][0]["error"]["code"], "timeout");
    assert_eq!(h.requests(), 3);
}

#[test]
fn bulk_request_level_error_fails_its_leads() {
    let h = FakeHost::default();
    h.script(vec![
        None,
        Some(Fault::Before(Ok(status(
            404,
            r#"{"error":"Process not found for lead with processId: x"}"#,
        )))),
    ]);
    let inputs = leads(5, lead_json);
    let r = bulk(&client(), &h, inputs.clone(), BulkOptions::default());
    assert_eq!(len(&r, "failed"), 5);
    assert_eq!(
        r["failed"][0]["error"],
        json!({"code": "not_found", "status": 404,
        "message": "Process not found for lead with processId: x"})
    );
    // The keys were not used up: the same leads may be sent again at once.
    let r = bulk(&client(), &h, inputs.clone(), BulkOptions::default());
    assert_eq!(len(&r, "created"), 5);
}

#[test]
fn bulk_key_block_stops_the_rest() {
    let h = FakeHost::default();
    h.script(vec![None, None, Some(Fault::Before(Ok(key_blocked(3600))))]);
    let inputs = leads(30, lead_json);
    let opts = BulkOptions {
        chunk_size: 10,
        concurrency: 1,
        ..Default::default()
    };
    let r = bulk(&client(), &h, inputs.clone(), opts);
    assert_eq!(len(&r, "created"), 10);
    assert_eq!(len(&r, "failed"), 20);
    assert!(r["failed"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["error"]["code"] == "key_blocked"));
    assert_eq!(h.requests(), 3);
}

#[test]
fn bulk_refuses_leads_that_exist_without_sending_them() {
    let h = FakeHost::default();
    for i in 0..3 {
        h.crm
            .borrow_mut()
            .leads
            .push(json!({"_id": format!("{i:024x}"), "phone": phone(i)}));
    }
    let inputs = leads(30, lead_json);
    let opts = BulkOptions {
        chunk_size: 10,
        concurrency: 1,
        ..Default::default()
    };
    let r = bulk(&client(), &h, inputs.clone(), opts);
    assert_eq!(len(&r, "created"), 27);
    let failed = r["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 3);
    for (i, f) in failed.iter().enumerate() {
        assert_eq!(f["index"], json!(i));
        assert_eq!(f["error"]["code"], "duplicate_submission");
        assert_eq!(
            f["error"]["details"],
            json!({"leadId": format!("{i:024x}"), "key": "phone"})
        );
    }
    assert_eq!(h.crm.borrow().duplicate_rejections, 0);
    // The count, one page of the project's 3 leads, 3 chunks.
    assert_eq!(h.requests(), 5);
}

#[test]
fn bulk_looks_leads_up_one_by_one_when_the_project_is_large() {
    let h = FakeHost::default();
    // 250 leads: an index would take 3 pages, more than the 2 leads to check.
    for i in 0..250 {
        h.crm.borrow_mut().leads.push(
            json!({"_id": format!("{i:024x}"), "phone": phone(i), "email": format!("x{i}@e.co")}),
        );
    }
    let inputs = vec![lead_json(7), lead_json(900)];
    let r = bulk(&client(), &h, inputs, BulkOptions::default());
    assert_eq!(len(&r, "created"), 1);
    assert_eq!(r["failed"][0]["index"], 0);
    assert_eq!(
        r["failed"][0]["error"]["details"]["leadId"],
        format!("{:024x}", 7)
    );
    assert_eq!(h.crm.borrow().duplicate_rejections, 0);
    // The count, a query per lead (each has only a phone), one chunk.
    assert_eq!(h.requests(), 4);
}

#[test]
fn unchecked_leads_in_flight_stay_within_the_duplicate_budget() {
    let h = FakeHost::default();
    // The count fails after its retries: whether the leads exist cannot be known.
    h.script(vec![Some(Fault::Before(Ok(status(500, "{}")))); 3]);
    let c = client_with(|c| {
        c.guard = Some(GuardConfig {
            max: 3,
            window_ms: 60_000.0,
        })
    });
    let inputs = leads(10, lead_json);
    let r = bulk(&c, &h, inputs, BulkOptions::default());
    assert_eq!(len(&r, "created"), 3, "no more than the 3 rejections left");
    let failed = r["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 7);
    assert!(failed
        .iter()
        .all(|f| f["error"]["code"] == "duplicate_submission"
            && f["error"]["message"]
                .as_str()
                .unwrap()
                .contains("could not be checked")));
}

#[test]
fn bulk_abort_accounts_for_what_was_sent() {
    let h = FakeHost::default();
    h.abort_after_requests.set(Some(2));
    let inputs = leads(30, lead_json);
    let opts = BulkOptions {
        chunk_size: 10,
        concurrency: 1,
        ..Default::default()
    };
    let r = bulk(&client(), &h, inputs.clone(), opts);
    assert_eq!(len(&r, "created"), 10);
    assert_eq!(len(&r, "failed"), 20);
    assert_eq!(r["failed"][0]["error"]["code"], "aborted");
}

#[test]
fn bulk_existing_validates_and_maps_ids() {
    let h = FakeHost::default();
    let c = client();
    let a = go(&c, &h, |c| c.initiate_lead(&lead(1), Some(false)))
        .unwrap()
        .json();
    let ids = vec![a["_id"].clone(), json!("not-an-id"), json!(42)];
    run(
        &c,
        &h,
        c.bulk_initiate(&tv(J::Array(ids)), true, BulkOptions::default()),
    )
    .unwrap();
    let r = h.report();
    assert_eq!(len(&r, "failed"), 2);
    assert_eq!(r["failed"][1]["error"]["code"], "validation_error");
}

#[test]
fn pager_yields_each_lead_once_while_new_leads_shift_pages() {
    let h = FakeHost::default();
    let c = client_with(|c| c.guard = None);
    let inputs = leads(45, lead_json);
    bulk(&c, &h, inputs, BulkOptions::default());
    let added = std::cell::Cell::new(0);
    *h.before_send.borrow_mut() = Some(Box::new(move |crm| {
        // Every page request, two new leads appear at the head of the newest-first order.
        let n = added.get();
        added.set(n + 2);
        for k in 0..2 {
            crm.leads
                .push(json!({"_id": format!("new{:021}", n + k), "phone": "x"}));
        }
    }));
    let ids = iterate_all(&c, &h, json!({"limit": 10}));
    let unique: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "no lead twice");
    assert!(ids.len() >= 45, "every original lead seen");
}

#[test]
fn invalid_arguments_are_reported_without_requests() {
    let h = FakeHost::default();
    let c = client();
    assert_eq!(
        go(&c, &h, |c| c.get_lead(&tv(json!({})), false))
            .unwrap_err()
            .code(),
        "invalid_argument"
    );
    assert_eq!(
        go(&c, &h, |c| c.update_lead(&target(MISSING), &tv(json!({}))))
            .unwrap_err()
            .code(),
        "invalid_argument"
    );
    assert_eq!(
        go(&c, &h, |c| c.initiate_existing(&tv(json!("zz")), None))
            .unwrap_err()
            .code(),
        "invalid_argument"
    );
    assert_eq!(
        go(&c, &h, |c| c.query_leads(&tv(json!({"limit": 500}))))
            .unwrap_err()
            .code(),
        "invalid_argument"
    );
    assert_eq!(
        go(&c, &h, |c| c.get_activity(&tv(json!("")), false))
            .unwrap_err()
            .code(),
        "invalid_argument"
    );
    assert_eq!(
        go(&c, &h, |c| c.initiate_lead(&tv(json!("a lead")), None))
            .unwrap_err()
            .code(),
        "invalid_argument"
    );
    assert_eq!(h.requests(), 0);
}

#[test]
fn log_events_never_show_phones_or_queries() {
    let h = FakeHost::default();
    let c = client();
    go(&c, &h, |c| {
        c.query_leads(&tv(json!({"phone": "+919845317206"})))
    })
    .unwrap();
    for e in h.logs.borrow().iter() {
        let s = Tv::build(e.to_json()).json().to_string();
        assert!(!s.contains("9845317206"), "{s}");
    }
}

// ---- an external traffic store: the clients of several processes share it --------------

/// A client of its own process (its own in-memory state) using the host's external store.
fn process_client(rate: Option<RateConfig>) -> Client {
    client_with(|c| {
        c.store.external = true;
        c.store.known_ms = crate::core::engine::StoreConfig::KNOWN_MS;
        c.rate = rate;
    })
}

/// The most requests sent within any window of `per_ms`.
fn busiest_window(h: &FakeHost, per_ms: f64) -> usize {
    let times: Vec<f64> = h.sent.borrow().iter().map(|(t, _)| *t).collect();
    times
        .iter()
        .map(|&t| times.iter().filter(|&&s| s > t - per_ms && s <= t).count())
        .max()
        .unwrap_or(0)
}

const RATE: RateConfig = RateConfig {
    requests: 100,
    per_ms: 5000.0,
};

#[test]
fn processes_sharing_a_store_share_one_rate_window() {
    let h = FakeHost::default();
    let (a, b) = (process_client(Some(RATE)), process_client(Some(RATE)));
    for i in 0..100 {
        go(&a, &h, |c| c.get_lead(&target(&format!("{i:024x}")), false)).unwrap_err();
    }
    for i in 0..60 {
        go(&b, &h, |c| c.get_lead(&target(&format!("{i:024x}")), false)).unwrap_err();
    }
    assert_eq!(h.requests(), 160);
    assert!(
        busiest_window(&h, 5000.0) <= 100,
        "{}",
        busiest_window(&h, 5000.0)
    );
    // Each process alone would have sent its 60 at once, beside the other's 100.
    let solo = FakeHost::default();
    let (a, b) = (
        client_with(|c| c.rate = Some(RATE)),
        client_with(|c| c.rate = Some(RATE)),
    );
    for i in 0..100 {
        go(&a, &solo, |c| {
            c.get_lead(&target(&format!("{i:024x}")), false)
        })
        .unwrap_err();
    }
    for i in 0..60 {
        go(&b, &solo, |c| {
            c.get_lead(&target(&format!("{i:024x}")), false)
        })
        .unwrap_err();
    }
    assert_eq!(busiest_window(&solo, 5000.0), 160);
}

#[test]
fn a_fresh_process_knows_from_the_store_what_another_created() {
    let h = FakeHost::default();
    let a = process_client(None);
    let first = bulk(&a, &h, leads(20, lead_ref_json), BulkOptions::default());
    assert_eq!(len(&first, "created"), 20);
    // The server cannot say this time (the count fails after its retries); the store can.
    h.script(vec![Some(Fault::Before(Ok(status(500, "{}")))); 3]);
    let b = process_client(None);
    let again = bulk(&b, &h, leads(20, lead_ref_json), BulkOptions::default());
    assert_eq!(len(&again, "created"), 0);
    let failed = again["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 20);
    for f in failed {
        let i = f["index"].as_u64().unwrap() as usize;
        assert_eq!(f["error"]["code"], "duplicate_submission");
        assert_eq!(
            f["error"]["details"]["leadId"],
            first["created"][i]["lead"]["_id"]
        );
    }
    assert_eq!(h.crm.borrow().duplicate_rejections, 0);
    assert_eq!(h.crm.borrow().created, 20);
    // The 3 attempts of the count, and no bulk request.
    assert_eq!(again["requests"], 3);
    // No phone, email or referenceId reached the store.
    let ops = J::Array(h.store.ops.borrow().clone()).to_string();
    assert!(
        !ops.contains(&phone(3)[3..]) && !ops.contains("ref-3"),
        "{ops}"
    );
}

#[test]
fn initiate_lead_is_refused_when_another_process_created_the_lead() {
    let h = FakeHost::default();
    let created = go(&process_client(None), &h, |c| {
        c.initiate_lead(&lead(1), None)
    })
    .unwrap();
    let err = go(&process_client(None), &h, |c| {
        c.initiate_lead(&lead(1), None)
    })
    .unwrap_err();
    assert_eq!(err.code(), "duplicate_submission");
    let info = crate::core::testkit::build_json(err.to_json());
    assert_eq!(info["details"]["leadId"], created.json()["_id"]);
    assert_eq!(h.requests(), 1, "the second process sent nothing");
}

#[test]
fn when_the_store_fails_each_process_keeps_to_its_share_then_returns_to_the_store() {
    let h = FakeHost::default();
    h.store.down.set(true);
    let a = process_client(Some(RATE));
    for i in 0..60 {
        go(&a, &h, |c| c.get_lead(&target(&format!("{i:024x}")), false)).unwrap_err();
    }
    assert!(busiest_window(&h, 5000.0) <= 25, "a quarter of the limit");
    let kinds = h.log_kinds();
    assert_eq!(
        kinds.iter().filter(|k| **k == "store_unavailable").count(),
        1
    );
    // A bulk still runs, with nothing lost or sent twice.
    let r = bulk(
        &a,
        &h,
        leads(300, lead_json),
        BulkOptions {
            chunk_size: 50,
            ..Default::default()
        },
    );
    assert_eq!(len(&r, "created"), 300);
    assert_eq!(h.crm.borrow().created, 300);
    h.store.down.set(false);
    h.now.set(h.now.get() + 2000.0);
    go(&a, &h, |c| c.get_lead(&target(MISSING), false)).unwrap_err();
    assert!(h.log_kinds().contains(&"store_recovered"));
    let n = h.store.ops.borrow().len();
    go(&a, &h, |c| c.get_lead(&target(MISSING), false)).unwrap_err();
    assert!(h.store.ops.borrow().len() > n, "the store decides again");
}

#[test]
fn when_the_store_fails_the_local_limits_count_what_was_sent_through_it() {
    let h = FakeHost::default();
    let a = process_client(Some(RATE));
    for i in 0..30 {
        go(&a, &h, |c| c.get_lead(&target(&format!("{i:024x}")), false)).unwrap_err();
    }
    let through_store = h.requests();
    let t0 = h.now.get();
    h.store.down.set(true);
    go(&a, &h, |c| c.get_lead(&target(MISSING), false)).unwrap_err();
    assert_eq!(h.requests(), through_store + 1);
    let (sent_at, _) = h.sent.borrow().last().cloned().unwrap();
    // 30 requests in the window already: a quarter of the limit (25) waits for them to leave.
    assert!(
        sent_at >= t0 + 4000.0,
        "sent {} ms after the store failed",
        sent_at - t0
    );
}

#[test]
fn retry_after_past_the_cap_fails_at_once_and_pauses_the_project_without_sleeping() {
    let h = FakeHost::default();
    h.script(vec![Some(Fault::Before(Ok(rate_limited(86_400))))]);
    let c = client();
    let t0 = h.now.get();
    let err = go(&c, &h, |c| c.initiate_lead(&lead(1), None)).unwrap_err();
    assert_eq!(err.code(), "rate_limited");
    assert_eq!(err.retry_after_ms, Some(86_400_000.0));
    assert_eq!(h.requests(), 1, "no retry a day later");
    // A later call fails at once, saying how long is left, and sends nothing.
    let err = go(&c, &h, |c| c.get_lead(&target(MISSING), false)).unwrap_err();
    assert_eq!(err.code(), "rate_limited");
    assert!(err.retry_after_ms.unwrap() > 86_000_000.0);
    assert!(err.message.contains("pause"), "{}", err.message);
    assert_eq!(h.requests(), 1);
    assert!(h.now.get() - t0 < 1000.0, "nothing slept");
    // The same from an HTTP date.
    let h = FakeHost::default();
    let when = "Wed, 02 Dec 2026 00:00:00 GMT"; // a day after the fake epoch
    h.script(vec![Some(Fault::Before(Ok(
        crate::core::api::HttpResponse {
            retry_after: Some(when.into()),
            ..rate_limited(1)
        },
    )))]);
    let err = go(&client(), &h, |c| c.initiate_lead(&lead(1), None)).unwrap_err();
    assert_eq!(err.code(), "rate_limited");
    let ms = err.retry_after_ms.unwrap();
    assert!((86_399_000.0..=86_400_000.0).contains(&ms), "{ms}");
}

#[test]
fn retry_after_as_a_date_is_waited_out() {
    let h = FakeHost::default();
    let when = "Tue, 01 Dec 2026 00:00:07 GMT"; // 7 s after the fake epoch
    h.script(vec![Some(Fault::Before(Ok(
        crate::core::api::HttpResponse {
            retry_after: Some(when.into()),
            ..rate_limited(1)
        },
    )))]);
    let t0 = h.now.get();
    go(&client(), &h, |c| c.initiate_lead(&lead(1), None)).unwrap();
    let (t1, _) = h.sent.borrow()[1].clone();
    assert!(
        t1 - t0 >= 7000.0 - 1.0 && t1 - t0 < 8000.0,
        "waited {}",
        t1 - t0
    );
}

/// The `_id` of every lead an `iterateLeads` of `query` yields, in order.
fn iterate_all(c: &Client, h: &FakeHost, query: J) -> Vec<String> {
    let pages = Pages::new(&tv(query), "IN").unwrap();
    let mut ids = Vec::new();
    loop {
        let mut task = pages.next();
        let page = loop {
            match task.step(c, h) {
                crate::core::engine::Step::Done(r) => break r.unwrap(),
                crate::core::engine::Step::Pending { .. } => {
                    for s in task.take_sends() {
                        let r = h.send(&s);
                        task.deliver(s.id, r);
                    }
                }
            }
        };
        let Some(page) = page.json().as_array().cloned() else {
            return ids;
        };
        ids.extend(
            page.iter()
                .map(|l| l["_id"].as_str().unwrap_or("").to_string()),
        );
        assert!(ids.len() < 1000, "the pager does not end");
    }
}

#[test]
fn pager_ends_on_a_repeated_page_an_ignored_page_or_past_total_pages() {
    let page = r#"{"success":true,"data":[{"_id":"aaaaaaaaaaaaaaaaaaaaaaa1"},{"_id":"aaaaaaaaaaaaaaaaaaaaaaa2"}],
        "pagination":{"page":1,"limit":2,"total":99,"totalPages":50,"hasNextPage":true}}"#;
    let bare = r#"{"success":true,"data":[{"_id":"aaaaaaaaaaaaaaaaaaaaaaa1"},{"_id":"aaaaaaaaaaaaaaaaaaaaaaa2"}]}"#;
    for body in [page, bare] {
        let h = FakeHost::default();
        h.script(
            (0..5)
                .map(|_| Some(Fault::Before(Ok(status(200, body)))))
                .collect(),
        );
        let ids = iterate_all(&client(), &h, json!({"limit": 2}));
        assert_eq!(ids.len(), 2, "each lead once");
        assert_eq!(
            h.requests(),
            2,
            "the page that brought nothing new ended it"
        );
    }
    // New leads on every page, but only two pages.
    let h = FakeHost::default();
    let pages: Vec<_> = (0..5)
        .map(|p| {
            let body = format!(
                r#"{{"success":true,"data":[{{"_id":"bbbbbbbbbbbbbbbbbbbbbbb{p}"}}],"pagination":{{"page":{},"limit":1,"totalPages":2,"hasNextPage":true}}}}"#,
                p + 1
            );
            Some(Fault::Before(Ok(status(200, &body))))
        })
        .collect();
    h.script(pages);
    let ids = iterate_all(&client(), &h, json!({"limit": 1}));
    assert_eq!(ids.len(), 2);
    assert_eq!(h.requests(), 2, "no page past totalPages");
}

#[test]
fn an_outage_bounds_initiate_with_its_lookups_by_max_retries() {
    for max in 0..4u32 {
        let h = FakeHost::default();
        let down = || {
            Some(Fault::Before(Ok(status(
                503,
                r#"{"error":"Service unavailable"}"#,
            ))))
        };
        h.script((0..40).map(|_| down()).collect());
        let c = client_with(|c| c.max_retries = max);
        let t0 = h.now.get();
        let err = go(&c, &h, |c| c.initiate_lead(&lead_ref(1), None)).unwrap_err();
        assert_eq!(err.code(), "server_error");
        let sent = h.sent.borrow();
        let writes = sent.iter().filter(|(_, r)| r.method == "POST").count();
        assert_eq!(
            writes, 1,
            "max {max}: an ambiguous write is not resent blindly"
        );
        assert!(
            sent.len() as u32 <= crate::core::retry::call_attempts(max),
            "max {max}: {} requests",
            sent.len()
        );
        assert!(
            sent.len() as u32 <= 2 + max,
            "max {max}: one lookup and its retries"
        );
        drop(sent);
        // Back-off of at most maxRetries waits (each at most 30 s).
        assert!(h.now.get() - t0 <= f64::from(max) * 30_000.0 + 1000.0);
    }
}

#[test]
fn bulk_leads_the_answer_does_not_name_are_looked_up_by_reference_id() {
    // The server creates every lead but names none in its answer.
    let h = FakeHost::default();
    let silent = r#"{"success":[],"errors":[]}"#;
    h.script(vec![None, Some(Fault::After(Ok(status(200, silent))))]);
    let mut inputs = leads(4, lead_ref_json);
    inputs.push(lead_json(9)); // no referenceId: nothing to look it up by
    let r = bulk(&client(), &h, inputs, BulkOptions::default());
    let created: Vec<u64> = r["created"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["index"].as_u64().unwrap())
        .collect();
    assert_eq!(created, [0, 1, 2, 3], "{r}");
    let unknown = r["unknown"].as_array().unwrap();
    assert_eq!(unknown.len(), 1);
    assert_eq!(unknown[0]["index"], 4);
    assert_eq!(unknown[0]["error"]["code"], "invalid_response");
    assert_eq!(h.crm.borrow().created, 5, "nothing sent twice");
}
