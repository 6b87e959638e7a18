//! Shared server state and the checks every route goes through.
//!
//! Order of processing (the first two steps are `server`'s), chosen so tests can reason
//! about it:
//! 1. every request (any path) is recorded, then delayed by the latency fault;
//! 2. a configured route error answers before anything else on its path;
//! 3. data routes count the request, answer the `fail_first` fault while it
//!    lasts (so 429s happen even with bad credentials), then check auth;
//! 4. the route renders its page, which the `bad_page` fault may replace.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use futures::StreamExt as _;

use crate::dataset::Dataset;
use crate::request::RecordedRequest;
use crate::scenario::{Auth, BadBody, RetryAfter, Scenario};

/// Current OAuth state; mutated by the token endpoint and by tests.
pub(crate) struct Tokens {
    /// `None` when the access token is expired and nothing is accepted.
    pub(crate) access: Option<String>,
    pub(crate) refresh: String,
}

pub(crate) struct Shared {
    pub(crate) scenario: Scenario,
    /// Changed between requests by [`crate::Faults::changes`].
    pub(crate) dataset: std::sync::RwLock<Dataset>,
    pub(crate) base_url: String,
    pub(crate) requests: Mutex<Vec<RecordedRequest>>,
    pub(crate) request_count: AtomicUsize,
    pub(crate) data_requests: AtomicUsize,
    pub(crate) bad_pages_served: AtomicUsize,
    pub(crate) stalls_served: AtomicUsize,
    pub(crate) tokens: Mutex<Tokens>,
    pub(crate) refreshes: AtomicU64,
}

pub(crate) type AppState = Arc<Shared>;

impl Shared {
    pub(crate) fn new(scenario: Scenario, base_url: String) -> Self {
        let tokens = Tokens {
            access: (!scenario.oauth.start_expired).then(|| scenario.oauth.access_token.clone()),
            refresh: scenario.oauth.refresh_token.clone(),
        };
        Self {
            dataset: std::sync::RwLock::new(Dataset::new(&scenario.records)),
            scenario,
            base_url,
            requests: Mutex::new(Vec::new()),
            request_count: AtomicUsize::new(0),
            data_requests: AtomicUsize::new(0),
            bad_pages_served: AtomicUsize::new(0),
            stalls_served: AtomicUsize::new(0),
            tokens: Mutex::new(tokens),
            refreshes: AtomicU64::new(0),
        }
    }

