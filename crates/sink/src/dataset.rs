//! `Dataset`: one dataset directory — begin batches, list them, and read
//! the schema, the record count and the first records back.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{Array, RecordBatch, TimestampMillisecondArray};
use arrow_schema::Schema;
use flowd_model::record_type::StructType;
use flowd_model::xdm::XdmSchema;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::Value;

use crate::arrow_types::{file_schema, merge_schemas, record_type_of_schema};
use crate::fsutil::{self, BATCH_DIR_PREFIX, MANIFEST_FILE_NAME, STAGING_DIR_NAME};
use crate::manifest::{BatchInfo, BatchManifest};
use crate::published::PublishedFile;
use crate::writer::{BatchSummary, BatchTarget, BatchWriter, Columns};
use crate::{INGESTED_AT_COLUMN, SinkError, WriterOptions};

/// One dataset: the directory `<datasets_root>/<dataset_id>/`.
#[derive(Debug, Clone)]
pub struct Dataset {
    dataset_id: String,
    dataset_dir: PathBuf,
    staging_root: PathBuf,
    writer_options: WriterOptions,
}

impl Dataset {
    /// Opens the dataset `dataset_id` under `datasets_root`. Nothing is
    /// created until a batch is written; a dataset without a directory has
    /// no batches.
    pub fn open(datasets_root: impl AsRef<Path>, dataset_id: &str) -> Result<Dataset, SinkError> {
        fsutil::validate_name("dataset id", dataset_id)?;
        let datasets_root = datasets_root.as_ref();
        Ok(Dataset {
            dataset_id: dataset_id.to_owned(),
            dataset_dir: datasets_root.join(dataset_id),
            staging_root: datasets_root.join(STAGING_DIR_NAME),
            writer_options: WriterOptions::default(),
        })
    }

    /// Uses `writer_options` for the batches begun from now on.
    pub fn with_writer_options(mut self, writer_options: WriterOptions) -> Dataset {
        self.writer_options = writer_options;
        self
    }

    pub fn id(&self) -> &str {
        &self.dataset_id
    }

    /// `<datasets_root>/<dataset_id>`: what external readers point at.
    pub fn dir(&self) -> &Path {
        &self.dataset_dir
    }

    /// Starts the batch `batch_id` (the run id in flowd) in a fresh staging
    /// directory. Its files start from `seed`, the dataset's merged record type (kept by the
    /// caller, e.g. in the store's dataset statistics), so column types only ever widen.
    /// Committing it replaces any published batch of the same id.
    pub fn begin_batch(
        &self,
        batch_id: &str,
        run_id: &str,
        ingested_at: jiff::Timestamp,
        seed: &StructType,
    ) -> Result<BatchWriter, SinkError> {
        self.begin_with_columns(
            batch_id,
            run_id,
            ingested_at,
            Columns::Inferred(seed.clone()),
        )
    }

    /// [`Dataset::begin_batch`] for a typed dataset: its columns are `schema`'s (see
    /// [`crate::DatasetStore::begin_typed_batch`]).
    pub fn begin_typed_batch(
        &self,
        batch_id: &str,
        run_id: &str,
        ingested_at: jiff::Timestamp,
        schema: Arc<XdmSchema>,
    ) -> Result<BatchWriter, SinkError> {
        self.begin_with_columns(batch_id, run_id, ingested_at, Columns::Typed(schema))
    }

    pub(crate) fn begin_with_columns(
        &self,
        batch_id: &str,
        run_id: &str,
        ingested_at: jiff::Timestamp,
        columns: Columns,
    ) -> Result<BatchWriter, SinkError> {
        fsutil::validate_name("batch id", batch_id)?;
        fsutil::create_dir_all(&self.staging_root)?;
        let staging_dir =
            fsutil::unique_staging_path(&self.staging_root, &self.dataset_id, batch_id);
        let lock = fsutil::WriterLock::acquire(&staging_dir)?;
        std::fs::create_dir(&staging_dir)
            .map_err(SinkError::io("create directory", &staging_dir))?;
        let target = BatchTarget {
            staging_root: self.staging_root.clone(),
            dataset_id: self.dataset_id.clone(),
            dataset_dir: self.dataset_dir.clone(),
            batch_dir: self
                .dataset_dir
                .join(format!("{BATCH_DIR_PREFIX}{batch_id}")),
            staging_dir,
            _lock: lock,
        };
        Ok(BatchWriter::new(
            target,
            batch_id,
            run_id,
            ingested_at,
            self.writer_options.clone(),
            columns,
        ))
    }

