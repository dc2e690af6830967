//! One request builder and one response reader per endpoint of API.md §3.
//! Readers are tolerant (API.md §5): both error shapes, the lead flat or under `data`,
//! unknown fields kept.

use crate::core::error::VoxError;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// An HTTP request relative to the base URL; the edge adds the base URL and the token.
#[derive(Clone, Debug, PartialEq)]
pub struct HttpRequest {
    pub method: Method,
    /// Path without the query, e.g. `/leads/get` (also what log events show).
    pub path: String,
    /// Already encoded query, without `?`; may be empty.
    pub query: String,
    pub body: Option<String>,
}

impl HttpRequest {
    pub fn path_and_query(&self) -> String {
        if self.query.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{}", self.path, self.query)
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct HttpResponse {
    pub status: u16,
    pub retry_after: Option<String>,
    pub body: String,
}

/// Where a lead is: by id, or by referenceId within a process of the client's project.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    LeadId(String),
    Reference {
        reference_id: String,
        process_id: String,
    },
}

impl Target {
    pub fn from_value(v: &Value) -> Result<Target, VoxError> {
        let obj = v.as_object().ok_or_else(|| {
            VoxError::invalid_argument("target must be { leadId } or { referenceId, processId }")
        })?;
        let s = |k: &str| obj.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
        match (s("leadId"), s("referenceId"), s("processId")) {
            (Some(id), _, _) => Ok(Target::LeadId(id.to_string())),
            (None, Some(r), Some(p)) => Ok(Target::Reference {
                reference_id: r.to_string(),
                process_id: p.to_string(),
            }),
            (None, Some(_), None) => Err(VoxError::invalid_argument(
                "target { referenceId } also needs processId",
            )),
            _ => Err(VoxError::invalid_argument(
                "target must be { leadId } or { referenceId, processId }",
            )),
        }
    }
}

/// Percent-encodes a query component (RFC 3986 unreserved characters stay).
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(char::from(
                b"0123456789ABCDEF"
                    .get((b >> 4) as usize)
                    .copied()
                    .unwrap_or(b'0'),
            ));
            out.push(char::from(
                b"0123456789ABCDEF"
                    .get((b & 15) as usize)
                    .copied()
                    .unwrap_or(b'0'),
            ));
        }
    }
    out
}

fn query_string(pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", k, encode_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn post(path: &str, body: Value) -> HttpRequest {
    HttpRequest {
        method: Method::Post,
        path: path.to_string(),
        query: String::new(),
        body: Some(body.to_string()),
    }
}

fn get(path: &str, pairs: &[(&str, String)]) -> HttpRequest {
    HttpRequest {
        method: Method::Get,
        path: path.to_string(),
        query: query_string(pairs),
        body: None,
    }
}

fn with_init(mut body: Map<String, Value>, init: Option<bool>) -> Value {
    if let Some(i) = init {
        body.insert("init".into(), json!(i));
    }
    Value::Object(body)
}

// ---- builders -------------------------------------------------------------------------

pub fn initiate_lead(lead: &Value, init: Option<bool>) -> HttpRequest {
    let mut m = Map::new();
    m.insert("lead".into(), lead.clone());
    post("/leads/initiate", with_init(m, init))
}

pub fn initiate_existing(lead_id: &str, init: Option<bool>) -> HttpRequest {
    let mut m = Map::new();
    m.insert("leadId".into(), json!(lead_id));
    post("/leads/initiate", with_init(m, init))
}

/// `leads` are lead objects already as JSON text.
pub fn bulk_initiate(leads: &[&str], init: Option<bool>) -> HttpRequest {
    let mut body = String::with_capacity(leads.iter().map(|l| l.len() + 1).sum::<usize>() + 32);
    body.push_str("{\"leads\":[");
    body.push_str(&leads.join(","));
    body.push(']');
    if let Some(i) = init {
        body.push_str(if i {
            ",\"init\":true"
        } else {
            ",\"init\":false"
        });
    }
    body.push('}');
    HttpRequest {
        method: Method::Post,
        path: "/leads/bulk/initiate".to_string(),
        query: String::new(),
        body: Some(body),
    }
}

