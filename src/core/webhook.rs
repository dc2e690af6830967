//! Webhooks the CRM sends to the customer (docs/api.md §4, docs/sdk.md "Webhooks"): telling the two
//! payload kinds apart, the epoch-millisecond `timestamp` as an ISO 8601 `time`, and checking
//! the Bearer token or custom header the customer configured, in constant time.

use crate::core::error::VoxError;
use crate::core::options::MAX_SHORT;
use crate::core::value::{Json, Kind, Value};

/// The fields of an update result, in output order (after `kind`).
const UPDATE_FIELDS: [&str; 6] = [
    "updateId",
    "success",
    "error",
    "leadId",
    "referenceId",
    "timestamp",
];

/// The fields of an activity update, in output order (after `kind`).
const ACTIVITY_FIELDS: [&str; 6] = [
    "activityId",
    "leadId",
    "lastActivityId",
    "processId",
    "referenceId",
    "timestamp",
];

/// The error for a webhook body given as text that is not JSON.
pub fn not_json() -> VoxError {
    // The parser's own message (line and column) is left out: numbers in it would be masked
    // as phones.
    VoxError::invalid_argument("webhook body is not JSON text")
}

/// An id-like field that marks a payload kind: present and text.
fn marker<V: Value>(body: &V, key: &str) -> bool {
    body.get(key).text(MAX_SHORT).is_ok()
}

/// Reads a webhook body (the host's value: an object the caller passed, or what the host
/// parsed of its text): `{ kind: "update_result" | "activity", ...the kind's fields (null when
/// absent), timestamp, time, data | activity, raw }`. `raw` is the body itself, untouched, so
/// fields this SDK does not know are never lost. A body that is neither kind is an
/// `invalid_argument`.
pub fn parse_webhook<V: Value>(body: &V) -> Result<Json<V>, VoxError> {
    if !body.is_object() {
        return Err(VoxError::invalid_argument(format!(
            "webhook body must be a JSON object, not {}",
            kind_of(body.kind())
        )));
    }
    if body.to_json(&[]).is_err() {
        return Err(VoxError::invalid_argument(
            "webhook body cannot be written as JSON (a cycle, a BigInt or a lone surrogate?): it is not one the CRM sent",
        ));
    }
    let is_activity = marker(body, "activityId") || body.get("activity").is_object();
    let (kind, fields, payload) = if is_activity {
        ("activity", ACTIVITY_FIELDS, "activity")
    } else if marker(body, "updateId") {
        ("update_result", UPDATE_FIELDS, "data")
    } else {
        return Err(VoxError::invalid_argument(
            "webhook body is neither an update result (no updateId) nor an activity update \
             (no activityId or activity object)",
        ));
    };

    let field = |key: &str| {
        let v = body.get(key);
        if v.is_absent() {
            Json::Null
        } else {
            Json::Value(v)
        }
    };
    let mut out = Vec::with_capacity(fields.len() + 4);
    out.push(("kind", Json::text(kind)));
    for key in fields {
        out.push((key, field(key)));
    }
    let time = epoch_ms(&body.get("timestamp")).and_then(iso_from_epoch_ms);
    out.push(("time", Json::opt_text(time)));
    out.push((payload, field(payload)));
    out.push(("raw", Json::Value(body.clone())));
    Ok(Json::Object(out))
}

fn kind_of(k: Kind) -> &'static str {
    match k {
        Kind::Absent => "null",
        Kind::Bool(_) => "a boolean",
        Kind::Number(_) => "a number",
        Kind::Text => "a string",
        Kind::Array => "an array",
        _ => "another value",
    }
}

/// Epoch milliseconds from a JSON number or a numeric string (fractions are floored).
fn epoch_ms<V: Value>(v: &V) -> Option<i64> {
    match v.kind() {
        Kind::Number(n) => {
            let f = n.floor();
            // Beyond ±2^53 a float is no longer an exact millisecond count; such a value is
            // outside the supported years anyway.
            (f.is_finite() && f.abs() <= 9_007_199_254_740_992.0).then_some(f as i64)
        }
        Kind::Text => v.text(32).ok()?.trim().parse::<i64>().ok(),
        _ => None,
    }
}

