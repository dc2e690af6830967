//! One request builder and one response reader per endpoint of docs/api.md §3.
//! Readers are tolerant (docs/api.md §5): both error shapes, the lead flat or under `data`; what
//! the server sent is handed on as the host parsed it, unknown fields kept, and only the fields
//! the SDK needs are read.

use crate::core::error::VoxError;
use crate::core::lead::id_of;
use crate::core::options::Changes;
use crate::core::value::{Json, Parts, Value};

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

/// An HTTP request relative to the base URL; the engine adds the base URL and the headers.
#[derive(Clone, Debug, PartialEq)]
pub struct HttpRequest<V> {
    pub method: Method,
    /// Path without the query, e.g. `/leads/get` (also what log events show).
    pub path: &'static str,
    /// Already encoded query, without `?`; may be empty.
    pub query: String,
    pub body: Option<Parts<V>>,
}

impl<V> HttpRequest<V> {
    pub fn path_and_query(&self) -> String {
        if self.query.is_empty() {
            self.path.to_string()
        } else {
            format!("{}?{}", self.path, self.query)
        }
    }
}

/// The longest answer body read: a page of 100 leads with long transcripts is far smaller,
/// and a body past it is refused (`invalid_response`) before it is read in full.
pub const MAX_BODY_BYTES: u32 = 32 << 20;

/// An answer: its status, its `Retry-After`, and its body as the host parsed it (`None` when
/// it was empty or not JSON).
#[derive(Clone, Debug, PartialEq)]
pub struct HttpResponse<V> {
    pub status: u16,
    pub retry_after: Option<String>,
    pub body: Option<V>,
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

/// Percent-encodes a query component (RFC 3986 unreserved characters stay).
pub fn encode_component(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(char::from(
                HEX.get((b >> 4) as usize).copied().unwrap_or(b'0'),
            ));
            out.push(char::from(
                HEX.get((b & 15) as usize).copied().unwrap_or(b'0'),
            ));
        }
    }
    out
}

fn query_string(pairs: &[(&str, String)]) -> String {
    let mut out = String::new();
    for (n, (k, v)) in pairs.iter().enumerate() {
        if n > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(&encode_component(v));
    }
    out
}

fn post<V>(path: &'static str, body: Parts<V>) -> HttpRequest<V> {
    HttpRequest {
        method: Method::Post,
        path,
        query: String::new(),
        body: Some(body),
    }
}

fn get<V>(path: &'static str, pairs: &[(&str, String)]) -> HttpRequest<V> {
    HttpRequest {
        method: Method::Get,
        path,
        query: query_string(pairs),
        body: None,
    }
}

/// `,"init":b` when `init` was given, then the closing brace.
fn end_with_init<V>(mut body: Parts<V>, init: Option<bool>) -> Parts<V> {
    match init {
        Some(true) => body.raw(",\"init\":true}"),
        Some(false) => body.raw(",\"init\":false}"),
        None => body.raw("}"),
    };
    body
}

// ---- builders -------------------------------------------------------------------------

/// `lead` is the lead object as JSON text (a host string).
pub fn initiate_lead<V>(lead: V, init: Option<bool>) -> HttpRequest<V> {
    let mut b = Parts::default();
    b.raw("{\"lead\":").host(lead);
    post("/leads/initiate", end_with_init(b, init))
}

pub fn initiate_existing<V>(lead_id: &str, init: Option<bool>) -> HttpRequest<V> {
    let mut b = Parts::default();
    b.raw("{").key(true, "leadId").string(lead_id);
    post("/leads/initiate", end_with_init(b, init))
}

/// `leads` are lead objects as JSON text (host strings).
pub fn bulk_initiate<V: Clone>(leads: &[&V], init: Option<bool>) -> HttpRequest<V> {
    let mut b = Parts::default();
    b.raw("{\"leads\":[");
    for (i, l) in leads.iter().enumerate() {
        if i > 0 {
            b.raw(",");
        }
        b.host((*l).clone());
    }
    b.raw("]");
    post("/leads/bulk/initiate", end_with_init(b, init))
}