pub fn bulk_initiate_existing(lead_ids: &[String], init: Option<bool>) -> HttpRequest {
    let mut m = Map::new();
    m.insert("leadIds".into(), json!(lead_ids));
    post("/leads/bulk/initiate", with_init(m, init))
}

const UPDATE_FIELDS: [&str; 5] = ["metadata", "name", "targetState", "disposition", "userId"];

/// `changes` is `{ metadata?, name?, targetState?, disposition?, userId? }` (SDK.md).
pub fn update_lead(
    target: &Target,
    project_id: &str,
    changes: &Value,
) -> Result<HttpRequest, VoxError> {
    let obj = changes
        .as_object()
        .ok_or_else(|| VoxError::invalid_argument("changes must be an object"))?;
    let mut m = Map::new();
    match target {
        Target::LeadId(id) => {
            m.insert("leadId".into(), json!(id));
        }
        Target::Reference {
            reference_id,
            process_id,
        } => {
            m.insert("referenceId".into(), json!(reference_id));
            m.insert("projectId".into(), json!(project_id));
            m.insert("processId".into(), json!(process_id));
        }
    }
    let mut any = false;
    for (k, v) in obj {
        if v.is_null() {
            continue;
        }
        if !UPDATE_FIELDS.contains(&k.as_str()) {
            return Err(VoxError::invalid_argument(format!(
                "unknown change '{k}': changes may hold {}",
                UPDATE_FIELDS.join(", ")
            )));
        }
        let ok = if k == "metadata" {
            v.is_object()
        } else {
            v.is_string()
        };
        if !ok {
            return Err(VoxError::invalid_argument(format!(
                "changes.{k} must be {}",
                if k == "metadata" {
                    "an object"
                } else {
                    "a string"
                }
            )));
        }
        m.insert(k.clone(), v.clone());
        any = true;
    }
    if !any {
        return Err(VoxError::invalid_argument(
            "changes must hold at least one change",
        ));
    }
    // Without `metadata` the server merges unknown top-level fields into metadata; sending
    // an explicit (possibly empty) object keeps our fields from being read that way.
    Ok(post("/leads/update", Value::Object(m)))
}

fn target_pairs(target: &Target, project_id: &str) -> Vec<(&'static str, String)> {
    match target {
        Target::LeadId(id) => vec![("leadId", id.clone())],
        Target::Reference {
            reference_id,
            process_id,
        } => vec![
            ("referenceId", reference_id.clone()),
            ("projectId", project_id.to_string()),
            ("processId", process_id.clone()),
        ],
    }
}

pub fn get_lead(target: &Target, project_id: &str, masked: bool) -> HttpRequest {
    let mut pairs = target_pairs(target, project_id);
    if masked {
        pairs.push(("masked", "true".into()));
    }
    get("/leads/get", &pairs)
}

pub fn get_activity(activity_id: &str, masked: bool) -> HttpRequest {
    let mut pairs = vec![("activityId", activity_id.to_string())];
    if masked {
        pairs.push(("masked", "true".into()));
    }
    get("/activities/get", &pairs)
}

const QUERY_FILTERS: [&str; 11] = [
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
];

