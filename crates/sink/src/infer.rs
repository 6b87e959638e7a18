//! Schema inference from JSON records and the widening rule shared by row
//! groups, files and batches.
//!
//! # The rule
//!
//! Every column has a type in this lattice (lowest first):
//!
//! * `null` — only nulls (or empty objects `{}`) seen so far; nulls never
//!   decide a type. Written as Arrow's `Null` type.
//! * `boolean`, `integer` (JSON numbers that fit an `i64`, Arrow `Int64`),
//!   `float` (any other number, Arrow `Float64`), `string` (Arrow `Utf8`),
//! * `list<T>` for arrays (elements merged with the same rule),
//! * `struct{…}` for objects (fields in order of first appearance; a field
//!   missing from a record is null there).
//!
//! Two types merge as follows: `null ∨ T = T`; `integer ∨ float = float`;
//! `list<A> ∨ list<B> = list<A ∨ B>`; `struct ∨ struct` is the union of the
//! fields, each merged; **any other pair is `string`**, and `string` absorbs
//! everything. A value stored in a `string` column that is not a JSON string
//! is written as its JSON text (`42`, `true`, `{"a":1}`); a JSON string is
//! written as is, without quotes.
//!
//! The same rule merges a row group into an open file, a batch into the
//! dataset's schema ([`merge_schemas`]), and Arrow types read back from
//! Parquet footers (Arrow types outside the lattice count as `string`).

use std::sync::Arc;

use arrow_schema::{DataType, Field, Fields, Schema};
use serde_json::{Map, Value};

use crate::{INGESTED_AT_COLUMN, RUN_ID_COLUMN};

/// The inferred type of one column (or nested field).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ColumnType {
    Null,
    Boolean,
    Integer,
    Float,
    String,
    List(Box<ColumnType>),
    Struct(StructType),
}

/// An ordered set of named fields: the type of an object, and of a record.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct StructType {
    pub(crate) fields: Vec<(String, ColumnType)>,
}

impl StructType {
    /// Widens `self` so that `object` fits. Top-level callers skip the
    /// reserved `_flowd_*` columns themselves.
    pub(crate) fn observe_object(&mut self, object: &Map<String, Value>) {
        for (position, (key, value)) in object.iter().enumerate() {
            let index = self.field_index(key, position);
            match index {
                Some(index) => self.fields[index].1.observe(value),
                None => {
                    let mut column_type = ColumnType::Null;
                    column_type.observe(value);
                    self.fields.push((key.clone(), column_type));
                }
            }
        }
    }

    /// Finds a field by name, trying first the position the key had in the
    /// record: records of one source usually share their key order, which
    /// makes the lookup O(1) per key.
    fn field_index(&self, key: &str, position_hint: usize) -> Option<usize> {
        if let Some((name, _)) = self.fields.get(position_hint)
            && name == key
        {
            return Some(position_hint);
        }
        self.fields.iter().position(|(name, _)| name == key)
    }

    /// `self ∨ other`, keeping `self`'s field order and appending new fields.
    pub(crate) fn merge(&mut self, other: &StructType) {
        for (position, (name, other_type)) in other.fields.iter().enumerate() {
            match self.field_index(name, position) {
                Some(index) => self.fields[index].1.merge(other_type),
                None => self.fields.push((name.clone(), other_type.clone())),
            }
        }
    }

    pub(crate) fn to_arrow_fields(&self) -> Fields {
        self.fields
            .iter()
            .map(|(name, column_type)| Field::new(name, column_type.to_arrow(), true))
            .collect()
    }

    pub(crate) fn from_arrow_fields(fields: &Fields) -> StructType {
        StructType {
            fields: fields
                .iter()
                .map(|field| {
                    (
                        field.name().clone(),
                        ColumnType::from_arrow(field.data_type()),
                    )
                })
                .collect(),
        }
    }

