//! Response reading: every reader of server answers (`vox_crm::core::api`'s readers, the error
//! mapping of `vox_crm::core::error`, and the engine that applies them to an answer) never
//! panics on any body, status or `Retry-After`, and keeps its promises.
//!
//! Input (lossy UTF-8): `STATUS|RETRY-AFTER|BODY`, e.g. `429|2|{"error":"Rate limit"}`, when
//! it starts with 1 to 5 digits and a `|`; otherwise the whole input is the body, the status
//! is 200 or an error status (by its length) and there is no `Retry-After`. The body is what the host makes of
//! it (`testkit::parse`: serde_json; not JSON is no body), read afresh for each reader.
//!
//! Properties checked:
//! * `read_lead`/`read_activity` give the lead under `data` (an object with a string `_id`)
//!   or else the body itself when it has a string `_id` (less a boolean `success`), unknown
//!   fields kept; `read_lead_with_activities` the same with an `activities` list (the body's,
//!   or an empty one); anything else (no JSON, no object, no `_id`) is `invalid_response`;
//! * `read_update` gives `{ updateId?, message }` of any object;
//! * `read_query` reads the `data` (else `leads`) list of an object: one id per lead (its string
//!   `_id`), the leads as sent, and pagination as the server gave it or inferred
//!   (`totalPages` = ceil(total / limit), `hasNextPage` = page < totalPages, or a full page);
//!   `Page::into_value` is docs/sdk.md's page;
//! * `read_bulk` (the answer, or the answer under `data`): the created leads exactly as sent,
//!   each an object with the `_id` it reports, the keys they are mapped by (referenceId, phone,
//!   ASCII-lowercased email), and the count of listed ones without an `_id` or no object (left
//!   out); one error per `errors` item with its leadId, referenceId (its own or its echoed
//!   lead's), the echoed lead's phone and email, and its reason; a body of another shape (lists
//!   that are no lists) is `invalid_response`;
//! * `from_status` keeps the status and Retry-After, maps 5xx to `server_error`, 429 to
//!   `key_blocked` exactly when the reason says "blocked" (else `rate_limited`), 404 to
//!   `not_found`, 401/403 to `forbidden`, 0 and 3xx to `redirect_refused` (no reason: the
//!   message says what to fix), the rest to `bad_request`; its message is the server's reason
//!   (`server_reason`: `error`, `message`, or their `message`), masked, and masking it again
//!   changes nothing;
//! * `parse_retry_after` takes seconds (digits, optionally a fraction) or an HTTP date (what
//!   `parse_http_date` reads, against a wall clock), nothing else, and gives a finite number of
//!   milliseconds within [0, one day]; `parse_http_date` gives a whole second, and a date it
//!   reads is read again the same from its IMF-fixdate form;
//! * `mask_phones_in_text` only turns digits into `*` and is idempotent;
//! * the engine (`Client`'s get/initiate-existing/activity/update/query/bulk tasks, no retries,
//!   with a token): a 2xx answer gives what the reader gives (its failure is
//!   `invalid_response` with the status), any other the `from_status` error with the
//!   Retry-After (a 429 without one: 1 s for a rate limit, 1 h for a key block); every bulk
//!   input gets exactly one outcome, the one the answer's mapping gives; no error message or
//!   log event holds the token; after a key block the next call fails at once without a
//!   request, after a rate limit the next request waits out the Retry-After (or, past a
//!   minute, the next call fails at once with the time left);
//! * `iterateLeads` (`Pages`) over this answer: no `_id` twice, each page's new leads in order.
#![no_main]

mod common;

use common::{drive, FuzzHost, START_MS, WALL_MS};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value as J};
use vox_crm::core::api::{self, HttpResponse};
use vox_crm::core::bulk::{map_answer, BulkOptions, ItemResult, Outcome, Sent};
use vox_crm::core::engine::{Client, Config, Pages, Step, Task};
use vox_crm::core::error::{
    from_status, is_block_reason, is_duplicate_reason, mask_phones_in_text, parse_http_date,
    parse_retry_after, server_reason, Code, VoxError,
};
use vox_crm::core::retry::MAX_WAIT_MS;
use vox_crm::core::testkit::{parse, tv, Tv};
use vox_crm::core::value::Value;

