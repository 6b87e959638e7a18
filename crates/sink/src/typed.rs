//! The columns of a typed batch: a dataset's XDM schema as Arrow (`arrow_types::xdm_file_schema`),
//! fixed for every row group, and the decoder that reads the records' converted text into it.
//! Timestamps are decoded without their zone and given it back afterwards
//! (`arrow_types::with_zones`): `arrow_json` parses only offset zones.

use std::sync::Arc;

use arrow_array::ArrayRef;
use arrow_json::ReaderBuilder;
use arrow_schema::{Schema, SchemaRef};
use flowd_model::record_type::StructType;
use flowd_model::xdm::XdmSchema;

use crate::SinkError;
use crate::arrow_types::{
    record_type_of_schema, with_timestamp_zone, with_zones, xdm_arrow_fields, xdm_file_schema,
};
use crate::decode::feed;

/// The columns a batch is written with.
pub(crate) enum Columns {
    /// Inferred from the records, starting from the dataset's merged record type.
    Inferred(StructType),
    /// Fixed by the dataset's XDM schema.
    Typed(Arc<XdmSchema>),
}

/// The fixed schema of a typed batch, and the decoder reused for every row group.
pub(crate) struct TypedColumns {
    pub(crate) file_schema: SchemaRef,
    record_schema: SchemaRef,
    decoder: Option<arrow_json::reader::Decoder>,
}

impl TypedColumns {
    pub(crate) fn new(schema: &XdmSchema) -> TypedColumns {
        TypedColumns {
            file_schema: Arc::new(xdm_file_schema(schema)),
            record_schema: Arc::new(Schema::new(xdm_arrow_fields(schema))),
            decoder: None,
        }
    }

    /// The schema's columns as the lattice's record type (what the dataset's statistics keep).
    pub(crate) fn seed_type(&self) -> StructType {
        record_type_of_schema(&self.file_schema)
    }

    /// Decodes a row group's text (records already converted to the schema's types), the
    /// record columns in schema order.
    pub(crate) fn decode(
        &mut self,
        buffer: &[u8],
        batch_size: usize,
    ) -> Result<Vec<ArrayRef>, SinkError> {
        let mut decoder = match self.decoder.take() {
            Some(decoder) => decoder,
            None => {
                let zone_less: Vec<_> = self
                    .record_schema
                    .fields()
                    .iter()
                    .map(|field| {
                        field
                            .as_ref()
                            .clone()
                            .with_data_type(with_timestamp_zone(field.data_type(), None))
                    })
                    .collect();
                ReaderBuilder::new(Arc::new(Schema::new(zone_less)))
                    .with_batch_size(batch_size)
                    .build_decoder()?
            }
        };
        feed(&mut decoder, buffer)?;
        let columns = match decoder.flush()? {
            Some(decoded) => decoded
                .columns()
                .iter()
                .zip(self.record_schema.fields())
                .map(|(column, field)| {
                    if column.data_type() == field.data_type() {
                        column.clone()
                    } else {
                        arrow_array::make_array(with_zones(column.to_data(), field.data_type()))
                    }
                })
                .collect(),
            None => Vec::new(),
        };
        self.decoder = Some(decoder);
        Ok(columns)
    }
}
