//! flowd's generic-rest runtime: turns a validated connection spec, a
//! connection's credentials, a source connection's parameters and a time
//! window into a stream of records.
//!
//! API boundary: this crate knows HTTP clients, authentication, pagination
//! and record extraction. It knows nothing of the store, of flowd's own HTTP
//! API or of datasets: callers hand it a [`flowd_spec::FetchConfig`] and get
//! pages of records back, and persist refreshed OAuth tokens through a
//! callback.

pub mod auth;
pub mod cause;
pub mod explain;
pub mod extract;
pub mod http;
mod page_text;
pub mod pagination;
pub mod plan;
pub mod request;
pub mod run;
pub mod secret;
pub mod trial;
pub mod upstream;
pub mod window;

pub use auth::{
    AuthSession, AuthSessions, ConnectionAuth, RefreshedTokens, TokenCallback, TokenStore,
    resolve_connection_auth,
};
pub use cause::{Retry, RetryCause, TransportCause};
pub use explain::RunWarning;
pub use http::{FetchError, HttpClient, HttpOptions};
pub use plan::{
    Credentials, PrepareError, PreparedAuth, RunInputs, prepare_auth, prepare_run,
    probe_credentials,
};
pub use run::{Page, RunError, RunEvent, RunLimits, RunPlan, RunSummary, StopCause, run};
pub use upstream::{NetRule, UpstreamPolicy, UpstreamRefused};
pub use window::Window;
