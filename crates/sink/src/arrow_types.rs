//! Record types (`flowd_model::record_type`, the one inference lattice) as Arrow schemas and
//! back: what Parquet files are written with, and how their footers read back into the
//! lattice so batches merge with the same rule as records.

use std::sync::Arc;

use arrow_schema::{DataType, Field, Fields, Schema};
use flowd_model::record_type::{ColumnType, StructType};
use flowd_model::xdm::{XdmField, XdmSchema, XdmType};

use crate::{INGESTED_AT_COLUMN, RUN_ID_COLUMN};

/// The Arrow fields of a record type.
pub fn arrow_fields(record_type: &StructType) -> Fields {
    record_type
        .fields
        .iter()
        .map(|(name, column_type)| Field::new(name, arrow_type(column_type), true))
        .collect()
}

/// The Arrow type written to Parquet for a lattice type. A struct without any field (only
/// `{}` seen) is written as `Null`: Parquet cannot store an empty group.
pub fn arrow_type(column_type: &ColumnType) -> DataType {
    match column_type {
        ColumnType::Null => DataType::Null,
        ColumnType::Boolean => DataType::Boolean,
        ColumnType::Integer => DataType::Int64,
        ColumnType::Float => DataType::Float64,
        ColumnType::String => DataType::Utf8,
        ColumnType::List(item_type) => {
            DataType::List(Arc::new(Field::new("item", arrow_type(item_type), true)))
        }
        ColumnType::Struct(struct_type) if struct_type.fields.is_empty() => DataType::Null,
        ColumnType::Struct(struct_type) => DataType::Struct(arrow_fields(struct_type)),
    }
}

/// The lattice element of an Arrow type read back from a Parquet footer (types outside the
/// lattice count as `string`).
pub fn column_type_of_arrow(data_type: &DataType) -> ColumnType {
    match data_type {
        DataType::Null => ColumnType::Null,
        DataType::Boolean => ColumnType::Boolean,
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32 => ColumnType::Integer,
        DataType::UInt64 | DataType::Float16 | DataType::Float32 | DataType::Float64 => {
            ColumnType::Float
        }
        DataType::List(item) | DataType::LargeList(item) => {
            ColumnType::List(Box::new(column_type_of_arrow(item.data_type())))
        }
        DataType::Struct(fields) => ColumnType::Struct(struct_type_of_arrow(fields)),
        _ => ColumnType::String,
    }
}

fn struct_type_of_arrow(fields: &Fields) -> StructType {
    StructType {
        fields: fields
            .iter()
            .map(|field| {
                (
                    field.name().clone(),
                    column_type_of_arrow(field.data_type()),
                )
            })
            .collect(),
    }
}

/// The Arrow fields of an XDM schema's record: the schema decides every column's type (a
/// typed dataset never widens). Every column is nullable: a required field is enforced before
/// a record is written, and an optional one may be absent.
pub fn xdm_arrow_fields(schema: &XdmSchema) -> Fields {
    xdm_fields(&schema.fields)
}

fn xdm_fields(fields: &[XdmField]) -> Fields {
    fields
        .iter()
        .map(|field| Field::new(&field.name, xdm_arrow_type(&field.field_type), true))
        .collect()
}

