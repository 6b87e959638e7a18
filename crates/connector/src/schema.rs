//! Column inference from extracted records, for datasets without a custom
//! schema and for the CLI's record tables.
//!
//! Type rule: each column's type is the join of the JSON types seen in it.
//! `null` decides nothing (an all-null column is `"string"`); `"integer"`
//! (numbers representable as i64) joined with `"number"` is `"number"`; any
//! other disagreement widens to `"string"`, the one type every JSON value
//! can be written as. Records that are not objects contribute no columns.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use serde_json::Value;

/// Maximum object depth [`infer_nested_columns`] descends; deeper objects
/// are one `"object"` column, so a pathological document cannot produce an
/// unbounded table.
pub const MAXIMUM_NESTED_DEPTH: usize = 8;

/// One inferred column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Column {
    /// Top-level key, or a dotted path for nested columns.
    pub name: String,
    /// `"string"`, `"integer"`, `"number"`, `"boolean"`, `"object"` or `"array"`.
    pub r#type: String,
}

/// One column per top-level key, in first-seen order. A wrapped record
/// (`{"member": {...}}`) yields the single object column `member`.
pub fn infer_columns<'a>(records: impl IntoIterator<Item = &'a Value>) -> Vec<Column> {
    let mut accumulator = ColumnAccumulator::default();
    for record in records {
        if let Value::Object(members) = record {
            for (name, value) in members {
                accumulator.observe(name, value);
            }
        }
    }
    accumulator.into_columns()
}

/// Like [`infer_columns`] but descends into objects (up to
/// [`MAXIMUM_NESTED_DEPTH`] levels) with dotted names
/// (`member.email_address`); arrays stay one column. A key whose only
/// values were null is dropped when it also appeared as an object, so
/// `{"a": null}` then `{"a": {"b": 1}}` gives just `a.b`.
pub fn infer_nested_columns<'a>(records: impl IntoIterator<Item = &'a Value>) -> Vec<Column> {
    let mut accumulator = ColumnAccumulator::default();
    for record in records {
        if let Value::Object(members) = record {
            for (name, value) in members {
                observe_nested(&mut accumulator, name.clone(), value, 1);
            }
        }
    }
    let columns = accumulator.into_observed_columns();
    // Every proper dotted prefix of a column name was seen as an object.
    let object_names: HashSet<&str> = columns
        .iter()
        .flat_map(|(name, _)| name.match_indices('.').map(|(dot, _)| &name[..dot]))
        .collect();
    // A null-only key that was also an object gives its place to the
    // object's columns, which keeps first-seen order meaningful.
    let dropped_positions: HashMap<String, usize> = columns
        .iter()
        .enumerate()
        .filter(|(_, (name, observed_type))| {
            observed_type.is_none() && object_names.contains(name.as_str())
        })
        .map(|(position, (name, _))| (name.clone(), position))
        .collect();
    let mut ordered_columns: Vec<(usize, Column)> = columns
        .iter()
        .enumerate()
        .filter(|(_, (name, _))| !dropped_positions.contains_key(name))
        .map(|(position, (name, observed_type))| {
            let ancestor_position = name
                .match_indices('.')
                .filter_map(|(dot, _)| dropped_positions.get(&name[..dot]).copied())
                .min();
            (
                ancestor_position.map_or(position, |ancestor| ancestor.min(position)),
                column(name.clone(), *observed_type),
            )
        })
        .collect();
    ordered_columns.sort_by_key(|(sort_position, _)| *sort_position);
    ordered_columns
        .into_iter()
        .map(|(_, ordered_column)| ordered_column)
        .collect()
}

fn observe_nested(accumulator: &mut ColumnAccumulator, name: String, value: &Value, depth: usize) {
    match value {
        Value::Object(members) if depth < MAXIMUM_NESTED_DEPTH && !members.is_empty() => {
            for (child_name, child_value) in members {
                observe_nested(
                    accumulator,
                    format!("{name}.{child_name}"),
                    child_value,
                    depth + 1,
                );
            }
        }
        _ => accumulator.observe(&name, value),
    }
}

/// The JSON types a column can have, before naming.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JsonType {
    String,
    Integer,
    Number,
    Boolean,
    Object,
    Array,
}

impl JsonType {
    fn of(value: &Value) -> Option<JsonType> {
        Some(match value {
            Value::Null => return None,
            Value::Bool(_) => JsonType::Boolean,
            Value::Number(number) if number.is_i64() => JsonType::Integer,
            Value::Number(_) => JsonType::Number,
            Value::String(_) => JsonType::String,
            Value::Array(_) => JsonType::Array,
            Value::Object(_) => JsonType::Object,
        })
    }

    fn join(self, other: JsonType) -> JsonType {
        match (self, other) {
            _ if self == other => self,
            (JsonType::Integer, JsonType::Number) | (JsonType::Number, JsonType::Integer) => {
                JsonType::Number
            }
            _ => JsonType::String,
        }
    }

