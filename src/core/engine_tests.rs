//! Engine behaviour with a fake clock and a fake CRM: what a user of each method notices.

use crate::core::engine::{BulkOptions, Client, Config, LeadPager, TransportError};
use crate::core::limits::{GuardConfig, RateConfig, WINDOW_MARGIN_MS};
use crate::core::testkit::{key_blocked, rate_limited, status, FakeHost, Fault};
use futures_executor::block_on;
use serde_json::{json, Value};

const PROJECT: &str = "6650a1b2c3d4e5f601234567";
const PROC: &str = "6650a1b2c3d4e5f6012345a1";

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

fn lead(i: usize) -> Value {
    json!({"name": format!("Lead {i}"), "phone": phone(i), "processId": PROC})
}

fn lead_ref(i: usize) -> Value {
    let mut l = lead(i);
    l["referenceId"] = json!(format!("ref-{i}"));
    l
}

/// A bulk report (JSON text) as a value.
fn report(text: String) -> Value {
    serde_json::from_str(&text).unwrap()
}

fn len(v: &Value, k: &str) -> usize {
    v[k].as_array().map_or(usize::MAX, Vec::len)
}

#[test]
fn initiate_returns_the_lead_with_unknown_fields() {
    let h = FakeHost::default();
    let l = block_on(client().initiate_lead(&h, &lead(1), None)).unwrap();
    assert_eq!(l["phone"], json!(phone(1)));
    assert_eq!(l["serverOnly"], json!({"kept": true}));
    assert!(l.get("success").is_none());
    let sent: Value = serde_json::from_str(h.sent.borrow()[0].1.body.as_deref().unwrap()).unwrap();
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
fn invalid_lead_costs_no_request() {
    let h = FakeHost::default();
    let err = block_on(client().initiate_lead(&h, &json!({"phone": "12"}), None)).unwrap_err();
    assert_eq!(err.code(), "validation_error");
    assert!(err.details.as_ref().unwrap().as_array().unwrap().len() >= 2);
    assert_eq!(h.requests(), 0);
}

#[test]
fn duplicate_guard_refuses_a_recent_phone_locally() {
    let h = FakeHost::default();
    let c = client();
    block_on(c.initiate_lead(&h, &lead(1), None)).unwrap();
    let mut again = lead(1);
    again["name"] = json!("Someone else");
    let err = block_on(c.initiate_lead(&h, &again, None)).unwrap_err();
    assert_eq!(err.code(), "duplicate_submission");
    assert!(
        !err.message.contains(&phone(1)),
        "the phone is masked in the message"
    );
    assert_eq!(h.requests(), 1);
    assert!(h.log_kinds().contains(&"duplicate_refused"));
    // After the window it reaches the server, which rejects it as a duplicate.
    h.advance(60_001.0);
    let err = block_on(c.initiate_lead(&h, &again, None)).unwrap_err();
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
        match block_on(c.initiate_lead(&h, &lead(i), None))
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
        block_on(c.initiate_lead(&h, &lead(7), None))
            .unwrap_err()
            .code(),
        "bad_request"
    );
}

