//! The one error type of the SDK: its codes (exactly docs/sdk.md's), and the mapping from an
//! HTTP status and body to an error. Messages never carry the token, and phone numbers in
//! them are masked.

use crate::core::lead::FieldError;
use crate::core::value::{Json, Value};
use std::fmt;

/// docs/sdk.md's error codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Code {
    ValidationError,
    InvalidPhone,
    InvalidArgument,
    BadRequest,
    Forbidden,
    NotFound,
    RateLimited,
    KeyBlocked,
    DuplicateSubmission,
    ServerError,
    Timeout,
    NetworkError,
    Aborted,
    InvalidResponse,
    BrowserUnsafe,
    RedirectRefused,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::ValidationError => "validation_error",
            Code::InvalidPhone => "invalid_phone",
            Code::InvalidArgument => "invalid_argument",
            Code::BadRequest => "bad_request",
            Code::Forbidden => "forbidden",
            Code::NotFound => "not_found",
            Code::RateLimited => "rate_limited",
            Code::KeyBlocked => "key_blocked",
            Code::DuplicateSubmission => "duplicate_submission",
            Code::ServerError => "server_error",
            Code::Timeout => "timeout",
            Code::NetworkError => "network_error",
            Code::Aborted => "aborted",
            Code::InvalidResponse => "invalid_response",
            Code::BrowserUnsafe => "browser_unsafe",
            Code::RedirectRefused => "redirect_refused",
        }
    }
}

/// What an error's `details` hold.
#[derive(Clone, Debug, PartialEq)]
pub enum Details {
    /// `validation_error`: the fields that failed.
    Fields(Vec<FieldError>),
    /// `invalid_phone`: `{ reason }`, the phone check's reason code.
    Reason(&'static str),
    /// `duplicate_submission` of a lead that exists: `{ leadId, key }` (`key`: `phone`,
    /// `email` or `referenceId`, what it shares with that lead).
    Existing { lead_id: String, key: &'static str },
}

#[derive(Clone, Debug, PartialEq)]
pub struct VoxError {
    pub code: Code,
    pub message: String,
    pub status: Option<u16>,
    pub retry_after_ms: Option<f64>,
    pub details: Option<Details>,
}

impl VoxError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        VoxError {
            code,
            message: mask_phones_in_text(&message.into()),
            status: None,
            retry_after_ms: None,
            details: None,
        }
    }

    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(Code::InvalidArgument, message)
    }

    pub fn invalid_response(message: impl Into<String>) -> Self {
        Self::new(Code::InvalidResponse, message)
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    pub fn with_retry_after(mut self, ms: Option<f64>) -> Self {
        self.retry_after_ms = ms;
        self
    }

    pub fn with_details(mut self, details: Details) -> Self {
        self.details = Some(details);
        self
    }

    pub fn code(&self) -> &'static str {
        self.code.as_str()
    }

    /// `{ code, message, status? }`: the per-lead error of a bulk result (docs/sdk.md `VoxErrorInfo`).
    pub fn info<V>(&self) -> Json<V> {
        let mut m = vec![
            ("code", Json::text(self.code())),
            ("message", Json::text(self.message.as_str())),
        ];
        if let Some(s) = self.status {
            m.push(("status", Json::Number(f64::from(s))));
        }
        Json::Object(m)
    }

    /// Every field, for the edge to build a JS `VoxError` from.
    pub fn to_json<V>(&self) -> Json<V> {
        let Json::Object(mut m) = self.info() else {
            return Json::Null;
        };
        if let Some(ms) = self.retry_after_ms {
            m.push(("retryAfterMs", Json::Number(ms)));
        }
        match &self.details {
            Some(Details::Fields(fields)) => m.push((
                "details",
                Json::Array(fields.iter().map(FieldError::to_json).collect()),
            )),
            Some(Details::Reason(r)) => {
                m.push(("details", Json::Object(vec![("reason", Json::text(*r))])))
            }
            Some(Details::Existing { lead_id, key }) => m.push((
                "details",
                Json::Object(vec![
                    ("leadId", Json::text(lead_id.as_str())),
                    ("key", Json::text(*key)),
                ]),
            )),
            None => {}
        }
        Json::Object(m)
    }
}

impl fmt::Display for VoxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())?;
        f.write_str(": ")?;
        f.write_str(&self.message)
    }
}

impl std::error::Error for VoxError {}

