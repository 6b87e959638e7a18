//! `BatchWriter`: streams the records of one run into Parquet files in a
//! staging directory, one row group at a time, and publishes them as one
//! batch on commit.

use std::borrow::Cow;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, StringArray, TimestampMillisecondArray};
use arrow_json::ReaderBuilder;
use arrow_schema::{Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use serde_json::Value;

use flowd_model::record_type::StructType;

use crate::arrow_types::{arrow_fields, file_schema, is_metadata_column};
use crate::fsutil;
use crate::manifest::{BatchFile, BatchInfo, BatchManifest};
use crate::{SinkError, WriterOptions};

/// What a committed batch holds.
#[derive(Debug, Clone)]
pub struct BatchSummary {
    /// Id, run, files and counts, as [`crate::Dataset::batches`] lists them.
    pub batch: BatchInfo,
    /// The schema of the batch's last file, which every earlier file of the
    /// batch widens into (see [`crate::merge_schemas`]).
    pub schema: SchemaRef,
    /// The same as a record type: what the dataset's merged type absorbs.
    pub record_type: StructType,
}

/// Everything a writer needs to know about where it writes.
pub(crate) struct BatchTarget {
    pub(crate) staging_dir: PathBuf,
    pub(crate) staging_root: PathBuf,
    pub(crate) dataset_id: String,
    pub(crate) dataset_dir: PathBuf,
    pub(crate) batch_dir: PathBuf,
    /// Held while the writer lives; dropped (the lock file removed) after the staging
    /// directory is published or removed.
    pub(crate) _lock: fsutil::WriterLock,
}

struct OpenFile {
    writer: ArrowWriter<File>,
    name: String,
    schema: SchemaRef,
    record_count: u64,
}

/// Writes one batch. Records go in with [`BatchWriter::write`]; nothing is
/// visible to readers until [`BatchWriter::commit`]; dropping the writer (or
/// [`BatchWriter::abort`]) removes what was staged.
pub struct BatchWriter {
    target: BatchTarget,
    batch_id: String,
    run_id: String,
    ingested_at: jiff::Timestamp,
    options: WriterOptions,
    /// Column types every file of this batch starts from: the dataset's
    /// merged schema when the batch began, so types only ever widen.
    seed_type: StructType,
    /// The record type of the open (or last) file.
    file_type: Option<StructType>,
    open_file: Option<OpenFile>,
    closed_files: Vec<BatchFile>,
    last_schema: Option<SchemaRef>,
    buffer: Vec<Value>,
    buffered_bytes: usize,
    peak_buffered_records: usize,
    record_count: u64,
    finished: bool,
}

impl BatchWriter {
    pub(crate) fn new(
        target: BatchTarget,
        batch_id: &str,
        run_id: &str,
        ingested_at: jiff::Timestamp,
        options: WriterOptions,
        seed_type: StructType,
    ) -> BatchWriter {
        BatchWriter {
            target,
            batch_id: batch_id.to_owned(),
            run_id: run_id.to_owned(),
            ingested_at,
            options,
            seed_type,
            file_type: None,
            open_file: None,
            closed_files: Vec::new(),
            last_schema: None,
            buffer: Vec::new(),
            buffered_bytes: 0,
            peak_buffered_records: 0,
            record_count: 0,
            finished: false,
        }
    }

    /// Adds one page of records (JSON objects). Keys named like flowd's own
    /// columns (`_flowd_run_id`, `_flowd_ingested_at`) are dropped. A full
    /// row group is encoded and written before this returns, so at most one
    /// row group of records is ever buffered.
    pub fn write(&mut self, records: Vec<Value>) -> Result<(), SinkError> {
        for (index, record) in records.iter().enumerate() {
            if !record.is_object() {
                return Err(SinkError::RecordNotAnObject { index });
            }
        }
        for mut record in records {
            if let Value::Object(object) = &mut record
                && object.keys().any(|key| is_metadata_column(key))
            {
                object.retain(|key, _| !is_metadata_column(key));
            }
            self.buffered_bytes += approximate_size(&record);
            self.buffer.push(record);
            self.peak_buffered_records = self.peak_buffered_records.max(self.buffer.len());
            if self.buffer.len() >= self.options.max_row_group_records
                || self.buffered_bytes >= self.options.max_row_group_bytes
            {
                self.write_row_group()?;
            }
        }
        Ok(())
    }

    /// Records buffered and not yet encoded (at most one row group).
    pub fn buffered_records(&self) -> usize {
        self.buffer.len()
    }

    /// The most records this writer ever buffered at once.
    pub fn peak_buffered_records(&self) -> usize {
        self.peak_buffered_records
    }

    /// Records written so far, buffered ones included.
    pub fn record_count(&self) -> u64 {
        self.record_count + self.buffer.len() as u64
    }

    /// Writes the buffered records, closes the files, syncs them and
    /// publishes the batch with one rename, replacing an earlier batch of
    /// the same id. A batch without records publishes nothing (no folder, no
    /// empty file: readers globbing `*/*.parquet` would fail on a folder holding
    /// only a manifest) and removes an earlier batch of the same id; its
    /// summary lists no file.
    pub fn commit(mut self) -> Result<BatchSummary, SinkError> {
        self.write_row_group()?;
        if self.record_count == 0 {
            return self.commit_empty();
        }
        self.close_open_file()?;
        let staging_dir = self.target.staging_dir.clone();
        let batch = BatchInfo {
            batch_id: self.batch_id.clone(),
            run_id: self.run_id.clone(),
            ingested_at: self.ingested_at,
            record_count: self.record_count,
            bytes: self.closed_files.iter().map(|file| file.bytes).sum(),
            files: std::mem::take(&mut self.closed_files),
        };
        BatchManifest::from_info(&batch).write(&staging_dir.join(fsutil::MANIFEST_FILE_NAME))?;
        fsutil::sync_dir(&staging_dir)?;

        // A dataset directory created now must itself survive a power loss with the batch.
        if !self
            .target
            .dataset_dir
            .try_exists()
            .map_err(SinkError::io("inspect", &self.target.dataset_dir))?
        {
            fsutil::create_dir_all(&self.target.dataset_dir)?;
            if let Some(datasets_root) = self.target.dataset_dir.parent() {
                fsutil::sync_dir(datasets_root)?;
            }
        }
        let replaced = fsutil::unique_staging_path(
            &self.target.staging_root,
            &self.target.dataset_id,
            "replaced",
        );
        fail::fail_point!("sink-before-publish");
        fsutil::publish_dir(&staging_dir, &self.target.batch_dir, &replaced)?;
        self.finished = true;
        fail::fail_point!("sink-after-publish");
        fsutil::sync_dir(&self.target.dataset_dir)?;
        fsutil::sync_dir(&self.target.staging_root)?;
        fsutil::remove_dir_all_if_exists(&replaced)?;

        let schema = self
            .last_schema
            .clone()
            .unwrap_or_else(|| Arc::new(file_schema(&self.seed_type)));
        let record_type = self
            .file_type
            .clone()
            .unwrap_or_else(|| self.seed_type.clone());
        Ok(BatchSummary {
            batch,
            schema,
            record_type,
        })
    }

    fn commit_empty(mut self) -> Result<BatchSummary, SinkError> {
        self.finished = true;
        self.open_file = None;
        fsutil::remove_dir_all_if_exists(&self.target.staging_dir)?;
        if self
            .target
            .batch_dir
            .try_exists()
            .map_err(SinkError::io("inspect", &self.target.batch_dir))?
        {
            // A retried run that fetched nothing replaces its own earlier batch with nothing.
            let replaced = fsutil::unique_staging_path(
                &self.target.staging_root,
                &self.target.dataset_id,
                "replaced",
            );
            std::fs::rename(&self.target.batch_dir, &replaced).map_err(SinkError::io(
                "set aside replaced batch",
                &self.target.batch_dir,
            ))?;
            fsutil::sync_dir(&self.target.dataset_dir)?;
            fsutil::remove_dir_all_if_exists(&replaced)?;
        }
        let record_type = self.seed_type.clone();
        Ok(BatchSummary {
            batch: BatchInfo {
                batch_id: self.batch_id.clone(),
                run_id: self.run_id.clone(),
                ingested_at: self.ingested_at,
                record_count: 0,
                bytes: 0,
                files: Vec::new(),
            },
            schema: Arc::new(file_schema(&record_type)),
            record_type,
        })
    }

    /// Discards the batch: nothing of it becomes visible.
    pub fn abort(mut self) -> Result<(), SinkError> {
        self.finished = true;
        self.open_file = None;
        fsutil::remove_dir_all_if_exists(&self.target.staging_dir)
    }

    /// Encodes the buffer as one row group, starting a new file first if the
    /// row group widens the open file's schema.
    fn write_row_group(&mut self) -> Result<(), SinkError> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let records = std::mem::take(&mut self.buffer);
        self.buffered_bytes = 0;

        let mut record_type = self
            .file_type
            .clone()
            .unwrap_or_else(|| self.seed_type.clone());
        for record in &records {
            if let Value::Object(object) = record {
                record_type.observe_object(object);
            }
        }
        let schema = Arc::new(file_schema(&record_type));
        if self
            .open_file
            .as_ref()
            .is_some_and(|open_file| open_file.schema != schema)
        {
            self.close_open_file()?;
        }
        if self.open_file.is_none() {
            self.open_file = Some(self.create_file(schema.clone())?);
        }

        let batch = self.encode(&record_type, &schema, &records)?;
        drop(records);
        let open_file = self.open_file.as_mut().expect("a file is open");
        let path = self.target.staging_dir.join(&open_file.name);
        open_file
            .writer
            .write(&batch)
            .and_then(|()| open_file.writer.flush())
            .map_err(SinkError::parquet(&path))?;
        open_file.record_count += batch.num_rows() as u64;
        self.record_count += batch.num_rows() as u64;
        self.file_type = Some(record_type);
        self.last_schema = Some(schema);
        fail::fail_point!("sink-row-group-staged");
        Ok(())
    }

    fn encode(
        &self,
        record_type: &StructType,
        schema: &SchemaRef,
        records: &[Value],
    ) -> Result<RecordBatch, SinkError> {
        let row_count = records.len();
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
        if !record_type.fields.is_empty() {
            let record_schema = Arc::new(Schema::new(arrow_fields(record_type)));
            let mut decoder = ReaderBuilder::new(record_schema).build_decoder()?;
            for chunk in records.chunks(1024) {
                let conformed: Vec<Cow<'_, Value>> = chunk
                    .iter()
                    .map(|record| match record {
                        Value::Object(object) if !record_type.object_fits(object) => {
                            Cow::Owned(record_type.conform_object(object))
                        }
                        _ => Cow::Borrowed(record),
                    })
                    .collect();
                decoder.serialize(&conformed)?;
            }
            let decoded = decoder
                .flush()?
                .expect("a non-empty row group decodes to a batch");
            columns.extend(decoded.columns().iter().cloned());
        }
        columns.push(Arc::new(StringArray::from_iter_values(
            std::iter::repeat_n(self.run_id.as_str(), row_count),
        )));
        columns.push(Arc::new(
            TimestampMillisecondArray::from(vec![self.ingested_at.as_millisecond(); row_count])
                .with_timezone("UTC"),
        ));
        Ok(RecordBatch::try_new(schema.clone(), columns)?)
    }

    fn create_file(&self, schema: SchemaRef) -> Result<OpenFile, SinkError> {
        let index = self.closed_files.len();
        let name = format!("part-{index:05}.parquet");
        let path = self.target.staging_dir.join(&name);
        let file = File::create_new(&path).map_err(SinkError::io("create", &path))?;
        let properties = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(None)
            .set_max_row_group_bytes(None)
            .build();
        let writer = ArrowWriter::try_new(file, schema.clone(), Some(properties))
            .map_err(SinkError::parquet(&path))?;
        Ok(OpenFile {
            writer,
            name,
            schema,
            record_count: 0,
        })
    }

    /// Writes the footer of the open file and fsyncs it.
    fn close_open_file(&mut self) -> Result<(), SinkError> {
        let Some(open_file) = self.open_file.take() else {
            return Ok(());
        };
        let path = self.target.staging_dir.join(&open_file.name);
        let file = open_file
            .writer
            .into_inner()
            .map_err(SinkError::parquet(&path))?;
        file.sync_all().map_err(SinkError::io("fsync", &path))?;
        let bytes = file
            .metadata()
            .map_err(SinkError::io("inspect", &path))?
            .len();
        self.closed_files.push(BatchFile {
            name: open_file.name,
            record_count: open_file.record_count,
            bytes,
        });
        Ok(())
    }

    /// The staging directory (for tests of visibility).
    pub fn staging_dir(&self) -> &Path {
        &self.target.staging_dir
    }
}

impl Drop for BatchWriter {
    fn drop(&mut self) {
        if !self.finished {
            self.open_file = None;
            let _ = fsutil::remove_dir_all_if_exists(&self.target.staging_dir);
        }
    }
}

/// A cheap estimate of a record's in-memory size, for the row-group byte budget.
fn approximate_size(value: &Value) -> usize {
    const NODE: usize = 32;
    match value {
        Value::String(text) => NODE + text.len(),
        Value::Array(items) => NODE + items.iter().map(approximate_size).sum::<usize>(),
        Value::Object(object) => {
            NODE + object
                .iter()
                .map(|(key, value)| NODE + key.len() + approximate_size(value))
                .sum::<usize>()
        }
        _ => NODE,
    }
}