    /// The published batches, oldest first (by ingestion time, then id).
    pub fn batches(&self) -> Result<Vec<BatchInfo>, SinkError> {
        let entries = match std::fs::read_dir(&self.dataset_dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(SinkError::io("list", &self.dataset_dir)(error)),
        };
        let mut batches = Vec::new();
        for entry in entries {
            let entry = entry.map_err(SinkError::io("list", &self.dataset_dir))?;
            let name = entry.file_name();
            let is_batch = name
                .to_str()
                .is_some_and(|name| name.starts_with(BATCH_DIR_PREFIX));
            if is_batch && entry.path().is_dir() {
                batches.push(BatchManifest::read(&entry.path().join(MANIFEST_FILE_NAME))?);
            }
        }
        batches.sort_by(|a, b| (a.ingested_at, &a.batch_id).cmp(&(b.ingested_at, &b.batch_id)));
        Ok(batches)
    }

    /// The published batch `batch_id`, if there is one, with its schema as written (the merge
    /// of its files' footers) and that schema's record type: what its commit returned.
    pub fn published_batch(&self, batch_id: &str) -> Result<Option<BatchSummary>, SinkError> {
        fsutil::validate_name("batch id", batch_id)?;
        let batch_dir = self
            .dataset_dir
            .join(format!("{BATCH_DIR_PREFIX}{batch_id}"));
        let manifest = batch_dir.join(MANIFEST_FILE_NAME);
        if !manifest
            .try_exists()
            .map_err(SinkError::io("inspect", &manifest))?
        {
            return Ok(None);
        }
        let batch = BatchManifest::read(&manifest)?;
        let mut merged: Option<Schema> = None;
        for file in &batch.files {
            let schema = open_reader(&batch_dir.join(&file.name))?.schema().clone();
            merged = Some(match merged {
                None => schema.as_ref().clone(),
                Some(merged) => merge_schemas(&merged, &schema),
            });
        }
        let schema = Arc::new(merged.unwrap_or_else(|| file_schema(&StructType::default())));
        let record_type = record_type_of_schema(&schema);
        Ok(Some(BatchSummary {
            batch,
            schema,
            record_type,
        }))
    }

    /// The published batch `batch_id` as its manifest records it (files and counts, no file
    /// read); `None` if it is not published.
    pub fn published_manifest(&self, batch_id: &str) -> Result<Option<BatchInfo>, SinkError> {
        fsutil::validate_name("batch id", batch_id)?;
        let manifest = self
            .dataset_dir
            .join(format!("{BATCH_DIR_PREFIX}{batch_id}"))
            .join(MANIFEST_FILE_NAME);
        match BatchManifest::read(&manifest) {
            Ok(batch) => Ok(Some(batch)),
            Err(SinkError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                Ok(None)
            }
            Err(error) => Err(error),
        }
    }

    /// Opens `name`, a Parquet file of the published batch `batch_id`, for reading; `None`
    /// when the batch is not published or its manifest names no such file.
    pub fn open_published_file(
        &self,
        batch_id: &str,
        name: &str,
    ) -> Result<Option<PublishedFile>, SinkError> {
        let Some(batch) = self.published_manifest(batch_id)? else {
            return Ok(None);
        };
        if !batch.files.iter().any(|file| file.name == name) {
            return Ok(None);
        }
        let path = self
            .dataset_dir
            .join(format!("{BATCH_DIR_PREFIX}{batch_id}"))
            .join(name);
        let file = match File::open(&path) {
            Ok(file) => file,
            // Replaced by a retry between the manifest and the open: not this batch's any more.
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(SinkError::io("open", &path)(error)),
        };
        let size = file
            .metadata()
            .map_err(SinkError::io("inspect", &path))?
            .len();
        Ok(Some(PublishedFile {
            size,
            reader: Box::new(file),
        }))
    }