/// The reason a server gave in an error body, from either shape of docs/api.md §1
/// (`{"error": ...}` or `{"success": false, "error": ...}`, also `message`), or `None`
/// for a body that is not JSON (an HTML page from a proxy).
pub fn server_reason<V: Value>(body: Option<&V>) -> Option<String> {
    let body = body?;
    for key in ["error", "message"] {
        let v = body.get(key);
        if let Some(s) = v.string().filter(|s| !s.is_empty()) {
            return Some(s);
        }
        if let Some(s) = v.get("message").string() {
            return Some(s);
        }
    }
    None
}

/// True when `text` holds `part`: a plain search, smaller in the .wasm than `str::contains`'s
/// two-way searcher (reasons and messages are short).
pub fn has(text: &str, part: &str) -> bool {
    text.as_bytes()
        .windows(part.len().max(1))
        .any(|w| w == part.as_bytes())
}

/// True when a 429's reason says the key is blocked (docs/api.md §1), as opposed to the request rate.
pub fn is_block_reason(reason: &str) -> bool {
    let r = reason.to_ascii_lowercase();
    has(&r, "blocked")
}

/// True when a server rejection of a lead is a "duplicate submission" in the sense of docs/api.md §1:
/// phone already called, email or referenceId already existing. These count toward the key block.
pub fn is_duplicate_reason(reason: &str) -> bool {
    let r = reason.to_ascii_lowercase();
    has(&r, "already been made") || has(&r, "already exists") || has(&r, "duplicate")
}

/// Maps a non-2xx answer to an error: status decides the code, the body gives the reason.
pub fn from_status<V: Value>(
    status: u16,
    body: Option<&V>,
    retry_after_ms: Option<f64>,
) -> VoxError {
    if status == 0 || (300..400).contains(&status) {
        // Followed, a redirect would send the lead (and maybe the token) where the caller
        // never said; a browser's `redirect: "manual"` shows it as status 0.
        let what = if status == 0 {
            "a redirect".to_string()
        } else {
            format!("HTTP {status}, a redirect")
        };
        return VoxError::new(
            Code::RedirectRefused,
            format!("The server answered {what}; vox-crm follows no redirects: set baseUrl to the address that answers the API itself"),
        )
        .with_status(status)
        .with_retry_after(retry_after_ms);
    }
    let reason = server_reason(body);
    // vox-crm/proxy answers its client's local duplicate refusal so, keeping the code a page's
    // caller would see without the proxy (the API itself never sends `code`).
    let proxied_duplicate = status == 409
        && body.is_some_and(|b| b.get("code").string().as_deref() == Some("duplicate_submission"));
    let code = match status {
        _ if proxied_duplicate => Code::DuplicateSubmission,
        400 | 405 | 409 | 413 | 422 => Code::BadRequest,
        401 | 403 => Code::Forbidden,
        404 => Code::NotFound,
        429 => {
            if reason.as_deref().is_some_and(is_block_reason) {
                Code::KeyBlocked
            } else {
                Code::RateLimited
            }
        }
        s if s >= 500 => Code::ServerError,
        _ => Code::BadRequest,
    };
    let message = match reason {
        Some(r) => r,
        None => match code {
            Code::ServerError => format!("The server answered HTTP {status} without a JSON body"),
            _ => format!("The server answered HTTP {status}"),
        },
    };
    VoxError::new(code, message)
        .with_status(status)
        .with_retry_after(retry_after_ms)
}

/// The longest `Retry-After` taken (a day): nothing this API says lasts longer (a block lasts
/// an hour), and an absurd value must not pause a project for ever.
pub const MAX_RETRY_AFTER_MS: f64 = 86_400_000.0;

/// Parses `Retry-After` (RFC 9110 §10.2.3) into milliseconds: delay-seconds (digits; a fraction
/// is tolerated), or an HTTP date, which is read against `wall_now_ms` (the wall clock, ms
/// since 1970) and gives 0 when it has passed. Read by hand: `str::parse::<f64>` would link
/// float parsing tables (10 KB) into the module. At most [`MAX_RETRY_AFTER_MS`].
pub fn parse_retry_after(value: Option<&str>, wall_now_ms: f64) -> Option<f64> {
    let v = value?.trim();
    let (whole, fraction) = v.split_once('.').unwrap_or((v, ""));
    if whole.is_empty()
        || !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
    {
        let at = parse_http_date(v)?;
        if !wall_now_ms.is_finite() {
            return None;
        }
        return Some((at - wall_now_ms).clamp(0.0, MAX_RETRY_AFTER_MS));
    }
    let mut ms = 0.0;
    for b in whole.bytes() {
        ms = (ms * 10.0 + f64::from(b - b'0')).min(MAX_RETRY_AFTER_MS);
    }
    ms *= 1000.0;
    let mut scale = 100.0;
    for b in fraction.bytes().take(3) {
        ms += f64::from(b - b'0') * scale;
        scale /= 10.0;
    }
    Some(ms.min(MAX_RETRY_AFTER_MS))
}

