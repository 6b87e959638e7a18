//! The data routes: one per pagination style, plus POST search and Mailchimp.
//!
//! Every route serves the same dataset, restricted by the window parameters
//! when present, and writes its body straight into a `String` (see
//! `dataset`). Positions inside continuation tokens and pointers are opaque
//! base64url strings so that a runtime cannot get away with computing them.

use std::fmt::Write as _;
use std::ops::Range;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use crate::dataset::{Selection, parse_time};
use crate::request::decode_pairs;
use crate::scenario::{CursorEnd, LastPointer, PointerStyle, TokenLocation};
use crate::state::{AppState, Reject, Shared, json_response};

/// Mailchimp's documented default `count`.
const MAILCHIMP_DEFAULT_COUNT: usize = 10;

/// Decoded query parameters, in order.
struct Params(Vec<(String, String)>);

impl Params {
    fn new(raw: Option<String>) -> Self {
        Params(decode_pairs(raw.as_deref().unwrap_or("")))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A non-negative integer parameter, `default` when absent.
    fn number(&self, name: &str, default: usize) -> Result<usize, Reject> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v.trim().parse().map_err(|_| {
                bad_request(&format!("{name} must be a non-negative integer, got {v:?}"))
            }),
        }
    }

    /// A page size: a positive integer, `default` when absent.
    fn size(&self, name: &str, default: usize) -> Result<usize, Reject> {
        match self.number(name, default)? {
            0 => Err(bad_request(&format!("{name} must be positive"))),
            n => Ok(n),
        }
    }
}

fn bad_request(message: &str) -> Reject {
    Reject::new(StatusCode::BAD_REQUEST, message)
}

fn encode_token(pos: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("pos:{pos}"))
}

fn decode_token(token: &str) -> Result<usize, Reject> {
    URL_SAFE_NO_PAD
        .decode(token.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("pos:").and_then(|n| n.parse().ok()))
        .ok_or_else(|| bad_request(&format!("invalid cursor {token:?}")))
}

fn decode_key(token: &str) -> Result<i64, Reject> {
    URL_SAFE_NO_PAD
        .decode(token.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("key:").and_then(|n| n.parse().ok()))
        .ok_or_else(|| bad_request(&format!("invalid cursor {token:?}")))
}

/// A JSON string literal.
fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// Which selected records one response carries.
struct Slice {
    range: Range<usize>,
    /// Position of the next page's first record, if the response announces one.
    next: Option<usize>,
    /// Zero-based page number, for the `bad_page` fault.
    page: usize,
}

impl Shared {
    /// The window restriction from the query parameters.
    fn selection(&self, p: &Params) -> Result<Selection, Reject> {
        let bound = |name: &str| {
            p.get(name)
                .map(parse_time)
                .transpose()
                .map_err(|e| bad_request(&format!("{name}: {e}")))
        };
        let since = bound(&self.scenario.window.since_param)?;
        let before = bound(&self.scenario.window.before_param)?;
        Ok(self.dataset().select(since, before))
    }

    /// The page size the server uses for a request asking `requested`: at most
    /// [`Faults::max_page_size`](crate::Faults::max_page_size), like APIs that cap `limit`
    /// without saying so.
    fn page_size(&self, requested: usize) -> usize {
        self.scenario
            .faults
            .max_page_size
            .map_or(requested, |cap| requested.min(cap.max(1)))
    }

    /// Page `[start, start+size)` of `total`, honouring the repeat-last-page bug.
    fn paginate(&self, total: usize, start: usize, size: usize) -> Slice {
        if self.scenario.faults.repeat_last_page && total > 0 && start.saturating_add(size) >= total
        {
            // The buggy server keeps answering its last page and pointing at itself.
            let start = if start >= total {
                (total - 1) / size * size
            } else {
                start
            };
            return Slice {
                range: start..total,
                next: Some(start),
                page: start / size,
            };
        }
        let end = start.saturating_add(size).min(total);
        Slice {
            range: start.min(total)..end,
            next: (end < total).then_some(end),
            page: start / size,
        }
    }

    /// Renders `[...]` of the slice's records.
    fn write_array(&self, out: &mut String, sel: &Selection, range: Range<usize>) {
        out.push('[');
        self.dataset().write_records(out, sel, range, None);
        out.push(']');
    }

