//! The one inference lattice for the type of records: explore's `schema.columns`, the CLI's
//! record tables and the Parquet schema of datasets are all read off a [`StructType`] built
//! here, so the same records get the same types everywhere.
//!
//! # The rule
//!
//! Every column has a type in this lattice (lowest first):
//!
//! * `null` — only nulls seen so far; nulls never decide a type.
//! * `boolean`, `integer` (JSON numbers that fit an `i64`), `float` (any other number),
//!   `string`,
//! * `list<T>` for arrays (elements merged with the same rule),
//! * `struct{…}` for objects (fields in order of first appearance; a field missing from a
//!   record is null there).
//!
//! Two types merge as follows: `null ∨ T = T`; `integer ∨ float = float`;
//! `list<A> ∨ list<B> = list<A ∨ B>`; `struct ∨ struct` is the union of the fields, each
//! merged; **any other pair is `string`**, and `string` absorbs everything. A value stored in a
//! `string` column that is not a JSON string is written as its JSON text (`42`, `true`,
//! `{"a":1}`); a JSON string is written as is.
//!
//! # Names
//!
//! [`ColumnType::json_type_name`] names a type for explore and the CLI: `string`, `integer`,
//! `number`, `boolean`, `object`, `array`, and `string` for a column that only held nulls (the
//! one type every JSON value can be written as). Datasets name the same types by their Arrow
//! equivalents (`Utf8`, `Int64`, `Float64`, `Boolean`, `Struct`, `List`, `Null`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

mod text;

pub use text::{TextError, TextObservation, has_fieldless_struct};

/// How deep [`StructType::flattened_columns`] descends; deeper objects are one `object` column,
/// so a pathological document cannot produce an unbounded table.
pub const MAXIMUM_FLATTENED_DEPTH: usize = 8;

/// The inferred type of one column (or nested field).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnType {
    Null,
    Boolean,
    Integer,
    Float,
    String,
    List(Box<ColumnType>),
    Struct(StructType),
}

/// An ordered set of named fields: the type of an object, and of a record.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StructType {
    pub fields: Vec<(String, ColumnType)>,
}

impl StructType {
    /// The type of `records`; values that are not objects contribute nothing.
    pub fn of_records<'a>(records: impl IntoIterator<Item = &'a Value>) -> StructType {
        let mut record_type = StructType::default();
        for record in records {
            if let Value::Object(object) = record {
                record_type.observe_object(object);
            }
        }
        record_type
    }

    /// Widens `self` so that `object` fits.
    pub fn observe_object(&mut self, object: &Map<String, Value>) {
        for (position, (key, value)) in object.iter().enumerate() {
            match self.field_index(key, position) {
                Some(index) => self.fields[index].1.observe(value),
                None => {
                    let mut column_type = ColumnType::Null;
                    column_type.observe(value);
                    self.fields.push((key.clone(), column_type));
                }
            }
        }
    }

    /// Finds a field by name, trying first the position the key had in the record: records of
    /// one source usually share their key order, which makes the lookup O(1) per key.
    pub fn field_index(&self, key: &str, position_hint: usize) -> Option<usize> {
        if let Some((name, _)) = self.fields.get(position_hint)
            && name == key
        {
            return Some(position_hint);
        }
        self.fields.iter().position(|(name, _)| name == key)
    }

    /// `self ∨ other`, keeping `self`'s field order and appending new fields.
    pub fn merge(&mut self, other: &StructType) {
        for (position, (name, other_type)) in other.fields.iter().enumerate() {
            match self.field_index(name, position) {
                Some(index) => self.fields[index].1.merge(other_type),
                None => self.fields.push((name.clone(), other_type.clone())),
            }
        }
    }

    /// Rewrites `object` so that every value fits this type. Keys not in the type are dropped;
    /// they cannot occur for a type inferred from (a superset of) the same records.
    pub fn conform_object(&self, object: &Map<String, Value>) -> Value {
        let mut conformed = Map::with_capacity(object.len());
        for (position, (key, value)) in object.iter().enumerate() {
            if let Some(index) = self.field_index(key, position) {
                conformed.insert(key.clone(), self.fields[index].1.conform(value));
            }
        }
        Value::Object(conformed)
    }

    /// True if every value of `object` already has this type (no rewriting needed).
    pub fn object_fits(&self, object: &Map<String, Value>) -> bool {
        object.iter().enumerate().all(|(position, (key, value))| {
            match self.field_index(key, position) {
                Some(index) => self.fields[index].1.fits(value),
                None => false,
            }
        })
    }

    /// One `(name, type)` per top-level field, in first-seen order.
    pub fn columns(&self) -> Vec<(String, &'static str)> {
        self.fields
            .iter()
            .map(|(name, column_type)| (name.clone(), column_type.json_type_name()))
            .collect()
    }

    /// Like [`StructType::columns`], but objects are replaced by their fields with dotted names
    /// (`member.email_address`), down to [`MAXIMUM_FLATTENED_DEPTH`] levels; arrays stay one
    /// column and an object without fields stays an `object` column.
    pub fn flattened_columns(&self) -> Vec<(String, &'static str)> {
        let mut columns = Vec::new();
        self.flatten_into("", 1, &mut columns);
        columns
    }

    fn flatten_into(&self, prefix: &str, depth: usize, columns: &mut Vec<(String, &'static str)>) {
        for (name, column_type) in &self.fields {
            let dotted = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}.{name}")
            };
            match column_type {
                ColumnType::Struct(nested)
                    if !nested.fields.is_empty() && depth < MAXIMUM_FLATTENED_DEPTH =>
                {
                    nested.flatten_into(&dotted, depth + 1, columns);
                }
                other => columns.push((dotted, other.json_type_name())),
            }
        }
    }
}

