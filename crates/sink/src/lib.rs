//! Datasets as Parquet files, on local disk or on S3-compatible object storage.
//!
//! `flowd-sink` takes records (`serde_json::Value` objects) and writes them
//! as batches of Parquet files; it reads them back for `flowd dataset`. It
//! knows nothing of HTTP, of the store or of the runtime.
//!
//! Datasets are written through the [`DatasetStore`] trait, created once by
//! `flowd serve` and passed down; [`LocalDatasets`] (a directory on local
//! disk) and [`ObjectDatasets`] (a bucket and prefix, see `object.rs` for how a batch stays
//! atomic without a rename) are its implementations, [`open_datasets`] picks one from
//! `--datasets-url`, and the [`conformance`] suite (feature `conformance`) is what each
//! passes. The calls are blocking (file
//! IO and Parquet encoding): async callers run them on blocking threads.
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
//! A batch without records publishes nothing (no folder holding only a manifest, which a
//! `*/*.parquet` glob would choke on) and removes an earlier batch of its id.
//!
//! A retried batch (same `batch_id`) replaces the published one: on Linux
//! with one `renameat2(RENAME_EXCHANGE)` swap (readers see the old batch or
//! the new one), elsewhere by renaming the old one into the staging area and
//! the new one in (for an instant neither is visible). Either way no window
//! is ever visible twice. The superseded directory is then deleted. A writer
//! dropped before [`BatchWriter::commit`] deletes its staging directory; one
//! killed leaves it in `.flowd-staging/`, which [`Dataset::sweep_staging`]
//! removes at startup. A writer holds an exclusive `flock` on a lock file beside
//! its staging directory for as long as it lives (the kernel releases it when
//! the process dies), so a sweep by any process sharing the location skips a
//! live writer's batch.
//!
//! # Schema inference and drift
//!
//! Types are inferred per row group with the rule documented in
//! `flowd_model::record_type` (the same lattice explore uses) and on [`merge_schemas`]: nested objects become structs, arrays
//! lists, numbers `Int64` or `Float64` (integer widens to float), nulls do
//! not decide, and any other conflict widens the column to `Utf8` holding
//! the value's JSON text. Every record also gets `_flowd_run_id` (`Utf8`)
//! and `_flowd_ingested_at` (timestamp, ms, UTC).
//!
//! ## Schema drift within a batch
//!
//! A batch starts from the dataset's merged record type (the seed the caller
//! passes, kept in the store's dataset statistics), so types only widen over
//! time. Each row group is merged into the open file's schema; if that
//! changes the schema (a new column, `Int64 → Float64`, anything → `Utf8`),
//! the open file is closed and the row group starts a new file of the same
//! batch with the merged schema. Earlier files keep their narrower schema;
//! readers unify them (pyarrow `unify_schemas`/`ds.dataset(..., schema=)`,
//! DuckDB `union_by_name=true`), and [`Dataset::schema`] gives the merged one.

pub mod arrow_types;
#[cfg(feature = "conformance")]
pub mod conformance;
mod dataset;
mod decode;
mod encoder;
mod error;
mod fsutil;
mod local;
mod manifest;
#[cfg(feature = "conformance")]
pub mod moto;
mod object;
mod published;
mod typed;
mod writer;

pub use arrow_types::merge_schemas;
pub use dataset::Dataset;
pub use error::SinkError;
pub use local::{DATASETS_DIR_NAME, LocalDatasets};
pub use manifest::{BatchFile, BatchInfo};
pub use object::{ObjectDatasets, PART_BYTES, PARTS_IN_FLIGHT};
pub use published::{PublishedFile, ReadSeek};
pub use writer::{BatchSummary, BatchWriter};

use arrow_schema::Schema;
use flowd_model::record_type::StructType;
use serde_json::Value;

/// The datasets `location` names (`--datasets-url`): `s3://BUCKET/PREFIX` (object storage,
/// configured by the standard AWS variables; batches are staged under
/// `<data_dir>/object-staging` before they are uploaded), a local path or `file:///PATH`, or
/// by default `<data_dir>/datasets`.
pub fn open_datasets(
    location: Option<&str>,
    data_dir: &std::path::Path,
) -> Result<std::sync::Arc<dyn DatasetStore>, SinkError> {
    match location.map(str::trim) {
        Some(url) if url.len() > 5 && url[..5].eq_ignore_ascii_case("s3://") => {
            Ok(std::sync::Arc::new(ObjectDatasets::from_url(
                url,
                &data_dir.join("object-staging"),
            )?))
        }
        _ => Ok(std::sync::Arc::new(LocalDatasets::at_location(
            location, data_dir,
        )?)),
    }
}