/// An HTTP date in any of RFC 9110's three forms — `Sun, 06 Nov 1994 08:49:37 GMT`,
/// `Sunday, 06-Nov-94 08:49:37 GMT`, `Sun Nov  6 08:49:37 1994` — as ms since 1970. The
/// weekday is not checked (a recipient has no use for it).
pub fn parse_http_date(text: &str) -> Option<f64> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let num = |s: &str| -> Option<i64> {
        if s.is_empty() || s.len() > 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(s.bytes().fold(0, |n, b| n * 10 + i64::from(b - b'0')))
    };
    let month = |s: &str| {
        MONTHS
            .iter()
            .position(|m| s.eq_ignore_ascii_case(m))
            .map(|i| i as i64 + 1)
    };
    let words: Vec<&str> = text.split([' ', ',']).filter(|w| !w.is_empty()).collect();
    let (day, mon, year, time) = match words.as_slice() {
        // IMF-fixdate and RFC 850: weekday, day, month, year (or day-month-year), time, GMT.
        [_, d, m, y, t, gmt] if gmt.eq_ignore_ascii_case("GMT") => {
            (num(d)?, month(m)?, num(y)?, *t)
        }
        [_, dmy, t, gmt] if gmt.eq_ignore_ascii_case("GMT") => {
            let mut parts = dmy.split('-');
            let (d, m, y) = (parts.next()?, parts.next()?, parts.next()?);
            let y = num(y)?;
            // RFC 9110: a two-digit year more than 50 years ahead is in the past century.
            let y = if y < 100 {
                if y < 70 {
                    2000 + y
                } else {
                    1900 + y
                }
            } else {
                y
            };
            (num(d)?, month(m)?, y, *t)
        }
        // asctime: weekday, month, day, time, year.
        [_, m, d, t, y] => (num(d)?, month(m)?, num(y)?, *t),
        _ => return None,
    };
    let mut hms = time.split(':');
    let (h, mi, sec) = (num(hms.next()?)?, num(hms.next()?)?, num(hms.next()?)?);
    if hms.next().is_some() || !(1..=31).contains(&day) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    // Days from 1970-01-01 to the civil date (Howard Hinnant's days_from_civil).
    let y = if mon <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mon + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400 + h * 3600 + mi * 60 + sec) * 1000) as f64)
}

/// Masks the phone numbers in a message so that each shows only its last 4 digits: a run of
/// digits (with `+`, spaces, dashes, dots or brackets inside) that the phone rules read as a
/// number — with its `+` in any country, without it in India (`98453 17206`, or
/// `919845317206`) — valid or refused only by the junk rules. Other numbers (limits,
/// referenceIds, counts) and hex ids (digits mixed with letters) are left alone. A run that is
/// no number as a whole is tried in its space-separated parts, so a phone next to another
/// number is still masked. Masked again, the result stays as it is: the pass is repeated until
/// no run is left that reads as a number (each pass only turns digits into `*`).
pub fn mask_phones_in_text(text: &str) -> String {
    let mut out = mask_pass(text);
    loop {
        let next = mask_pass(&out);
        if next == out {
            return out;
        }
        out = next;
    }
}