#[test]
fn guard_can_be_turned_off() {
    let h = FakeHost::default();
    let c = client_with(|c| c.guard = None);
    block_on(c.initiate_lead(&h, &lead(1), None)).unwrap();
    assert_eq!(
        block_on(c.initiate_lead(&h, &lead(1), None))
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
    let l = block_on(client().initiate_lead(&h, &lead(1), None)).unwrap();
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
    let err = block_on(c.get_lead(&h, &json!({"leadId": "a"}), false)).unwrap_err();
    assert_eq!(err.code(), "key_blocked");
    assert_eq!(err.retry_after_ms, Some(120_000.0));
    let err = block_on(c.initiate_lead(&h, &lead(1), None)).unwrap_err();
    assert_eq!(err.code(), "key_blocked");
    assert!(err.retry_after_ms.unwrap() <= 120_000.0);
    assert_eq!(h.requests(), 1, "no request while blocked");
    h.advance(120_000.0);
    block_on(c.initiate_lead(&h, &lead(1), None)).unwrap();
    assert_eq!(h.requests(), 2);
}

#[test]
fn ambiguous_write_with_reference_is_reconciled_not_resent() {
    // The server created the lead, then the connection dropped.
    let h = FakeHost::default();
    h.script(vec![Some(Fault::After(Err(TransportError::Network(
        "reset".into(),
    ))))]);
    let l = block_on(client().initiate_lead(&h, &lead_ref(1), None)).unwrap();
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
    let l = block_on(client().initiate_lead(&h, &lead_ref(2), None)).unwrap();
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
    block_on(c.initiate_lead(&h, &lead_ref(6), None)).unwrap();
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
    let l = block_on(client().initiate_lead(&h, &lead_ref(7), None)).unwrap();
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
    let leads: Vec<Value> = (0..5).map(lead_ref).collect();
    let r = report(block_on(client().bulk_initiate(
        &h,
        leads.clone(),
        BulkOptions::default(),
    )));
    assert_eq!(len(&r, "created"), 5, "{r}");
    assert_eq!(h.crm.borrow().created, 5);
}

#[test]
fn ambiguous_write_without_reference_is_never_resent() {
    let h = FakeHost::default();
    h.script(vec![Some(Fault::After(Err(TransportError::Timeout)))]);
    let err = block_on(client().initiate_lead(&h, &lead(3), None)).unwrap_err();
    assert_eq!(err.code(), "timeout");
    assert_eq!(h.requests(), 1);
    // The phone stays taken: sending it again now could create it twice.
    assert_eq!(
        block_on(client().initiate_lead(&h, &lead(3), None))
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
    block_on(client().initiate_lead(&h, &lead(4), None)).unwrap();
    assert_eq!(h.requests(), 2);
}

#[test]
fn reads_retry_on_5xx_and_malformed_bodies() {
    let h = FakeHost::default();
    let c = client();
    let created = block_on(c.initiate_lead(&h, &lead(5), None)).unwrap();
    h.script(vec![
        Some(Fault::Before(Ok(status(503, "unavailable")))),
        Some(Fault::Before(Ok(status(200, "{\"success\":tr")))),
    ]);
    let got = block_on(c.get_lead(&h, &json!({"leadId": created["_id"]}), false)).unwrap();
    assert_eq!(got["activities"], json!([]));
    assert_eq!(h.requests(), 4);
    h.script(vec![Some(Fault::Before(Ok(status(500, "{}")))); 3]);
    let err = block_on(c.get_lead(&h, &json!({"leadId": created["_id"]}), false)).unwrap_err();
    assert_eq!((err.code(), err.status), ("server_error", Some(500)));
    assert_eq!(h.requests(), 7, "maxRetries 2: three attempts");
}

#[test]
fn errors_carry_the_servers_reason() {
    let h = FakeHost::default();
    let err = block_on(client().get_lead(&h, &json!({"leadId": "nope"}), false)).unwrap_err();
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
        block_on(c.get_lead(&h, &json!({"leadId": format!("x{i}")}), false)).unwrap_err();
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
    let mut leads: Vec<Value> = (0..2500).map(lead).collect();
    leads[10] = json!({"name": "no phone", "processId": PROC});
    leads[20] = lead(19); // same phone as #19: refused locally
    leads[30]["name"] = json!("REJECT"); // the server refuses it inside a 200
    let r = report(block_on(client().bulk_initiate(
        &h,
        leads.clone(),
        BulkOptions::default(),
    )));
    assert_eq!(r["requests"], 3);
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
fn bulk_ambiguous_chunks_are_reconciled_by_reference() {
    let h = FakeHost::default();
    // Chunk 1 processed then dropped; chunk 2 never processed (502).
    let mut script = vec![Some(Fault::After(Err(TransportError::Network(
        "reset".into(),
    ))))];
    script.extend(vec![None; 10]); // the ten lookups
    script.push(Some(Fault::Before(Ok(status(502, "<html></html>")))));
    h.script(script);
    let leads: Vec<Value> = (0..20).map(lead_ref).collect();
    let opts = BulkOptions {
        chunk_size: 10,
        concurrency: 1,
        ..Default::default()
    };
    let r = report(block_on(client().bulk_initiate(&h, leads.clone(), opts)));
    assert_eq!(len(&r, "created"), 20);
    assert_eq!(h.crm.borrow().created, 20, "nothing created twice");
    // 2 chunks + 20 lookups + 1 resend of the 10 not created.
    assert_eq!(r["requests"], 23);
}

#[test]
fn bulk_ambiguous_without_reference_reports_unknown() {
    let h = FakeHost::default();
    h.script(vec![None, Some(Fault::After(Err(TransportError::Timeout)))]);
    let leads: Vec<Value> = (0..20).map(lead).collect();
    let opts = BulkOptions {
        chunk_size: 10,
        concurrency: 1,
        ..Default::default()
    };
    let r = report(block_on(client().bulk_initiate(&h, leads.clone(), opts)));
    assert_eq!(len(&r, "created"), 10);
    assert_eq!(len(&r, "unknown"), 10);
    assert_eq!(r["unknown"][0]["error"]["code"], "timeout");
    assert_eq!(h.requests(), 2);
}

#[test]
fn bulk_request_level_error_fails_its_leads() {
    let h = FakeHost::default();
    h.script(vec![Some(Fault::Before(Ok(status(
        404,
        r#"{"error":"Process not found for lead with processId: x"}"#,
    ))))]);
    let leads: Vec<Value> = (0..5).map(lead).collect();
    let r = report(block_on(client().bulk_initiate(
        &h,
        leads.clone(),
        BulkOptions::default(),
    )));
    assert_eq!(len(&r, "failed"), 5);
    assert_eq!(
        r["failed"][0]["error"],
        json!({"code": "not_found", "status": 404,
        "message": "Process not found for lead with processId: x"})
    );
    // The keys were not used up: the same leads may be sent again at once.
    let r = report(block_on(client().bulk_initiate(
        &h,
        leads.clone(),
        BulkOptions::default(),
    )));
    assert_eq!(len(&r, "created"), 5);
}

#[test]
fn bulk_key_block_stops_the_rest() {
    let h = FakeHost::default();
    h.script(vec![None, Some(Fault::Before(Ok(key_blocked(3600))))]);
    let leads: Vec<Value> = (0..30).map(lead).collect();
    let opts = BulkOptions {
        chunk_size: 10,
        concurrency: 1,
        ..Default::default()
    };
    let r = report(block_on(client().bulk_initiate(&h, leads.clone(), opts)));
    assert_eq!(len(&r, "created"), 10);
    assert_eq!(len(&r, "failed"), 20);
    assert!(r["failed"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["error"]["code"] == "key_blocked"));
    assert_eq!(h.requests(), 2);
}

#[test]
fn bulk_duplicate_budget_stops_sending() {
    let h = FakeHost::default();
    for i in 0..3 {
        h.crm
            .borrow_mut()
            .leads
            .push(json!({"_id": format!("{i:024x}"), "phone": phone(i)}));
    }
    let c = client_with(|c| {
        c.guard = Some(GuardConfig {
            max: 3,
            window_ms: 60_000.0,
        })
    });
    let leads: Vec<Value> = (0..30).map(lead).collect();
    let opts = BulkOptions {
        chunk_size: 10,
        concurrency: 1,
        ..Default::default()
    };
    let r = report(block_on(c.bulk_initiate(&h, leads.clone(), opts)));
    assert_eq!(len(&r, "created"), 7);
    assert_eq!(
        r["failed"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["error"]["code"] == "duplicate_submission")
            .count(),
        20
    );
    assert_eq!(h.requests(), 1);
}

#[test]
fn bulk_abort_accounts_for_what_was_sent() {
    let h = FakeHost::default();
    h.abort_after_requests.set(Some(1));
    let leads: Vec<Value> = (0..30).map(lead).collect();
    let opts = BulkOptions {
        chunk_size: 10,
        concurrency: 1,
        ..Default::default()
    };
    let r = report(block_on(client().bulk_initiate(&h, leads.clone(), opts)));
    assert_eq!(len(&r, "created"), 10);
    assert_eq!(len(&r, "failed"), 20);
    assert_eq!(r["failed"][0]["error"]["code"], "aborted");
}

#[test]
fn bulk_existing_validates_and_maps_ids() {
    let h = FakeHost::default();
    let c = client();
    let a = block_on(c.initiate_lead(&h, &lead(1), Some(false))).unwrap();
    let ids = vec![a["_id"].clone(), json!("not-an-id"), json!(42)];
    let r = report(block_on(c.bulk_initiate_existing(
        &h,
        ids.clone(),
        BulkOptions::default(),
    )));
    assert_eq!(len(&r, "failed"), 2);
    assert_eq!(r["failed"][1]["error"]["code"], "validation_error");
}

#[test]
fn pager_yields_each_lead_once_while_new_leads_shift_pages() {
    let h = FakeHost::default();
    let c = client_with(|c| c.guard = None);
    let leads: Vec<Value> = (0..45).map(lead).collect();
    report(block_on(c.bulk_initiate(
        &h,
        leads.clone(),
        BulkOptions::default(),
    )));
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
    let mut pager = LeadPager::new(&json!({"limit": 10}), "IN").unwrap();
    let mut ids = Vec::new();
    while let Some(page) = block_on(pager.next(&c, &h)).unwrap() {
        let page: Vec<Value> = serde_json::from_str(&page).unwrap();
        ids.extend(page.iter().map(|l| l["_id"].as_str().unwrap().to_string()));
        assert!(ids.len() < 1000);
    }
    let unique: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "no lead twice");
    for l in &leads {
        let _ = l;
    }
    assert!(ids.len() >= 45, "every original lead seen");
}

#[test]
fn invalid_arguments_are_reported_without_requests() {
    let h = FakeHost::default();
    let c = client();
    assert_eq!(
        block_on(c.get_lead(&h, &json!({}), false))
            .unwrap_err()
            .code(),
        "invalid_argument"
    );
    assert_eq!(
        block_on(c.update_lead(&h, &json!({"leadId": "a"}), &json!({})))
            .unwrap_err()
            .code(),
        "invalid_argument"
    );
    assert_eq!(
        block_on(c.initiate_existing(&h, "zz", None))
            .unwrap_err()
            .code(),
        "invalid_argument"
    );
    assert_eq!(
        block_on(c.query_leads(&h, &json!({"limit": 500})))
            .unwrap_err()
            .code(),
        "invalid_argument"
    );
    assert_eq!(
        block_on(c.get_activity(&h, "", false)).unwrap_err().code(),
        "invalid_argument"
    );
    assert_eq!(
        block_on(c.initiate_lead(&h, &json!("a lead"), None))
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
    block_on(c.query_leads(&h, &json!({"phone": "+919845317206"}))).unwrap();
    for e in h.logs.borrow().iter() {
        let s = e.to_value().to_string();
        assert!(!s.contains("9845317206"), "{s}");
    }
}