    /// Every visible Parquet file, batch by batch in [`Dataset::batches`]
    /// order: exactly the files `datasets/<id>/**/*.parquet` matches.
    pub fn parquet_files(&self) -> Result<Vec<PathBuf>, SinkError> {
        Ok(self
            .batches()?
            .iter()
            .flat_map(|batch| {
                let batch_dir = self
                    .dataset_dir
                    .join(format!("{BATCH_DIR_PREFIX}{}", batch.batch_id));
                batch
                    .files
                    .iter()
                    .map(move |file| batch_dir.join(&file.name))
            })
            .collect())
    }

    /// The merged schema over the visible batches, read from the Parquet
    /// footers; `None` if no batch holds a file.
    pub fn schema(&self) -> Result<Option<Schema>, SinkError> {
        let mut merged: Option<Schema> = None;
        for path in self.parquet_files()? {
            let schema = open_reader(&path)?.schema().clone();
            merged = Some(match merged {
                None => schema.as_ref().clone(),
                Some(merged) => merge_schemas(&merged, &schema),
            });
        }
        Ok(merged)
    }

    /// The merged record type over the visible batches, read from the Parquet footers (for
    /// tools and for rebuilding statistics; runs are seeded from the stored one).
    pub fn record_type(&self) -> Result<StructType, SinkError> {
        Ok(self
            .schema()?
            .map(|schema| record_type_of_schema(&schema))
            .unwrap_or_default())
    }

    /// Records in the visible batches, counted from the Parquet footers.
    pub fn record_count(&self) -> Result<u64, SinkError> {
        let mut record_count = 0;
        for path in self.parquet_files()? {
            let row_count = open_reader(&path)?.metadata().file_metadata().num_rows();
            record_count += u64::try_from(row_count).unwrap_or(0);
        }
        Ok(record_count)
    }

    /// The first `limit` records (oldest batch first) as JSON objects, with
    /// flowd's columns; nulls are explicit and timestamps are RFC 3339 text.
    pub fn head(&self, limit: usize) -> Result<Vec<Value>, SinkError> {
        let mut records = Vec::new();
        for path in self.parquet_files()? {
            let remaining = limit - records.len();
            if remaining == 0 {
                break;
            }
            let reader = open_reader(&path)?
                .with_batch_size(remaining.min(1024))
                .with_limit(remaining)
                .build()
                .map_err(SinkError::parquet(&path))?;
            for batch in reader {
                records.extend(batch_to_json(&batch?)?);
            }
        }
        records.truncate(limit);
        Ok(records)
    }

    /// Removes the dataset's files: its directory leaves the dataset root in one rename (readers
    /// see every batch or none), then is deleted, with what dead writers left in staging.
    /// `false`, removing nothing, while a live writer holds a batch of it.
    pub fn delete(&self) -> Result<bool, SinkError> {
        if self.live_writer()? {
            return Ok(false);
        }
        if self
            .dataset_dir
            .try_exists()
            .map_err(SinkError::io("inspect", &self.dataset_dir))?
        {
            fsutil::create_dir_all(&self.staging_root)?;
            let doomed =
                fsutil::unique_staging_path(&self.staging_root, &self.dataset_id, "deleted");
            std::fs::rename(&self.dataset_dir, &doomed)
                .map_err(SinkError::io("remove dataset", &self.dataset_dir))?;
            if let Some(root) = self.dataset_dir.parent() {
                fsutil::sync_dir(root)?;
            }
            fsutil::remove_dir_all_if_exists(&doomed)?;
        }
        self.sweep_staging()?;
        Ok(true)
    }