/// One pass of [`mask_phones_in_text`].
fn mask_pass(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars.get(i).copied().unwrap_or(' ');
        let starts_token = i == 0 || !chars.get(i - 1).is_some_and(|p| p.is_ascii_alphanumeric());
        if starts_token && (c.is_ascii_digit() || c == '+' || c == '(') {
            // Extend over digits and separators.
            let mut j = i;
            while let Some(&d) = chars.get(j) {
                if !d.is_ascii_digit()
                    && (!matches!(d, '+' | ' ' | '-' | '.' | '(' | ')') || (d == '+' && j != i))
                {
                    break;
                }
                j += 1;
            }
            // Do not swallow trailing separators.
            while j > i && chars.get(j - 1).is_some_and(|d| !d.is_ascii_digit()) {
                j -= 1;
            }
            let glued_to_letters = chars.get(j).is_some_and(|d| d.is_ascii_alphabetic());
            if j > i && !glued_to_letters {
                mask_run(chars.get(i..j).unwrap_or(&[]), &mut out);
                i = j;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

/// Writes `run` with its phone numbers masked: the whole run, or else the longest spans of
/// its space-separated parts that are numbers, from the left.
fn mask_run(run: &[char], out: &mut String) {
    // Where each space-separated part starts and ends.
    let mut parts: Vec<(usize, usize)> = Vec::new();
    let mut at = 0;
    for (k, c) in run.iter().enumerate() {
        if *c == ' ' {
            if at < k {
                parts.push((at, k));
            }
            at = k + 1;
        }
    }
    if at < run.len() {
        parts.push((at, run.len()));
    }
    let mut written = 0;
    let mut first = 0;
    while first < parts.len() {
        // The characters from the start of part `first` to the end of part `end - 1`.
        let span = |end: usize| {
            let a = parts.get(first).map_or(0, |p| p.0);
            let b = parts.get(end - 1).map_or(0, |p| p.1);
            (a, b.max(a))
        };
        let found = (first + 1..=parts.len()).rev().find(|&end| {
            let (a, b) = span(end);
            is_phone(run.get(a..b).unwrap_or(&[]))
        });
        let Some(end) = found else {
            first += 1;
            continue;
        };
        let (a, b) = span(end);
        out.extend(run.get(written..a).unwrap_or(&[]));
        let digits = run
            .get(a..b)
            .unwrap_or(&[])
            .iter()
            .filter(|d| d.is_ascii_digit())
            .count();
        let mut seen = 0;
        for d in run.get(a..b).unwrap_or(&[]) {
            if d.is_ascii_digit() {
                seen += 1;
                out.push(if digits - seen < 4 { *d } else { '*' });
            } else {
                out.push(*d);
            }
        }
        written = b;
        first = end;
    }
    out.extend(run.get(written..).unwrap_or(&[]));
}

/// Whether the phone rules read `run` as a number (see [`mask_phones_in_text`]).
fn is_phone(run: &[char]) -> bool {
    let digits: String = run.iter().filter(|d| d.is_ascii_digit()).collect();
    if digits.len() < 7 {
        return false;
    }
    let text: String = run.iter().collect();
    let text = text.trim_start_matches(|c: char| !c.is_ascii_digit() && c != '+');
    if crate::core::phone::check(text, "IN").is_number() {
        return true;
    }
    !text.starts_with('+')
        && digits.starts_with("91")
        && crate::core::phone::check(&format!("+{digits}"), "IN").is_number()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::core::testkit::{parse, Tv};

    fn reason(body: &str) -> Option<String> {
        server_reason(parse(body).as_ref())
    }

    fn from_status(status: u16, body: &str, retry_after_ms: Option<f64>) -> VoxError {
        super::from_status::<Tv>(status, parse(body).as_ref(), retry_after_ms)
    }

    #[test]
    fn both_error_shapes_and_html() {
        assert_eq!(reason(r#"{"error":"x"}"#).as_deref(), Some("x"));
        assert_eq!(
            reason(r#"{"success":false,"error":"y"}"#).as_deref(),
            Some("y")
        );
        assert_eq!(reason(r#"{"error":{"message":"z"}}"#).as_deref(), Some("z"));
        assert_eq!(reason("<html>502 Bad Gateway</html>"), None);
        let e = from_status(502, "<html>bad</html>", None);
        assert_eq!(e.code, Code::ServerError);
        assert_eq!(e.status, Some(502));
    }

    #[test]
    fn status_mapping() {
        assert_eq!(
            from_status(400, r#"{"error":"bad"}"#, None).code,
            Code::BadRequest
        );
        assert_eq!(from_status(403, "{}", None).code, Code::Forbidden);
        // vox-crm/proxy's answer for its client's duplicate refusal; nothing else means it.
        let dup = from_status(
            409,
            r#"{"success":false,"error":"seen","code":"duplicate_submission"}"#,
            None,
        );
        assert_eq!(
            (dup.code, dup.message.as_str()),
            (Code::DuplicateSubmission, "seen")
        );
        assert_eq!(
            from_status(400, r#"{"error":"x","code":"duplicate_submission"}"#, None).code,
            Code::BadRequest
        );
        assert_eq!(
            from_status(409, r#"{"error":"x","code":"forbidden"}"#, None).code,
            Code::BadRequest
        );
        assert_eq!(from_status(404, "{}", None).code, Code::NotFound);
        let rl = from_status(
            429,
            r#"{"success":false,"error":"Rate limit exceeded"}"#,
            Some(2000.0),
        );
        assert_eq!(rl.code, Code::RateLimited);
        assert_eq!(rl.retry_after_ms, Some(2000.0));
        let kb = from_status(
            429,
            r#"{"success":false,"error":"API key temporarily blocked due to repeated duplicate submissions"}"#,
            None,
        );
        assert_eq!(kb.code, Code::KeyBlocked);
    }

    #[test]
    fn masks_phones_not_ids() {
        assert_eq!(
            mask_phones_in_text("A call to +919845317206 failed"),
            "A call to +********7206 failed"
        );
        assert_eq!(
            mask_phones_in_text("phone 98453 17206."),
            "phone ***** *7206."
        );
        let id = "Lead with ID 6650a1b2c3d4e5f601234567 not found";
        assert_eq!(mask_phones_in_text(id), id);
        assert_eq!(
            mask_phones_in_text("limit 100 per 5000 ms"),
            "limit 100 per 5000 ms"
        );
        // Numbers that are no phone stay as they are.
        for plain in [
            "rateLimit.requests must be an integer between 1 and 1000000",
            "Lead with referenceId 20261201001 already exists",
            "order 12345678 of 2026-12-01",
        ] {
            assert_eq!(mask_phones_in_text(plain), plain);
        }
        // Phones do not, whatever is next to them, junk numbers too.
        assert_eq!(
            mask_phones_in_text("phone +919845317206 2026 and 9845317206, 919845317206"),
            "phone +********7206 2026 and ******7206, ********7206"
        );
        assert_eq!(mask_phones_in_text("to +919999999999"), "to +********9999");
        assert_eq!(
            mask_phones_in_text("(+1) 202-555-0143"),
            "(+*) ***-***-0143"
        );
    }

    #[test]
    fn duplicate_reasons() {
        assert!(is_duplicate_reason(
            "A call attempt has already been made to this phone number for this project"
        ));
        assert!(is_duplicate_reason(
            "Lead with referenceId r1 already exists for this project and process"
        ));
        assert!(!is_duplicate_reason("Invalid phone number"));
    }

    #[test]
    fn retry_after() {
        let r = |v: &str| parse_retry_after(Some(v), 0.0);
        assert_eq!(r("3"), Some(3000.0));
        assert_eq!(r(" 1.25 "), Some(1250.0));
        assert_eq!(r(""), None);
        assert_eq!(r(".5"), None);
        assert_eq!(r("x"), None);
        assert_eq!(
            r("9".repeat(400).as_str()),
            Some(86_400_000.0),
            "capped, finite"
        );
        assert_eq!(r("1e308"), None, "not seconds");
        assert_eq!(r("-1"), None);
        assert_eq!(parse_retry_after(None, 0.0), None);
    }

    #[test]
    fn retry_after_as_an_http_date() {
        // 1994-11-06T08:49:37Z, RFC 9110's example, in its three forms.
        let at = 784_111_777_000.0;
        for form in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "sun, 06 nov 1994 08:49:37 gmt",
        ] {
            assert_eq!(parse_http_date(form), Some(at), "{form}");
            assert_eq!(parse_retry_after(Some(form), at - 5000.0), Some(5000.0));
        }
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0.0));
        assert_eq!(
            parse_http_date("Tue, 29 Feb 2028 23:59:59 GMT"),
            Some(1_835_481_599_000.0)
        );
        // Passed: no wait. Far ahead: capped.
        assert_eq!(
            parse_retry_after(Some("Sun, 06 Nov 1994 08:49:37 GMT"), at + 1.0),
            Some(0.0)
        );
        assert_eq!(
            parse_retry_after(Some("Fri, 01 Jan 2100 00:00:00 GMT"), at),
            Some(MAX_RETRY_AFTER_MS)
        );
        for bad in [
            "Sun, 06 Nov 1994 08:49 GMT",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nox 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 08:49:37 PST",
            "tomorrow",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad}");
        }
        assert_eq!(
            parse_retry_after(Some("Sun, 06 Nov 1994 08:49:37 GMT"), f64::NAN),
            None
        );
    }
}