    /// Rewrites `object` so that every value fits this type (see the module
    /// doc). Keys not in the type are dropped; they cannot occur for a type
    /// inferred from (a superset of) the same records.
    pub(crate) fn conform_object(&self, object: &Map<String, Value>) -> Value {
        let mut conformed = Map::with_capacity(object.len());
        for (position, (key, value)) in object.iter().enumerate() {
            if let Some(index) = self.field_index(key, position) {
                conformed.insert(key.clone(), self.fields[index].1.conform(value));
            }
        }
        Value::Object(conformed)
    }

    /// True if every value of `object` can be decoded as this type without
    /// rewriting (the common case: no copy needed).
    pub(crate) fn object_fits(&self, object: &Map<String, Value>) -> bool {
        object.iter().enumerate().all(|(position, (key, value))| {
            match self.field_index(key, position) {
                Some(index) => self.fields[index].1.fits(value),
                None => false,
            }
        })
    }
}

impl ColumnType {
    /// Widens `self` so that `value` fits.
    pub(crate) fn observe(&mut self, value: &Value) {
        match (&mut *self, value) {
            (_, Value::Null) | (ColumnType::String, _) => {}
            (ColumnType::Null, Value::Bool(_)) => *self = ColumnType::Boolean,
            (ColumnType::Boolean, Value::Bool(_)) => {}
            (ColumnType::Null, Value::Number(number)) => {
                *self = if number.is_i64() {
                    ColumnType::Integer
                } else {
                    ColumnType::Float
                }
            }
            (ColumnType::Integer, Value::Number(number)) => {
                if !number.is_i64() {
                    *self = ColumnType::Float;
                }
            }
            (ColumnType::Float, Value::Number(_)) => {}
            (ColumnType::Null, Value::Array(items)) => {
                let mut item_type = ColumnType::Null;
                for item in items {
                    item_type.observe(item);
                }
                *self = ColumnType::List(Box::new(item_type));
            }
            (ColumnType::List(item_type), Value::Array(items)) => {
                for item in items {
                    item_type.observe(item);
                }
            }
            (ColumnType::Null, Value::Object(object)) => {
                let mut struct_type = StructType::default();
                struct_type.observe_object(object);
                *self = ColumnType::Struct(struct_type);
            }
            (ColumnType::Struct(struct_type), Value::Object(object)) => {
                struct_type.observe_object(object);
            }
            _ => *self = ColumnType::String,
        }
    }

    /// `self ∨ other`.
    pub(crate) fn merge(&mut self, other: &ColumnType) {
        match (&mut *self, other) {
            (_, ColumnType::Null) | (ColumnType::String, _) => {}
            (ColumnType::Null, _) => *self = other.clone(),
            (ColumnType::Integer, ColumnType::Float) => *self = ColumnType::Float,
            (ColumnType::Float, ColumnType::Integer) => {}
            (ColumnType::List(item_type), ColumnType::List(other_item)) => {
                item_type.merge(other_item)
            }
            (ColumnType::Struct(struct_type), ColumnType::Struct(other_struct)) => {
                struct_type.merge(other_struct)
            }
            (left, right) if *left == *right => {}
            _ => *self = ColumnType::String,
        }
    }

    /// The Arrow type written to Parquet. A struct without any field (only
    /// `{}` seen) is written as `Null`: Parquet cannot store an empty group.
    pub(crate) fn to_arrow(&self) -> DataType {
        match self {
            ColumnType::Null => DataType::Null,
            ColumnType::Boolean => DataType::Boolean,
            ColumnType::Integer => DataType::Int64,
            ColumnType::Float => DataType::Float64,
            ColumnType::String => DataType::Utf8,
            ColumnType::List(item_type) => {
                DataType::List(Arc::new(Field::new("item", item_type.to_arrow(), true)))
            }
            ColumnType::Struct(struct_type) if struct_type.fields.is_empty() => DataType::Null,
            ColumnType::Struct(struct_type) => DataType::Struct(struct_type.to_arrow_fields()),
        }
    }