impl ColumnType {
    /// Widens `self` so that `value` fits.
    pub fn observe(&mut self, value: &Value) {
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
    pub fn merge(&mut self, other: &ColumnType) {
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

    /// The name explore and the CLI show (see the module documentation).
    pub fn json_type_name(&self) -> &'static str {
        match self {
            ColumnType::Null | ColumnType::String => "string",
            ColumnType::Boolean => "boolean",
            ColumnType::Integer => "integer",
            ColumnType::Float => "number",
            ColumnType::List(_) => "array",
            ColumnType::Struct(_) => "object",
        }
    }

    /// Whether `value` already has this type.
    pub fn fits(&self, value: &Value) -> bool {
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

    /// `value` rewritten to fit this type (see the module documentation).
    pub fn conform(&self, value: &Value) -> Value {
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
            // Only `{}` in a field-less struct column, or a value that does not fit at all,
            // which cannot happen for a type widened by this very value.
            _ => Value::Null,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn columns(pairs: &[(&str, &'static str)]) -> Vec<(String, &'static str)> {
        pairs
            .iter()
            .map(|(name, type_name)| ((*name).to_owned(), *type_name))
            .collect()
    }

    fn inferred(values: &[Value]) -> ColumnType {
        let mut column_type = ColumnType::Null;
        for value in values {
            column_type.observe(value);
        }
        column_type
    }

    #[test]
    fn columns_are_named_from_the_lattice() {
        // (description, records, top-level columns, flattened columns)
        type Case = (
            &'static str,
            Value,
            Vec<(&'static str, &'static str)>,
            Vec<(&'static str, &'static str)>,
        );
        let cases: Vec<Case> = vec![
            (
                "one type per key in first-seen order",
                json!([{"s": "a", "i": 1, "n": 1.5, "b": true, "o": {"k": 1}, "a": [1]}]),
                vec![
                    ("s", "string"),
                    ("i", "integer"),
                    ("n", "number"),
                    ("b", "boolean"),
                    ("o", "object"),
                    ("a", "array"),
                ],
                vec![
                    ("s", "string"),
                    ("i", "integer"),
                    ("n", "number"),
                    ("b", "boolean"),
                    ("o.k", "integer"),
                    ("a", "array"),
                ],
            ),
            (
                "integer and number join to number; other conflicts widen to string",
                json!([{"x": 1, "y": true, "z": 18446744073709551615_u64}, {"x": 2.5, "y": "no", "w": 1}]),
                vec![
                    ("x", "number"),
                    ("y", "string"),
                    ("z", "number"),
                    ("w", "integer"),
                ],
                vec![
                    ("x", "number"),
                    ("y", "string"),
                    ("z", "number"),
                    ("w", "integer"),
                ],
            ),
            (
                "nulls decide nothing; all-null is string; non-objects add nothing",
                json!([{"a": null, "b": null}, 5, {"a": 3}]),
                vec![("a", "integer"), ("b", "string")],
                vec![("a", "integer"), ("b", "string")],
            ),
            (
                "a wrapped record is one object column, or dotted nested columns",
                json!([{"member": {"email_address": "a@x", "stats": {"opens": 2}}}, {"member": null}]),
                vec![("member", "object")],
                vec![
                    ("member.email_address", "string"),
                    ("member.stats.opens", "integer"),
                ],
            ),
            (
                "a null seen before an object does not leave a column behind",
                json!([{"m": null, "mx": null}, {"m": {"k": "v"}}]),
                vec![("m", "object"), ("mx", "string")],
                vec![("m.k", "string"), ("mx", "string")],
            ),
            (
                "an empty object is kept as an object column",
                json!([{"e": {}}]),
                vec![("e", "object")],
                vec![("e", "object")],
            ),
        ];
        for (description, records, top_level, flattened) in cases {
            let record_type = StructType::of_records(records.as_array().unwrap());
            assert_eq!(record_type.columns(), columns(&top_level), "{description}");
            assert_eq!(
                record_type.flattened_columns(),
                columns(&flattened),
                "{description}: flattened"
            );
        }
    }

    #[test]
    fn flattening_stops_at_the_depth_limit() {
        let mut deep = json!({"leaf": 1});
        for level in (0..10).rev() {
            deep = json!({ format!("l{level}"): deep });
        }
        assert_eq!(
            StructType::of_records([&deep]).flattened_columns(),
            columns(&[("l0.l1.l2.l3.l4.l5.l6.l7", "object")])
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
                assert_eq!(merged, observed, "{left} ∨ {right}");
            }
        }
    }

    #[test]
    fn a_record_type_survives_its_stored_form() {
        let record_type = StructType::of_records(
            json!([{"a": 1, "b": [{"c": "x"}], "d": null, "e": 2.5, "f": true}])
                .as_array()
                .unwrap(),
        );
        let stored = serde_json::to_string(&record_type).unwrap();
        assert_eq!(
            serde_json::from_str::<StructType>(&stored).unwrap(),
            record_type
        );
    }
}