    /// Whether a live writer holds a staging directory of this dataset.
    fn live_writer(&self) -> Result<bool, SinkError> {
        let entries = match std::fs::read_dir(&self.staging_root) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(error) => return Err(SinkError::io("list", &self.staging_root)(error)),
        };
        let prefix = format!("{}.", self.dataset_id);
        for entry in entries {
            let entry = entry.map_err(SinkError::io("list", &self.staging_root))?;
            let name = entry.file_name();
            if name
                .to_str()
                .is_some_and(|name| name.starts_with(&prefix) && name.ends_with(".lock"))
                && fsutil::writer_alive(&entry.path())
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Removes what writers of this dataset that died left in the staging
    /// directory; a live writer's staging directory (its lock file is locked, by
    /// this process or another) is left alone. Returns how many entries were
    /// removed.
    pub fn sweep_staging(&self) -> Result<usize, SinkError> {
        let entries = match std::fs::read_dir(&self.staging_root) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(error) => return Err(SinkError::io("list", &self.staging_root)(error)),
        };
        let prefix = format!("{}.", self.dataset_id);
        let mut removed = 0;
        for entry in entries {
            let entry = entry.map_err(SinkError::io("list", &self.staging_root))?;
            let name = entry.file_name();
            let Some(name) = name.to_str().filter(|name| name.starts_with(&prefix)) else {
                continue;
            };
            let path = entry.path();
            if name.ends_with(".lock") {
                // A lock file left by a writer that died between its two removals.
                let directory = path.with_file_name(name.trim_end_matches(".lock"));
                if !directory.exists() && !fsutil::writer_alive(&path) {
                    let _ = std::fs::remove_file(&path);
                }
                continue;
            }
            // A live writer (in any process) holds its lock: its batch is not a leftover.
            if fsutil::writer_alive(&fsutil::lock_path(&path)) {
                continue;
            }
            fsutil::remove_dir_all_if_exists(&path)?;
            let _ = std::fs::remove_file(fsutil::lock_path(&path));
            removed += 1;
        }
        Ok(removed)
    }
}

fn open_reader(path: &Path) -> Result<ParquetRecordBatchReaderBuilder<File>, SinkError> {
    let file = File::open(path).map_err(SinkError::io("open", path))?;
    ParquetRecordBatchReaderBuilder::try_new(file).map_err(SinkError::parquet(path))
}

/// Arrow rows as JSON objects (via `arrow_json`'s writer). flowd's
/// ingestion time is rendered here as RFC 3339 in UTC: `arrow_json` cannot
/// format a named time zone without `chrono-tz`, a dependency not worth it.
/// The batch with every timestamp zone written as an offset (`+00:00`), which `arrow_json`
/// renders without a zone database.
fn with_offset_zones(batch: RecordBatch) -> Result<RecordBatch, SinkError> {
    use crate::arrow_types::{with_timestamp_zone, with_zones};
    let schema = batch.schema();
    if !schema
        .fields()
        .iter()
        .any(|field| with_timestamp_zone(field.data_type(), Some("+00:00")) != *field.data_type())
    {
        return Ok(batch);
    }
    let fields: Vec<arrow_schema::Field> = schema
        .fields()
        .iter()
        .map(|field| {
            field
                .as_ref()
                .clone()
                .with_data_type(with_timestamp_zone(field.data_type(), Some("+00:00")))
        })
        .collect();
    let columns = batch
        .columns()
        .iter()
        .zip(&fields)
        .map(|(column, field)| {
            arrow_array::make_array(with_zones(column.to_data(), field.data_type()))
        })
        .collect();
    Ok(RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns,
    )?)
}

pub(crate) fn batch_to_json(batch: &RecordBatch) -> Result<Vec<Value>, SinkError> {
    let mut batch = batch.clone();
    let ingested_at = batch
        .schema()
        .index_of(INGESTED_AT_COLUMN)
        .ok()
        .map(|index| batch.remove_column(index));
    let batch = with_offset_zones(batch)?;
    let mut writer = arrow_json::WriterBuilder::new()
        .with_explicit_nulls(true)
        .build::<_, arrow_json::writer::JsonArray>(Vec::new());
    writer.write(&batch)?;
    writer.finish()?;
    let bytes = writer.into_inner();
    let mut records: Vec<Value> = if bytes.is_empty() {
        vec![Value::Object(Default::default()); batch.num_rows()]
    } else {
        serde_json::from_slice(&bytes)
            .map_err(|error| arrow_schema::ArrowError::JsonError(error.to_string()))?
    };
    if let Some(ingested_at) = ingested_at {
        let millis = ingested_at
            .as_any()
            .downcast_ref::<TimestampMillisecondArray>()
            .ok_or_else(|| {
                arrow_schema::ArrowError::SchemaError(format!(
                    "{INGESTED_AT_COLUMN} is not a millisecond timestamp"
                ))
            })?;
        for (record, millis) in records.iter_mut().zip(millis.iter()) {
            let rendered = millis
                .and_then(|millis| jiff::Timestamp::from_millisecond(millis).ok())
                .map_or(Value::Null, |timestamp| {
                    Value::String(timestamp.to_string())
                });
            if let Value::Object(object) = record {
                object.insert(INGESTED_AT_COLUMN.to_owned(), rendered);
            }
        }
    }
    Ok(records)
}