/// Where datasets are written and read back.
pub trait DatasetStore: Send + Sync + 'static {
    /// Starts the batch `batch_id` of `dataset_id` (flowd names batches after runs), whose
    /// files start from `seed`, the dataset's merged record type. Nothing is visible until
    /// [`BatchWrite::commit`], which replaces a committed batch of the same id.
    fn begin_batch(
        &self,
        dataset_id: &str,
        batch_id: &str,
        run_id: &str,
        ingested_at: jiff::Timestamp,
        seed: &StructType,
    ) -> Result<Box<dyn BatchWrite>, SinkError>;

    /// [`DatasetStore::begin_batch`] for a dataset typed by an XDM schema: every file has the
    /// schema's columns (`flowd_sink::arrow_types::xdm_file_schema`), nothing is inferred or
    /// widened, and the records written must already be converted to its types (the JSON
    /// text `flowd_dataprep::convert` writes).
    fn begin_typed_batch(
        &self,
        dataset_id: &str,
        batch_id: &str,
        run_id: &str,
        ingested_at: jiff::Timestamp,
        schema: std::sync::Arc<flowd_model::xdm::XdmSchema>,
    ) -> Result<Box<dyn BatchWrite>, SinkError>;

    /// The committed batches, oldest first.
    fn batches(&self, dataset_id: &str) -> Result<Vec<BatchInfo>, SinkError>;

    /// The published batch `batch_id` with its summary, as its commit returned it; `None` if
    /// it was never published. A run that crashed after its commit finds its batch here.
    fn published_batch(
        &self,
        dataset_id: &str,
        batch_id: &str,
    ) -> Result<Option<BatchSummary>, SinkError>;

    /// The published batch `batch_id` as its manifest records it (its files and counts; no
    /// Parquet file is read); `None` if it is not published.
    fn batch(&self, dataset_id: &str, batch_id: &str) -> Result<Option<BatchInfo>, SinkError>;

    /// Opens `name`, a Parquet file of the published batch `batch_id`, for reading from any
    /// offset without holding it in memory; `None` when the batch is not published or its
    /// manifest names no such file.
    fn open_batch_file(
        &self,
        dataset_id: &str,
        batch_id: &str,
        name: &str,
    ) -> Result<Option<PublishedFile>, SinkError>;

    /// The first `limit` records, oldest batch first, with flowd's columns.
    fn head(&self, dataset_id: &str, limit: usize) -> Result<Vec<Value>, SinkError>;

    /// The merged schema of the committed batches, read from the files; `None` before the
    /// first one.
    fn schema(&self, dataset_id: &str) -> Result<Option<Schema>, SinkError>;

    /// Removes what writers that died left unfinished, and never a live writer's batch (in
    /// this process or another one writing the same location). Returns how many leftovers
    /// were removed.
    fn sweep_staging(&self, dataset_id: &str) -> Result<usize, SinkError>;

    /// Where readers find the dataset (a path or URL).
    fn location(&self, dataset_id: &str) -> String;

    /// Removes every file of a deleted dataset, at once for readers; `false` (nothing
    /// removed) while a live writer is still writing a batch of it — try again later.
    fn delete_dataset(&self, dataset_id: &str) -> Result<bool, SinkError>;
}

/// One batch being written.
pub trait BatchWrite: Send {
    /// Adds one page of records (JSON objects).
    fn write(&mut self, records: Vec<Value>) -> Result<(), SinkError> {
        self.write_records(flowd_model::records::Records::Parsed(records))
    }

    /// Adds one page of records in either form (text records are not parsed unless their
    /// row group needs values rewritten).
    fn write_records(&mut self, records: flowd_model::records::Records) -> Result<(), SinkError>;

    /// Records written so far.
    fn record_count(&self) -> u64;

    /// Publishes the batch atomically.
    fn commit(self: Box<Self>) -> Result<BatchSummary, SinkError>;

    /// Discards the batch: nothing of it becomes visible (dropping it does the same).
    fn abort(self: Box<Self>) -> Result<(), SinkError>;
}

/// Column holding the id of the run that wrote the record.
pub const RUN_ID_COLUMN: &str = "_flowd_run_id";

/// Column holding when the record's batch began (timestamp, ms, UTC).
pub const INGESTED_AT_COLUMN: &str = "_flowd_ingested_at";

/// How a [`BatchWriter`] cuts row groups: at whichever limit comes first.
#[derive(Debug, Clone, PartialEq)]
pub struct WriterOptions {
    /// Most records buffered before they are encoded as one row group.
    pub max_row_group_records: usize,
    /// Most bytes of buffered records' JSON text before they are encoded.
    pub max_row_group_bytes: usize,
    /// Decode every row group from parsed values (the reference path the text path is
    /// tested against; slower) instead of from the records' text.
    pub decode_values: bool,
    /// Row groups of one Parquet file before the batch goes on in the next one (`None`: one
    /// file, unless the schema widens). A file's footer holds every row group's metadata until
    /// it is closed, so this bounds a writer's memory whatever the batch's size.
    pub max_row_groups_per_file: Option<usize>,
    /// The Parquet compression of every column (zstd level 1 by default: as fast to write as
    /// snappy here and about half the size; measured in BENCHMARKS.md).
    pub compression: parquet::basic::Compression,
}

impl Default for WriterOptions {
    fn default() -> WriterOptions {
        WriterOptions {
            max_row_group_records: 10_000,
            max_row_group_bytes: 8 * 1024 * 1024,
            decode_values: false,
            max_row_groups_per_file: Some(100),
            compression: parquet::basic::Compression::ZSTD(parquet::basic::ZstdLevel::default()),
        }
    }
}

/// Lowers the calling thread's scheduling priority (`nice` 10): the threads that decode and
/// encode a batch are throughput work, and give way to the fetch loop of the run (whose next
/// request waits on it) and to the API on a busy machine. A queue between them keeps their
/// share from falling behind: when they lag, the fetch waits for them.
pub fn lower_thread_priority() {
    #[cfg(target_os = "linux")]
    {
        // Best effort: a refusal leaves the thread at its priority.
        let _ = rustix::process::setpriority_process(Some(rustix::thread::gettid()), 10);
    }
}