    fn body_buffer(&self, records: usize) -> String {
        String::with_capacity(records * 340 + 256)
    }
}

/// Unwraps a `Result<T, Reject>` or returns the rejection as the response.
macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(reject) => return axum::response::IntoResponse::into_response(reject),
        }
    };
}

/// `GET /offset?limit=&offset=` → `{"items", "total_items", "has_more"}`.
pub(crate) async fn offset(
    State(st): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    tri!(st.gate(&headers));
    let p = Params::new(q);
    let o = &st.scenario.offset;
    let size = st.page_size(tri!(p.size(&o.limit_param, st.scenario.default_page_size)));
    let start = tri!(p.number(&o.offset_param, 0));
    let sel = tri!(st.selection(&p));
    let slice = st.paginate(sel.len(), start, size);
    let mut out = st.body_buffer(slice.range.len());
    out.push_str(r#"{"items":"#);
    st.write_array(&mut out, &sel, slice.range);
    let _ = write!(
        out,
        r#","total_items":{},"has_more":{}}}"#,
        sel.len(),
        slice.next.is_some()
    );
    st.page_response(slice.page, out, None)
}

/// `GET /pointer?limit=` → `{"data", "paging": {"next"}}`.
pub(crate) async fn pointer(
    State(st): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    tri!(st.gate(&headers));
    let p = Params::new(q);
    let o = &st.scenario.pointer;
    let size = st.page_size(tri!(p.size(&o.limit_param, st.scenario.default_page_size)));
    let token_param = match &o.style {
        PointerStyle::Token { param } => param.as_str(),
        PointerStyle::AbsoluteUrl | PointerStyle::RelativeUrl => "cursor",
    };
    let start = match p.get(token_param) {
        Some(t) => tri!(decode_token(t)),
        None => 0,
    };
    let sel = tri!(st.selection(&p));
    let slice = st.paginate(sel.len(), start, size);
    let mut out = st.body_buffer(slice.range.len());
    out.push_str(r#"{"data":"#);
    st.write_array(&mut out, &sel, slice.range);
    out.push_str(r#","paging":{"#);
    match slice.next {
        Some(next) => {
            let token = encode_token(next);
            let value = match &o.style {
                PointerStyle::Token { .. } => token,
                style => {
                    // Keep every other parameter (limit, window) like real APIs do.
                    let mut query = form_urlencoded::Serializer::new(String::new());
                    for (k, v) in p.0.iter().filter(|(k, _)| k != token_param) {
                        query.append_pair(k, v);
                    }
                    query.append_pair(token_param, &token);
                    let base = if *style == PointerStyle::AbsoluteUrl {
                        st.base_url.as_str()
                    } else {
                        ""
                    };
                    format!("{base}/pointer?{}", query.finish())
                }
            };
            let _ = write!(out, r#""next":{}"#, json_str(&value));
        }
        None => match o.last {
            LastPointer::Null => out.push_str(r#""next":null"#),
            LastPointer::Absent => {}
            LastPointer::EmptyString => out.push_str(r#""next":"""#),
        },
    }
    out.push_str("}}");
    st.page_response(slice.page, out, None)
}

/// `GET /cursor` → `{"results", "meta": {"after_cursor", "has_more"}}`.
pub(crate) async fn cursor(
    State(st): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    tri!(st.gate(&headers));
    let p = Params::new(q);
    let o = &st.scenario.cursor;
    let size = st.page_size(tri!(p.size(&o.size_param, st.scenario.default_page_size)));
    let token = match &o.token {
        TokenLocation::Query(name) => p.get(name).map(str::to_owned),
        TokenLocation::Header(name) => headers
            .get(name.as_str())
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()),
    };
    let sel = tri!(st.selection(&p));
    let start = match token {
        // A keyset cursor: the first record whose id is past the one the token names.
        Some(t) if o.keyset => {
            let after = tri!(decode_key(&t));
            let dataset = st.dataset();
            (0..sel.len())
                .find(|&pos| dataset.key(sel.index(pos)).is_some_and(|key| key > after))
                .unwrap_or(sel.len())
        }
        Some(t) => tri!(decode_token(&t)),
        None => 0,
    };
    let slice = st.paginate(sel.len(), start, size);
    // The token of a position: the position itself, or (keyset) the id of the record before it.
    let token_for = |position: usize| -> String {
        if o.keyset {
            let key = position
                .checked_sub(1)
                .and_then(|last| st.dataset().key(sel.index(last)))
                .unwrap_or(i64::MIN);
            URL_SAFE_NO_PAD.encode(format!("key:{key}"))
        } else {
            encode_token(position)
        }
    };
    let mut out = st.body_buffer(slice.range.len());
    out.push_str(r#"{"results":"#);
    let end = slice.range.end;
    st.write_array(&mut out, &sel, slice.range);
    match (slice.next, o.end) {
        (Some(next), _) => {
            let _ = write!(
                out,
                r#","meta":{{"after_cursor":"{}","has_more":true}}}}"#,
                token_for(next)
            );
        }
        (None, CursorEnd::NullCursor) => {
            out.push_str(r#","meta":{"after_cursor":null,"has_more":false}}"#)
        }
        (None, CursorEnd::HasMoreFalse) => {
            let _ = write!(
                out,
                r#","meta":{{"after_cursor":"{}","has_more":false}}}}"#,
                token_for(end)
            );
        }
    }
    st.page_response(slice.page, out, None)
}

/// `GET /page?page=&per_page=` → `{"records"}` plus a page-count header.
pub(crate) async fn page(
    State(st): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    tri!(st.gate(&headers));
    let p = Params::new(q);
    let o = &st.scenario.page;
    let size = st.page_size(tri!(
        p.size(&o.per_page_param, st.scenario.default_page_size)
    ));
    let index = tri!(p.number(&o.page_param, o.first_index));
    // A page below the first is answered as the first, as json-server does (`_page=0`).
    let zero_based = index.saturating_sub(o.first_index);
    let sel = tri!(st.selection(&p));
    let slice = st.paginate(sel.len(), zero_based.saturating_mul(size), size);
    let mut out = st.body_buffer(slice.range.len());
    out.push_str(r#"{"records":"#);
    st.write_array(&mut out, &sel, slice.range);
    out.push('}');
    let pages = sel.len().div_ceil(size);
    st.page_response(
        slice.page,
        out,
        Some((&o.page_count_header, pages.to_string())),
    )
}

/// `GET /none` → `{"records": [everything]}`.
pub(crate) async fn none(
    State(st): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    tri!(st.gate(&headers));
    let p = Params::new(q);
    let sel = tri!(st.selection(&p));
    let mut out = st.body_buffer(sel.len());
    out.push_str(r#"{"records":"#);
    st.write_array(&mut out, &sel, 0..sel.len());
    out.push('}');
    st.page_response(0, out, None)
}

/// `GET /array` → `[everything]`: a bare array, as json-server answers (no wrapper object).
pub(crate) async fn array(
    State(st): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    tri!(st.gate(&headers));
    let p = Params::new(q);
    let sel = tri!(st.selection(&p));
    let mut out = st.body_buffer(sel.len());
    st.write_array(&mut out, &sel, 0..sel.len());
    st.page_response(0, out, None)
}

/// `POST /search` with `{"query", "cursor", "limit"}` → `{"results", "next_cursor"}`.
///
/// The cursor may also come as query parameter `cursor` and the limit as
/// `limit`, for specs that page a POST with query parameters.
pub(crate) async fn search(
    State(st): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    body: String,
) -> Response {
    tri!(st.gate(&headers));
    let p = Params::new(q);
    let req: Value = if body.trim().is_empty() {
        Value::Object(Default::default())
    } else {
        tri!(
            serde_json::from_str(&body).map_err(|e| bad_request(&format!("body is not JSON: {e}")))
        )
    };
    let size = match req.get("limit").and_then(Value::as_u64) {
        Some(0) => return bad_request("limit must be positive").into_response(),
        Some(n) => st.page_size(usize::try_from(n).unwrap_or(usize::MAX)),
        None => st.page_size(tri!(p.size("limit", st.scenario.default_page_size))),
    };
    let start = match req
        .get("cursor")
        .and_then(Value::as_str)
        .or_else(|| p.get("cursor"))
    {
        Some(t) => tri!(decode_token(t)),
        None => 0,
    };
    let sel = tri!(st.selection(&p));
    let slice = st.paginate(sel.len(), start, size);
    let mut out = st.body_buffer(slice.range.len());
    out.push_str(r#"{"results":"#);
    st.write_array(&mut out, &sel, slice.range);
    match slice.next {
        Some(next) => {
            let _ = write!(out, r#","next_cursor":"{}"}}"#, encode_token(next));
        }
        None => out.push_str(r#","next_cursor":null}"#),
    }
    st.page_response(slice.page, out, None)
}

/// `GET /3.0/lists/{list_id}/members?count=&offset=&since_last_changed=&before_last_changed=`.
pub(crate) async fn mailchimp_members(
    State(st): State<AppState>,
    Path(list_id): Path<String>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    tri!(st.gate(&headers));
    if !st.scenario.list_ids.contains(&list_id) {
        // Mailchimp answers with an RFC 7807 problem document.
        let body = serde_json::json!({
            "type": "https://mailchimp.com/developer/marketing/docs/errors/",
            "title": "Resource Not Found",
            "status": 404,
            "detail": "The requested resource could not be found.",
            "instance": "",
            "error": "list not found",
        });
        return json_response(StatusCode::NOT_FOUND, body.to_string());
    }
    let p = Params::new(q);
    let size = st.page_size(tri!(p.size("count", MAILCHIMP_DEFAULT_COUNT)));
    let start = tri!(p.number("offset", 0));
    let sel = tri!(st.selection(&p));
    let slice = st.paginate(sel.len(), start, size);
    let list_href = format!("{}/3.0/lists/{list_id}/members", st.base_url);
    let list_json = json_str(&list_id);
    // Escape the href prefix once; per member only a number is appended.
    let href_json = json_str(&format!("{list_href}/"));
    let href_prefix = &href_json[..href_json.len() - 1];
    let member_extra = |out: &mut String, index: usize| {
        let _ = write!(
            out,
            r#""list_id":{list_json},"_links":[{{"rel":"self","href":{href_prefix}{}","method":"GET"}}]"#,
            index + 1,
        );
    };
    let mut out = st.body_buffer(slice.range.len());
    out.push_str(r#"{"members":["#);
    st.dataset()
        .write_records(&mut out, &sel, slice.range, Some(&member_extra));
    let _ = write!(
        out,
        r#"],"list_id":{list_json},"total_items":{},"_links":[{{"rel":"self","href":{},"method":"GET"}},{{"rel":"parent","href":{},"method":"GET"}}]}}"#,
        sel.len(),
        json_str(&list_href),
        json_str(&format!("{}/3.0/lists/{list_id}", st.base_url)),
    );
    st.page_response(slice.page, out, None)
}

/// `GET /echo?status=&pad=` → the careless upstream: answers `status` (default 400) with `pad`
/// bytes of `x`, then the request's `Authorization` header as received, then 400 bytes of `y` —
/// so a test can put a credential at any offset of an error body.
pub(crate) async fn echo(headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let p = Params::new(q);
    let status = tri!(p.number("status", 400));
    let pad = tri!(p.number("pad", 0));
    let Ok(status) = StatusCode::from_u16(u16::try_from(status).unwrap_or(0)) else {
        return bad_request("status is not an HTTP status").into_response();
    };
    let credential = headers
        .get(axum::http::header::AUTHORIZATION)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
        .unwrap_or_default();
    let body = format!("{}{credential}{}", "x".repeat(pad), "y".repeat(400));
    (status, body).into_response()
}

/// `ANY /redirect?to=URL[&status=307]` → a redirect (302 unless `status` says 301, 303, 307
/// or 308) to `URL`, so a test can point a request anywhere; 307 and 308 ask the client to
/// send the same method and body again.
pub(crate) async fn redirect(RawQuery(q): RawQuery) -> Response {
    let p = Params::new(q);
    let Some(target) = p.get("to") else {
        return bad_request("to is required").into_response();
    };
    let status = match p.get("status") {
        None | Some("302") => StatusCode::FOUND,
        Some("301") => StatusCode::MOVED_PERMANENTLY,
        Some("303") => StatusCode::SEE_OTHER,
        Some("307") => StatusCode::TEMPORARY_REDIRECT,
        Some("308") => StatusCode::PERMANENT_REDIRECT,
        Some(other) => {
            return bad_request(&format!("status {other} is not a redirect")).into_response();
        }
    };
    (status, [(axum::http::header::LOCATION, target.to_owned())]).into_response()
}