const TOKEN: &str = "sk_live_SECRET";
const PROJECT: &str = "6650a1b2c3d4e5f601234567";
const IDS: [&str; 3] = [
    "6650a1b2c3d4e5f6012345a1",
    "6650a1b2c3d4e5f6012345a2",
    "6650a1b2c3d4e5f6012345a3",
];
const DAY_MS: f64 = 86_400_000.0;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (status, retry, body) = split(&text);
    // Which call the answer is for, and the pager's settings (independent of the status).
    let salt = data.iter().fold(0usize, |h, &b| {
        h.wrapping_mul(31).wrapping_add(usize::from(b))
    });
    run(status, retry, body, salt);
});

fn split(text: &str) -> (u16, Option<&str>, &str) {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    if (1..=5).contains(&digits) && text.as_bytes().get(digits) == Some(&b'|') {
        let status = text
            .get(..digits)
            .and_then(|s| s.parse().ok())
            .unwrap_or(u16::MAX);
        let rest = text.get(digits + 1..).unwrap_or("");
        return match rest.split_once('|') {
            Some((retry, body)) => (status, Some(retry), body),
            None => (status, None, rest),
        };
    }
    // Half of them a 200 (the readers' answers), the others an error status.
    let k = text.len();
    let status = if k % 2 == 0 {
        200
    } else {
        400 + (k / 2 % 200) as u16
    };
    (status, None, text)
}

fn invalid_response(e: &VoxError) {
    assert_eq!(e.code, Code::InvalidResponse, "{e}");
    assert!(!e.message.is_empty());
}

/// What `Tv` calls an object: not a `$date` or `$fn` stand-in.
fn is_object(v: &J) -> bool {
    v.as_object()
        .is_some_and(|m| !m.contains_key("$date") && !m.contains_key("$fn"))
}

fn string(v: &J, k: &str) -> Option<String> {
    v.get(k).and_then(J::as_str).map(str::to_string)
}

/// `Value::count`: a whole number in [0, 2^53).
fn count(v: &J) -> Option<u64> {
    v.as_f64()
        .filter(|n| *n >= 0.0 && n.fract() == 0.0 && *n <= 9_007_199_254_740_991.0)
        .map(|n| n as u64)
}

fn run(status: u16, retry: Option<&str>, body: &str, salt: usize) {
    let json: Option<J> = serde_json::from_str(body).ok();
    let fresh = || parse(body);
    assert_eq!(fresh().map(|v| v.json()), json);

    lead_readers(json.as_ref(), &fresh);
    update_reader(json.as_ref(), &fresh);
    let requested_page = u64::from(status % 7) + 1;
    let requested_limit = (status % 3 != 0).then(|| u64::from(status % 100) + 1);
    query_reader(json.as_ref(), &fresh, requested_page, requested_limit);
    bulk_reader(json.as_ref(), &fresh);
    let ms = error_mapping(status, retry, body, json.as_ref());
    engine(
        status,
        retry,
        body,
        json.as_ref(),
        ms,
        salt,
        requested_page,
        requested_limit,
    );
    pages(body, json.as_ref(), salt);
}

/// The lead a lead reader should give, if any.
fn expected_lead(json: Option<&J>) -> Option<J> {
    let b = json.filter(|b| is_object(b))?;
    let data = &b["data"];
    if is_object(data) && data["_id"].is_string() {
        return Some(data.clone());
    }
    if b["_id"].is_string() {
        let mut b = b.clone();
        if b["success"].is_boolean() {
            b.as_object_mut().map(|m| m.remove("success"));
        }
        return Some(b);
    }
    None
}

type Reader = fn(Option<&Tv>) -> Result<Tv, VoxError>;

fn lead_readers(json: Option<&J>, fresh: &dyn Fn() -> Option<Tv>) {
    let expected = expected_lead(json);
    let readers: [Reader; 2] = [api::read_lead, api::read_activity];
    for reader in readers {
        match reader(fresh().as_ref()) {
            Ok(v) => {
                let v = v.json();
                assert_eq!(Some(&v), expected.as_ref(), "read {v} from {json:?}");
                assert!(v["_id"].is_string());
            }
            Err(e) => {
                invalid_response(&e);
                assert_eq!(expected, None, "refused a lead: {e}");
            }
        }
    }
    match api::read_lead_with_activities(fresh().as_ref()) {
        Ok(v) => {
            let v = v.json();
            let mut e = expected
                .clone()
                .expect("a lead with activities from no lead");
            if !e["activities"].is_array() {
                e["activities"] = json!([]);
            }
            assert_eq!(v, e);
        }
        Err(e) => {
            invalid_response(&e);
            assert_eq!(expected, None);
        }
    }
}

