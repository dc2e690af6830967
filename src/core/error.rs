//! The one error type of the SDK: its codes (exactly SDK.md's), and the mapping from an
//! HTTP status and body to an error. Messages never carry the token, and phone numbers in
//! them are masked.

use crate::core::lead::FieldError;
use crate::core::value::{Json, Value};
use std::fmt;

/// SDK.md's error codes.
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

    /// `{ code, message, status? }`: the per-lead error of a bulk result (SDK.md `VoxErrorInfo`).
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

/// The reason a server gave in an error body, from either shape of API.md §1
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

/// True when a 429's reason says the key is blocked (API.md §1), as opposed to the request rate.
pub fn is_block_reason(reason: &str) -> bool {
    let r = reason.to_ascii_lowercase();
    has(&r, "blocked")
}

/// True when a server rejection of a lead is a "duplicate submission" in the sense of API.md §1:
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
    let reason = server_reason(body);
    let code = match status {
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

/// Parses `Retry-After` as seconds (digits, optionally with a fraction; HTTP dates are not used
/// by this API). Read by hand: `str::parse::<f64>` would link float parsing tables (10 KB) into
/// the module. A value above a day is taken as a day: nothing this API says lasts longer (a
/// block lasts an hour), and an absurd value must not stall a client for ever.
pub fn parse_retry_after(value: Option<&str>) -> Option<f64> {
    const MAX_MS: f64 = 86_400_000.0;
    let v = value?.trim();
    let (whole, fraction) = v.split_once('.').unwrap_or((v, ""));
    if whole.is_empty()
        || !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let mut ms = 0.0;
    for b in whole.bytes() {
        ms = (ms * 10.0 + f64::from(b - b'0')).min(MAX_MS);
    }
    ms *= 1000.0;
    let mut scale = 100.0;
    for b in fraction.bytes().take(3) {
        ms += f64::from(b - b'0') * scale;
        scale /= 10.0;
    }
    Some(ms.min(MAX_MS))
}

/// Masks anything that looks like a phone number (a run of 7+ digits, possibly with `+`,
/// spaces, dashes, dots or brackets inside) so that it shows only its last 4 digits.
/// Hex ids (digits mixed with letters) are left alone.
pub fn mask_phones_in_text(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars.get(i).copied().unwrap_or(' ');
        let starts_token = i == 0 || !chars.get(i - 1).is_some_and(|p| p.is_ascii_alphanumeric());
        if starts_token && (c.is_ascii_digit() || c == '+' || c == '(') {
            // Extend over digits and separators.
            let mut j = i;
            let mut digits = 0;
            while let Some(&d) = chars.get(j) {
                if d.is_ascii_digit() {
                    digits += 1;
                } else if !matches!(d, '+' | ' ' | '-' | '.' | '(' | ')') || (d == '+' && j != i) {
                    break;
                }
                j += 1;
            }
            // Do not swallow trailing separators.
            while j > i && chars.get(j - 1).is_some_and(|d| !d.is_ascii_digit()) {
                j -= 1;
            }
            let glued_to_letters = chars.get(j).is_some_and(|d| d.is_ascii_alphabetic());
            if digits >= 7 && !glued_to_letters {
                let mut seen = 0;
                for d in chars.iter().take(j).skip(i) {
                    if d.is_ascii_digit() {
                        seen += 1;
                        out.push(if digits - seen < 4 { *d } else { '*' });
                    } else {
                        out.push(*d);
                    }
                }
                i = j;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    out
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
        assert_eq!(parse_retry_after(Some("3")), Some(3000.0));
        assert_eq!(parse_retry_after(Some(" 1.25 ")), Some(1250.0));
        assert_eq!(parse_retry_after(Some("")), None);
        assert_eq!(parse_retry_after(Some(".5")), None);
        assert_eq!(parse_retry_after(Some("x")), None);
        assert_eq!(
            parse_retry_after(Some("9".repeat(400).as_str())),
            Some(86_400_000.0),
            "capped, finite"
        );
        assert_eq!(parse_retry_after(Some("1e308")), None, "not seconds");
        assert_eq!(parse_retry_after(Some("-1")), None);
        assert_eq!(parse_retry_after(None), None);
    }
}
