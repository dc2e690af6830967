//! Every argument a caller passes, as a struct with serde derive (the host reads the fields;
//! each value is the caller's own), and the conversions that own the defaults, ranges and
//! messages: client options, call options, targets, changes, queries, phone and mask options,
//! and what a webhook must carry. A value that must stay the caller's (`fetch`, `logger`,
//! `signal`, `onProgress`, `metadata`) is handed on as it is.

use crate::core::api::{LeadQuery, Target};
use crate::core::bulk::{BulkOptions, MAX_CHUNK};
use crate::core::engine::{Config, StoreConfig};
use crate::core::error::{Code, VoxError};
use crate::core::limits::{GuardConfig, RateConfig};
use crate::core::phone;
use crate::core::value::{Kind, TextError, Value};
use crate::core::webhook::Expected;
use serde::Deserialize;

/// The longest text accepted where an id, a code or an option is expected.
pub const MAX_SHORT: usize = 1024;

/// Facts about where the library runs, from the host.
#[derive(Clone, Copy, Debug)]
pub struct Env {
    /// A page or a worker, where a token would be readable by every visitor.
    pub browser: bool,
    /// The host's WHATWG URL parser (`new URL(text)` in JS), `None` for what it refuses.
    pub parse_url: fn(&str) -> Option<UrlParts>,
}

/// A URL as a WHATWG URL parser reads it.
#[derive(Clone, Debug, PartialEq)]
pub struct UrlParts {
    /// The normalised form (lower-case scheme and host, no default port, ...).
    pub href: String,
    /// With its colon: `"https:"`.
    pub protocol: String,
    /// A user name or a password (`user:pass@`) is in it.
    pub credentials: bool,
}

fn given<V: Value>(v: &Option<V>) -> Option<&V> {
    v.as_ref().filter(|v| !v.is_absent())
}

/// An optional string of at most `max` characters.
pub fn opt_text<V: Value>(
    v: &Option<V>,
    name: &str,
    max: usize,
) -> Result<Option<String>, VoxError> {
    let Some(v) = given(v) else { return Ok(None) };
    v.text(max).map(Some).map_err(|e| {
        VoxError::invalid_argument(match e {
            TextError::NotText => format!("{name} must be a string"),
            TextError::TooLong => format!("{name} is too long (more than {max} characters)"),
            TextError::NotWellFormed => {
                format!("{name} is not valid text (it holds a lone surrogate)")
            }
        })
    })
}

pub fn opt_bool<V: Value>(v: &Option<V>, name: &str) -> Result<Option<bool>, VoxError> {
    let Some(v) = given(v) else { return Ok(None) };
    v.boolean()
        .map(Some)
        .ok_or_else(|| VoxError::invalid_argument(format!("{name} must be a boolean")))
}

/// An optional number within `[min, max]`; `integer` refuses fractions.
pub fn opt_number<V: Value>(
    v: &Option<V>,
    name: &str,
    min: f64,
    max: f64,
    integer: bool,
) -> Result<Option<f64>, VoxError> {
    let Some(v) = given(v) else { return Ok(None) };
    match v.number() {
        Some(n) if n >= min && n <= max && (!integer || n.fract() == 0.0) => Ok(Some(n)),
        // Integer formatting: f64 Display would pull float printing into the .wasm.
        _ => Err(VoxError::invalid_argument(format!(
            "{name} must be {} between {} and {}",
            if integer { "an integer" } else { "a number" },
            min as i64,
            max as i64
        ))),
    }
}

pub fn opt_function<V: Value>(v: &Option<V>, name: &str) -> Result<Option<V>, VoxError> {
    let Some(v) = given(v) else { return Ok(None) };
    if v.kind() == Kind::Function {
        Ok(Some(v.clone()))
    } else {
        Err(VoxError::invalid_argument(format!(
            "{name} must be a function"
        )))
    }
}

/// An options-like argument read into `T`: absent is `None`; anything but an object is refused.
pub fn read_object<V: Value, T: serde::de::DeserializeOwned>(
    v: Option<&V>,
    what: &str,
) -> Result<Option<T>, VoxError> {
    let Some(v) = v.filter(|v| !v.is_absent()) else {
        return Ok(None);
    };
    if v.kind() != Kind::Object {
        return Err(VoxError::invalid_argument(format!(
            "{what} must be an object"
        )));
    }
    v.read().map(Some).ok_or_else(|| {
        VoxError::invalid_argument(format!(
            "{what} could not be read (a getter or a Proxy threw)"
        ))
    })
}