/// The Arrow type of an XDM type: `long` Int64, `int`/`short`/`byte` their widths, `double`
/// Float64, `date` Date32, `date-time` microsecond timestamps in UTC, objects structs (an
/// object without members is `Null`, as Parquet cannot store an empty group), arrays lists,
/// maps Arrow maps of string keys.
pub fn xdm_arrow_type(xdm_type: &XdmType) -> DataType {
    match xdm_type {
        XdmType::String => DataType::Utf8,
        XdmType::Byte => DataType::Int8,
        XdmType::Short => DataType::Int16,
        XdmType::Int => DataType::Int32,
        XdmType::Long => DataType::Int64,
        XdmType::Double => DataType::Float64,
        XdmType::Boolean => DataType::Boolean,
        XdmType::Date => DataType::Date32,
        XdmType::DateTime => {
            DataType::Timestamp(arrow_schema::TimeUnit::Microsecond, Some("UTC".into()))
        }
        XdmType::Object(fields) if fields.is_empty() => DataType::Null,
        XdmType::Object(fields) => DataType::Struct(xdm_fields(fields)),
        XdmType::Array(items) => {
            DataType::List(Arc::new(Field::new("item", xdm_arrow_type(items), true)))
        }
        XdmType::Map(values) => DataType::Map(
            Arc::new(Field::new(
                "entries",
                DataType::Struct(Fields::from(vec![
                    Field::new("keys", DataType::Utf8, false),
                    Field::new("values", xdm_arrow_type(values), true),
                ])),
                false,
            )),
            false,
        ),
    }
}

/// `data_type` with the zone of every timestamp in it replaced by `zone`. `arrow_json` reads
/// and writes zones only as offsets (`UTC` would need a zone database): typed columns are
/// decoded with no zone (the values are already UTC microseconds) and rendered with `+00:00`,
/// and [`with_zones`] swaps the types without touching a value.
pub fn with_timestamp_zone(data_type: &DataType, zone: Option<&str>) -> DataType {
    let field = |field: &Field| {
        field
            .clone()
            .with_data_type(with_timestamp_zone(field.data_type(), zone))
    };
    match data_type {
        DataType::Timestamp(unit, Some(_)) => DataType::Timestamp(*unit, zone.map(Into::into)),
        DataType::Struct(fields) => {
            DataType::Struct(fields.iter().map(|member| field(member)).collect())
        }
        DataType::List(item) => DataType::List(Arc::new(field(item))),
        DataType::Map(entries, sorted) => DataType::Map(Arc::new(field(entries)), *sorted),
        other => other.clone(),
    }
}

/// A decoded column given back its declared type (the zones [`decoded_type`] left out); only
/// the type changes, not a value.
/// (The zones are those [`with_timestamp_zone`] replaced.)
pub fn with_zones(data: arrow_data::ArrayData, declared: &DataType) -> arrow_data::ArrayData {
    let children: Vec<&DataType> = match declared {
        DataType::Struct(fields) => fields.iter().map(|field| field.data_type()).collect(),
        DataType::List(item) => vec![item.data_type()],
        DataType::Map(entries, _) => vec![entries.data_type()],
        _ => Vec::new(),
    };
    let child_data: Vec<arrow_data::ArrayData> = data
        .child_data()
        .iter()
        .zip(children)
        .map(|(child, declared)| with_zones(child.clone(), declared))
        .collect();
    let builder = data.into_builder().data_type(declared.clone());
    let builder = if child_data.is_empty() {
        builder
    } else {
        builder.child_data(child_data)
    };
    builder
        .build()
        .expect("a column keeps its layout when only its zone changes")
}

/// The full file schema of a typed dataset: the schema's columns, then flowd's own.
pub fn xdm_file_schema(schema: &XdmSchema) -> Schema {
    let mut fields: Vec<Field> = xdm_arrow_fields(schema)
        .iter()
        .map(|field| field.as_ref().clone())
        .collect();
    fields.extend(metadata_fields());
    Schema::new(fields)
}

/// The Arrow fields flowd adds to every record.
pub(crate) fn metadata_fields() -> [Field; 2] {
    [
        Field::new(RUN_ID_COLUMN, DataType::Utf8, false),
        Field::new(
            INGESTED_AT_COLUMN,
            DataType::Timestamp(arrow_schema::TimeUnit::Millisecond, Some("UTC".into())),
            false,
        ),
    ]
}

/// True for the columns flowd adds itself; record keys with these names are ignored.
pub(crate) fn is_metadata_column(name: &str) -> bool {
    name == RUN_ID_COLUMN || name == INGESTED_AT_COLUMN
}

