//! Shared state of the router: the store, the dataset store it reads files from, the limits,
//! and the cache of sandboxes already known to exist.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use std::time::Duration;

use flowd_connector::{HttpClient, HttpOptions, UpstreamPolicy};
use flowd_secrets::Cipher;
use flowd_store::Store;
use metrics_exporter_prometheus::PrometheusHandle;

/// Limits and options of the HTTP API.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Largest request body accepted, in bytes (413 above it).
    pub max_body_bytes: usize,
    /// Limit of one upstream request made while a client waits (probe, explore).
    pub upstream_timeout: Duration,
    /// Largest upstream response body read (`--max-page-bytes`).
    pub max_page_bytes: u64,
    /// Which upstream addresses probes and previews may reach.
    pub upstream: Arc<UpstreamPolicy>,
    /// Longest a client may take to send a request body (`--body-timeout-ms`; 408 past it).
    pub body_timeout: Duration,
    /// What this process does (`--role`); a worker serves only health, readiness and metrics.
    pub role: Role,
}

/// What a `flowd serve` process does: several processes sharing one store split the work.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Role {
    /// The API, the planner and the workers.
    #[default]
    All,
    /// The API only: no run is planned or executed here.
    Api,
    /// The planner and the workers; HTTP serves only `/healthz`, `/readyz` and `/metrics`.
    Worker,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::All => "all",
            Role::Api => "api",
            Role::Worker => "worker",
        }
    }

    /// Whether this process serves the Flow Service and Catalog API.
    pub fn serves_api(self) -> bool {
        self != Role::Worker
    }

    /// Whether this process plans and executes runs.
    pub fn runs(self) -> bool {
        self != Role::Api
    }
}

/// Default request body limit: 8 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

impl Default for ApiConfig {
    fn default() -> ApiConfig {
        ApiConfig {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            upstream_timeout: Duration::from_secs(30),
            max_page_bytes: HttpOptions::DEFAULT_MAX_BODY_BYTES,
            upstream: Arc::default(),
            body_timeout: Duration::from_secs(30),
            role: Role::All,
        }
    }
}

/// State shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub config: Arc<ApiConfig>,
    /// Encrypts connection credentials at rest.
    pub cipher: Arc<Cipher>,
    /// Client for credential probes and explore.
    pub http: HttpClient,
    /// (org id, sandbox name) → sandbox id, for sandboxes known to exist, so
    /// that only a sandbox's first request writes to the store.
    pub known_sandboxes: Arc<RwLock<HashMap<(String, String), String>>>,
    /// Renders `GET /metrics`; `None` (no recorder installed, as in tests)
    /// answers an empty exposition.
    pub metrics: Option<PrometheusHandle>,
    /// The process's OAuth sessions, one per connection, shared with the runs.
    pub sessions: flowd_connector::AuthSessions,
    /// Notified when a request makes a run due now (`POST /runs`, a re-trigger), so an idle
    /// worker of this process claims it at once instead of at its next poll.
    pub runs_due: Arc<tokio::sync::Notify>,
    /// Where the datasets' files are read for the Data Access routes (`None`: those routes
    /// answer that no file is served, as in tests without datasets). The API never writes one.
    pub datasets: Option<Arc<dyn flowd_sink::DatasetStore>>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, config: ApiConfig, cipher: Cipher) -> AppState {
        // Interactive calls (probes, previews) must answer while the user
        // waits: short timeouts and few retries.
        let http = HttpClient::new(HttpOptions {
            request_timeout: config.upstream_timeout,
            retries: 2,
            max_body_bytes: config.max_page_bytes,
            upstream: config.upstream.clone(),
            ..HttpOptions::default()
        })
        .expect("the HTTP client builds with static options");
        AppState {
            store,
            config: Arc::new(config),
            cipher: Arc::new(cipher),
            http,
            known_sandboxes: Arc::default(),
            metrics: None,
            sessions: flowd_connector::AuthSessions::default(),
            runs_due: Arc::default(),
            datasets: None,
        }
    }

    /// Serves the Data Access routes' files from `datasets` (the process's dataset store).
    pub fn with_datasets(mut self, datasets: Arc<dyn flowd_sink::DatasetStore>) -> AppState {
        self.datasets = Some(datasets);
        self
    }

    /// Shares `sessions` (the runs' OAuth sessions) with the API's previews and probes.
    pub fn with_sessions(mut self, sessions: flowd_connector::AuthSessions) -> AppState {
        self.sessions = sessions;
        self
    }

    /// Serves `GET /metrics` from `handle` (the process's Prometheus recorder).
    pub fn with_metrics(mut self, handle: PrometheusHandle) -> AppState {
        self.metrics = Some(handle);
        self
    }
}