/// A validated lead query (API.md §3.5). Dates arrive as ISO strings (the edge turns
/// `Date` objects into ISO strings).
#[derive(Clone, Debug, PartialEq)]
pub struct LeadQuery {
    pub filters: Vec<(&'static str, String)>,
    pub sort: Option<String>,
    pub order: Option<String>,
    pub page: u64,
    pub limit: Option<u64>,
    pub masked: bool,
}

fn positive_int(v: &Value, name: &str, min: u64, max: u64) -> Result<u64, VoxError> {
    match v.as_f64() {
        Some(f) if f.fract() == 0.0 && f >= min as f64 && f <= max as f64 => Ok(f as u64),
        _ => Err(VoxError::invalid_argument(format!(
            "{name} must be an integer between {min} and {max}"
        ))),
    }
}

impl LeadQuery {
    pub fn from_value(v: &Value, default_region: &str) -> Result<LeadQuery, VoxError> {
        let empty = Map::new();
        let obj = match v {
            Value::Null => &empty,
            Value::Object(o) => o,
            _ => return Err(VoxError::invalid_argument("query must be an object")),
        };
        let mut q = LeadQuery {
            filters: Vec::new(),
            sort: None,
            order: None,
            page: 1,
            limit: None,
            masked: false,
        };
        for (k, val) in obj {
            if val.is_null() {
                continue;
            }
            if let Some(name) = QUERY_FILTERS.iter().find(|f| **f == k.as_str()) {
                let s = val.as_str().ok_or_else(|| {
                    VoxError::invalid_argument(format!("query.{k} must be a string"))
                })?;
                let s = match *name {
                    // Stored phones are E.164; a typed number is normalised the same way.
                    "phone" => crate::core::phone::normalize(s, default_region)
                        .unwrap_or_else(|_| s.to_string()),
                    "email" => s.trim().to_ascii_lowercase(),
                    n if n.ends_with("From") || n.ends_with("To") => {
                        if !looks_like_iso_date(s) {
                            return Err(VoxError::invalid_argument(format!(
                                "query.{k} must be a Date or an ISO 8601 string"
                            )));
                        }
                        s.to_string()
                    }
                    _ => s.to_string(),
                };
                q.filters.push((name, s));
                continue;
            }
            match k.as_str() {
                "sort" => match val.as_str() {
                    Some(s @ ("createdAt" | "updatedAt")) => q.sort = Some(s.to_string()),
                    _ => {
                        return Err(VoxError::invalid_argument(
                            "query.sort must be 'createdAt' or 'updatedAt'",
                        ))
                    }
                },
                "order" => match val.as_str() {
                    Some(s @ ("asc" | "desc")) => q.order = Some(s.to_string()),
                    _ => {
                        return Err(VoxError::invalid_argument(
                            "query.order must be 'asc' or 'desc'",
                        ))
                    }
                },
                "page" => q.page = positive_int(val, "query.page", 1, 1_000_000_000)?,
                "limit" => q.limit = Some(positive_int(val, "query.limit", 1, 100)?),
                "masked" => {
                    q.masked = val.as_bool().ok_or_else(|| {
                        VoxError::invalid_argument("query.masked must be a boolean")
                    })?
                }
                other => {
                    return Err(VoxError::invalid_argument(format!(
                        "unknown query field '{other}'"
                    )));
                }
            }
        }
        Ok(q)
    }

