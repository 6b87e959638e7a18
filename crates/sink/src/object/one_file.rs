//! A batch as one Parquet file: what an object-storage batch uploads, since only one object
//! appears atomically.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch};
use arrow_json::ReaderBuilder;
use arrow_schema::{Schema, SchemaRef};
use flowd_model::record_type::StructType;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use serde_json::Value;

use crate::arrow_types::arrow_fields;
use crate::manifest::BatchFile;
use crate::{BatchSummary, INGESTED_AT_COLUMN, RUN_ID_COLUMN, SinkError};

/// The batch's one file: the staged file itself, or its files rewritten as one with the
/// batch's final schema. Each record of an earlier, narrower file is conformed to the final
/// record type exactly as the writer conforms records of a widened row group (a column
/// widened to text holds the value's JSON text), so the one file holds what the several
/// would have said.
pub(super) fn one_file(
    batch_dir: &Path,
    files: &[BatchFile],
    summary: &BatchSummary,
    compression: Compression,
) -> Result<PathBuf, SinkError> {
    if let [only] = files {
        return Ok(batch_dir.join(&only.name));
    }
    let schema = &summary.schema;
    let merged = batch_dir.join("merged.parquet.upload");
    let output = std::fs::File::create_new(&merged).map_err(SinkError::io("create", &merged))?;
    let properties = WriterProperties::builder()
        .set_compression(compression)
        .build();
    let mut writer = ArrowWriter::try_new(output, schema.clone(), Some(properties))
        .map_err(SinkError::parquet(&merged))?;
    for file in files {
        let path = batch_dir.join(&file.name);
        let input = std::fs::File::open(&path).map_err(SinkError::io("open", &path))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(input)
            .and_then(|builder| builder.build())
            .map_err(SinkError::parquet(&path))?;
        for batch in reader {
            let batch = batch?;
            let batch = if batch.schema() == *schema {
                batch
            } else {
                conform_batch(&batch, &summary.record_type, schema)?
            };
            writer.write(&batch).map_err(SinkError::parquet(&merged))?;
        }
    }
    writer.close().map_err(SinkError::parquet(&merged))?;
    Ok(merged)
}

/// `batch` (records of a narrower file) with `schema`: its data columns re-decoded from its
/// records conformed to `record_type`, flowd's own columns kept as they are.
fn conform_batch(
    batch: &RecordBatch,
    record_type: &StructType,
    schema: &SchemaRef,
) -> Result<RecordBatch, SinkError> {
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    if !record_type.fields.is_empty() {
        let records = crate::dataset::batch_to_json(batch)?;
        let conformed: Vec<Value> = records
            .iter()
            .map(|record| match record {
                Value::Object(object) => record_type.conform_object(object),
                other => other.clone(),
            })
            .collect();
        let record_schema = Arc::new(Schema::new(arrow_fields(record_type)));
        let mut decoder = ReaderBuilder::new(record_schema).build_decoder()?;
        decoder.serialize(&conformed)?;
        if let Some(decoded) = decoder.flush()? {
            columns.extend(decoded.columns().iter().cloned());
        }
    }
    for name in [RUN_ID_COLUMN, INGESTED_AT_COLUMN] {
        let column = batch
            .column_by_name(name)
            .cloned()
            .ok_or_else(|| arrow_schema::ArrowError::SchemaError(format!("no {name} column")))?;
        columns.push(column);
    }
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}