pub fn bulk_initiate_existing<V>(lead_ids: &[&str], init: Option<bool>) -> HttpRequest<V> {
    let mut b = Parts::default();
    b.raw("{\"leadIds\":[");
    for (i, id) in lead_ids.iter().enumerate() {
        if i > 0 {
            b.raw(",");
        }
        b.string(id);
    }
    b.raw("]");
    post("/leads/bulk/initiate", end_with_init(b, init))
}

/// The target's fields, then the changes; `metadata` is the caller's object as JSON text.
/// Without `metadata` the server merges unknown top-level fields into metadata: only
/// docs/sdk.md's change fields are ever sent at the top level.
pub fn update_lead<V: Value>(
    target: &Target,
    project_id: &str,
    changes: &Changes<V>,
    metadata_json: Option<V>,
) -> HttpRequest<V> {
    let mut b = Parts::default();
    b.raw("{");
    match target {
        Target::LeadId(id) => {
            b.key(true, "leadId").string(id);
        }
        Target::Reference {
            reference_id,
            process_id,
        } => {
            b.key(true, "referenceId").string(reference_id);
            b.key(false, "projectId").string(project_id);
            b.key(false, "processId").string(process_id);
        }
    }
    if let Some(m) = metadata_json {
        b.key(false, "metadata").host(m);
    }
    for (k, v) in &changes.texts {
        b.key(false, k).string(v);
    }
    b.raw("}");
    post("/leads/update", b)
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

pub fn get_lead<V>(target: &Target, project_id: &str, masked: bool) -> HttpRequest<V> {
    let mut pairs = target_pairs(target, project_id);
    if masked {
        pairs.push(("masked", "true".into()));
    }
    get("/leads/get", &pairs)
}

/// Query Leads, oldest first, for what the client checks before it sends leads: the leads
/// matching `filters` (none: every lead of the project), `limit` a page.
pub fn find_leads<V>(filters: &[(&str, String)], page: u64, limit: u64) -> HttpRequest<V> {
    let mut pairs = filters.to_vec();
    pairs.push(("sort", "createdAt".into()));
    pairs.push(("order", "asc".into()));
    pairs.push(("page", page.to_string()));
    pairs.push(("limit", limit.to_string()));
    get("/leads/query", &pairs)
}

pub fn get_activity<V>(activity_id: &str, masked: bool) -> HttpRequest<V> {
    let mut pairs = vec![("activityId", activity_id.to_string())];
    if masked {
        pairs.push(("masked", "true".into()));
    }
    get("/activities/get", &pairs)
}

/// A checked lead query (docs/api.md §3.5), read by `LeadQuery::read` (core::options).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LeadQuery {
    /// `(filter, value)`, dates as ISO 8601 text.
    pub filters: Vec<(&'static str, String)>,
    pub sort: Option<String>,
    pub order: Option<String>,
    pub page: u64,
    pub limit: Option<u64>,
    pub masked: bool,
}

impl LeadQuery {
    pub fn request<V>(&self, page: u64) -> HttpRequest<V> {
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

// ---- readers --------------------------------------------------------------------------

fn object<V: Value>(body: Option<&V>, what: &str) -> Result<V, VoxError> {
    match body {
        Some(v) if v.is_object() => Ok(v.clone()),
        Some(_) => Err(VoxError::invalid_response(format!(
            "Expected a {what} object in the response"
        ))),
        None => Err(VoxError::invalid_response(
            "The server answered 200 with a body that is not JSON",
        )),
    }
}

/// A lead (or activity) object from a body: under `data`, or flat beside `success` (which is
/// then removed: it is the envelope's, not the lead's).
fn object_with_id<V: Value>(body: Option<&V>, what: &str) -> Result<V, VoxError> {
    let body = object(body, what)?;
    let data = body.get("data");
    if data.is_object() && id_of(&data).is_some() {
        return Ok(data);
    }
    if id_of(&body).is_some() {
        if body.get("success").boolean().is_some() {
            body.remove("success");
        }
        return Ok(body);
    }
    Err(VoxError::invalid_response(format!(
        "The response holds no {what} with an _id"
    )))
}

pub fn read_lead<V: Value>(body: Option<&V>) -> Result<V, VoxError> {
    object_with_id(body, "lead")
}

/// Get Lead: the lead with its activities (an empty list when the server sent none).
pub fn read_lead_with_activities<V: Value>(body: Option<&V>) -> Result<V, VoxError> {
    let lead = object_with_id(body, "lead")?;
    if lead.get("activities").array_len().is_none() {
        lead.set("activities", V::build(Json::Array(Vec::new())));
    }
    Ok(lead)
}

pub fn read_activity<V: Value>(body: Option<&V>) -> Result<V, VoxError> {
    object_with_id(body, "activity")
}

/// Update Lead: `{ updateId?, message }`.
pub fn read_update<V: Value>(body: Option<&V>) -> Result<V, VoxError> {
    let body = object(body, "update")?;
    let mut out = Vec::new();
    if let Some(id) = body.get("updateId").string() {
        out.push(("updateId", Json::Text(id)));
    }
    let message = body.get("message").string();
    out.push((
        "message",
        Json::text(message.unwrap_or_else(|| "Lead update initiated".into())),
    ));
    Ok(V::build(Json::Object(out)))
}

/// One page of Query Leads. The leads stay the host's array, as sent (only their `_id` is read).
#[derive(Debug)]
pub struct Page<V> {
    pub leads: V,
    /// The `_id` of each lead, when it has one (one per lead).
    pub ids: Vec<Option<String>>,
    pub page: u64,
    pub limit: u64,
    pub total: Option<u64>,
    pub total_pages: Option<u64>,
    pub has_next_page: bool,
}

impl<V: Value> Page<V> {
    /// docs/sdk.md's `{ leads, page, limit, total, totalPages, hasNextPage }`.
    pub fn into_value(self) -> V {
        let num = |n: Option<u64>| n.map_or(Json::Null, |n| Json::Number(n as f64));
        V::build(Json::Object(vec![
            ("leads", Json::Value(self.leads)),
            ("page", num(Some(self.page))),
            ("limit", num(Some(self.limit))),
            ("total", num(self.total)),
            ("totalPages", num(self.total_pages)),
            ("hasNextPage", Json::Bool(self.has_next_page)),
        ]))
    }
}

/// An array of the host's values.
pub fn leads_array<V>(leads: Vec<V>) -> Json<V> {
    Json::Array(leads.into_iter().map(Json::Value).collect())
}

/// The items of an array value.
pub fn items<V: Value>(v: &V) -> Option<Vec<V>> {
    let n = v.array_len()?;
    Some((0..n).map(|i| v.at(i)).collect())
}

pub fn read_query<V: Value>(
    body: Option<&V>,
    requested_page: u64,
    requested_limit: Option<u64>,
) -> Result<Page<V>, VoxError> {
    let body = object(body, "query")?;
    let mut list = body.get("data");
    if list.array_len().is_none() {
        list = body.get("leads");
    }
    if list.array_len().is_none() {
        return Err(VoxError::invalid_response(
            "The query response holds no lead list",
        ));
    }
    let ids = list.column("_id");
    let pag = body.get("pagination");
    let num = |k: &str| pag.get(k).count();
    let limit = num("limit").or(requested_limit).unwrap_or(20);
    let page = num("page").unwrap_or(requested_page);
    let total = num("total");
    let total_pages = num("totalPages").or_else(|| total.map(|t| t.div_ceil(limit.max(1))));
    let has_next_page = pag
        .get("hasNextPage")
        .boolean()
        .or_else(|| total_pages.map(|tp| page < tp))
        .unwrap_or(ids.len() as u64 >= limit);
    Ok(Page {
        leads: list,
        ids,
        page,
        limit,
        total,
        total_pages,
        has_next_page,
    })
}

/// One per-lead error of a bulk answer, in either shape of docs/api.md §5.
#[derive(Clone, Debug, PartialEq)]
pub struct BulkItemError<V> {
    pub lead_id: Option<String>,
    pub reference_id: Option<String>,
    /// The echoed lead input: its phone, its email, and its JSON text.
    pub phone: Option<String>,
    pub email: Option<String>,
    pub data: Option<V>,
    pub error: String,
}

/// A lead the server created, with the few fields that map it back to an input.
#[derive(Clone, Debug)]
pub struct CreatedLead<V> {
    pub lead: V,
    pub id: String,
    pub reference_id: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

#[derive(Clone, Debug)]
pub struct BulkAnswer<V> {
    pub created: Vec<CreatedLead<V>>,
    pub errors: Vec<BulkItemError<V>>,
    /// Created leads the answer lists without an `_id` (or not as an object): theirs leads
    /// cannot be told, so they stay unknown, and the rest of the chunk is still accounted.
    pub unreadable: usize,
}

pub fn read_bulk<V: Value>(body: Option<&V>) -> Result<BulkAnswer<V>, VoxError> {
    let mut body = object(body, "bulk initiate")?;
    // Tolerate the whole answer wrapped in `data`.
    if body.get("success").array_len().is_none() && body.get("data").is_object() {
        body = body.get("data");
    }
    let success = body.get("success");
    let created = if success.is_absent() {
        Vec::new()
    } else {
        items(&success)
            .ok_or_else(|| VoxError::invalid_response("Bulk answer 'success' is not a list"))?
    };
    let (ids, references) = (success.column("_id"), success.column("referenceId"));
    let (phones, emails) = (success.column("phone"), success.column("email"));
    let mut keys = ids.into_iter().zip(references).zip(phones).zip(emails);
    let listed = created.len();
    let created: Vec<CreatedLead<V>> = created
        .into_iter()
        .filter_map(|lead| {
            let (((id, reference_id), phone), email) = keys.next().unwrap_or_default();
            Some(CreatedLead {
                id: id.filter(|_| lead.is_object())?,
                reference_id,
                phone,
                email: email.map(|e| e.to_ascii_lowercase()),
                lead,
            })
        })
        .collect();
    let unreadable = listed - created.len();
    let errors = body.get("errors");
    let errors = if errors.is_absent() {
        Vec::new()
    } else {
        items(&errors)
            .ok_or_else(|| VoxError::invalid_response("Bulk answer 'errors' is not a list"))?
    };
    let errors = errors
        .into_iter()
        .map(|item| {
            let mut data = item.get("data");
            if !data.is_object() {
                data = item.get("lead");
            }
            let data = data.is_object().then_some(data);
            let of_data = |k: &str| data.as_ref().and_then(|d| d.get(k).string());
            BulkItemError {
                lead_id: item.get("leadId").string(),
                reference_id: item
                    .get("referenceId")
                    .string()
                    .or_else(|| of_data("referenceId")),
                phone: of_data("phone"),
                email: of_data("email").map(|e| e.to_ascii_lowercase()),
                error: item
                    .get("error")
                    .string()
                    .or_else(|| item.get("message").string())
                    .unwrap_or_else(|| "Rejected by the server".to_string()),
                data,
            }
        })
        .collect();
    Ok(BulkAnswer {
        created,
        errors,
        unreadable,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::testkit::{body_text, parse, tv, Tv};
    use serde_json::json;

    fn read<T>(f: fn(Option<&Tv>) -> Result<T, VoxError>, text: &str) -> Result<T, VoxError> {
        f(parse(text).as_ref())
    }

    #[test]
    fn initiate_reads_flat_and_data() {
        let flat = read(read_lead, r#"{"success":true,"_id":"a","name":"X","zz":1}"#).unwrap();
        assert_eq!(flat.json(), json!({"_id":"a","name":"X","zz":1}));
        let wrapped = read(
            read_lead,
            r#"{"success":true,"data":{"_id":"a","extra":[1]}}"#,
        )
        .unwrap();
        assert_eq!(wrapped.json(), json!({"_id":"a","extra":[1]}));
        assert_eq!(
            read(read_lead, r#"{"_id":"a"}"#).unwrap().json(),
            json!({"_id":"a"})
        );
        assert_eq!(
            read(read_lead, r#"{"success":true}"#).unwrap_err().code(),
            "invalid_response"
        );
        assert_eq!(
            read(read_lead, "<html>").unwrap_err().code(),
            "invalid_response"
        );
        assert_eq!(
            read(read_lead, "[1]").unwrap_err().code(),
            "invalid_response"
        );
    }

    #[test]
    fn get_lead_has_activities() {
        let l = read(
            read_lead_with_activities,
            r#"{"success":true,"data":{"_id":"a"}}"#,
        )
        .unwrap();
        assert_eq!(l.json()["activities"], json!([]));
        let kept = read(
            read_lead_with_activities,
            r#"{"data":{"_id":"a","activities":[{"_id":"b"}]}}"#,
        )
        .unwrap();
        assert_eq!(kept.json()["activities"], json!([{"_id":"b"}]));
    }

    #[test]
    fn bulk_both_error_shapes() {
        let body = r#"{"success":[{"_id":"1","phone":"+91"}],"errors":[
            {"data":{"name":"a","referenceId":"r2"},"referenceId":null,"error":"dup"},
            {"leadId":"x","error":"Lead with ID x not found"},
            {"lead":{"name":"b","email":"B@X.CO"},"error":"bad"}]}"#;
        let a = read(read_bulk, body).unwrap();
        assert_eq!(a.created.len(), 1);
        assert_eq!(
            (a.created[0].id.as_str(), a.created[0].phone.as_deref()),
            ("1", Some("+91"))
        );
        assert_eq!(
            a.created[0].lead.json(),
            json!({"_id":"1","phone":"+91"}),
            "kept as sent"
        );
        assert_eq!(a.errors.len(), 3);
        assert_eq!(a.errors[0].reference_id.as_deref(), Some("r2"));
        assert_eq!(a.errors[1].lead_id.as_deref(), Some("x"));
        assert_eq!(a.errors[2].email.as_deref(), Some("b@x.co"));
        assert_eq!(
            a.errors[2].data.as_ref().map(Tv::json),
            Some(json!({"name":"b","email":"B@X.CO"}))
        );
        let wrapped = read(
            read_bulk,
            r#"{"data":{"success":[{"_id":"2","email":"A@B.CO"}],"errors":[]}}"#,
        )
        .unwrap();
        assert_eq!(wrapped.created[0].email.as_deref(), Some("a@b.co"));
        // A created lead without `_id` (or no object) is counted, not a failure of the rest.
        let partly = read(
            read_bulk,
            r#"{"success":[{"_id":"1"},{"name":"no id"},1],"errors":[]}"#,
        )
        .unwrap();
        assert_eq!((partly.created.len(), partly.unreadable), (1, 2));
        for bad in [r#"{"success":{}}"#, "[]", "<html>"] {
            assert_eq!(
                read(read_bulk, bad).unwrap_err().code(),
                "invalid_response",
                "{bad}"
            );
        }
    }

    #[test]
    fn query_reads_pagination_or_infers_it() {
        let body = parse(
            r#"{"success":true,"data":[{"_id":"a","x":[1]},{"noId":1}],"pagination":{"page":2,"limit":1,"total":3,"totalPages":3,"hasNextPage":true}}"#,
        );
        let p = read_query(body.as_ref(), 2, Some(1)).unwrap();
        assert_eq!(p.ids, vec![Some("a".to_string()), None]);
        assert_eq!(p.leads.array_len(), Some(2));
        assert_eq!(
            (p.page, p.limit, p.total, p.total_pages, p.has_next_page),
            (2, 1, Some(3), Some(3), true)
        );
        let v = p.into_value().json();
        assert_eq!(
            v["leads"][0],
            json!({"_id":"a","x":[1]}),
            "leads pass through untouched"
        );
        assert_eq!(v["totalPages"], 3);
        let bare = read_query(parse(r#"{"data":[]}"#).as_ref(), 1, None).unwrap();
        assert!(!bare.has_next_page);
        assert_eq!(
            read_query(parse(r#"{"data":{}}"#).as_ref(), 1, None)
                .unwrap_err()
                .code(),
            "invalid_response"
        );
        assert_eq!(
            read_query(parse("[1]").as_ref(), 1, None)
                .unwrap_err()
                .code(),
            "invalid_response"
        );
    }

    #[test]
    fn query_building_and_checks() {
        let q = LeadQuery::read(
            &tv(json!({"state":"new","email":"A@B.co","createdFrom":"2026-01-01T00:00:00.000Z","limit":50,"order":"asc"})),
            "IN",
        )
        .unwrap();
        let r: HttpRequest<Tv> = q.request(3);
        assert_eq!(r.path, "/leads/query");
        assert!(r.query.contains("email=a%40b.co"));
        assert!(r.query.contains("createdFrom=2026-01-01T00%3A00%3A00.000Z"));
        assert!(
            r.query.contains("page=3")
                && r.query.contains("limit=50")
                && r.query.contains("order=asc")
        );
        let dated =
            LeadQuery::read(&tv(json!({"createdTo": {"$date": 86_400_000.0}})), "IN").unwrap();
        assert_eq!(
            dated.filters,
            vec![("createdTo", "1970-01-02T00:00:00.000Z".to_string())]
        );
        for bad in [
            json!({"limit": 0}),
            json!({"limit": 101}),
            json!({"page": 1.5}),
            json!({"sort": "name"}),
            json!({"createdFrom": "yesterday"}),
            json!({"createdFrom": {"$date": null}}),
            json!({"processId": "x"}),
            json!({"bogus": 1}),
            json!([1]),
        ] {
            assert_eq!(
                LeadQuery::read(&tv(bad.clone()), "IN").unwrap_err().code(),
                "invalid_argument",
                "{bad}"
            );
        }
    }

    #[test]
    fn update_sends_only_change_fields() {
        let t = Target::LeadId("a".into());
        let changes =
            Changes::read(&tv(json!({"targetState":"interested","metadata":{"x":1}}))).unwrap();
        let meta = changes.metadata.as_ref().map(|m| m.to_json(&[]).unwrap());
        let r = update_lead(&t, "p", &changes, meta);
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&body_text(&r)).unwrap(),
            json!({"leadId":"a","targetState":"interested","metadata":{"x":1}})
        );
        assert!(Changes::read(&tv(json!({}))).is_err());
        assert!(Changes::read(&tv(json!({"colour":"red"}))).is_err());
        assert!(Changes::read(&tv(json!({"metadata":"x"}))).is_err());
        let by_ref = Target::read(&tv(json!({"referenceId":"r","processId":"q"}))).unwrap();
        let g: HttpRequest<Tv> = get_lead(&by_ref, "p", true);
        assert_eq!(g.query, "referenceId=r&projectId=p&processId=q&masked=true");
        assert!(Target::read(&tv(json!({"referenceId":"r"}))).is_err());
        assert!(Target::read(&tv(json!({"leadId":"short"}))).is_err());
    }

    #[test]
    fn bodies_are_json() {
        let lead = tv(json!({"name": "A \"q\""}));
        let texts = [
            lead.to_json(&[]).unwrap(),
            lead.to_json(&[("x", Some("y"))]).unwrap(),
        ];
        let r = bulk_initiate(&[&texts[0], &texts[1]], Some(false));
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&body_text(&r)).unwrap(),
            json!({"leads": [{"name": "A \"q\""}, {"name": "A \"q\"", "x": "y"}], "init": false})
        );
        let r: HttpRequest<Tv> = bulk_initiate_existing(&["a", "b"], None);
        assert_eq!(body_text(&r), r#"{"leadIds":["a","b"]}"#);
        let r: HttpRequest<Tv> = initiate_existing("a\"", Some(true));
        assert_eq!(body_text(&r), r#"{"leadId":"a\"","init":true}"#);
    }
}