    pub(crate) fn dataset(&self) -> std::sync::RwLockReadGuard<'_, Dataset> {
        self.dataset.read().unwrap_or_else(|e| e.into_inner())
    }

    fn dataset_mut(&self) -> std::sync::RwLockWriteGuard<'_, Dataset> {
        self.dataset.write().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn tokens(&self) -> std::sync::MutexGuard<'_, Tokens> {
        // A panicking handler cannot leave Tokens half-updated, so poison is harmless.
        self.tokens.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn recorded(&self) -> std::sync::MutexGuard<'_, Vec<RecordedRequest>> {
        self.requests.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Step 3 of the module docs: fault, then credentials.
    pub(crate) fn gate(&self, headers: &HeaderMap) -> Result<(), Reject> {
        let n = self.data_requests.fetch_add(1, Ordering::SeqCst);
        for change in &self.scenario.faults.changes {
            if change.before_request == n {
                self.dataset_mut().apply(change);
            }
        }
        if let Some(ff) = &self.scenario.faults.fail_first
            && n < ff.count
        {
            let status =
                StatusCode::from_u16(ff.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut reject = Reject::new(status, "injected failure");
            reject.retry_after = ff.retry_after.as_ref().map(|ra| match ra {
                RetryAfter::Seconds(s) => s.to_string(),
                RetryAfter::DateIn(d) => {
                    let at = jiff::Timestamp::now()
                        .as_second()
                        .saturating_add(d.as_secs() as i64);
                    let at = jiff::Timestamp::from_second(at).unwrap_or(jiff::Timestamp::MAX);
                    jiff::fmt::rfc2822::DateTimePrinter::new()
                        .timestamp_to_rfc9110_string(&at)
                        .unwrap_or_default()
                }
                RetryAfter::Raw(s) => s.clone(),
            });
            return Err(reject);
        }
        self.check_auth(headers)
    }

    /// Whether `headers` carry the scenario's credentials.
    pub(crate) fn check_auth(&self, headers: &HeaderMap) -> Result<(), Reject> {
        let authz = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let ok = match &self.scenario.auth {
            Auth::None => true,
            Auth::Basic { username, password } => {
                basic_credentials(authz).is_some_and(|(u, p)| u == *username && p == *password)
            }
            Auth::Bearer => {
                let given = authz.strip_prefix("Bearer ").map(str::trim);
                let tokens = self.tokens();
                given.is_some() && given == tokens.access.as_deref()
            }
            Auth::ApiKeys(keys) => keys.iter().all(|(name, value)| {
                headers.get(name.as_str()).and_then(|v| v.to_str().ok()) == Some(value.as_str())
            }),
        };
        if ok {
            Ok(())
        } else {
            Err(Reject::new(
                StatusCode::UNAUTHORIZED,
                "invalid or expired credentials",
            ))
        }
    }

    /// Serves a rendered page unless the `bad_page` fault claims it.
    /// A 200 page as [`crate::Transport`] says: gzip-compressed, chunked, stalled.
    fn transported(&self, page: usize, body: String) -> Response {
        let transport = &self.scenario.transport;
        let stall = transport.stalled_body.as_ref().filter(|stall| {
            stall.page == page
                && stall
                    .times
                    .is_none_or(|times| self.stalls_served.fetch_add(1, Ordering::SeqCst) < times)
        });
        if !transport.gzip && transport.chunk_bytes.is_none() && stall.is_none() {
            return json_response(StatusCode::OK, body);
        }
        let bytes = if transport.gzip {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            std::io::Write::write_all(&mut encoder, body.as_bytes()).expect("gzip to memory");
            encoder.finish().expect("gzip to memory")
        } else {
            body.into_bytes()
        };
        let chunk = transport.chunk_bytes.unwrap_or(bytes.len()).max(1);
        let mut pieces: Vec<(Vec<u8>, Option<std::time::Duration>)> = Vec::new();
        let mut rest = bytes.as_slice();
        if let Some(stall) = stall {
            let (before, after) = rest.split_at(stall.after_bytes.min(rest.len()));
            pieces.extend(before.chunks(chunk).map(|piece| (piece.to_vec(), None)));
            if let Some(last) = pieces.last_mut() {
                last.1 = Some(stall.pause);
            } else {
                pieces.push((Vec::new(), Some(stall.pause)));
            }
            rest = after;
        }
        pieces.extend(rest.chunks(chunk).map(|piece| (piece.to_vec(), None)));
        // Each piece goes out, then the body pauses where the stall says.
        let stream = futures::stream::iter(pieces).flat_map(|(piece, pause)| {
            let sent = futures::stream::once(async move {
                Ok::<_, std::io::Error>(axum::body::Bytes::from(piece))
            });
            let paused = futures::stream::once(async move {
                if let Some(pause) = pause {
                    tokio::time::sleep(pause).await;
                }
                Ok(axum::body::Bytes::new())
            });
            sent.chain(paused)
        });
        let mut response = Response::new(axum::body::Body::from_stream(stream));
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if transport.gzip {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        response
    }

    pub(crate) fn page_response(
        &self,
        page: usize,
        body: String,
        extra: Option<(&str, String)>,
    ) -> Response {
        if let Some(bad) = &self.scenario.faults.bad_page
            && bad.page == page
            && bad
                .times
                .is_none_or(|t| self.bad_pages_served.fetch_add(1, Ordering::SeqCst) < t)
        {
            let status = StatusCode::from_u16(bad.status).unwrap_or(StatusCode::OK);
            return match bad.body {
                BadBody::Html => (
                    status,
                    [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                    "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>\
                     <body><h1>Bad Gateway</h1><p>The upstream server failed.</p></body></html>",
                )
                    .into_response(),
                BadBody::TruncatedJson => {
                    let mut cut = body.len() / 2;
                    while !body.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    json_response(status, body[..cut].to_owned())
                }
            };
        }
        let mut resp = self.transported(page, body);
        if let Some((name, value)) = extra
            && let (Ok(n), Ok(v)) = (
                name.parse::<header::HeaderName>(),
                HeaderValue::from_str(&value),
            )
        {
            resp.headers_mut().insert(n, v);
        }
        resp
    }
}

/// A refusal from a check, rendered as [`json_error`] (kept small so that
/// `Result<_, Reject>` stays cheap to pass around, unlike a `Response`).
pub(crate) struct Reject {
    status: StatusCode,
    message: String,
    retry_after: Option<String>,
}

impl Reject {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            retry_after: None,
        }
    }
}

impl IntoResponse for Reject {
    fn into_response(self) -> Response {
        let mut resp = json_error(self.status, &self.message);
        if let Some(v) = self
            .retry_after
            .and_then(|v| HeaderValue::from_str(&v).ok())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}

/// `(username, password)` from an `Authorization: Basic ...` value.
pub(crate) fn basic_credentials(authz: &str) -> Option<(String, String)> {
    let encoded = authz.strip_prefix("Basic ")?.trim();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (u, p) = text.split_once(':')?;
    Some((u.to_owned(), p.to_owned()))
}

/// A response with a pre-rendered JSON body.
pub(crate) fn json_response(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// `{"error": message, "status": code}` with that status.
pub(crate) fn json_error(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({ "error": message, "status": status.as_u16() }).to_string();
    json_response(status, body)
}
