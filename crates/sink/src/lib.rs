//! Datasets as Parquet files on local disk.
//!
//! `flowd-sink` takes records (`serde_json::Value` objects) and writes them
//! as batches of Parquet files; it reads them back for `flowd dataset` and
//! Catalog. It knows nothing of HTTP, of the store or of the runtime.
//!
//! # Layout
//!
//! ```text
//! <datasets_root>/
//!   <dataSetId>/
//!     batch-<batchId>/            one directory per batch (flowd: per run)
//!       part-00000.parquet        one file per schema of the batch
//!       part-00001.parquet        (a row group that widened the schema)
//!       _flowd_batch.json         manifest: run, ingestion time, files, counts
//!   .flowd-staging/               batches being written, and replaced ones
//!     <dataSetId>.<batchId>.<uuid>/part-00000.parquet …
//! ```
//!
//! # Atomic visibility: why a batch directory, staged outside the dataset
//!
//! A batch may need several Parquet files (each file has one schema; see
//! [drift](#schema-drift-within-a-batch)), and several files cannot be
//! renamed at once — but one directory can. So a batch is written into a
//! staging directory, every file and the directory are fsynced, and the
//! directory is renamed to `<dataSetId>/batch-<batchId>` in one `rename`
//! (then the dataset directory is fsynced). The staging directory lives in
//! `<datasets_root>/.flowd-staging/`, *outside* the dataset directory: its
//! leading `.` makes pyarrow's dataset discovery skip it, and because it is
//! not under `<dataSetId>/` at all, DuckDB's
//! `read_parquet('datasets/<id>/**/*.parquet')` cannot match a staged file
//! whatever its glob does with hidden names. Reading every `*.parquet` under
//! `datasets/<dataSetId>/` therefore sees whole batches only. The directory
//! is named `batch-<id>` rather than `batchId=<id>` so that no reader infers
//! a Hive partition column from it. The manifest starts with `_` and is not
//! `*.parquet`, so readers skip it too.
//!
//! A retried batch (same `batch_id`) replaces the published one: on Linux
//! with one `renameat2(RENAME_EXCHANGE)` swap (readers see the old batch or
//! the new one), elsewhere by renaming the old one into the staging area and
//! the new one in (for an instant neither is visible). Either way no window
//! is ever visible twice. The superseded directory is then deleted. A writer
//! dropped before [`BatchWriter::commit`] deletes its staging directory; one
//! killed leaves it in `.flowd-staging/`, which [`Dataset::sweep_staging`]
//! removes at startup.
//!
//! # Schema inference and drift
//!
//! Types are inferred per row group with the rule documented in the `infer`
//! module and on [`merge_schemas`]: nested objects become structs, arrays
//! lists, numbers `Int64` or `Float64` (integer widens to float), nulls do
//! not decide, and any other conflict widens the column to `Utf8` holding
//! the value's JSON text. Every record also gets `_flowd_run_id` (`Utf8`)
//! and `_flowd_ingested_at` (timestamp, ms, UTC).
//!
//! ## Schema drift within a batch
//!
//! A batch starts from the dataset's merged schema, so types only widen over
//! time. Each row group is merged into the open file's schema; if that
//! changes the schema (a new column, `Int64 → Float64`, anything → `Utf8`),
//! the open file is closed and the row group starts a new file of the same
//! batch with the merged schema. Earlier files keep their narrower schema;
//! readers unify them (pyarrow `unify_schemas`/`ds.dataset(..., schema=)`,
//! DuckDB `union_by_name=true`), and [`Dataset::schema`] gives the merged one.

mod dataset;
mod error;
mod fsutil;
mod infer;
mod writer;

pub use dataset::{BatchFile, BatchInfo, Dataset};
pub use error::SinkError;
pub use infer::merge_schemas;
pub use writer::{BatchSummary, BatchWriter};

/// Column holding the id of the run that wrote the record.
pub const RUN_ID_COLUMN: &str = "_flowd_run_id";

/// Column holding when the record's batch began (timestamp, ms, UTC).
pub const INGESTED_AT_COLUMN: &str = "_flowd_ingested_at";

/// How a [`BatchWriter`] cuts row groups: at whichever limit comes first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriterOptions {
    /// Most records buffered before they are encoded as one row group.
    pub max_row_group_records: usize,
    /// Most (estimated) bytes of buffered records before they are encoded.
    pub max_row_group_bytes: usize,
}

impl Default for WriterOptions {
    fn default() -> WriterOptions {
        WriterOptions {
            max_row_group_records: 10_000,
            max_row_group_bytes: 64 * 1024 * 1024,
        }
    }
}
