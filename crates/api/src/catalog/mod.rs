//! Catalog as AEP clients use it beyond `/dataSets` (which is `routes/datasets.rs`): the list
//! parameters every Catalog list takes (`params`), the committed batches under
//! `/data/foundation/catalog/batches` (`batches`), and the Data Access API under
//! `/data/foundation/export` that lists and streams a batch's Parquet files (`data_access`).

pub mod batches;
pub mod data_access;
pub mod params;