/// Refuses keys of `v` that are not in `known` (a typo would otherwise be ignored).
fn only_known<V: Value>(v: &V, what: &str, known: &[&str]) -> Result<(), VoxError> {
    match v.keys().into_iter().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(VoxError::invalid_argument(format!(
            "unknown {what} '{}': {what}s are {}",
            clip(&k, 40),
            known.join(", ")
        ))),
        None => Ok(()),
    }
}

/// At most `max` characters of `s`, marked when cut (messages never echo a huge input).
pub fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", s.get(..cut).unwrap_or_default()),
        None => s.to_string(),
    }
}

/// A region code (`defaultCountry`), upper-cased; `IN` when absent.
fn region<V: Value>(v: &Option<V>, name: &str) -> Result<String, VoxError> {
    match opt_text(v, name, MAX_SHORT)? {
        None => Ok(phone::DEFAULT_REGION.to_string()),
        Some(r) if phone::is_known_region(&r) => Ok(r.to_ascii_uppercase()),
        Some(r) => Err(VoxError::invalid_argument(format!(
            "{name} '{}' is not an ISO 3166 region code",
            clip(&r, 10)
        ))),
    }
}

// ---- new VoxClient(options) -------------------------------------------------------------

/// docs/sdk.md's client options.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", bound = "V: Value")]
pub struct ClientOptions<V> {
    pub project_id: Option<V>,
    pub token: Option<V>,
    pub base_url: Option<V>,
    pub timeout_ms: Option<V>,
    pub max_retries: Option<V>,
    pub default_country: Option<V>,
    pub rate_limit: Option<V>,
    pub duplicate_guard: Option<V>,
    pub dangerously_allow_browser: Option<V>,
    pub fetch: Option<V>,
    pub logger: Option<V>,
    pub store: Option<V>,
    pub store_timeout_ms: Option<V>,
    pub store_fallback_share: Option<V>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", bound = "V: Value")]
struct RateIn<V> {
    requests: Option<V>,
    per_ms: Option<V>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", bound = "V: Value")]
struct GuardIn<V> {
    max: Option<V>,
    window_ms: Option<V>,
}

/// The caller's functions a client calls: its `fetch` (the global one when `None`) and logger,
/// and the traffic store (docs/store.md) when it is not the in-memory one.
#[derive(Clone, Debug)]
pub struct Hooks<V> {
    pub fetch: Option<V>,
    pub logger: Option<V>,
    pub store: Option<V>,
}

/// `false`, or an object read into `T`; `None` when absent.
fn toggle<V: Value, T: serde::de::DeserializeOwned>(
    v: &Option<V>,
    name: &str,
    shape: &str,
) -> Result<Option<Option<T>>, VoxError> {
    let Some(v) = given(v) else { return Ok(None) };
    if v.boolean() == Some(false) {
        return Ok(Some(None));
    }
    let bad = || VoxError::invalid_argument(format!("{name} must be {shape} or false"));
    if v.kind() != Kind::Object {
        return Err(bad());
    }
    v.read().map(|t| Some(Some(t))).ok_or_else(bad)
}

/// `baseUrl` checked and normalised: an http(s) URL in its WHATWG form (so that every spelling
/// of one address shares one limiter), or an absolute path (a browser's own backend route),
/// without a trailing slash. The URL is never quoted back: it may hold a password.
fn base_url(base: &str, parse: fn(&str) -> Option<UrlParts>) -> Result<String, VoxError> {
    let refuse = |what: &str| {
        Err(VoxError::invalid_argument(format!(
            "baseUrl must not hold {what}"
        )))
    };
    if base.contains('?') {
        return refuse("a query (?...): the client adds its own");
    }
    if base.contains('#') {
        return refuse("a fragment (#...)");
    }
    if base.starts_with('/') && !base.starts_with("//") {
        return Ok(base.trim_end_matches('/').to_string());
    }
    let url = parse(base).filter(|u| u.protocol == "http:" || u.protocol == "https:");
    let Some(url) = url else {
        return Err(VoxError::invalid_argument(
            "baseUrl must be an http(s) URL or an absolute path",
        ));
    };
    if url.credentials {
        return refuse("credentials (user:password@): pass the token option instead");
    }
    Ok(url.href.trim_end_matches('/').to_string())
}

impl<V: Value> ClientOptions<V> {
    /// Reads `new VoxClient(options)`.
    pub fn read(options: &V) -> Result<Self, VoxError> {
        read_object(Some(options), "options")?.ok_or_else(|| {
            VoxError::invalid_argument(
                "new VoxClient(options): options must be an object with a projectId",
            )
        })
    }

