//! The demo upstream that ships with flowd (`flowd demo-api`, and the `flowd-mockapi` benchmark
//! binary): one listener serving the generated records four times over, once per way of
//! checking credentials.
//!
//! | Prefix | Credentials |
//! | --- | --- |
//! | (none) | none |
//! | `/basic` | HTTP Basic, [`DEMO_USERNAME`] / [`DEMO_PASSWORD`] |
//! | `/oauth2` | `Bearer` token; the first one is already expired, so a client refreshes it at `/oauth2/oauth/token` with [`DEMO_REFRESH_TOKEN`], [`DEMO_CLIENT_ID`] and [`DEMO_CLIENT_SECRET`] |
//! | `/key` | header [`DEMO_KEY_HEADER`]: [`DEMO_API_KEY`] |
//!
//! Under every prefix the routes of the crate docs answer (`/offset`, `/page`, `/pointer`,
//! `/cursor`, `/none`, ...), each prefix with its own state (tokens, request counters) over
//! the same records. Requests are not recorded, so memory stays flat however long it runs.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::scenario::{Auth, OAuthOptions, Scenario};
use crate::server;
use crate::state::Shared;

/// The demo's Basic user name.
pub const DEMO_USERNAME: &str = "demo";
/// The demo's Basic password.
pub const DEMO_PASSWORD: &str = "demo-password";
/// The header carrying the demo's API key.
pub const DEMO_KEY_HEADER: &str = "x-api-key";
/// The demo's API key.
pub const DEMO_API_KEY: &str = "demo-key";
/// The demo's first access token: already expired, so the first request is refused with 401.
pub const DEMO_ACCESS_TOKEN: &str = "demo-expired-access-token";
/// The demo's refresh token (not rotated: every refresh keeps accepting it).
pub const DEMO_REFRESH_TOKEN: &str = "demo-refresh-token";
/// The demo's OAuth2 client id.
pub const DEMO_CLIENT_ID: &str = "demo-client";
/// The demo's OAuth2 client secret.
pub const DEMO_CLIENT_SECRET: &str = "demo-client-secret";

/// What the demo serves.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Generated records under every prefix.
    pub records: usize,
    /// Page size when a request names none.
    pub page_size: usize,
    /// Delay added to every answer.
    pub latency: Duration,
    /// Socket address (port 0 picks a free one).
    pub listen: SocketAddr,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self {
            records: 1000,
            page_size: 100,
            latency: Duration::ZERO,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    }
}

/// A running demo API; dropping it stops the server.
pub struct DemoApi {
    addr: SocketAddr,
    options: DemoOptions,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

/// The prefixes and what each checks.
fn prefixes() -> [(&'static str, Auth); 4] {
    [
        ("", Auth::None),
        (
            "/basic",
            Auth::Basic {
                username: DEMO_USERNAME.into(),
                password: DEMO_PASSWORD.into(),
            },
        ),
        ("/oauth2", Auth::Bearer),
        (
            "/key",
            Auth::ApiKeys(vec![(DEMO_KEY_HEADER.into(), DEMO_API_KEY.into())]),
        ),
    ]
}

impl DemoApi {
    /// Binds `options.listen` and serves on the current tokio runtime.
    pub async fn start(options: DemoOptions) -> std::io::Result<DemoApi> {
        let listener = TcpListener::bind(options.listen).await?;
        let addr = listener.local_addr()?;
        let mut app = Router::new();
        for (prefix, auth) in prefixes() {
            let mut scenario = Scenario::generated(options.records)
                .with_default_page_size(options.page_size)
                .with_latency(options.latency);
            // Set directly: `with_oauth` would also demand bearer tokens.
            scenario.oauth = OAuthOptions {
                access_token: DEMO_ACCESS_TOKEN.into(),
                start_expired: true,
                refresh_token: DEMO_REFRESH_TOKEN.into(),
                client_id: DEMO_CLIENT_ID.into(),
                client_secret: DEMO_CLIENT_SECRET.into(),
                rotate_refresh_token: false,
                ..OAuthOptions::default()
            };
            scenario.auth = auth;
            scenario.record_requests = false;
            let shared = Arc::new(Shared::new(scenario, format!("http://{addr}{prefix}")));
            let routes = server::router(shared);
            app = if prefix.is_empty() {
                app.merge(routes)
            } else {
                app.nest(prefix, routes)
            };
        }
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(DemoApi {
            addr,
            options,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// What it serves, in words: the routes per pagination style and the credentials per prefix.
    pub fn describe(&self) -> String {
        let base = self.base_url();
        let o = &self.options;
        format!(
            "flowd demo API on {base}: {records} generated records (page size {size} unless a \
             request names one{latency})\n\
             \n\
             Routes (under every prefix below):\n\
             \x20 OFFSET              GET /offset?limit=&offset=            {{\"items\": [...], \"total_items\": N, \"has_more\": bool}}\n\
             \x20 PAGE                GET /page?page=&per_page=             {{\"records\": [...]}}, pages from 0, header x-pagecount\n\
             \x20 POINTER             GET /pointer?limit=                   {{\"data\": [...], \"paging\": {{\"next\": URL or null}}}}\n\
             \x20 CONTINUATION_TOKEN  GET /cursor?page[size]=&page[after]=  {{\"results\": [...], \"meta\": {{\"after_cursor\", \"has_more\"}}}}\n\
             \x20 NONE                GET /none                             {{\"records\": [all]}}\n\
             \x20 windows: every route keeps since_last_changed <= last_changed < before_last_changed (RFC 3339)\n\
             \x20 records: last_changed from 2024-01-01T00:00:00Z, one every 10 minutes\n\
             \n\
             Credentials, by prefix:\n\
             \x20 {base}          none\n\
             \x20 {base}/basic    BasicAuthentication: username {DEMO_USERNAME}, password {DEMO_PASSWORD}\n\
             \x20 {base}/oauth2   OAuth2RefreshCode: accessToken {DEMO_ACCESS_TOKEN} (expired), refreshToken {DEMO_REFRESH_TOKEN},\n\
             \x20                 clientId {DEMO_CLIENT_ID}, clientSecret {DEMO_CLIENT_SECRET}, accessTokenUrl {base}/oauth2/oauth/token\n\
             \x20 {base}/key      KeyBased: header {DEMO_KEY_HEADER}: {DEMO_API_KEY}\n\
             \x20 GET PREFIX/auth/test answers 200 with valid credentials, 401 without\n",
            records = o.records,
            size = o.page_size,
            latency = if o.latency.is_zero() {
                String::new()
            } else {
                format!(", {} ms latency", o.latency.as_millis())
            },
        )
    }

    /// Stops the server and waits until in-flight requests are done.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for DemoApi {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl std::fmt::Debug for DemoApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoApi")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}