fn update_reader(json: Option<&J>, fresh: &dyn Fn() -> Option<Tv>) {
    match api::read_update(fresh().as_ref()) {
        Ok(v) => {
            let b = json
                .filter(|b| is_object(b))
                .expect("an update from no object");
            let mut expected = serde_json::Map::new();
            if let Some(id) = string(b, "updateId") {
                expected.insert("updateId".into(), json!(id));
            }
            let message = string(b, "message").unwrap_or_else(|| "Lead update initiated".into());
            expected.insert("message".into(), json!(message));
            assert_eq!(v.json(), J::Object(expected));
        }
        Err(e) => {
            invalid_response(&e);
            assert!(
                !json.is_some_and(is_object),
                "refused an update object: {e}"
            );
        }
    }
}

fn query_reader(
    json: Option<&J>,
    fresh: &dyn Fn() -> Option<Tv>,
    requested_page: u64,
    requested_limit: Option<u64>,
) {
    let list = json.filter(|b| is_object(b)).and_then(|b| {
        if b["data"].is_array() {
            Some(&b["data"])
        } else if b["leads"].is_array() {
            Some(&b["leads"])
        } else {
            None
        }
    });
    match api::read_query(fresh().as_ref(), requested_page, requested_limit) {
        Ok(p) => {
            let b = json.expect("a page from no JSON");
            let list = list.expect("a page without a lead list");
            let items = list.as_array().expect("a list");
            assert_eq!(p.leads.json(), *list, "the leads are not the body's list");
            assert_eq!(p.ids.len(), items.len());
            for (item, id) in items.iter().zip(&p.ids) {
                assert_eq!(*id, string(item, "_id"));
            }
            let pag = &b["pagination"];
            assert_eq!(
                p.limit,
                count(&pag["limit"]).or(requested_limit).unwrap_or(20)
            );
            assert_eq!(p.page, count(&pag["page"]).unwrap_or(requested_page));
            assert_eq!(p.total, count(&pag["total"]));
            match (count(&pag["totalPages"]), p.total) {
                (Some(tp), _) => assert_eq!(p.total_pages, Some(tp)),
                (None, Some(t)) => {
                    let tp = p.total_pages.expect("totalPages from total");
                    let limit = p.limit.max(1);
                    assert!(tp * limit >= t && tp.saturating_sub(1) * limit < t.max(1));
                }
                (None, None) => assert_eq!(p.total_pages, None),
            }
            match (pag["hasNextPage"].as_bool(), p.total_pages) {
                (Some(h), _) => assert_eq!(p.has_next_page, h),
                (None, Some(tp)) => assert_eq!(p.has_next_page, p.page < tp),
                (None, None) => assert_eq!(p.has_next_page, p.ids.len() as u64 >= p.limit),
            }
            let (page, limit, total, tp, next) =
                (p.page, p.limit, p.total, p.total_pages, p.has_next_page);
            let v = p.into_value().json();
            assert_eq!(v.as_object().map(serde_json::Map::len), Some(6), "{v}");
            assert_eq!(v["leads"], *list);
            assert_eq!(v["hasNextPage"], json!(next));
            for (k, n) in [
                ("page", Some(page)),
                ("limit", Some(limit)),
                ("total", total),
                ("totalPages", tp),
            ] {
                assert_eq!(v[k].as_f64(), n.map(|n| n as f64), "{k} of {v}");
                assert_eq!(v[k].is_null(), n.is_none());
            }
        }
        Err(e) => {
            invalid_response(&e);
            assert_eq!(list, None, "refused a page with a lead list: {e}");
        }
    }
}

/// The bulk answer `read_bulk` should read: the created leads with an `_id`, how many listed
/// created leads have none (or are no object), and the error items; or `None`.
fn expected_bulk(json: Option<&J>) -> Option<(Vec<J>, usize, Vec<J>)> {
    let mut b = json.filter(|b| is_object(b))?;
    if !b["success"].is_array() && is_object(&b["data"]) {
        b = &b["data"];
    }
    let list = |v: &J| match v {
        J::Null => Some(Vec::new()),
        J::Array(items) => Some(items.clone()),
        _ => None,
    };
    let listed = list(&b["success"])?;
    let created: Vec<J> = listed
        .iter()
        .filter(|c| is_object(c) && c["_id"].is_string())
        .cloned()
        .collect();
    let unreadable = listed.len() - created.len();
    Some((created, unreadable, list(&b["errors"])?))
}