    pub fn request(&self, page: u64) -> HttpRequest {
        let mut pairs: Vec<(&str, String)> = self.filters.clone();
        if let Some(s) = &self.sort {
            pairs.push(("sort", s.clone()));
        }
        if let Some(o) = &self.order {
            pairs.push(("order", o.clone()));
        }
        pairs.push(("page", page.to_string()));
        if let Some(l) = self.limit {
            pairs.push(("limit", l.to_string()));
        }
        if self.masked {
            pairs.push(("masked", "true".into()));
        }
        get("/leads/query", &pairs)
    }
}

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

// ---- readers --------------------------------------------------------------------------

pub fn parse_json(body: &str) -> Result<Value, VoxError> {
    serde_json::from_str(body).map_err(|_| {
        VoxError::invalid_response("The server answered 200 with a body that is not JSON")
    })
}

/// A lead (or activity) object from a body: flat beside `success`, or under `data`.
fn object_with_id(body: Value, what: &str) -> Result<Value, VoxError> {
    let Value::Object(mut obj) = body else {
        return Err(VoxError::invalid_response(format!(
            "Expected a {what} object in the response"
        )));
    };
    if let Some(Value::Object(_)) = obj.get("data") {
        if let Some(Value::Object(inner)) = obj.remove("data") {
            if inner.get("_id").is_some_and(Value::is_string) {
                return Ok(Value::Object(inner));
            }
        }
    }
    if obj.get("_id").is_some_and(Value::is_string) {
        if obj.get("success").is_some_and(Value::is_boolean) {
            obj.remove("success");
        }
        return Ok(Value::Object(obj));
    }
    Err(VoxError::invalid_response(format!(
        "The response holds no {what} with an _id"
    )))
}

pub fn read_lead(body: &str) -> Result<Value, VoxError> {
    object_with_id(parse_json(body)?, "lead")
}

/// Get Lead: the lead with its activities (an empty list when the server sent none).
pub fn read_lead_with_activities(body: &str) -> Result<Value, VoxError> {
    let mut lead = object_with_id(parse_json(body)?, "lead")?;
    if let Value::Object(m) = &mut lead {
        match m.get("activities") {
            Some(Value::Array(_)) => {}
            _ => {
                m.insert("activities".into(), json!([]));
            }
        }
    }
    Ok(lead)
}

pub fn read_activity(body: &str) -> Result<Value, VoxError> {
    object_with_id(parse_json(body)?, "activity")
}

pub fn read_update(body: &str) -> Result<Value, VoxError> {
    let v = parse_json(body)?;
    let obj = v
        .as_object()
        .ok_or_else(|| VoxError::invalid_response("Expected an object from update"))?;
    let mut out = Map::new();
    if let Some(id) = obj.get("updateId").filter(|v| v.is_string()) {
        out.insert("updateId".into(), id.clone());
    }
    let message = obj
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("Lead update initiated");
    out.insert("message".into(), json!(message));
    Ok(Value::Object(out))
}

/// The result of one page of Query Leads, in SDK.md's shape. Leads stay JSON text: they pass
/// through to the caller untouched (only their `_id` is read), which keeps paging cheap.
#[derive(Debug)]
pub struct Page {
    pub leads: Vec<Box<RawValue>>,
    /// The `_id` of each lead, when it has one.
    pub ids: Vec<Option<String>>,
    pub page: u64,
    pub limit: u64,
    pub total: Option<u64>,
    pub total_pages: Option<u64>,
    pub has_next_page: bool,
}

impl Page {
    /// SDK.md's `{ leads, page, limit, total, totalPages, hasNextPage }` as JSON text.
    pub fn into_json(self) -> String {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Out {
            leads: Vec<Box<RawValue>>,
            page: u64,
            limit: u64,
            total: Option<u64>,
            total_pages: Option<u64>,
            has_next_page: bool,
        }
        let out = Out {
            leads: self.leads,
            page: self.page,
            limit: self.limit,
            total: self.total,
            total_pages: self.total_pages,
            has_next_page: self.has_next_page,
        };
        serde_json::to_string(&out).unwrap_or_else(|_| String::from("{}"))
    }
}

/// JSON text of an array of leads.
pub fn leads_json(leads: &[Box<RawValue>]) -> String {
    let mut out = String::with_capacity(leads.iter().map(|l| l.get().len() + 1).sum::<usize>() + 2);
    out.push('[');
    for (i, l) in leads.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(l.get());
    }
    out.push(']');
    out
}

/// True when JSON text is an object. Checked before reading text into a struct: serde's derived
/// readers also accept an array by position, which a response must never be read as.
fn is_object_text(s: &str) -> bool {
    s.trim_start().starts_with('{')
}

