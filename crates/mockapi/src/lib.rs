//! In-process mock REST APIs for flowd's tests and benchmarks.
//!
//! [`MockApi::start`] binds an axum server to `127.0.0.1:0` serving one
//! [`Scenario`]: a dataset, the credentials it demands, how each route names
//! its parameters, and which faults to inject. Every request is recorded
//! ([`MockApi::requests`]) so tests can assert the exact request sequence a
//! runtime sends.
//!
//! # Routes
//! All data routes serve the same records, restricted to
//! `since_last_changed <= last_changed < before_last_changed` when those
//! query parameters (names in [`WindowOptions`]) are present.
//!
//! | Route | Response |
//! | --- | --- |
//! | `GET /offset?limit=&offset=` | `{"items": [...], "total_items": N, "has_more": bool}` |
//! | `GET /pointer?limit=` | `{"data": [...], "paging": {"next": url-or-token}}` ([`PointerOptions`]) |
//! | `GET /cursor?page[size]=` + token `page[after]` | `{"results": [...], "meta": {"after_cursor": t, "has_more": bool}}` ([`CursorOptions`]) |
//! | `GET /page?page=&per_page=` | `{"records": [...]}` + header `x-pagecount` ([`PageOptions`]) |
//! | `GET /none` | `{"records": [all]}` |
//! | `GET /array` | `[all]`: a bare array, no wrapper object |
//! | `POST /search` body `{"query","cursor","limit"}` | `{"results": [...], "next_cursor": t-or-null}` |
//! | `GET /3.0/lists/{id}/members?count=&offset=` | `{"members": [...], "list_id", "total_items", "_links"}`; unknown id → 404 |
//! | `POST`/`GET /oauth/token` | `{"access_token", "refresh_token", "expires_in", "token_type"}` ([`OAuthOptions`]) |
//! | `GET /auth/test` | 200 `{"ok":true}` with valid credentials, else 401 |
//! | `ANY /redirect?to=URL[&status=307]` | a redirect (302 by default) to `URL` |
//! | `GET /echo?status=&pad=` | `status` (default 400), body: `pad` bytes, the request's `Authorization`, 400 bytes |
//!
//! [`DemoApi`] serves these routes on one port under four prefixes, one per way of checking
//! credentials: flowd's demo upstream (`flowd demo-api`).
//!
//! Beyond the routes: [`Faults`] inject latency, failures at the start or in the middle of a
//! run (`bad_page`), a repeating last page, route errors and a silent page-size cap
//! (`max_page_size`) and records created and deleted while a client pages (`changes`);
//! [`Transport`] sends pages gzip-compressed, chunked, or stalling mid-body.
//!
//! Errors are JSON `{"error": ..., "status": N}`: 400 for malformed parameters
//! (non-numeric limits, zero page sizes, bad cursors, unparseable window
//! bounds), 401 for bad credentials, 404 for unknown paths.

// Every public item is documented: other crates' tests are written against this API.
#![warn(missing_docs)]

mod dataset;
mod demo;
mod oauth;
mod request;
mod routes;
mod scenario;
mod server;
mod state;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use dataset::{
    GENERATED_EPOCH_SECS, GENERATED_STEP_SECS, generated_last_changed, generated_record, parse_time,
};
pub use demo::{
    DEMO_ACCESS_TOKEN, DEMO_API_KEY, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_KEY_HEADER,
    DEMO_PASSWORD, DEMO_REFRESH_TOKEN, DEMO_USERNAME, DemoApi, DemoOptions,
};
pub use request::RecordedRequest;
pub use scenario::{
    Auth, BadBody, BadPage, CursorEnd, CursorOptions, DEFAULT_LIST_ID, DatasetChange, FailFirst,
    Faults, LastPointer, OAuthOptions, OffsetOptions, PageOptions, PointerOptions, PointerStyle,
    Records, RetryAfter, RouteError, Scenario, StalledBody, TokenFields, TokenLocation, Transport,
    WindowOptions,
};

use state::Shared;

/// A running mock server. Dropping it stops the server (in-flight requests
/// finish first); [`MockApi::shutdown`] does the same and waits for it.
pub struct MockApi {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl MockApi {
    /// Starts serving `scenario` on `127.0.0.1:0`, on the current tokio runtime.
    ///
    /// # Panics
    /// If no loopback port can be bound (tests cannot proceed anyway).
    pub async fn start(scenario: Scenario) -> MockApi {
        let addr = SocketAddr::from(([127, 0, 0, 1], 0));
        Self::start_on(scenario, addr)
            .await
            .expect("bind 127.0.0.1:0 for the mock API")
    }

    /// Starts serving `scenario` on `addr` (port 0 picks a free port).
    pub async fn start_on(scenario: Scenario, addr: SocketAddr) -> std::io::Result<MockApi> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(scenario, format!("http://{addr}")));
        let app = server::router(shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let shutdown = async {
                // Either an explicit stop or the MockApi being dropped ends the server.
                let _ = stopped.await;
            };
            // Accept errors are transient per connection; serve only returns on shutdown.
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await;
        });
        Ok(MockApi {
            shared,
            addr,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// `base_url() + path`; `path` should start with `/`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.shared.base_url)
    }

    /// The bound socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request received since start (or the last [`clear_requests`](Self::clear_requests)),
    /// in arrival order. Empty when [`Scenario::record_requests`] is false.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.recorded().clone()
    }

    /// Number of requests received since start or the last clear, counted
    /// even when recording is off.
    pub fn request_count(&self) -> usize {
        self.shared.request_count.load(Ordering::SeqCst)
    }

    /// Forgets recorded requests and resets the request counter. Fault
    /// counters (`fail_first`, `bad_page.times`) are not reset.
    pub fn clear_requests(&self) {
        let mut recorded = self.shared.recorded();
        recorded.clear();
        self.shared.request_count.store(0, Ordering::SeqCst);
    }

    /// The access token currently accepted, `None` while expired.
    pub fn access_token(&self) -> Option<String> {
        self.shared.tokens().access.clone()
    }

    /// The refresh token the token endpoint currently accepts.
    pub fn refresh_token(&self) -> String {
        self.shared.tokens().refresh.clone()
    }

    /// How many successful refreshes the token endpoint has performed.
    pub fn token_refreshes(&self) -> u64 {
        self.shared.refreshes.load(Ordering::SeqCst)
    }

    /// Invalidates the current access token, so the next bearer request gets
    /// 401 until the client refreshes (simulates expiry mid-run).
    pub fn expire_access_token(&self) {
        self.shared.tokens().access = None;
    }

    /// Stops the server and waits until it has finished in-flight requests.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for MockApi {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl std::fmt::Debug for MockApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockApi")
            .field("base_url", &self.shared.base_url)
            .finish_non_exhaustive()
    }
}
