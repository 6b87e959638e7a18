//! `BatchWriter`: streams the records of one run into Parquet files in a
//! staging directory, one row group at a time, and publishes them as one
//! batch on commit.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, StringArray, TimestampMillisecondArray};
use arrow_json::ReaderBuilder;
use arrow_schema::{Schema, SchemaRef};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use serde_json::Value;

use flowd_model::record_type::{StructType, TextError, TextObservation};
use flowd_model::records::Records;

use crate::arrow_types::{arrow_fields, file_schema, is_metadata_column};
use crate::decode::{decode_conformed, feed, parse_buffered};
use crate::encoder::FileEncoder;
use crate::fsutil;
use crate::manifest::{BatchFile, BatchInfo, BatchManifest};
pub(crate) use crate::typed::{Columns, TypedColumns};
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
    encoder: FileEncoder,
    name: String,
    schema: SchemaRef,
    record_count: u64,
    row_groups: usize,
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
    /// A typed dataset's columns (its XDM schema's): nothing is inferred or widened, and the
    /// records' text (already converted to these types) is decoded as it is.
    typed: Option<TypedColumns>,
    /// The record type of the open (or last) file.
    file_type: Option<StructType>,
    open_file: Option<OpenFile>,
    closed_files: Vec<BatchFile>,
    last_schema: Option<SchemaRef>,
    /// The row group being gathered: its records' JSON text, one after the other.
    buffer: Vec<u8>,
    /// Where each buffered record's text ends in `buffer`.
    buffer_ends: Vec<usize>,
    /// The open file's type widened by the buffered records (observed as they come).
    row_group_type: StructType,
    /// What observing the buffered records' text found.
    observation: TextObservation,
    peak_buffered_records: usize,
    /// The decoder of the last row group decoded from text, and the type it decodes: kept
    /// while the type holds, so its buffers are reused instead of allocated per row group.
    text_decoder: Option<(StructType, arrow_json::reader::Decoder)>,
    row_groups_from_text: u64,
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
        columns: Columns,
    ) -> BatchWriter {
        let (seed_type, typed) = match columns {
            Columns::Inferred(seed_type) => (seed_type, None),
            Columns::Typed(schema) => {
                let typed = TypedColumns::new(&schema);
                (typed.seed_type(), Some(typed))
            }
        };
        let row_group_type = seed_type.clone();
        BatchWriter {
            target,
            batch_id: batch_id.to_owned(),
            run_id: run_id.to_owned(),
            ingested_at,
            options,
            seed_type,
            typed,
            file_type: None,
            open_file: None,
            closed_files: Vec::new(),
            last_schema: None,
            buffer: Vec::new(),
            buffer_ends: Vec::new(),
            row_group_type,
            observation: TextObservation::default(),
            peak_buffered_records: 0,
            text_decoder: None,
            row_groups_from_text: 0,
            record_count: 0,
            finished: false,
        }
    }

    /// Adds one page of records (JSON objects). Keys named like flowd's own
    /// columns (`_flowd_run_id`, `_flowd_ingested_at`) are dropped. A full
    /// row group is encoded and written before this returns, so at most one
    /// row group of records is ever buffered.
    pub fn write(&mut self, records: Vec<Value>) -> Result<(), SinkError> {
        self.write_records(Records::Parsed(records))
    }

    /// [`BatchWriter::write`] for a page's records in either form. Records given as text are
    /// buffered as they are: their types are observed from the text in the same pass, and
    /// no `Value` is built for them unless their row group needs values rewritten.
    pub fn write_records(&mut self, records: Records) -> Result<(), SinkError> {
        match records {
            Records::Parsed(values) => {
                if let Some(index) = values.iter().position(|record| !record.is_object()) {
                    return Err(SinkError::RecordNotAnObject { index });
                }
                for (index, mut record) in values.into_iter().enumerate() {
                    if let Value::Object(object) = &mut record
                        && object.keys().any(|key| is_metadata_column(key))
                    {
                        object.retain(|key, _| !is_metadata_column(key));
                    }
                    let text =
                        serde_json::to_string(&record).expect("a JSON value serializes to text");
                    self.buffer_record(index, &text)?;
                }
            }
            Records::Text(texts) => {
                for (index, text) in texts.iter().enumerate() {
                    self.buffer_record(index, text)?;
                }
            }
        }
        Ok(())
    }

    /// Observes one record's text, buffers it, and encodes the row group once it is full.
    fn buffer_record(&mut self, index: usize, text: &str) -> Result<(), SinkError> {
        if self.typed.is_none() {
            self.row_group_type
                .observe_object_text(text, is_metadata_column, &mut self.observation)
                .map_err(|error| match error {
                    TextError::NotAnObject { .. } => SinkError::RecordNotAnObject { index },
                    TextError::Json(source) => SinkError::InvalidRecord { index, source },
                })?;
        }
        self.buffer.extend_from_slice(text.as_bytes());
        self.buffer.push(b'\n');
        self.buffer_ends.push(self.buffer.len());
        self.peak_buffered_records = self.peak_buffered_records.max(self.buffer_ends.len());
        if self.buffer_ends.len() >= self.options.max_row_group_records
            || self.buffer.len() >= self.options.max_row_group_bytes
        {
            self.write_row_group()?;
        }
        Ok(())
    }

    /// Records buffered and not yet encoded (at most one row group).
    pub fn buffered_records(&self) -> usize {
        self.buffer_ends.len()
    }

    /// The most records this writer ever buffered at once.
    pub fn peak_buffered_records(&self) -> usize {
        self.peak_buffered_records
    }

    /// Row groups decoded from the records' text as written (the others were conformed).
    pub fn row_groups_from_text(&self) -> u64 {
        self.row_groups_from_text
    }

    /// Records written so far, buffered ones included.
    pub fn record_count(&self) -> u64 {
        self.record_count + self.buffer_ends.len() as u64
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
    ///
    /// The row group's type is the one observed while buffering. When every buffered value
    /// fits it as written (the usual case), the text goes straight into `arrow_json`'s decoder;
    /// otherwise the records are parsed, observed and conformed as values — the reference
    /// path, which gives the same types and the same rewritten values by construction.
    fn write_row_group(&mut self) -> Result<(), SinkError> {
        if self.buffer_ends.is_empty() {
            return Ok(());
        }
        if self.typed.is_some() {
            return self.write_typed_row_group();
        }
        let observed_type = std::mem::take(&mut self.row_group_type);
        let observation = std::mem::take(&mut self.observation);
        let row_count = self.buffer_ends.len();

        let as_written =
            !self.options.decode_values && observation.decodes_as_written(&observed_type);
        let (record_type, values) = if as_written {
            self.row_groups_from_text += 1;
            (observed_type, None)
        } else {
            let values = parse_buffered(&self.buffer, &self.buffer_ends)?;
            let mut record_type = self
                .file_type
                .clone()
                .unwrap_or_else(|| self.seed_type.clone());
            for record in &values {
                if let Value::Object(object) = record {
                    record_type.observe_object(object);
                }
            }
            (record_type, Some(values))
        };
        let schema = Arc::new(file_schema(&record_type));
        self.open_file_for(&schema)?;

        let record_columns = if record_type.fields.is_empty() {
            Vec::new()
        } else {
            match &values {
                None => self.decode_text(&record_type, row_count)?,
                Some(values) => decode_conformed(&record_type, values)?,
            }
        };
        drop(values);
        self.append_row_group(&schema, record_columns, row_count)?;
        self.row_group_type = record_type.clone();
        self.file_type = Some(record_type);
        Ok(())
    }

    /// Makes the open file one of `schema` (closing one of another schema, or one holding
    /// the most row groups a file may).
    fn open_file_for(&mut self, schema: &SchemaRef) -> Result<(), SinkError> {
        let row_groups_per_file = self.options.max_row_groups_per_file;
        if self.open_file.as_ref().is_some_and(|open_file| {
            open_file.schema != *schema
                || row_groups_per_file.is_some_and(|most| open_file.row_groups >= most)
        }) {
            self.close_open_file()?;
        }
        if self.open_file.is_none() {
            self.open_file = Some(self.create_file(schema.clone())?);
        }
        Ok(())
    }

    /// Hands the decoded row group to the open file's encoder and empties the buffer (kept
    /// for the next row group: no fresh pages to fault in each time).
    fn append_row_group(
        &mut self,
        schema: &SchemaRef,
        record_columns: Vec<ArrayRef>,
        row_count: usize,
    ) -> Result<(), SinkError> {
        self.buffer.clear();
        self.buffer_ends.clear();
        let batch = self.with_metadata(schema, record_columns, row_count)?;
        let open_file = self.open_file.as_mut().expect("a file is open");
        let rows = batch.num_rows() as u64;
        open_file.encoder.write(batch)?;
        open_file.record_count += rows;
        open_file.row_groups += 1;
        self.record_count += rows;
        self.last_schema = Some(schema.clone());
        Ok(())
    }

    /// Encodes the buffer of a typed batch: its text, converted to the schema's types before
    /// it was written, is decoded with the schema as it is; the file never changes schema.
    fn write_typed_row_group(&mut self) -> Result<(), SinkError> {
        let row_count = self.buffer_ends.len();
        let batch_size = self.options.max_row_group_records.max(row_count);
        let typed = self.typed.as_mut().expect("a typed batch");
        let schema = typed.file_schema.clone();
        let columns = typed.decode(&self.buffer, batch_size)?;
        self.open_file_for(&schema)?;
        self.append_row_group(&schema, columns, row_count)?;
        self.row_groups_from_text += 1;
        self.file_type = Some(self.seed_type.clone());
        Ok(())
    }

    /// Decodes the buffered text, whose every value fits `record_type` as written.
    fn decode_text(
        &mut self,
        record_type: &StructType,
        row_count: usize,
    ) -> Result<Vec<ArrayRef>, SinkError> {
        // Taken out while it decodes: a decoder that failed half-way is not reused.
        let mut decoder = match self.text_decoder.take() {
            Some((decodes, decoder)) if decodes == *record_type => decoder,
            _ => {
                let record_schema = Arc::new(Schema::new(arrow_fields(record_type)));
                ReaderBuilder::new(record_schema)
                    .with_batch_size(self.options.max_row_group_records.max(row_count))
                    .build_decoder()?
            }
        };
        feed(&mut decoder, &self.buffer)?;
        let decoded = decoder
            .flush()?
            .expect("a non-empty row group decodes to a batch");
        self.text_decoder = Some((record_type.clone(), decoder));
        debug_assert_eq!(decoded.num_rows(), row_count);
        Ok(decoded.columns().to_vec())
    }

    /// The record columns followed by flowd's two columns.
    fn with_metadata(
        &self,
        schema: &SchemaRef,
        mut columns: Vec<ArrayRef>,
        row_count: usize,
    ) -> Result<RecordBatch, SinkError> {
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
        let properties = WriterProperties::builder()
            .set_compression(self.options.compression)
            // Statistics per column chunk, not per page, and no offset index: the page index
            // would be kept in memory for the footer, growing with the batch.
            .set_statistics_enabled(EnabledStatistics::Chunk)
            .set_offset_index_disabled(true)
            .set_max_row_group_row_count(None)
            .set_max_row_group_bytes(None)
            .build();
        let encoder = FileEncoder::create(&path, schema.clone(), properties)?;
        Ok(OpenFile {
            encoder,
            name,
            schema,
            record_count: 0,
            row_groups: 0,
        })
    }

    /// Writes the footer of the open file and fsyncs it.
    fn close_open_file(&mut self) -> Result<(), SinkError> {
        let Some(open_file) = self.open_file.take() else {
            return Ok(());
        };
        let path = self.target.staging_dir.join(&open_file.name);
        let file = open_file.encoder.finish()?;
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
