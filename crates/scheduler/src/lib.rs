//! flowd's scheduler: enqueues due windows of enabled flows as runs ([`planner`]), and
//! executes claimed runs into datasets ([`worker`], [`executor`], [`batch`]) through
//! `flowd-connector` (writing their [`progress`] as they go) and a `flowd_sink::DatasetStore`, records shaped by the flow's Data Prep
//! mapping set when it names one ([`mapping`]) and converted into the dataset's XDM schema
//! when it has one, with rejected records counted against partial ingestion ([`promotion`]); removes deleted datasets' files ([`janitor`]); the metrics it exports are named in [`telemetry`].
//!
//! **API boundary:** knows the store, the runtime and the dataset store; knows nothing of HTTP
//! or of AEP's wire shapes (a run's outcome is stored typed; the API presents it). Schedules
//! themselves (the windows of a flow) are pure and live in `flowd_model::schedule`; the
//! credentials and the typed resource chain of a run come from `flowd-plan`.

pub mod batch;
pub mod executor;
pub mod janitor;
pub mod mapping;
pub mod planner;
pub mod progress;
pub mod promotion;
mod stream;
pub mod telemetry;
pub mod worker;