fn bulk_reader(json: Option<&J>, fresh: &dyn Fn() -> Option<Tv>) {
    let expected = expected_bulk(json);
    match api::read_bulk(fresh().as_ref()) {
        Ok(a) => {
            let (created, unreadable, errors) =
                expected.expect("read a bulk answer of another shape");
            assert_eq!(a.unreadable, unreadable, "created leads without _id");
            assert_eq!(a.created.len(), created.len());
            for (c, j) in a.created.iter().zip(&created) {
                assert_eq!(c.lead.json(), *j, "created lead not as sent");
                assert_eq!(Some(c.id.clone()), string(j, "_id"));
                assert_eq!(c.reference_id, string(j, "referenceId"));
                assert_eq!(c.phone, string(j, "phone"));
                assert_eq!(c.email, string(j, "email").map(|e| e.to_ascii_lowercase()));
            }
            assert_eq!(a.errors.len(), errors.len());
            for (e, j) in a.errors.iter().zip(&errors) {
                let data = [&j["data"], &j["lead"]].into_iter().find(|d| is_object(d));
                assert_eq!(e.data.as_ref().map(Tv::json).as_ref(), data);
                let of_data = |k| data.and_then(|d| string(d, k));
                assert_eq!(e.lead_id, string(j, "leadId"));
                assert_eq!(
                    e.reference_id,
                    string(j, "referenceId").or_else(|| of_data("referenceId"))
                );
                assert_eq!(e.phone, of_data("phone"));
                assert_eq!(e.email, of_data("email").map(|m| m.to_ascii_lowercase()));
                let reason = string(j, "error")
                    .or_else(|| string(j, "message"))
                    .unwrap_or_else(|| "Rejected by the server".into());
                assert_eq!(e.error, reason);
            }
        }
        Err(e) => {
            invalid_response(&e);
            assert!(expected.is_none(), "refused a bulk answer: {e}");
        }
    }
}