/// Header `(name, value)` pairs of a plain object of header values (Node's `req.headers`, or a
/// `Headers` the host turned into one); entries whose value is not a string are left out.
pub fn header_pairs<V: Value>(headers: &V) -> Vec<(String, String)> {
    headers
        .keys()
        .into_iter()
        .filter_map(|k| Some((k.clone(), headers.get(&k).string()?)))
        .collect()
}

/// Milliseconds of 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z: the years that
/// ISO 8601's (and JS `Date#toISOString`'s) plain four-digit form can write.
const MIN_MS: i64 = -62_167_219_200_000;
const MAX_MS: i64 = 253_402_300_799_999;
const MS_PER_DAY: i64 = 86_400_000;

/// `2026-11-28T18:32:57.123Z` for epoch milliseconds (UTC, no leap seconds, like JS `Date`),
/// or `None` outside years 0000..=9999.
pub fn iso_from_epoch_ms(ms: i64) -> Option<String> {
    if !(MIN_MS..=MAX_MS).contains(&ms) {
        return None;
    }
    let days = ms.div_euclid(MS_PER_DAY);
    let in_day = ms.rem_euclid(MS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    let (hh, mm) = (in_day / 3_600_000, in_day / 60_000 % 60);
    let (ss, milli) = (in_day / 1000 % 60, in_day % 1000);
    Some(format!(
        "{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{milli:03}Z"
    ))
}

/// Year, month (1..=12) and day (1..=31) of a count of days since 1970-01-01 in the proleptic
/// Gregorian calendar (Howard Hinnant's `civil_from_days`): 400-year eras of 146097 days, and
/// years that start on 1 March so the leap day is the last day of a year.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468; // days since 0000-03-01
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // day of era, 0..=146096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // year of era, 0..=399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of (March-based) year, 0..=365
    let mp = (5 * doy + 2) / 153; // month from March, 0..=11
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// What a webhook request must carry, as configured for the process in the CRM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expected {
    /// `Authorization: Bearer <token>`.
    Token(String),
    /// A custom header `name: value`.
    Header { name: String, value: String },
}

/// True when the request headers carry the expected secret. Header names are matched without
/// regard to case, as is the `Bearer` scheme; the secret must match exactly, and is compared in
/// constant time with respect to its content. A missing header, or an empty expected secret or
/// header name, is `false`. When a header appears more than once, every occurrence is compared
/// and any exact one is accepted.
pub fn verify_auth(headers: &[(String, String)], expected: Expected) -> bool {
    let (name, secret, bearer) = match &expected {
        Expected::Token(token) => ("authorization", token.as_str(), true),
        Expected::Header { name, value } => (name.as_str(), value.as_str(), false),
    };
    if secret.is_empty() || name.trim().is_empty() {
        return false;
    }
    let name = name.trim();
    let mut ok = false;
    for (n, v) in headers {
        if !n.trim().eq_ignore_ascii_case(name) {
            continue;
        }
        // HTTP's optional whitespace around a value is not part of it.
        let v = v.trim();
        let given = if bearer { bearer_token(v) } else { Some(v) };
        if let Some(given) = given {
            // `|`, not `||`: compare every occurrence, whatever the earlier ones gave.
            ok |= constant_time_eq(given.as_bytes(), secret.as_bytes());
        }
    }
    ok
}

/// The token of `Bearer <token>`: the scheme in any case, then one or more spaces (RFC 9110
/// §11.4: `auth-scheme 1*SP token68`).
fn bearer_token(v: &str) -> Option<&str> {
    let (scheme, rest) = v.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = rest.trim_start();
    (!token.is_empty()).then_some(token)
}

