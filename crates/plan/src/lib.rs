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
//! * [`schemas`]: Schema Registry schemas found by `$id` or `meta:altId`, the schemas their
//!   `$ref`s name fetched from the store, and a dataset's XDM schema ([`dataset_schema`]).
//!
//! **API boundary:** knows the store, the cipher and the typed model; knows nothing of HTTP
//! status codes or AEP wire shapes (the API presents), nor of datasets' files (the scheduler
//! writes them).

pub mod chain;
pub mod credentials;
pub mod keys;
pub mod schemas;

pub use chain::{ConnectionChain, FlowChain, LoadError, load_connection, load_flow};
pub use credentials::ConnectionTokens;
pub use schemas::{ReferencedSchemas, dataset_schema, find_schema, referenced_schemas};