/// `at` (ms since 1970, whole seconds) as an IMF-fixdate.
fn imf_fixdate(at: f64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = (at / 1000.0) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{}, {d:02} {} {y:04} {:02}:{:02}:{:02} GMT",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(m - 1) as usize],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Checks the error mapping; returns what `parse_retry_after` made of the Retry-After.
fn error_mapping(status: u16, retry: Option<&str>, body: &str, json: Option<&J>) -> Option<f64> {
    const WALL: f64 = WALL_MS;
    let ms = parse_retry_after(retry, WALL);
    assert_eq!(parse_retry_after(None, WALL), None);
    let seconds = retry.map(str::trim).is_some_and(|v| {
        let (whole, fraction) = v.split_once('.').unwrap_or((v, ""));
        !whole.is_empty()
            && whole.bytes().all(|b| b.is_ascii_digit())
            && fraction.bytes().all(|b| b.is_ascii_digit())
    });
    let date = retry.and_then(|v| parse_http_date(v.trim()));
    assert_eq!(
        ms.is_some(),
        seconds || date.is_some(),
        "Retry-After {retry:?} gave {ms:?}"
    );
    if let (false, Some(at)) = (seconds, date) {
        assert_eq!(at % 1000.0, 0.0, "a date of whole seconds");
        assert_eq!(ms, Some((at - WALL).clamp(0.0, DAY_MS)));
        assert_eq!(
            parse_retry_after(retry, f64::NAN),
            None,
            "no wall clock, no date"
        );
        let again = imf_fixdate(at);
        assert_eq!(parse_http_date(&again), Some(at), "{retry:?} as {again}");
    }
    if let (Some(ms), Some(v)) = (ms, retry) {
        assert!(
            (0.0..=DAY_MS).contains(&ms),
            "Retry-After {v:?} gave {ms} ms"
        );
        let v = v.trim();
        let (whole, fraction) = v.split_once('.').unwrap_or((v, ""));
        if seconds && whole.len() <= 5 {
            let mut exact: f64 = whole.parse::<f64>().unwrap_or(0.0) * 1000.0;
            for (b, scale) in fraction.bytes().take(3).zip([100.0, 10.0, 1.0]) {
                exact += f64::from(b - b'0') * scale;
            }
            assert_eq!(ms, exact.min(DAY_MS), "Retry-After {v:?}");
        }
    }

    let reason = server_reason(parse(body).as_ref());
    if let Some(r) = &reason {
        let b = json.expect("a reason from no JSON");
        let candidates = [
            string(b, "error"),
            string(b, "message"),
            b.get("error").and_then(|e| string(e, "message")),
            b.get("message").and_then(|e| string(e, "message")),
        ];
        assert!(
            candidates.iter().any(|c| c.as_ref() == Some(r)),
            "reason {r:?} from nowhere"
        );
        let _ = (is_block_reason(r), is_duplicate_reason(r));
    }
    let e = from_status(status, parse(body).as_ref(), ms);
    assert_eq!(e.status, Some(status));
    assert_eq!(e.retry_after_ms.map(f64::to_bits), ms.map(f64::to_bits));
    match status {
        500.. => assert_eq!(e.code, Code::ServerError),
        429 => {
            let blocked = reason
                .as_deref()
                .is_some_and(|r| r.to_ascii_lowercase().contains("blocked"));
            let code = if blocked {
                Code::KeyBlocked
            } else {
                Code::RateLimited
            };
            assert_eq!(e.code, code);
        }
        404 => assert_eq!(e.code, Code::NotFound),
        401 | 403 => assert_eq!(e.code, Code::Forbidden),
        0 | 300..=399 => assert_eq!(e.code, Code::RedirectRefused),
        _ => assert_eq!(e.code, Code::BadRequest),
    }
    match &reason {
        _ if e.code == Code::RedirectRefused => assert!(e.message.contains("set baseUrl")),
        Some(r) => assert_eq!(e.message, mask_phones_in_text(r)),
        None => assert!(e.message.starts_with("The server answered HTTP ")),
    }
    assert_eq!(
        mask_phones_in_text(&e.message),
        e.message,
        "message not masked"
    );
    let _ = (Tv::build(e.info()), Tv::build(e.to_json()), e.to_string());

    // Masking arbitrary text.
    let masked = mask_phones_in_text(body);
    assert_eq!(masked.chars().count(), body.chars().count());
    for (a, b) in body.chars().zip(masked.chars()) {
        assert!(
            a == b || (a.is_ascii_digit() && b == '*'),
            "{a:?} became {b:?}"
        );
    }
    assert_eq!(
        mask_phones_in_text(&masked),
        masked,
        "masking is not idempotent"
    );
    ms
}

/// The call whose answer this is.
#[derive(Clone, Copy, Debug)]
enum Call {
    GetLead,
    InitiateExisting,
    GetActivity,
    Update,
    Query,
    Bulk,
}

impl Call {
    fn task(self, c: &Client, page: u64, limit: Option<u64>) -> Task<Tv> {
        let target = tv(json!({ "leadId": IDS[0] }));
        match self {
            Call::GetLead => c.get_lead(&target, false),
            Call::InitiateExisting => c.initiate_existing(&tv(json!(IDS[0])), Some(true)),
            Call::GetActivity => c.get_activity(&tv(json!(IDS[1])), true),
            Call::Update => c.update_lead(&target, &tv(json!({"name": "B", "metadata": {"k": 1}}))),
            Call::Query => {
                let mut q = json!({ "page": page });
                if let Some(l) = limit {
                    q["limit"] = json!(l);
                }
                c.query_leads(&tv(q))
            }
            Call::Bulk => c.bulk_initiate(&tv(json!(IDS)), true, BulkOptions::default()),
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn engine(
    status: u16,
    retry: Option<&str>,
    body: &str,
    json: Option<&J>,
    ms: Option<f64>,
    salt: usize,
    page: u64,
    limit: Option<u64>,
) {
    let calls = [
        Call::GetLead,
        Call::InitiateExisting,
        Call::GetActivity,
        Call::Update,
        Call::Query,
        Call::Bulk,
    ];
    let call = calls[salt % calls.len()];
    let mut cfg = Config::new(PROJECT);
    cfg.token = Some(TOKEN.into());
    cfg.max_retries = 0;
    let client = Client::isolated(cfg);
    let host = FuzzHost::default();
    let answer = || HttpResponse {
        status,
        retry_after: retry.map(str::to_string),
        body: parse(body),
    };
    let mut sent = 0;
    let result = drive(
        &client,
        &host,
        call.task(&client, page, limit),
        100,
        |h, _, _held| {
            sent += 1;
            h.now.set(h.now.get() + 10.0);
            Some(Ok(answer()))
        },
        |_, _| unreachable!("nothing is held"),
    );
    assert_eq!(sent, 1, "{call:?}: {sent} requests without retries");
    let answered_at = START_MS + 10.0;
    let clean = !body.contains(TOKEN);
    let check_message = |m: &str| {
        assert!(!m.contains(TOKEN), "the token in {m:?}");
        if clean {
            assert_eq!(mask_phones_in_text(m), m, "an unmasked message: {m:?}");
        }
    };
    for l in host.logs.borrow().iter() {
        if let Some(m) = &l.message {
            assert!(!m.contains(TOKEN), "the token in a log event: {m:?}");
        }
    }

    // The error of a non-2xx answer, as the engine completes it.
    let expected_err = || {
        let e = from_status(status, parse(body).as_ref(), ms);
        let ms = match e.code {
            Code::KeyBlocked => Some(ms.unwrap_or(3_600_000.0)),
            Code::RateLimited => Some(ms.unwrap_or(1000.0)),
            _ => ms,
        };
        let mut e = e.with_retry_after(ms);
        e.message = client.cfg.scrub(&e.message);
        e
    };
    let ok = (200..300).contains(&status);
    match call {
        Call::Bulk => {
            assert_eq!(
                result.map(|v| v.json()),
                Ok(json!(1)),
                "the bulk's value: its requests"
            );
            let outcomes = host.outcomes.borrow();
            let mut indexes: Vec<usize> = outcomes.iter().map(|(i, _)| *i).collect();
            indexes.sort_unstable();
            assert_eq!(indexes, [0, 1, 2], "not one outcome per input");
            let progress = host.progress.borrow();
            assert_eq!(progress.last().map(|p| (p.done, p.total)), Some((3, 3)));
            let fail = if ok {
                match api::read_bulk(parse(body).as_ref()) {
                    Ok(a) => {
                        let sent: Vec<Sent<Tv>> = IDS
                            .iter()
                            .map(|id| Sent {
                                lead_id: Some(id.to_string()),
                                reference_id: None,
                                phone: None,
                                email: None,
                                body: None,
                            })
                            .collect();
                        let refs: Vec<&Sent<Tv>> = sent.iter().collect();
                        let mapped = map_answer(&refs, a, "IN");
                        for (i, o) in outcomes.iter() {
                            match (&mapped[*i], o) {
                                (ItemResult::Created(a), Outcome::Created(b)) => {
                                    assert_eq!(a.json(), b.json())
                                }
                                (ItemResult::Rejected(r), Outcome::Failed(e)) => {
                                    // A refusal inside a 2xx answer.
                                    assert_eq!((e.code, e.status), (Code::BadRequest, Some(200)));
                                    assert_eq!(
                                        e.message,
                                        client.cfg.scrub(&mask_phones_in_text(r))
                                    );
                                    check_message(&e.message);
                                }
                                (ItemResult::Missing, Outcome::Unknown(e)) => invalid_response(e),
                                (m, o) => panic!("input {i}: mapped {m:?}, outcome {o:?}"),
                            }
                        }
                        None
                    }
                    Err(e) => Some(e.with_status(status)),
                }
            } else {
                Some(expected_err())
            };
            if let Some(fail) = fail {
                // The request failed: every lead shares its error (unknown when it may have
                // been processed).
                for (_, o) in outcomes.iter() {
                    let (Outcome::Failed(e) | Outcome::Unknown(e)) = o else {
                        panic!("a lead created by a failed request: {o:?}");
                    };
                    assert_eq!(e, &fail);
                    check_message(&e.message);
                }
            }
        }
        _ if ok => {
            let direct: Result<J, VoxError> = match call {
                Call::GetLead => {
                    api::read_lead_with_activities(parse(body).as_ref()).map(|v| v.json())
                }
                Call::InitiateExisting => api::read_lead(parse(body).as_ref()).map(|v| v.json()),
                Call::GetActivity => api::read_activity(parse(body).as_ref()).map(|v| v.json()),
                Call::Update => api::read_update(parse(body).as_ref()).map(|v| v.json()),
                Call::Query => api::read_query(parse(body).as_ref(), page, limit)
                    .map(|p| p.into_value().json()),
                Call::Bulk => unreachable!(),
            };
            let direct = direct.map_err(|e| e.with_status(status));
            assert_eq!(result.map(|v| v.json()), direct, "{call:?} of {json:?}");
        }
        _ => {
            let e = result.expect_err("a non-2xx answer gave a value");
            assert_eq!(e, expected_err(), "{call:?}");
            check_message(&e.message);
        }
    }

    // What a 429 leaves behind for the next call of the client.
    if status != 429 {
        return;
    }
    let code = expected_err().code;
    let wait = expected_err().retry_after_ms.unwrap_or(0.0);
    let mut next = Call::GetLead.task(&client, 1, None);
    let step = next.step(&client, &host);
    let sends = next.take_sends();
    match code {
        Code::KeyBlocked if wait > 0.0 => {
            assert!(sends.is_empty(), "a request while the key is blocked");
            let Step::Done(Err(e)) = step else {
                panic!("a call while the key is blocked: {step:?}");
            };
            assert_eq!(e.code, Code::KeyBlocked);
            let left = answered_at + wait - host.now.get();
            if left > 0.0 {
                assert_eq!(e.retry_after_ms, Some(left));
            }
            check_message(&e.message);
        }
        // Paused for longer than a call waits: the next call says so at once.
        Code::RateLimited if wait > MAX_WAIT_MS && client.cfg.rate.is_some() => {
            assert!(sends.is_empty(), "a request while the project is paused");
            let Step::Done(Err(e)) = step else {
                panic!("a call while the project is paused: {step:?}");
            };
            assert_eq!(e.code, Code::RateLimited);
            assert_eq!(e.retry_after_ms, Some(answered_at + wait - host.now.get()));
            check_message(&e.message);
        }
        _ => {
            let Step::Pending { wake } = step else {
                panic!("a call after a rate limit: {step:?}");
            };
            if sends.is_empty() {
                let wake = wake.expect("waiting for nothing");
                assert!(
                    wake >= answered_at + wait - 1e-3,
                    "the next request at {wake}, before the Retry-After ({wait} ms) ended"
                );
            } else {
                assert!(
                    host.now.get() >= answered_at + wait - 1.0,
                    "sent during the Retry-After"
                );
            }
        }
    }
}

/// `iterateLeads` over pages that all hold this answer's leads (at most 3 pages, then an empty
/// one): each lead once by `_id`, in the order of the pages.
fn pages(body: &str, json: Option<&J>, salt: usize) {
    let mut cfg = Config::new(PROJECT);
    cfg.max_retries = (salt % 2) as u32;
    let client = Client::isolated(cfg);
    let host = FuzzHost::default();
    let Ok(pages) = Pages::new(&tv(json!({ "limit": 1 + salt % 5 })), "IN") else {
        panic!("a good query refused");
    };
    let mut seen = std::collections::HashSet::new();
    let mut answered = 0;
    for _ in 0..8 {
        let task = pages.next();
        let r = drive(
            &client,
            &host,
            task,
            1000,
            |h, _, _held| {
                answered += 1;
                h.now.set(h.now.get() + 10.0);
                let b = if answered <= 3 {
                    body
                } else {
                    r#"{"data":[]}"#
                };
                Some(Ok(HttpResponse {
                    status: 200,
                    retry_after: None,
                    body: parse(b),
                }))
            },
            |_, _| unreachable!("nothing is held"),
        );
        let v = match r {
            Ok(v) => v.json(),
            Err(e) => {
                // Retried if it could be; an unreadable page ends the iteration with its error.
                invalid_response(&e);
                assert!(
                    expected_page(json).is_none(),
                    "a readable page refused: {e}"
                );
                return;
            }
        };
        let Some(leads) = v.as_array() else {
            assert_eq!(v, J::Null, "a page that is no list");
            return;
        };
        assert!(!leads.is_empty(), "an empty page given");
        for l in leads {
            if let Some(id) = string(l, "_id") {
                assert!(seen.insert(id.clone()), "lead {id} given twice");
            }
        }
    }
    panic!("iterateLeads did not end after 8 pages ({answered} answers)");
}

fn expected_page(json: Option<&J>) -> Option<&J> {
    let b = json.filter(|b| is_object(b))?;
    [&b["data"], &b["leads"]].into_iter().find(|l| l.is_array())
}