/// Equality whose running time depends only on the lengths: every byte pair is XORed into one
/// accumulator, with no exit at the first difference. Lengths are not secret here (a length
/// mismatch returns at once).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut acc = 0u8;
    for (x, y) in a.iter().zip(b) {
        // black_box keeps the optimiser from turning the loop back into an early-exit compare.
        acc = std::hint::black_box(acc | (x ^ y));
    }
    acc == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::core::testkit::{parse, tv, Tv};
    use crate::core::value::Value as _;
    use serde_json::Value;

    fn parse_webhook(body: &Value) -> Result<Value, VoxError> {
        super::parse_webhook(&tv(body.clone())).map(|j| Tv::build(j).json())
    }

    fn parse_webhook_text(text: &str) -> Result<Value, VoxError> {
        let body = parse(text).ok_or_else(not_json)?;
        super::parse_webhook(&body).map(|j| Tv::build(j).json())
    }

    /// The field names of a parsed payload, in order.
    fn field_names(body: &Value) -> Vec<&'static str> {
        match super::parse_webhook(&tv(body.clone())).unwrap() {
            Json::Object(m) => m.iter().map(|(k, _)| *k).collect(),
            _ => panic!("not an object"),
        }
    }
    use crate::core::error::Code;
    use serde_json::json;

    fn update_payload() -> Value {
        json!({
            "action_type": "update",
            "updateId": "6650a1b2c3d4e5f601230001",
            "success": true,
            "error": null,
            "leadId": "6650a1b2c3d4e5f601230002",
            "referenceId": "ref-77",
            "timestamp": 1_764_355_200_000_i64,
            "data": { "metadata": { "tier": "gold" }, "currentState": "interested" },
            "projectId": "6650a1b2c3d4e5f601234567",
        })
    }

    fn activity_payload() -> Value {
        json!({
            "action_type": "update",
            "activityId": "6650a1b2c3d4e5f601230003",
            "leadId": "6650a1b2c3d4e5f601230002",
            "lastActivityId": "6650a1b2c3d4e5f601230009",
            "processId": "6650a1b2c3d4e5f6012345a1",
            "referenceId": "ref-77",
            "timestamp": 1_764_355_260_123_i64,
            "activity": {
                "type": "call",
                "status": "completed",
                "fromState": "make_first_call",
                "toState": "interested",
                "scheduledAt": 1_764_355_250_000_i64,
                "result": {
                    "durationSec": 93,
                    "analysis": {
                        "success": true,
                        "disposition": "interested",
                        "dispositionType": "success",
                        "summary": "Keen on the gold plan; call back Friday."
                    }
                }
            },
            "campaign": { "name": "winter" }
        })
    }

    fn invalid(r: Result<Value, VoxError>) -> String {
        let e = r.expect_err("an error");
        assert_eq!(e.code, Code::InvalidArgument);
        assert_eq!(e.code(), "invalid_argument");
        e.message
    }

    #[test]
    fn update_result_with_every_field_in_order() {
        let body = update_payload();
        let ev = parse_webhook(&body).unwrap();
        assert_eq!(
            ev,
            json!({
                "kind": "update_result",
                "updateId": "6650a1b2c3d4e5f601230001",
                "success": true,
                "error": null,
                "leadId": "6650a1b2c3d4e5f601230002",
                "referenceId": "ref-77",
                "timestamp": 1_764_355_200_000_i64,
                "time": "2025-11-28T18:40:00.000Z",
                "data": { "metadata": { "tier": "gold" }, "currentState": "interested" },
                "raw": body,
            })
        );
        assert_eq!(
            field_names(&body),
            [
                "kind",
                "updateId",
                "success",
                "error",
                "leadId",
                "referenceId",
                "timestamp",
                "time",
                "data",
                "raw"
            ]
        );
    }

    #[test]
    fn failed_update_result_keeps_the_error() {
        let body = json!({
            "action_type": "update", "updateId": "u1", "success": false,
            "error": "Invalid state transition", "leadId": "l1", "timestamp": 0
        });
        let ev = parse_webhook(&body).unwrap();
        assert_eq!(ev["kind"], "update_result");
        assert_eq!(ev["success"], false);
        assert_eq!(ev["error"], "Invalid state transition");
        assert_eq!(ev["referenceId"], Value::Null);
        assert_eq!(ev["data"], Value::Null);
        assert_eq!(ev["time"], "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn activity_update_with_every_field_in_order() {
        let body = activity_payload();
        let ev = parse_webhook(&body).unwrap();
        assert_eq!(ev["kind"], "activity");
        assert_eq!(ev["activityId"], "6650a1b2c3d4e5f601230003");
        assert_eq!(ev["leadId"], "6650a1b2c3d4e5f601230002");
        assert_eq!(ev["lastActivityId"], "6650a1b2c3d4e5f601230009");
        assert_eq!(ev["processId"], "6650a1b2c3d4e5f6012345a1");
        assert_eq!(ev["referenceId"], "ref-77");
        assert_eq!(ev["timestamp"], 1_764_355_260_123_i64);
        assert_eq!(ev["time"], "2025-11-28T18:41:00.123Z");
        assert_eq!(ev["activity"], body["activity"]);
        assert_eq!(
            ev["activity"]["result"]["analysis"]["disposition"],
            "interested"
        );
        assert_eq!(ev["raw"], body);
        assert_eq!(
            field_names(&body),
            [
                "kind",
                "activityId",
                "leadId",
                "lastActivityId",
                "processId",
                "referenceId",
                "timestamp",
                "time",
                "activity",
                "raw"
            ]
        );
        assert!(ev.get("updateId").is_none() && ev.get("data").is_none());
    }

    #[test]
    fn unknown_fields_stay_in_raw_only() {
        let ev = parse_webhook(&activity_payload()).unwrap();
        assert_eq!(ev["raw"]["campaign"]["name"], "winter");
        assert_eq!(ev["raw"]["action_type"], "update");
        assert!(ev.get("campaign").is_none());
        let ev = parse_webhook(&update_payload()).unwrap();
        assert_eq!(ev["raw"]["projectId"], "6650a1b2c3d4e5f601234567");
        assert!(ev.get("projectId").is_none() && ev.get("action_type").is_none());
    }

    #[test]
    fn activity_wins_over_update_and_either_marker_suffices() {
        // An activity update with an updateId too is still an activity.
        let mut body = activity_payload();
        body["updateId"] = json!("u9");
        assert_eq!(parse_webhook(&body).unwrap()["kind"], "activity");
        // Only the activity object, no activityId.
        let ev = parse_webhook(&json!({ "activity": { "status": "scheduled" } })).unwrap();
        assert_eq!(ev["kind"], "activity");
        assert_eq!(ev["activityId"], Value::Null);
        assert_eq!(ev["time"], Value::Null);
        // Only the activityId, no activity object.
        let ev = parse_webhook(&json!({ "activityId": "a1" })).unwrap();
        assert_eq!(ev["kind"], "activity");
        assert_eq!(ev["activity"], Value::Null);
        // An activity that is not an object is not a marker.
        let ev = parse_webhook(&json!({ "updateId": "u1", "activity": "call" })).unwrap();
        assert_eq!(ev["kind"], "update_result");
    }

    #[test]
    fn missing_fields_are_null() {
        let ev = parse_webhook(&json!({ "updateId": "u1" })).unwrap();
        for key in [
            "success",
            "error",
            "leadId",
            "referenceId",
            "timestamp",
            "time",
            "data",
        ] {
            assert_eq!(ev[key], Value::Null, "{key}");
        }
    }

    #[test]
    fn text_bodies() {
        let text = serde_json::to_string(&update_payload()).unwrap();
        assert_eq!(
            parse_webhook_text(&text).unwrap(),
            parse_webhook(&update_payload()).unwrap()
        );
        let text = serde_json::to_string(&activity_payload()).unwrap();
        assert_eq!(parse_webhook_text(&text).unwrap()["kind"], "activity");
        // Whitespace around the JSON is fine.
        assert_eq!(
            parse_webhook_text("\n {\"updateId\":\"u1\"} \n").unwrap()["kind"],
            "update_result"
        );
    }

    #[test]
    fn raw_keeps_big_and_odd_values_untouched() {
        let text = r#"{"updateId":"u1","n":12345678901234567890,"f":1.5,"s":"é\u0000","a":[1,{"b":null}]}"#;
        let ev = parse_webhook_text(text).unwrap();
        assert_eq!(
            ev["raw"],
            serde_json::from_str::<Value>(text).unwrap(),
            "raw equals the body"
        );
        assert_eq!(ev["raw"]["n"].as_u64(), Some(12_345_678_901_234_567_890));
    }

    #[test]
    fn non_json_text_is_invalid_argument() {
        for text in ["", "not json", "{", "{\"updateId\": }", "<html>502</html>"] {
            let msg = invalid(parse_webhook_text(text));
            assert!(msg.contains("not JSON"), "{text:?}: {msg}");
        }
    }

    #[test]
    fn wrong_shapes_are_invalid_argument() {
        for body in [
            json!(null),
            json!(42),
            json!("text"),
            json!(true),
            json!([update_payload()]),
        ] {
            let msg = invalid(parse_webhook(&body));
            assert!(msg.contains("must be a JSON object"), "{body}: {msg}");
        }
        for body in [
            json!({}),
            json!({ "hello": 1 }),
            json!({ "action_type": "update", "leadId": "l1", "timestamp": 1 }),
            json!({ "updateId": null, "activityId": null }),
            json!({ "activity": null }),
            json!({ "activity": ["call"] }),
        ] {
            let msg = invalid(parse_webhook(&body));
            assert!(msg.contains("neither"), "{body}: {msg}");
        }
        // The same through text.
        assert!(invalid(parse_webhook_text("42")).contains("not a number"));
        assert!(invalid(parse_webhook_text("{}")).contains("neither"));
    }

    #[test]
    fn timestamp_kept_as_sent_and_time_from_numbers_or_numeric_strings() {
        let time_of = |ts: Value| {
            let ev = parse_webhook(&json!({ "updateId": "u", "timestamp": ts.clone() })).unwrap();
            assert_eq!(ev["timestamp"], ts, "timestamp is as sent");
            ev["time"].clone()
        };
        assert_eq!(
            time_of(json!(1_764_355_200_000_i64)),
            "2025-11-28T18:40:00.000Z"
        );
        assert_eq!(time_of(json!("1764355200000")), "2025-11-28T18:40:00.000Z");
        assert_eq!(
            time_of(json!(" 1764355200001 ")),
            "2025-11-28T18:40:00.001Z"
        );
        assert_eq!(
            time_of(json!(1_764_355_200_000.9)),
            "2025-11-28T18:40:00.000Z"
        );
        assert_eq!(time_of(json!(-1)), "1969-12-31T23:59:59.999Z");
        for bad in [
            json!("2025-11-28T18:40:00Z"),
            json!("soon"),
            json!(""),
            json!("1.5e12"),
            json!(true),
            json!(null),
            json!({ "ms": 1 }),
            json!(1e300),
            json!(u64::MAX),
            json!(MAX_MS + 1),
            json!(MIN_MS - 1),
        ] {
            assert_eq!(time_of(bad.clone()), Value::Null, "{bad}");
        }
    }

    #[test]
    fn iso_times() {
        let cases: [(i64, &str); 15] = [
            (0, "1970-01-01T00:00:00.000Z"),
            (1, "1970-01-01T00:00:00.001Z"),
            (-1, "1969-12-31T23:59:59.999Z"),
            (86_399_999, "1970-01-01T23:59:59.999Z"),
            (951_782_400_000, "2000-02-29T00:00:00.000Z"), // 2000 is a leap year (÷400)
            (951_868_800_000, "2000-03-01T00:00:00.000Z"),
            (4_107_456_000_000, "2100-02-28T00:00:00.000Z"), // 2100 is not (÷100)
            (4_107_542_400_000, "2100-03-01T00:00:00.000Z"),
            (1_709_164_800_000, "2024-02-29T00:00:00.000Z"),
            (1_735_689_599_999, "2024-12-31T23:59:59.999Z"), // day 366 of a leap year
            (1_795_890_777_123, "2026-11-28T18:32:57.123Z"),
            (-2_203_977_600_000, "1900-02-28T00:00:00.000Z"), // 1900 is not a leap year
            (-2_203_891_200_000, "1900-03-01T00:00:00.000Z"),
            (MIN_MS, "0000-01-01T00:00:00.000Z"),
            (MAX_MS, "9999-12-31T23:59:59.999Z"),
        ];
        for (ms, iso) in cases {
            assert_eq!(iso_from_epoch_ms(ms).as_deref(), Some(iso), "{ms}");
        }
        assert_eq!(iso_from_epoch_ms(MAX_MS + 1), None);
        assert_eq!(iso_from_epoch_ms(MIN_MS - 1), None);
        assert_eq!(iso_from_epoch_ms(i64::MIN), None);
        assert_eq!(iso_from_epoch_ms(i64::MAX), None);
    }

    /// The inverse of `civil_from_days` (Hinnant's `days_from_civil`), to check every day.
    fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y.rem_euclid(400);
        let mp = if m > 2 { m - 3 } else { m + 9 };
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    fn is_leap(y: i64) -> bool {
        (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
    }

    #[test]
    fn every_day_of_years_0_to_9999_follows_the_previous() {
        let mut days = MIN_MS / MS_PER_DAY;
        for y in 0..=9999 {
            for m in 1..=12 {
                let len = match m {
                    2 if is_leap(y) => 29,
                    2 => 28,
                    4 | 6 | 9 | 11 => 30,
                    _ => 31,
                };
                for d in 1..=len {
                    assert_eq!(civil_from_days(days), (y, m, d), "day {days}");
                    assert_eq!(days_from_civil(y, m, d), days);
                    days += 1;
                }
            }
        }
        assert_eq!(days, MAX_MS / MS_PER_DAY + 1);
    }

    #[cfg(not(target_arch = "wasm32"))]
    mod prop {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn iso_round_trips(ms in MIN_MS..=MAX_MS) {
                let iso = iso_from_epoch_ms(ms).unwrap();
                prop_assert_eq!(iso.len(), 24);
                let num = |a: usize, b: usize| iso[a..b].parse::<i64>().unwrap();
                let days = days_from_civil(num(0, 4), num(5, 7), num(8, 10));
                let back = days * MS_PER_DAY
                    + num(11, 13) * 3_600_000
                    + num(14, 16) * 60_000
                    + num(17, 19) * 1000
                    + num(20, 23);
                prop_assert_eq!(back, ms);
            }
        }
    }

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_string(), (*v).to_string()))
            .collect()
    }

    fn token(t: &str) -> Expected {
        Expected::Token(t.into())
    }

    fn header(n: &str, v: &str) -> Expected {
        Expected::Header {
            name: n.into(),
            value: v.into(),
        }
    }

    #[test]
    fn bearer_token_matches_with_any_case_of_name_and_scheme() {
        for (name, value) in [
            ("authorization", "Bearer whsec_abc"),
            ("Authorization", "Bearer whsec_abc"),
            ("AUTHORIZATION", "bearer whsec_abc"),
            ("authorization", "BEARER   whsec_abc"),
            ("authorization", " Bearer whsec_abc\t"),
        ] {
            assert!(
                verify_auth(
                    &h(&[("content-type", "application/json"), (name, value)]),
                    token("whsec_abc")
                ),
                "{name}: {value}"
            );
        }
    }

    #[test]
    fn bearer_token_must_match_exactly() {
        for value in [
            "Bearer whsec_abd",
            "Bearer whsec_ab",
            "Bearer whsec_abcd",
            "Bearer WHSEC_ABC",
            "Bearer whsec_abc extra",
            "Basic whsec_abc",
            "Token whsec_abc",
            "whsec_abc",
            "Bearerwhsec_abc",
            "Bearer\twhsec_abc",
            "Bearer",
            "Bearer ",
            "",
        ] {
            assert!(
                !verify_auth(&h(&[("authorization", value)]), token("whsec_abc")),
                "{value:?}"
            );
        }
        // The token in another header does not count.
        assert!(!verify_auth(
            &h(&[("x-authorization", "Bearer whsec_abc")]),
            token("whsec_abc")
        ));
    }

    #[test]
    fn custom_header_matches_with_any_case_of_name() {
        let exp = || header("X-Vox-Secret", "s3cret");
        assert!(verify_auth(&h(&[("x-vox-secret", "s3cret")]), exp()));
        assert!(verify_auth(&h(&[("X-VOX-SECRET", "s3cret")]), exp()));
        assert!(verify_auth(&h(&[("x-vox-secret", " s3cret ")]), exp()));
        assert!(verify_auth(
            &h(&[("x-vox-secret", "s3cret")]),
            header(" x-vox-secret ", "s3cret")
        ));
        for value in ["nope", "S3CRET", "s3cret!", "s3cre", "Bearer s3cret", ""] {
            assert!(
                !verify_auth(&h(&[("x-vox-secret", value)]), exp()),
                "{value:?}"
            );
        }
        // A header expected with a Bearer value works as a plain exact compare.
        assert!(verify_auth(
            &h(&[("Authorization", "Bearer t0k")]),
            header("authorization", "Bearer t0k")
        ));
    }

    #[test]
    fn missing_header_is_false() {
        assert!(!verify_auth(&[], token("whsec_abc")));
        assert!(!verify_auth(&[], header("x-vox-secret", "s3cret")));
        let other = h(&[("content-type", "application/json"), ("x-other", "s3cret")]);
        assert!(!verify_auth(&other, token("s3cret")));
        assert!(!verify_auth(&other, header("x-vox-secret", "s3cret")));
    }

    #[test]
    fn empty_expected_secret_or_name_is_false() {
        assert!(!verify_auth(&h(&[("authorization", "Bearer ")]), token("")));
        assert!(!verify_auth(
            &h(&[("authorization", "Bearer x")]),
            token("")
        ));
        assert!(!verify_auth(
            &h(&[("x-vox-secret", "")]),
            header("x-vox-secret", "")
        ));
        assert!(!verify_auth(&h(&[("", "s3cret")]), header("", "s3cret")));
        assert!(!verify_auth(&h(&[(" ", "s3cret")]), header(" ", "s3cret")));
    }

    #[test]
    fn repeated_headers_accept_any_exact_occurrence() {
        let hs = h(&[
            ("x-vox-secret", "wrong"),
            ("X-Vox-Secret", "s3cret"),
            ("x-vox-secret", "other"),
        ]);
        assert!(verify_auth(&hs, header("x-vox-secret", "s3cret")));
        let hs = h(&[("x-vox-secret", "wrong"), ("x-vox-secret", "other")]);
        assert!(!verify_auth(&hs, header("x-vox-secret", "s3cret")));
    }

    #[test]
    fn constant_time_eq_is_plain_equality() {
        assert!(constant_time_eq(b"", b""));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"xbc"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(!constant_time_eq(b"ab", b"abc"));
        // Every single-bit difference anywhere is seen.
        let secret = b"whsec_0123456789abcdef".to_vec();
        for i in 0..secret.len() {
            for bit in 0..8 {
                let mut other = secret.clone();
                other[i] ^= 1 << bit;
                assert!(!constant_time_eq(&secret, &other), "byte {i} bit {bit}");
            }
        }
    }

    #[test]
    fn non_ascii_secrets_compare_by_bytes() {
        assert!(verify_auth(
            &h(&[("x-vox-secret", "clé-ß")]),
            header("x-vox-secret", "clé-ß")
        ));
        assert!(!verify_auth(
            &h(&[("x-vox-secret", "cle-ß")]),
            header("x-vox-secret", "clé-ß")
        ));
    }
}