    pub fn into_config(self, env: Env) -> Result<(Config, Hooks<V>), VoxError> {
        let project_id = opt_text(&self.project_id, "projectId", MAX_SHORT)?
            .filter(|p| !p.trim().is_empty())
            .ok_or_else(|| VoxError::invalid_argument("projectId is required"))?;
        let token = opt_text(&self.token, "token", MAX_SHORT)?.filter(|t| !t.is_empty());
        if token
            .as_deref()
            .is_some_and(|t| t.chars().any(char::is_control))
        {
            return Err(VoxError::invalid_argument(
                "token must not hold control characters (a line break?)",
            ));
        }
        let allow_browser = opt_bool(&self.dangerously_allow_browser, "dangerouslyAllowBrowser")?;
        if token.is_some() && env.browser && allow_browser != Some(true) {
            return Err(VoxError::new(
                Code::BrowserUnsafe,
                "A token in a web page is readable by every visitor. Point baseUrl at your own backend route that adds \
                 the token, or pass dangerouslyAllowBrowser: true if you accept the risk.",
            ));
        }
        let mut cfg = Config::new(&project_id);
        cfg.token = token;
        if let Some(base) = opt_text(&self.base_url, "baseUrl", MAX_SHORT)? {
            cfg.base_url = base_url(base.trim(), env.parse_url)?;
        }
        if let Some(t) = opt_number(&self.timeout_ms, "timeoutMs", 1.0, 600_000.0, false)? {
            cfg.timeout_ms = t;
        }
        if let Some(n) = opt_number(&self.max_retries, "maxRetries", 0.0, 10.0, true)? {
            cfg.max_retries = n as u32;
        }
        cfg.default_region = region(&self.default_country, "defaultCountry")?;
        let shape = "{ requests, perMs }";
        if let Some(rate) = toggle::<V, RateIn<V>>(&self.rate_limit, "rateLimit", shape)? {
            cfg.rate = match rate {
                None => None,
                Some(r) => {
                    let requests = opt_number(&r.requests, "rateLimit.requests", 1.0, 1e6, true)?;
                    let per_ms = opt_number(&r.per_ms, "rateLimit.perMs", 1.0, 3.6e6, false)?;
                    match (requests, per_ms) {
                        (Some(r), Some(p)) => Some(RateConfig {
                            requests: r as u32,
                            per_ms: p,
                        }),
                        _ => {
                            return Err(VoxError::invalid_argument(
                                "rateLimit must be { requests, perMs } or false",
                            ))
                        }
                    }
                }
            };
        }
        let shape = "{ max, windowMs }";
        if let Some(guard) =
            toggle::<V, GuardIn<V>>(&self.duplicate_guard, "duplicateGuard", shape)?
        {
            cfg.guard = match guard {
                None => None,
                Some(g) => {
                    let max = opt_number(&g.max, "duplicateGuard.max", 1.0, 1e6, true)?;
                    let window =
                        opt_number(&g.window_ms, "duplicateGuard.windowMs", 1.0, 8.64e7, false)?;
                    match (max, window) {
                        (Some(m), Some(w)) => Some(GuardConfig {
                            max: m as u32,
                            window_ms: w,
                        }),
                        _ => {
                            return Err(VoxError::invalid_argument(
                                "duplicateGuard must be { max, windowMs } or false",
                            ))
                        }
                    }
                }
            };
        }
        let store = match &self.store {
            Some(s) if !s.is_absent() => {
                if !s.is_object() || s.get("apply").kind() != Kind::Function {
                    return Err(VoxError::invalid_argument(
                        "store must be a traffic store, an object with an apply(op) method (e.g. redisStore(client) from \"vox-crm/redis\")",
                    ));
                }
                cfg.store.external = true;
                cfg.store.known_ms = StoreConfig::KNOWN_MS;
                Some(s.clone())
            }
            _ => None,
        };
        if let Some(t) = opt_number(
            &self.store_timeout_ms,
            "storeTimeoutMs",
            1.0,
            60_000.0,
            false,
        )? {
            cfg.store.timeout_ms = t;
        }
        if let Some(share) = opt_number(
            &self.store_fallback_share,
            "storeFallbackShare",
            0.0,
            1.0,
            false,
        )? {
            if share <= 0.0 {
                return Err(VoxError::invalid_argument(
                    "storeFallbackShare must be more than 0 and at most 1",
                ));
            }
            cfg.store.share = share;
        }
        let hooks = Hooks {
            fetch: opt_function(&self.fetch, "fetch")?,
            logger: opt_function(&self.logger, "logger")?,
            store,
        };
        Ok((cfg, hooks))
    }
}

// ---- per-call options -------------------------------------------------------------------

/// `{ init?, signal?, masked?, chunkSize?, concurrency?, onProgress? }` of every method.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", bound = "V: Value")]
struct CallIn<V> {
    init: Option<V>,
    signal: Option<V>,
    masked: Option<V>,
    chunk_size: Option<V>,
    concurrency: Option<V>,
    on_progress: Option<V>,
}

/// A method's options, checked.
#[derive(Clone, Debug)]
pub struct CallOptions<V> {
    pub init: Option<bool>,
    pub masked: bool,
    pub signal: Option<V>,
    pub on_progress: Option<V>,
    pub bulk: BulkOptions,
}

impl<V: Value> CallOptions<V> {
    pub fn read(options: &V) -> Result<Self, VoxError> {
        let Some(o) = read_object::<V, CallIn<V>>(Some(options), "options")? else {
            return Ok(CallOptions {
                init: None,
                masked: false,
                signal: None,
                on_progress: None,
                bulk: BulkOptions::default(),
            });
        };
        let signal = given(&o.signal).cloned();
        if let Some(s) = &signal {
            if s.get("aborted").boolean().is_none()
                || s.get("addEventListener").kind() != Kind::Function
            {
                return Err(VoxError::invalid_argument("signal must be an AbortSignal"));
            }
        }
        let defaults = BulkOptions::default();
        let init = opt_bool(&o.init, "init")?;
        Ok(CallOptions {
            init,
            masked: opt_bool(&o.masked, "masked")?.unwrap_or(false),
            signal,
            on_progress: opt_function(&o.on_progress, "onProgress")?,
            bulk: BulkOptions {
                init,
                chunk_size: opt_number(&o.chunk_size, "chunkSize", 1.0, MAX_CHUNK as f64, true)?
                    .map_or(defaults.chunk_size, |n| n as usize),
                concurrency: opt_number(&o.concurrency, "concurrency", 1.0, 64.0, true)?
                    .map_or(defaults.concurrency, |n| n as usize),
            },
        })
    }
}

// ---- ids, targets, changes --------------------------------------------------------------

/// A 24-character hex id argument (lead or activity).
pub fn object_id<V: Value>(v: &V, name: &str) -> Result<String, VoxError> {
    let id = opt_text(&Some(v.clone()), name, MAX_SHORT)?
        .ok_or_else(|| VoxError::invalid_argument(format!("{name} must be a string")))?;
    if crate::core::lead::is_object_id(&id) {
        Ok(id)
    } else {
        Err(VoxError::invalid_argument(format!(
            "{name} must be a 24-character hex id"
        )))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", bound = "V: Value")]
struct TargetIn<V> {
    lead_id: Option<V>,
    reference_id: Option<V>,
    process_id: Option<V>,
}

impl Target {
    /// `{ leadId }` or `{ referenceId, processId }`.
    pub fn read<V: Value>(v: &V) -> Result<Target, VoxError> {
        const SHAPE: &str = "target must be { leadId } or { referenceId, processId }";
        let t = read_object::<V, TargetIn<V>>(Some(v), "target")?
            .ok_or_else(|| VoxError::invalid_argument(SHAPE))?;
        let text = |v: &Option<V>, name| {
            opt_text(v, name, MAX_SHORT).map(|s| s.filter(|s| !s.trim().is_empty()))
        };
        let lead_id = text(&t.lead_id, "target.leadId")?;
        let reference_id = text(&t.reference_id, "target.referenceId")?;
        let process_id = text(&t.process_id, "target.processId")?;
        match (lead_id, reference_id, process_id) {
            (Some(id), _, _) if crate::core::lead::is_object_id(&id) => Ok(Target::LeadId(id)),
            (Some(_), _, _) => Err(VoxError::invalid_argument(
                "target.leadId must be a 24-character hex id",
            )),
            (None, Some(r), Some(p)) => Ok(Target::Reference {
                reference_id: r,
                process_id: p,
            }),
            (None, Some(_), None) => Err(VoxError::invalid_argument(
                "target { referenceId } also needs processId",
            )),
            _ => Err(VoxError::invalid_argument(SHAPE)),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", bound = "V: Value")]
struct ChangesIn<V> {
    metadata: Option<V>,
    name: Option<V>,
    target_state: Option<V>,
    disposition: Option<V>,
    user_id: Option<V>,
}

const CHANGE_FIELDS: [&str; 5] = ["metadata", "name", "targetState", "disposition", "userId"];

/// `updateLead`'s changes, checked: `metadata` stays the caller's object.
#[derive(Clone, Debug, PartialEq)]
pub struct Changes<V> {
    pub metadata: Option<V>,
    /// `(field, text)` in docs/sdk.md's order.
    pub texts: Vec<(&'static str, String)>,
}

impl<V: Value> Changes<V> {
    pub fn read(v: &V) -> Result<Self, VoxError> {
        let c = read_object::<V, ChangesIn<V>>(Some(v), "changes")?
            .ok_or_else(|| VoxError::invalid_argument("changes must be an object"))?;
        only_known(v, "change", &CHANGE_FIELDS)?;
        let metadata = given(&c.metadata).cloned();
        if let Some(problem) = metadata
            .as_ref()
            .and_then(crate::core::lead::metadata_problem)
        {
            return Err(VoxError::invalid_argument(format!("changes.{problem}")));
        }
        let mut texts = Vec::new();
        for (field, value) in [
            ("name", &c.name),
            ("targetState", &c.target_state),
            ("disposition", &c.disposition),
            ("userId", &c.user_id),
        ] {
            let name = format!("changes.{field}");
            if let Some(t) = opt_text(value, &name, crate::core::lead::MAX_FIELD)? {
                texts.push((field, t));
            }
        }
        if metadata.is_none() && texts.is_empty() {
            return Err(VoxError::invalid_argument(
                "changes must hold at least one change",
            ));
        }
        Ok(Changes { metadata, texts })
    }
}

// ---- queries ------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", bound = "V: Value")]
struct QueryIn<V> {
    process_id: Option<V>,
    state: Option<V>,
    disposition: Option<V>,
    group_id: Option<V>,
    reference_id: Option<V>,
    phone: Option<V>,
    email: Option<V>,
    created_from: Option<V>,
    created_to: Option<V>,
    updated_from: Option<V>,
    updated_to: Option<V>,
    sort: Option<V>,
    order: Option<V>,
    page: Option<V>,
    limit: Option<V>,
    masked: Option<V>,
}

const QUERY_FIELDS: [&str; 16] = [
    "processId",
    "state",
    "disposition",
    "groupId",
    "referenceId",
    "phone",
    "email",
    "createdFrom",
    "createdTo",
    "updatedFrom",
    "updatedTo",
    "sort",
    "order",
    "page",
    "limit",
    "masked",
];

/// `YYYY-MM-DD` optionally followed by a time: enough to refuse obvious garbage locally.
fn looks_like_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 10
        && b.iter().take(4).all(u8::is_ascii_digit)
        && b.get(4) == Some(&b'-')
        && b.get(5..7)
            .is_some_and(|m| m.iter().all(u8::is_ascii_digit))
        && b.get(7) == Some(&b'-')
        && b.get(8..10)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
}

/// A date filter: a valid `Date` (as its ISO 8601 text) or an ISO 8601 string.
fn date<V: Value>(v: &Option<V>, name: &str) -> Result<Option<String>, VoxError> {
    let bad =
        || VoxError::invalid_argument(format!("{name} must be a valid Date or an ISO 8601 string"));
    match given(v).map(Value::kind) {
        None => Ok(None),
        Some(Kind::Date(ms)) => crate::core::webhook::iso_from_epoch_ms(ms as i64)
            .filter(|_| ms.is_finite())
            .map(Some)
            .ok_or_else(bad),
        Some(_) => match opt_text(v, name, 64)? {
            Some(s) if looks_like_iso_date(&s) => Ok(Some(s)),
            _ => Err(bad()),
        },
    }
}

fn whole<V: Value>(v: &Option<V>, name: &str, min: u64, max: u64) -> Result<Option<u64>, VoxError> {
    if given(v).is_some_and(|v| !v.number().is_some_and(f64::is_finite)) {
        return Err(VoxError::invalid_argument(format!(
            "{name} must be a finite number"
        )));
    }
    Ok(opt_number(v, name, min as f64, max as f64, true)?.map(|n| n as u64))
}

impl LeadQuery {
    /// A query object of docs/api.md §3.5's fields (`undefined` is an empty query).
    pub fn read<V: Value>(v: &V, default_region: &str) -> Result<LeadQuery, VoxError> {
        let mut q = LeadQuery {
            filters: Vec::new(),
            sort: None,
            order: None,
            page: 1,
            limit: None,
            masked: false,
        };
        let Some(qi) = read_object::<V, QueryIn<V>>(Some(v), "query")? else {
            return Ok(q);
        };
        only_known(v, "query field", &QUERY_FIELDS)?;
        let texts = [
            ("processId", &qi.process_id),
            ("state", &qi.state),
            ("disposition", &qi.disposition),
            ("groupId", &qi.group_id),
            ("referenceId", &qi.reference_id),
            ("phone", &qi.phone),
            ("email", &qi.email),
        ];
        for (field, value) in texts {
            let name = format!("query.{field}");
            let Some(s) = opt_text(value, &name, MAX_SHORT)? else {
                continue;
            };
            let s = match field {
                "processId" if !crate::core::lead::is_object_id(&s) => {
                    return Err(VoxError::invalid_argument(
                        "query.processId must be a 24-character hex id",
                    ))
                }
                // Stored phones are E.164; a typed number is normalised the same way.
                "phone" => phone::normalize(&s, default_region).unwrap_or(s),
                "email" => s.trim().to_ascii_lowercase(),
                _ => s,
            };
            q.filters.push((field, s));
        }
        for (field, value) in [
            ("createdFrom", &qi.created_from),
            ("createdTo", &qi.created_to),
            ("updatedFrom", &qi.updated_from),
            ("updatedTo", &qi.updated_to),
        ] {
            if let Some(d) = date(value, &format!("query.{field}"))? {
                q.filters.push((field, d));
            }
        }
        match opt_text(&qi.sort, "query.sort", MAX_SHORT)?.as_deref() {
            None => {}
            Some(s @ ("createdAt" | "updatedAt")) => q.sort = Some(s.to_string()),
            Some(_) => {
                return Err(VoxError::invalid_argument(
                    "query.sort must be 'createdAt' or 'updatedAt'",
                ))
            }
        }
        match opt_text(&qi.order, "query.order", MAX_SHORT)?.as_deref() {
            None => {}
            Some(s @ ("asc" | "desc")) => q.order = Some(s.to_string()),
            Some(_) => {
                return Err(VoxError::invalid_argument(
                    "query.order must be 'asc' or 'desc'",
                ))
            }
        }
        q.page = whole(&qi.page, "query.page", 1, 1_000_000_000)?.unwrap_or(1);
        q.limit = whole(&qi.limit, "query.limit", 1, 100)?;
        q.masked = opt_bool(&qi.masked, "query.masked")?.unwrap_or(false);
        Ok(q)
    }
}

// ---- phone functions and webhooks ---------------------------------------------------------

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", bound = "V: Value")]
struct PhoneIn<V> {
    default_country: Option<V>,
}

/// `{ defaultCountry? }` of the phone and lead checks: the region, `IN` by default.
pub fn phone_region<V: Value>(options: &V) -> Result<String, VoxError> {
    match read_object::<V, PhoneIn<V>>(Some(options), "options")? {
        None => Ok(phone::DEFAULT_REGION.to_string()),
        Some(o) => region(&o.default_country, "defaultCountry"),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", bound = "V: Value")]
struct MaskIn<V> {
    keep_last: Option<V>,
    mask_char: Option<V>,
}

/// `maskPhone`'s `{ keepLast?, maskChar? }`: 4 and `*` by default.
pub fn mask_options<V: Value>(options: &V) -> Result<(usize, char), VoxError> {
    let Some(o) = read_object::<V, MaskIn<V>>(Some(options), "options")? else {
        return Ok((4, '*'));
    };
    let keep = opt_number(&o.keep_last, "keepLast", 0.0, 32.0, true)?.map_or(4, |n| n as usize);
    let mask_char = match opt_text(&o.mask_char, "maskChar", 4)? {
        None => '*',
        Some(s) => {
            let mut chars = s.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => c,
                _ => return Err(VoxError::invalid_argument("maskChar must be one character")),
            }
        }
    };
    Ok((keep, mask_char))
}

#[derive(Deserialize)]
#[serde(bound = "V: Value")]
struct ExpectedIn<V> {
    token: Option<V>,
    header: Option<V>,
    value: Option<V>,
}

impl Expected {
    /// `{ token }` or `{ header, value }` of `verifyWebhookAuth`.
    pub fn read<V: Value>(v: &V) -> Result<Expected, VoxError> {
        const SHAPE: &str =
            "expected must be { token: string } or { header: string, value: string }";
        let e = read_object::<V, ExpectedIn<V>>(Some(v), "expected")?
            .ok_or_else(|| VoxError::invalid_argument(SHAPE))?;
        let field = |v: &Option<V>, key: &str| {
            opt_text(v, key, MAX_SHORT * 8)
                .map_err(|_| VoxError::invalid_argument(format!("{SHAPE}: {key} is not a string")))
        };
        match (
            field(&e.token, "token")?,
            field(&e.header, "header")?,
            field(&e.value, "value")?,
        ) {
            (Some(token), None, None) => Ok(Expected::Token(token)),
            (None, Some(name), Some(value)) => Ok(Expected::Header { name, value }),
            _ => Err(VoxError::invalid_argument(SHAPE)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::testkit::{func, tv, Tv};
    use serde_json::json;

    const P: &str = "6650a1b2c3d4e5f601234567";

    fn config(v: serde_json::Value, browser: bool) -> Result<(Config, Hooks<Tv>), VoxError> {
        let env = Env {
            browser,
            parse_url: crate::core::testkit::parse_url,
        };
        ClientOptions::read(&tv(v))?.into_config(env)
    }

    fn message(r: Result<impl std::fmt::Debug, VoxError>) -> String {
        let e = r.unwrap_err();
        assert_eq!(e.code, Code::InvalidArgument, "{e:?}");
        e.message
    }

    #[test]
    fn base_url_is_normalised_and_refused_with_credentials_a_query_or_a_fragment() {
        let base =
            |b: &str| config(json!({"projectId": P, "baseUrl": b}), false).map(|(c, _)| c.base_url);
        assert_eq!(
            base("HTTP://LocalHost:08080/api/v1/").unwrap(),
            "http://localhost:8080/api/v1"
        );
        assert_eq!(
            base("https://crm.example:443").unwrap(),
            "https://crm.example"
        );
        assert_eq!(base(" /crm/api/ ").unwrap(), "/crm/api");
        for (b, says) in [
            ("http://user:s3cret@h/api", "credentials"),
            ("http://h/api?x=1", "query"),
            ("http://h/api?", "query"),
            ("http://h/api#top", "fragment"),
            ("//evil.example/api", "http(s) URL"),
            ("ftp://h/api", "http(s) URL"),
            ("not a url", "http(s) URL"),
        ] {
            let m = message(base(b));
            assert!(m.contains(says), "{b}: {m}");
            assert!(!m.contains("s3cret"), "{m}");
        }
    }

    #[test]
    fn client_options_defaults_and_ranges() {
        let (cfg, hooks) = config(json!({"projectId": P}), false).unwrap();
        assert_eq!(cfg, Config::new(P));
        assert!(hooks.fetch.is_none() && hooks.logger.is_none());
        let (cfg, hooks) = config(
            json!({"projectId": P, "token": "t0k3n", "baseUrl": "http://127.0.0.1:9/api/v1/", "timeoutMs": 1500.5,
                   "maxRetries": 0, "defaultCountry": "us", "rateLimit": false, "duplicateGuard": {"max": 2, "windowMs": 1000},
                   "fetch": func("fetch"), "logger": null}),
            false,
        )
        .unwrap();
        assert_eq!(cfg.base_url, "http://127.0.0.1:9/api/v1");
        assert_eq!(
            (cfg.timeout_ms, cfg.max_retries, cfg.default_region.as_str()),
            (1500.5, 0, "US")
        );
        assert_eq!(cfg.rate, None);
        assert_eq!(
            cfg.guard,
            Some(GuardConfig {
                max: 2,
                window_ms: 1000.0
            })
        );
        assert_eq!(cfg.token.as_deref(), Some("t0k3n"));
        assert!(hooks.fetch.is_some() && hooks.logger.is_none());
        assert_eq!(
            message(config(json!({"projectId": P, "timeoutMs": 0}), false)),
            "timeoutMs must be a number between 1 and 600000"
        );
        assert_eq!(
            message(config(json!({"projectId": P, "maxRetries": 1.5}), false)),
            "maxRetries must be an integer between 0 and 10"
        );
        assert_eq!(
            message(config(json!({"projectId": P, "rateLimit": true}), false)),
            "rateLimit must be { requests, perMs } or false"
        );
        assert_eq!(
            message(config(
                json!({"projectId": P, "rateLimit": {"requests": 5}}),
                false
            )),
            "rateLimit must be { requests, perMs } or false"
        );
        assert_eq!(
            message(config(json!({"projectId": P, "fetch": "x"}), false)),
            "fetch must be a function"
        );
        assert_eq!(
            message(config(json!({"projectId": P, "baseUrl": "ftp://x"}), false)),
            "baseUrl must be an http(s) URL or an absolute path"
        );
        assert_eq!(
            message(config(json!({"projectId": " "}), false)),
            "projectId is required"
        );
        assert_eq!(
            message(config(
                json!({"projectId": P, "defaultCountry": "XX"}),
                false
            )),
            "defaultCountry 'XX' is not an ISO 3166 region code"
        );
        assert!(
            message(config(json!({"projectId": "x".repeat(2000)}), false)).contains("too long")
        );
        assert!(message(config(json!([P]), false)).contains("must be an object"));
    }

    #[test]
    fn a_token_in_a_browser_needs_consent() {
        let e = config(json!({"projectId": P, "token": "t"}), true).unwrap_err();
        assert_eq!(e.code, Code::BrowserUnsafe);
        assert!(
            config(json!({"projectId": P}), true).is_ok(),
            "no token: a proxy adds it"
        );
        assert!(config(
            json!({"projectId": P, "token": "t", "dangerouslyAllowBrowser": true}),
            true
        )
        .is_ok());
        assert_eq!(
            message(config(
                json!({"projectId": P, "dangerouslyAllowBrowser": 1}),
                true
            )),
            "dangerouslyAllowBrowser must be a boolean"
        );
    }

    #[test]
    fn call_options() {
        let o = CallOptions::read(&tv(json!({"init": false, "chunkSize": 10, "masked": true})))
            .unwrap();
        assert_eq!(
            (o.init, o.masked, o.bulk.chunk_size, o.bulk.concurrency),
            (Some(false), true, 10, 4)
        );
        let none = CallOptions::<Tv>::read(&tv(json!(null))).unwrap();
        assert_eq!((none.init, none.bulk.chunk_size), (None, 1000));
        let signal = json!({"aborted": false, "addEventListener": func("add")});
        assert!(CallOptions::read(&tv(json!({ "signal": signal })))
            .unwrap()
            .signal
            .is_some());
        assert_eq!(
            message(CallOptions::read(&tv(
                json!({"signal": {"aborted": false}})
            ))),
            "signal must be an AbortSignal"
        );
        assert_eq!(
            message(CallOptions::read(&tv(json!({"chunkSize": 1001})))),
            "chunkSize must be an integer between 1 and 1000"
        );
        assert_eq!(
            message(CallOptions::read(&tv(json!({"onProgress": 1})))),
            "onProgress must be a function"
        );
        assert_eq!(
            message(CallOptions::read(&tv(json!(5)))),
            "options must be an object"
        );
    }

    #[test]
    fn phone_and_mask_and_expected() {
        assert_eq!(
            phone_region(&tv(json!({"defaultCountry": "gb"}))).unwrap(),
            "GB"
        );
        assert_eq!(phone_region(&tv(json!(null))).unwrap(), "IN");
        assert!(
            message(phone_region(&tv(json!({"defaultCountry": 5})))).contains("must be a string")
        );
        assert_eq!(
            mask_options(&tv(json!({"keepLast": 2, "maskChar": "#"}))).unwrap(),
            (2, '#')
        );
        assert_eq!(
            message(mask_options(&tv(json!({"maskChar": "##"})))),
            "maskChar must be one character"
        );
        assert_eq!(
            Expected::read(&tv(json!({"token": "a"}))).unwrap(),
            Expected::Token("a".into())
        );
        assert_eq!(
            Expected::read(&tv(json!({"header": "X-S", "value": "v"}))).unwrap(),
            Expected::Header {
                name: "X-S".into(),
                value: "v".into()
            }
        );
        assert!(Expected::read(&tv(json!({"token": "a", "header": "X"}))).is_err());
    }
}
