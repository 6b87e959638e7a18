//! Decoding a row group's buffered JSON text into Arrow columns: feeding it to `arrow_json`'s
//! decoder, and the reference path (records parsed, conformed to the row group's type, then
//! decoded) that the text path is tested against.

use std::borrow::Cow;
use std::sync::Arc;

use arrow_array::ArrayRef;
use arrow_json::ReaderBuilder;
use arrow_schema::Schema;
use flowd_model::record_type::StructType;
use serde_json::Value;

use crate::SinkError;
use crate::arrow_types::{arrow_fields, is_metadata_column};

/// Feeds every buffered record's text to `decoder`.
pub(crate) fn feed(
    decoder: &mut arrow_json::reader::Decoder,
    buffer: &[u8],
) -> Result<(), SinkError> {
    let mut offset = 0;
    while offset < buffer.len() {
        let read = decoder.decode(&buffer[offset..])?;
        if read == 0 {
            break;
        }
        offset += read;
    }
    Ok(())
}

/// The buffered records as values, without flowd's columns (the reference path).
pub(crate) fn parse_buffered(buffer: &[u8], ends: &[usize]) -> Result<Vec<Value>, SinkError> {
    let mut start = 0;
    ends.iter()
        .enumerate()
        .map(|(index, &end)| {
            let mut record: Value = serde_json::from_slice(&buffer[start..end])
                .map_err(|source| SinkError::InvalidRecord { index, source })?;
            start = end;
            if let Value::Object(object) = &mut record {
                object.retain(|key, _| !is_metadata_column(key));
            }
            Ok(record)
        })
        .collect()
}

/// Decodes values, rewriting those that do not fit `record_type` first.
pub(crate) fn decode_conformed(
    record_type: &StructType,
    records: &[Value],
) -> Result<Vec<ArrayRef>, SinkError> {
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
    Ok(decoded.columns().to_vec())
}
