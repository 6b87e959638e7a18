//! flowd's middle: what turns stored resources into something that runs, shared by the API
//! (explore, connection tests, credential probes) and the scheduler (runs) so neither owns it.
//!
//! * [`credentials`]: connection secrets sealed at rest, opened for a run, masked for clients,
//!   and OAuth tokens refreshed by the runtime written back, sealed, before they are used
//!   ([`ConnectionTokens`]).
//! * [`keys`]: the secret key checked against the store at start-up, and rotated.
//! * [`chain`]: the typed resources behind a connection or a flow, loaded from the store and
//!   resolved with `flowd_model`, credentials opened; the caller hands them to
//!   `flowd_connector::prepare_run`.
//!
//! **API boundary:** knows the store, the cipher and the typed model; knows nothing of HTTP
//! status codes or AEP wire shapes (the API presents), nor of datasets (the scheduler writes).

pub mod chain;
pub mod credentials;
pub mod keys;

pub use chain::{ConnectionChain, FlowChain, LoadError, load_connection, load_flow};
pub use credentials::ConnectionTokens;
