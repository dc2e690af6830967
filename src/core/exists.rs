//! What a bulk asks the server before it sends new leads: which of them exist in the project
//! already (each would be a duplicate submission). It asks how many leads the project has (one
//! request), then takes the cheaper way for the list at hand:
//!
//! - **an index** of the project — every lead read a page of [`PAGE`] at a time, its phone,
//!   email and referenceId kept as hashes — when that takes no more requests than the list has
//!   leads (`ceil(total / 100) <= leads`);
//! - else **a query per key** of each lead (its phone, its email, its referenceId), made for
//!   each chunk just before it is sent.
//!
//! An empty project costs the one request. When the server cannot say (the count, a page or a
//! query failed after its retries), the leads it could not check are *unchecked*: a bulk never
//! has more of them in flight than the duplicate budget has rejections left.

use crate::core::api::{self, HttpRequest};
use crate::core::engine::{Answer, Cx, Host, Poll, Reader, Request};
use crate::core::error::VoxError;
use crate::core::hash::HashedMap;
use crate::core::limits::Keys;
use crate::core::retry::Kind;
use crate::core::store::Reply;
use crate::core::value::Value;

/// Leads a page of the index.
pub(crate) const PAGE: u64 = 100;

/// How the leads of a bulk are checked, once the project's size is known.
pub(crate) enum Plan {
    /// The project has no leads.
    Nothing,
    /// Key hash -> the id of the lead of the project that has it.
    Index(HashedMap<String>),
    /// A query per key, chunk by chunk.
    PerLead,
    /// The server could not say: the leads are unchecked.
    Unchecked(VoxError),
}

pub(crate) enum Check<V> {
    /// Whether the duplicate budget has room at all (`Some`: asked of the store): when it has
    /// none, every lead will be refused, and checking them would cost requests for nothing.
    Budget(Option<u32>),
    Count(Request<V>),
    Sync {
        index: HashedMap<String>,
        page: u64,
        req: Request<V>,
    },
    Ready(Plan),
}

fn query<V: Value>(cx_retries: u32, req: HttpRequest<V>, page: u64, limit: u64) -> Request<V> {
    Request::new(
        req,
        Kind::Read,
        Reader::Query {
            page,
            limit: Some(limit),
        },
        cx_retries,
    )
}

/// A query for the lead of the project that has key `which` (phone 0, email 1, referenceId 2)
/// with this text.
pub(crate) fn key_query<V: Value>(
    retries: u32,
    which: usize,
    text: &str,
    process_id: &str,
) -> Request<V> {
    let filters = match which {
        0 => vec![("phone", text.to_string())],
        1 => vec![("email", text.to_string())],
        _ => vec![
            ("referenceId", text.to_string()),
            ("processId", process_id.to_string()),
        ],
    };
    query(retries, api::find_leads(&filters, 1, 1), 1, 1)
}

/// The id of the first lead of a query's answer: `Ok(None)` when there is none.
pub(crate) fn first_id<V: Value>(
    answer: Result<Answer<V>, VoxError>,
) -> Result<Option<String>, VoxError> {
    match answer? {
        Answer::Page(p) => Ok(p.ids.into_iter().flatten().next()),
        _ => Err(VoxError::invalid_response("Not a page")),
    }
}

impl<V: Value> Check<V> {
    pub fn start() -> Self {
        Check::Budget(None)
    }

    fn count(retries: u32) -> Self {
        Check::Count(query(retries, api::find_leads(&[], 1, 1), 1, 1))
    }

    /// The plan once it is known; `inputs`: how many leads the bulk has.
    pub fn poll<H: Host<V = V>>(&mut self, cx: &mut Cx<'_, H>, inputs: usize) -> Option<&Plan> {
        let retries = cx.cfg().max_retries;
        loop {
            let next = match self {
                Check::Ready(plan) => return Some(plan),
                Check::Budget(call) => {
                    let Some(op) = cx.claim_op(Vec::new()) else {
                        *self = Check::count(retries);
                        continue;
                    };
                    let reply = cx.await_store(call, &op)?;
                    match reply {
                        Reply::Budget(_) => Check::Ready(Plan::Nothing),
                        _ => Check::count(retries),
                    }
                }
                Check::Count(req) => match req.poll(cx) {
                    Poll::Pending => return None,
                    Poll::Ready(Ok(Answer::Page(p))) => {
                        let total = p.total.unwrap_or(p.ids.len() as u64);
                        if total == 0 {
                            Check::Ready(Plan::Nothing)
                        } else if total.div_ceil(PAGE) <= inputs as u64 {
                            Check::Sync {
                                index: HashedMap::default(),
                                page: 1,
                                req: query(retries, api::find_leads(&[], 1, PAGE), 1, PAGE),
                            }
                        } else {
                            Check::Ready(Plan::PerLead)
                        }
                    }
                    Poll::Ready(Ok(_)) => {
                        Check::Ready(Plan::Unchecked(VoxError::invalid_response("Not a page")))
                    }
                    Poll::Ready(Err(f)) => Check::Ready(Plan::Unchecked(f.err)),
                },
                Check::Sync { index, page, req } => match req.poll(cx) {
                    Poll::Pending => return None,
                    Poll::Ready(Ok(Answer::Page(p))) => {
                        let col = |k: &str| p.leads.column(k);
                        let (phones, emails) = (col("phone"), col("email"));
                        let (refs, processes) = (col("referenceId"), col("processId"));
                        for (i, id) in p.ids.iter().enumerate() {
                            let Some(id) = id else { continue };
                            let at = |c: &Vec<Option<String>>| c.get(i).cloned().flatten();
                            let process = at(&processes).unwrap_or_default();
                            let keys = Keys::new(at(&phones).as_deref(), at(&emails).as_deref())
                                .with_reference(&process, at(&refs).as_deref());
                            for k in keys.each() {
                                index.insert(k, id.clone());
                            }
                        }
                        if !p.has_next_page || p.ids.is_empty() {
                            Check::Ready(Plan::Index(std::mem::take(index)))
                        } else {
                            *page += 1;
                            *req = query(retries, api::find_leads(&[], *page, PAGE), *page, PAGE);
                            continue;
                        }
                    }
                    Poll::Ready(Ok(_)) => {
                        Check::Ready(Plan::Unchecked(VoxError::invalid_response("Not a page")))
                    }
                    Poll::Ready(Err(f)) => Check::Ready(Plan::Unchecked(f.err)),
                },
            };
            *self = next;
        }
    }
}