    /// The lattice element of an Arrow type read back from a Parquet footer.
    pub(crate) fn from_arrow(data_type: &DataType) -> ColumnType {
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
                ColumnType::List(Box::new(ColumnType::from_arrow(item.data_type())))
            }
            DataType::Struct(fields) => ColumnType::Struct(StructType::from_arrow_fields(fields)),
            _ => ColumnType::String,
        }
    }

    fn fits(&self, value: &Value) -> bool {
        match (self, value) {
            (_, Value::Null) => true,
            (ColumnType::Boolean, Value::Bool(_)) => true,
            (ColumnType::Integer, Value::Number(number)) => number.is_i64(),
            (ColumnType::Float, Value::Number(_)) => true,
            (ColumnType::String, Value::String(_)) => true,
            (ColumnType::List(item_type), Value::Array(items)) => {
                items.iter().all(|item| item_type.fits(item))
            }
            (ColumnType::Struct(struct_type), Value::Object(object)) => {
                !struct_type.fields.is_empty() && struct_type.object_fits(object)
            }
            _ => false,
        }
    }

    fn conform(&self, value: &Value) -> Value {
        match (self, value) {
            (_, Value::Null) => Value::Null,
            (ColumnType::String, Value::String(_)) => value.clone(),
            (ColumnType::String, _) => Value::String(value.to_string()),
            (ColumnType::List(item_type), Value::Array(items)) => {
                Value::Array(items.iter().map(|item| item_type.conform(item)).collect())
            }
            (ColumnType::Struct(struct_type), Value::Object(object))
                if !struct_type.fields.is_empty() =>
            {
                struct_type.conform_object(object)
            }
            (column_type, value) if column_type.fits(value) => value.clone(),
            // Only `{}` in a field-less struct column, or a value that does not
            // fit at all, which cannot happen: the type was widened by this
            // very value before the row group was written.
            _ => Value::Null,
        }
    }
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
pub(crate) fn record_type_of_schema(schema: &Schema) -> StructType {
    StructType {
        fields: schema
            .fields()
            .iter()
            .filter(|field| !is_metadata_column(field.name()))
            .map(|field| {
                (
                    field.name().clone(),
                    ColumnType::from_arrow(field.data_type()),
                )
            })
            .collect(),
    }
}

/// The full file schema for a record type: its columns, then flowd's own.
pub(crate) fn file_schema(record_type: &StructType) -> Schema {
    let mut fields: Vec<Field> = record_type
        .to_arrow_fields()
        .iter()
        .map(|field| field.as_ref().clone())
        .collect();
    fields.extend(metadata_fields());
    Schema::new(fields)
}

/// Merges two dataset schemas with the widening rule of this module: columns
/// of `a` first, in order, then the columns only `b` has. flowd's own columns
/// stay last with their fixed types.
pub fn merge_schemas(a: &Schema, b: &Schema) -> Schema {
    let mut record_type = record_type_of_schema(a);
    record_type.merge(&record_type_of_schema(b));
    file_schema(&record_type)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
            assert_eq!(inferred(&values).to_arrow(), expected, "{values:?}");
        }
        let list = inferred(&[json!([1]), json!([2.5, null])]).to_arrow();
        assert_eq!(
            list,
            DataType::List(Arc::new(Field::new("item", DataType::Float64, true)))
        );
    }

    #[test]
    fn merge_is_the_same_rule_as_observing_both() {
        let samples = [
            json!(null),
            json!(true),
            json!(1),
            json!(1.5),
            json!("s"),
            json!([1]),
            json!(["s"]),
            json!({"a": 1}),
            json!({"b": "x"}),
            json!({}),
        ];
        for left in &samples {
            for right in &samples {
                let mut merged = inferred(std::slice::from_ref(left));
                merged.merge(&inferred(std::slice::from_ref(right)));
                let observed = inferred(&[left.clone(), right.clone()]);
                assert_eq!(merged.to_arrow(), observed.to_arrow(), "{left} ∨ {right}");
            }
        }
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