pub fn read_query(
    body: &str,
    requested_page: u64,
    requested_limit: Option<u64>,
) -> Result<Page, VoxError> {
    #[derive(Deserialize)]
    struct Body {
        data: Option<Box<RawValue>>,
        leads: Option<Box<RawValue>>,
        pagination: Option<Value>,
    }
    #[derive(Deserialize)]
    struct Id {
        #[serde(rename = "_id")]
        id: Option<String>,
    }
    let no_list = || VoxError::invalid_response("The query response holds no lead list");
    let not_object = || VoxError::invalid_response("The query response is not a JSON object");
    if !is_object_text(body) {
        return Err(not_object());
    }
    let b: Body = serde_json::from_str(body).map_err(|_| not_object())?;
    let list = b.data.or(b.leads).ok_or_else(no_list)?;
    let leads: Vec<Box<RawValue>> = serde_json::from_str(list.get()).map_err(|_| no_list())?;
    let ids = leads
        .iter()
        .map(|l| {
            is_object_text(l.get())
                .then(|| serde_json::from_str::<Id>(l.get()).ok())
                .flatten()
                .and_then(|i| i.id)
        })
        .collect();
    let pag = b.pagination.as_ref().and_then(Value::as_object);
    let num = |k: &str| pag.and_then(|p| p.get(k)).and_then(Value::as_u64);
    let limit = num("limit").or(requested_limit).unwrap_or(20);
    let page = num("page").unwrap_or(requested_page);
    let total = num("total");
    let total_pages = num("totalPages").or_else(|| total.map(|t| t.div_ceil(limit.max(1))));
    let has_next_page = pag
        .and_then(|p| p.get("hasNextPage"))
        .and_then(Value::as_bool)
        .or_else(|| total_pages.map(|tp| page < tp))
        .unwrap_or(leads.len() as u64 >= limit);
    Ok(Page {
        leads,
        ids,
        page,
        limit,
        total,
        total_pages,
        has_next_page,
    })
}

/// One per-lead error of a bulk answer, in either shape of API.md §5.
#[derive(Clone, Debug, PartialEq)]
pub struct BulkItemError {
    pub lead_id: Option<String>,
    pub reference_id: Option<String>,
    pub data: Option<Value>,
    pub error: String,
}