    fn name(self) -> &'static str {
        match self {
            JsonType::String => "string",
            JsonType::Integer => "integer",
            JsonType::Number => "number",
            JsonType::Boolean => "boolean",
            JsonType::Object => "object",
            JsonType::Array => "array",
        }
    }
}

/// Columns in first-seen order with their joined type so far (`None` while
/// only nulls were seen).
#[derive(Debug, Default)]
struct ColumnAccumulator {
    columns: Vec<(String, Option<JsonType>)>,
    position_by_name: HashMap<String, usize>,
}

impl ColumnAccumulator {
    fn observe(&mut self, name: &str, value: &Value) {
        let seen_type = JsonType::of(value);
        let position = match self.position_by_name.get(name) {
            Some(position) => *position,
            None => {
                self.position_by_name
                    .insert(name.to_owned(), self.columns.len());
                self.columns.push((name.to_owned(), None));
                self.columns.len() - 1
            }
        };
        let column_type = &mut self.columns[position].1;
        *column_type = match (*column_type, seen_type) {
            (Some(known), Some(seen)) => Some(known.join(seen)),
            (known, seen) => known.or(seen),
        };
    }

    fn into_observed_columns(self) -> Vec<(String, Option<JsonType>)> {
        self.columns
    }

    fn into_columns(self) -> Vec<Column> {
        self.columns
            .into_iter()
            .map(|(name, observed_type)| column(name, observed_type))
            .collect()
    }
}

fn column(name: String, observed_type: Option<JsonType>) -> Column {
    Column {
        name,
        r#type: observed_type.unwrap_or(JsonType::String).name().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn columns(pairs: &[(&str, &str)]) -> Vec<Column> {
        pairs
            .iter()
            .map(|(name, column_type)| Column {
                name: (*name).to_owned(),
                r#type: (*column_type).to_owned(),
            })
            .collect()
    }

    #[test]
    fn inference_cases() {
        // (description, records, expected top-level columns, expected nested columns)
        let cases: Vec<(&str, Value, Vec<Column>, Vec<Column>)> = vec![
            (
                "one type per key in first-seen order",
                json!([{"s": "a", "i": 1, "n": 1.5, "b": true, "o": {"k": 1}, "a": [1]}]),
                columns(&[
                    ("s", "string"),
                    ("i", "integer"),
                    ("n", "number"),
                    ("b", "boolean"),
                    ("o", "object"),
                    ("a", "array"),
                ]),
                columns(&[
                    ("s", "string"),
                    ("i", "integer"),
                    ("n", "number"),
                    ("b", "boolean"),
                    ("o.k", "integer"),
                    ("a", "array"),
                ]),
            ),
            (
                "integer and number join to number; other conflicts widen to string",
                json!([{"x": 1, "y": true, "z": 18446744073709551615_u64}, {"x": 2.5, "y": "no", "w": 1}]),
                columns(&[
                    ("x", "number"),
                    ("y", "string"),
                    ("z", "number"),
                    ("w", "integer"),
                ]),
                columns(&[
                    ("x", "number"),
                    ("y", "string"),
                    ("z", "number"),
                    ("w", "integer"),
                ]),
            ),
            (
                "nulls decide nothing; all-null is string; non-objects add nothing",
                json!([{"a": null, "b": null}, 5, {"a": 3}]),
                columns(&[("a", "integer"), ("b", "string")]),
                columns(&[("a", "integer"), ("b", "string")]),
            ),
            (
                "a wrapped record is one object column, or dotted nested columns",
                json!([{"member": {"email_address": "a@x", "stats": {"opens": 2}}}, {"member": null}]),
                columns(&[("member", "object")]),
                columns(&[
                    ("member.email_address", "string"),
                    ("member.stats.opens", "integer"),
                ]),
            ),
            (
                "a null seen before an object does not leave a column behind",
                json!([{"m": null, "mx": null}, {"m": {"k": "v"}}]),
                columns(&[("m", "object"), ("mx", "string")]),
                columns(&[("m.k", "string"), ("mx", "string")]),
            ),
            (
                "an empty object is kept as an object column",
                json!([{"e": {}}]),
                columns(&[("e", "object")]),
                columns(&[("e", "object")]),
            ),
        ];
        for (description, records, expected_columns, expected_nested_columns) in cases {
            let records = records.as_array().expect("cases hold arrays");
            assert_eq!(infer_columns(records), expected_columns, "{description}");
            assert_eq!(
                infer_nested_columns(records),
                expected_nested_columns,
                "{description}: nested"
            );
        }
    }

    #[test]
    fn nesting_stops_at_the_depth_limit() {
        let mut deep = json!({"leaf": 1});
        for level in (0..10).rev() {
            deep = json!({ format!("l{level}"): deep });
        }
        let nested_columns = infer_nested_columns([&deep]);
        assert_eq!(
            nested_columns,
            columns(&[("l0.l1.l2.l3.l4.l5.l6.l7", "object")])
        );
    }

    #[test]
    fn columns_serialize_as_name_and_type() {
        let serialized = serde_json::to_value(columns(&[("id", "integer")])).expect("serializable");
        assert_eq!(serialized, json!([{"name": "id", "type": "integer"}]));
    }
}
