//! Shared state of the router: the store, the limits, and the cache of
//! sandboxes already known to exist.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use flowd_store::Store;

/// Limits and options of the HTTP API.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Largest request body accepted, in bytes (413 above it).
    pub max_body_bytes: usize,
}

/// Default request body limit: 8 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

impl Default for ApiConfig {
    fn default() -> ApiConfig {
        ApiConfig {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

/// State shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub config: Arc<ApiConfig>,
    /// (org id, sandbox name) → sandbox id, for sandboxes known to exist, so
    /// that only a sandbox's first request writes to the store.
    pub known_sandboxes: Arc<RwLock<HashMap<(String, String), String>>>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, config: ApiConfig) -> AppState {
        AppState {
            store,
            config: Arc::new(config),
            known_sandboxes: Arc::default(),
        }
    }
}
