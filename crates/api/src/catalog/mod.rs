//! Catalog as AEP clients use it beyond `/dataSets` (which is `routes/datasets.rs`): the list
//! parameters every Catalog list takes (`params`), the batches under
//! `/data/foundation/catalog/batches` (`batches`: committed ones, and failed ones known by
//! their error diagnostics), the diagnostics a batch's promotion left (`diagnostics`), and the
//! Data Access API under `/data/foundation/export` that lists and streams a batch's Parquet
//! files (`data_access`) and its error-diagnostics files (`error_files`).

pub mod batches;
pub mod data_access;
pub mod diagnostics;
pub mod error_files;
pub mod params;