/// A lead the server created, kept as its JSON text with the few fields that map it back to
/// an input: parsing every lead of a 1000-lead answer into objects would cost far more.
#[derive(Clone, Debug)]
pub struct CreatedLead {
    pub raw: Box<RawValue>,
    pub id: String,
    pub reference_id: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

#[derive(Clone, Debug)]
pub struct BulkAnswer {
    pub created: Vec<CreatedLead>,
    pub errors: Vec<BulkItemError>,
}

pub fn read_bulk(body: &str) -> Result<BulkAnswer, VoxError> {
    #[derive(Deserialize)]
    struct Body {
        success: Option<Box<RawValue>>,
        errors: Option<Value>,
        data: Option<Box<RawValue>>,
    }
    #[derive(Deserialize)]
    struct Keys {
        #[serde(rename = "_id")]
        id: Option<Value>,
        #[serde(rename = "referenceId")]
        reference_id: Option<Value>,
        phone: Option<Value>,
        email: Option<Value>,
    }
    let not_object = || VoxError::invalid_response("Expected an object from bulk initiate");
    if !is_object_text(body) {
        return Err(not_object());
    }
    let mut b: Body = serde_json::from_str(body).map_err(|_| not_object())?;
    // Tolerate the whole answer wrapped in `data`.
    let is_list = |r: &Option<Box<RawValue>>| {
        r.as_ref()
            .is_some_and(|r| r.get().trim_start().starts_with('['))
    };
    if !is_list(&b.success) {
        if let Some(inner) = b.data.take().filter(|d| is_object_text(d.get())) {
            if let Ok(inner) = serde_json::from_str::<Body>(inner.get()) {
                b = inner;
            }
        }
    }
    let created = match &b.success {
        None => Vec::new(),
        Some(r) if r.get() == "null" => Vec::new(),
        Some(r) => serde_json::from_str::<Vec<Box<RawValue>>>(r.get())
            .map_err(|_| VoxError::invalid_response("Bulk answer 'success' is not a list"))?,
    };
    let text = |v: Option<Value>| match v {
        Some(Value::String(s)) => Some(s),
        _ => None,
    };
    let created = created
        .into_iter()
        .map(|raw| {
            let not_lead =
                || VoxError::invalid_response("A created lead in the bulk answer is not an object");
            if !is_object_text(raw.get()) {
                return Err(not_lead());
            }
            let keys: Keys = serde_json::from_str(raw.get()).map_err(|_| not_lead())?;
            let id = text(keys.id).ok_or_else(|| {
                VoxError::invalid_response("A created lead in the bulk answer has no _id")
            })?;
            Ok(CreatedLead {
                raw,
                id,
                reference_id: text(keys.reference_id),
                phone: text(keys.phone),
                email: text(keys.email).map(|e| e.to_ascii_lowercase()),
            })
        })
        .collect::<Result<Vec<_>, VoxError>>()?;
    let errors = match b.errors {
        Some(Value::Array(a)) => a
            .into_iter()
            .map(|item| {
                let s = |k: &str| item.get(k).and_then(Value::as_str).map(str::to_string);
                let data = item
                    .get("data")
                    .or_else(|| item.get("lead"))
                    .filter(|d| d.is_object())
                    .cloned();
                let reference_id = s("referenceId").or_else(|| {
                    data.as_ref()
                        .and_then(|d| d.get("referenceId"))
                        .and_then(Value::as_str)
                        .map(str::to_string)
                });
                BulkItemError {
                    lead_id: s("leadId"),
                    reference_id,
                    error: s("error")
                        .or_else(|| s("message"))
                        .unwrap_or_else(|| "Rejected by the server".to_string()),
                    data,
                }
            })
            .collect(),
        None | Some(Value::Null) => Vec::new(),
        Some(_) => {
            return Err(VoxError::invalid_response(
                "Bulk answer 'errors' is not a list",
            ))
        }
    };
    Ok(BulkAnswer { created, errors })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initiate_reads_flat_and_data() {
        let flat = read_lead(r#"{"success":true,"_id":"a","name":"X","zz":1}"#).unwrap();
        assert_eq!(flat, json!({"_id":"a","name":"X","zz":1}));
        let wrapped = read_lead(r#"{"success":true,"data":{"_id":"a","extra":[1]}}"#).unwrap();
        assert_eq!(wrapped, json!({"_id":"a","extra":[1]}));
        let plain = read_lead(r#"{"_id":"a"}"#).unwrap();
        assert_eq!(plain, json!({"_id":"a"}));
        assert_eq!(
            read_lead(r#"{"success":true}"#).unwrap_err().code(),
            "invalid_response"
        );
        assert_eq!(read_lead("<html>").unwrap_err().code(), "invalid_response");
    }

    #[test]
    fn get_lead_has_activities() {
        let l = read_lead_with_activities(r#"{"success":true,"data":{"_id":"a"}}"#).unwrap();
        assert_eq!(l["activities"], json!([]));
    }

    #[test]
    fn bulk_both_error_shapes() {
        let body = r#"{"success":[{"_id":"1","phone":"+91"}],"errors":[
            {"data":{"name":"a","referenceId":"r2"},"referenceId":null,"error":"dup"},
            {"leadId":"x","error":"Lead with ID x not found"},
            {"lead":{"name":"b"},"error":"bad"}]}"#;
        let a = read_bulk(body).unwrap();
        assert_eq!(a.created.len(), 1);
        assert_eq!(
            (a.created[0].id.as_str(), a.created[0].phone.as_deref()),
            ("1", Some("+91"))
        );
        assert_eq!(
            a.created[0].raw.get(),
            r#"{"_id":"1","phone":"+91"}"#,
            "kept as sent"
        );
        assert_eq!(a.errors.len(), 3);
        assert_eq!(a.errors[0].reference_id.as_deref(), Some("r2"));
        assert_eq!(a.errors[1].lead_id.as_deref(), Some("x"));
        assert_eq!(a.errors[2].data, Some(json!({"name":"b"})));
        let wrapped =
            read_bulk(r#"{"data":{"success":[{"_id":"2","email":"A@B.CO"}],"errors":[]}}"#)
                .unwrap();
        assert_eq!(wrapped.created[0].email.as_deref(), Some("a@b.co"));
        for bad in [
            r#"{"success":[{"name":"no id"}]}"#,
            r#"{"success":[1]}"#,
            r#"{"success":{}}"#,
            "[]",
            "<html>",
        ] {
            assert_eq!(
                read_bulk(bad).unwrap_err().code(),
                "invalid_response",
                "{bad}"
            );
        }
    }

    #[test]
    fn query_reads_pagination_or_infers_it() {
        let p = read_query(
            r#"{"success":true,"data":[{"_id":"a","x":[1]},{"noId":1}],"pagination":{"page":2,"limit":1,"total":3,"totalPages":3,"hasNextPage":true}}"#,
            2,
            Some(1),
        )
        .unwrap();
        assert_eq!(p.ids, vec![Some("a".to_string()), None]);
        assert_eq!(
            (p.page, p.limit, p.total, p.total_pages, p.has_next_page),
            (2, 1, Some(3), Some(3), true)
        );
        let text = p.into_json();
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            v["leads"][0],
            json!({"_id":"a","x":[1]}),
            "leads pass through untouched"
        );
        assert_eq!(v["totalPages"], 3);
        let bare = read_query(r#"{"data":[]}"#, 1, None).unwrap();
        assert!(!bare.has_next_page);
        assert_eq!(
            read_query(r#"{"data":{}}"#, 1, None).unwrap_err().code(),
            "invalid_response"
        );
        assert_eq!(
            read_query("[1]", 1, None).unwrap_err().code(),
            "invalid_response"
        );
    }

    #[test]
    fn query_building_and_checks() {
        let q = LeadQuery::from_value(
            &json!({"state":"new","email":"A@B.co","createdFrom":"2026-01-01T00:00:00.000Z","limit":50,"order":"asc"}),
            "IN",
        )
        .unwrap();
        let r = q.request(3);
        assert_eq!(r.path, "/leads/query");
        assert!(r.query.contains("email=a%40b.co"));
        assert!(r.query.contains("createdFrom=2026-01-01T00%3A00%3A00.000Z"));
        assert!(
            r.query.contains("page=3")
                && r.query.contains("limit=50")
                && r.query.contains("order=asc")
        );
        for bad in [
            json!({"limit": 0}),
            json!({"limit": 101}),
            json!({"page": 1.5}),
            json!({"sort": "name"}),
            json!({"createdFrom": "yesterday"}),
            json!({"bogus": 1}),
            json!([1]),
        ] {
            assert_eq!(
                LeadQuery::from_value(&bad, "IN").unwrap_err().code(),
                "invalid_argument",
                "{bad}"
            );
        }
    }

    #[test]
    fn update_checks_changes() {
        let t = Target::LeadId("a".into());
        let r = update_lead(
            &t,
            "p",
            &json!({"targetState":"interested","metadata":{"x":1}}),
        )
        .unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(r.body.as_deref().unwrap()).unwrap(),
            json!({"leadId":"a","targetState":"interested","metadata":{"x":1}})
        );
        assert!(update_lead(&t, "p", &json!({})).is_err());
        assert!(update_lead(&t, "p", &json!({"colour":"red"})).is_err());
        assert!(update_lead(&t, "p", &json!({"metadata":"x"})).is_err());
        let by_ref = Target::from_value(&json!({"referenceId":"r","processId":"q"})).unwrap();
        let g = get_lead(&by_ref, "p", true);
        assert_eq!(g.query, "referenceId=r&projectId=p&processId=q&masked=true");
        assert!(Target::from_value(&json!({"referenceId":"r"})).is_err());
    }
}