/// The record columns of a dataset schema (without flowd's own columns).
pub fn record_type_of_schema(schema: &Schema) -> StructType {
    StructType {
        fields: schema
            .fields()
            .iter()
            .filter(|field| !is_metadata_column(field.name()))
            .map(|field| {
                (
                    field.name().clone(),
                    column_type_of_arrow(field.data_type()),
                )
            })
            .collect(),
    }
}

/// The full file schema for a record type: its columns, then flowd's own.
pub fn file_schema(record_type: &StructType) -> Schema {
    let mut fields: Vec<Field> = arrow_fields(record_type)
        .iter()
        .map(|field| field.as_ref().clone())
        .collect();
    fields.extend(metadata_fields());
    Schema::new(fields)
}

/// Merges two dataset schemas with the widening rule of `flowd_model::record_type`: columns
/// of `a` first, in order, then the columns only `b` has. flowd's own columns stay last with
/// their fixed types.
/// Equal schemas (every batch of a typed dataset) merge into themselves, whatever their types.
pub fn merge_schemas(a: &Schema, b: &Schema) -> Schema {
    if a.fields() == b.fields() {
        return a.clone();
    }
    let mut record_type = record_type_of_schema(a);
    record_type.merge(&record_type_of_schema(b));
    file_schema(&record_type)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn inferred(values: &[Value]) -> ColumnType {
        let mut column_type = ColumnType::Null;
        for value in values {
            column_type.observe(value);
        }
        column_type
    }

    #[test]
    fn the_widening_rule() {
        let cases: Vec<(Vec<Value>, DataType)> = vec![
            (vec![json!(null)], DataType::Null),
            (vec![json!(null), json!(1)], DataType::Int64),
            (vec![json!(1), json!(2.5)], DataType::Float64),
            (vec![json!(u64::MAX)], DataType::Float64),
            (vec![json!(true), json!(null)], DataType::Boolean),
            (vec![json!(true), json!(1)], DataType::Utf8),
            (vec![json!("a"), json!(1)], DataType::Utf8),
            (vec![json!({"a": 1}), json!([1])], DataType::Utf8),
            (vec![json!([1]), json!(1)], DataType::Utf8),
            (vec![json!({})], DataType::Null),
        ];
        for (values, expected) in cases {
            assert_eq!(arrow_type(&inferred(&values)), expected, "{values:?}");
        }
        let list = arrow_type(&inferred(&[json!([1]), json!([2.5, null])]));
        assert_eq!(
            list,
            DataType::List(Arc::new(Field::new("item", DataType::Float64, true)))
        );
    }

    #[test]
    fn a_record_type_survives_its_parquet_schema() {
        let record_type = StructType::of_records(
            json!([{"a": 1, "b": [{"c": "x"}], "d": null, "e": 2.5, "f": true, "g": {"h": 1}}])
                .as_array()
                .unwrap(),
        );
        assert_eq!(
            record_type_of_schema(&file_schema(&record_type)),
            record_type
        );
    }

    #[test]
    fn merge_schemas_appends_new_columns_and_keeps_flowd_columns_last() {
        let schema = |records: &[Value]| {
            let mut record_type = StructType::default();
            for record in records {
                record_type.observe_object(record.as_object().unwrap());
            }
            file_schema(&record_type)
        };
        let merged = merge_schemas(
            &schema(&[json!({"a": 1, "b": {"x": 1}})]),
            &schema(&[json!({"c": true, "a": 2.5, "b": {"y": "s"}})]),
        );
        let names: Vec<&str> = merged.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(names, ["a", "b", "c", RUN_ID_COLUMN, INGESTED_AT_COLUMN]);
        assert_eq!(merged.field(0).data_type(), &DataType::Float64);
        let DataType::Struct(b_fields) = merged.field(1).data_type() else {
            panic!("b is a struct");
        };
        assert_eq!(b_fields.len(), 2);
    }
}
