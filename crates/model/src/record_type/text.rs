//! The lattice observed straight from a record's JSON text, without building a
//! `serde_json::Value`: the same widening as [`StructType::observe_object`] on the parsed
//! record, in one pass over the bytes and without allocating for keys already known.
//!
//! Besides widening, the walk says whether every value it saw will still fit the type once the
//! type has absorbed the whole row group — that is, whether the records can be decoded into
//! Arrow as they are, or must first be rewritten ([`StructType::conform_object`]). A value
//! needs rewriting when it lands in a `string` column without being a JSON string, or when a
//! column widens to `string` from anything but `null` (the values before were not strings).
//! A record whose object repeats a key is also flagged: its parsed form keeps the last value
//! only, which the text walk cannot know while it reads the first.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{ColumnType, StructType};

/// What observing records as text found, beyond the widened type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TextObservation {
    /// Some value will not fit the final type as written: the records must be parsed and
    /// conformed before they are decoded.
    pub needs_conform: bool,
    /// Some object repeated a key.
    pub repeated_key: bool,
    /// Some nested object was empty (`{}`): in a column that never gets a field, it is
    /// written as null, which decoding the text as written would not do.
    pub empty_object: bool,
}

impl TextObservation {
    /// True when the text of the records can be decoded against `record_type` (the type
    /// after observing them all) as it is.
    pub fn decodes_as_written(&self, record_type: &StructType) -> bool {
        let rewritten_somewhere = self.needs_conform
            || self.repeated_key
            || (self.empty_object && has_fieldless_struct(record_type));
        !rewritten_somewhere
    }
}

/// Why a record's text could not be observed.
#[derive(Debug, thiserror::Error)]
pub enum TextError {
    #[error("the record is a JSON {found}, not an object")]
    NotAnObject { found: &'static str },
    #[error("the record is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
}

impl StructType {
    /// Widens `self` so that the JSON object `text` fits, as
    /// [`StructType::observe_object`] would on the parsed object; top-level keys for which
    /// `skip_key` is true are ignored. Findings accumulate in `observation`.
    pub fn observe_object_text(
        &mut self,
        text: &str,
        skip_key: fn(&str) -> bool,
        observation: &mut TextObservation,
    ) -> Result<(), TextError> {
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let outcome = TopLevel {
            struct_type: self,
            skip_key,
            observation,
        }
        .deserialize(&mut deserializer)?;
        deserializer.end()?;
        match outcome {
            TopLevelOutcome::Object => Ok(()),
            TopLevelOutcome::Other(found) => Err(TextError::NotAnObject { found }),
        }
    }
}

enum TopLevelOutcome {
    Object,
    Other(&'static str),
}

struct TopLevel<'a> {
    struct_type: &'a mut StructType,
    skip_key: fn(&str) -> bool,
    observation: &'a mut TextObservation,
}

impl<'de> DeserializeSeed<'de> for TopLevel<'_> {
    type Value = TopLevelOutcome;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TopLevel<'_> {
    type Value = TopLevelOutcome;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        observe_members(self.struct_type, map, Some(self.skip_key), self.observation)?;
        Ok(TopLevelOutcome::Object)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(TopLevelOutcome::Other("array"))
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(TopLevelOutcome::Other("null"))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(TopLevelOutcome::Other("boolean"))
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(TopLevelOutcome::Other("number"))
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(TopLevelOutcome::Other("number"))
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(TopLevelOutcome::Other("number"))
    }

    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(TopLevelOutcome::Other("string"))
    }
}

/// Fields of one object already seen, to spot a repeated key without allocating for the
/// usual object of fewer than 128 fields.
struct SeenFields {
    low: u128,
    high: Vec<usize>,
}

impl SeenFields {
    fn new() -> SeenFields {
        SeenFields {
            low: 0,
            high: Vec::new(),
        }
    }

    /// Marks `index` as seen; false if it already was.
    fn insert(&mut self, index: usize) -> bool {
        if index < 128 {
            let bit = 1u128 << index;
            let fresh = self.low & bit == 0;
            self.low |= bit;
            fresh
        } else if self.high.contains(&index) {
            false
        } else {
            self.high.push(index);
            true
        }
    }
}

fn observe_members<'de, A: MapAccess<'de>>(
    struct_type: &mut StructType,
    mut map: A,
    skip_key: Option<fn(&str) -> bool>,
    observation: &mut TextObservation,
) -> Result<(), A::Error> {
    let mut seen = SeenFields::new();
    let mut position = 0;
    let nested = skip_key.is_none();
    while let Some(key) = map.next_key_seed(KeySeed {
        struct_type,
        position,
        skip_key,
    })? {
        position += 1;
        let index = match key {
            Key::Skipped => {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            Key::Known(index) => index,
            Key::New(name) => {
                struct_type.fields.push((name, ColumnType::Null));
                struct_type.fields.len() - 1
            }
        };
        if !seen.insert(index) {
            observation.repeated_key = true;
        }
        map.next_value_seed(ValueSeed {
            column_type: &mut struct_type.fields[index].1,
            observation,
        })?;
    }
    if nested && position == 0 {
        observation.empty_object = true;
    }
    Ok(())
}

enum Key {
    Known(usize),
    New(String),
    Skipped,
}

struct KeySeed<'a> {
    struct_type: &'a StructType,
    position: usize,
    skip_key: Option<fn(&str) -> bool>,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Key;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Key;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("an object key")
    }

    fn visit_str<E>(self, key: &str) -> Result<Self::Value, E> {
        if self.skip_key.is_some_and(|skip| skip(key)) {
            return Ok(Key::Skipped);
        }
        Ok(match self.struct_type.field_index(key, self.position) {
            Some(index) => Key::Known(index),
            None => Key::New(key.to_owned()),
        })
    }
}

struct ValueSeed<'a> {
    column_type: &'a mut ColumnType,
    observation: &'a mut TextObservation,
}

impl ValueSeed<'_> {
    /// A scalar of `kind` seen: widen, and note whether earlier or present values stop fitting.
    fn scalar(self, kind: Scalar) {
        let column_type = self.column_type;
        let widened = match (&*column_type, kind) {
            (ColumnType::String, Scalar::String) => return,
            (ColumnType::String, _) => {
                self.observation.needs_conform = true;
                return;
            }
            (ColumnType::Null, Scalar::Bool) => ColumnType::Boolean,
            (ColumnType::Null, Scalar::Integer) => ColumnType::Integer,
            (ColumnType::Null, Scalar::Float) => ColumnType::Float,
            (ColumnType::Null, Scalar::String) => ColumnType::String,
            (ColumnType::Boolean, Scalar::Bool)
            | (ColumnType::Integer, Scalar::Integer)
            | (ColumnType::Float, Scalar::Integer | Scalar::Float) => return,
            (ColumnType::Integer, Scalar::Float) => ColumnType::Float,
            _ => {
                // A conflict: the column becomes `string`, and the values before (not strings,
                // since the column was neither `null` nor `string`) must be rewritten.
                self.observation.needs_conform = true;
                ColumnType::String
            }
        };
        *column_type = widened;
    }
}

#[derive(Clone, Copy)]
enum Scalar {
    Bool,
    Integer,
    Float,
    String,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        self.scalar(Scalar::Bool);
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        self.scalar(Scalar::Integer);
        Ok(())
    }

    fn visit_u64<E>(self, value: u64) -> Result<(), E> {
        self.scalar(if i64::try_from(value).is_ok() {
            Scalar::Integer
        } else {
            Scalar::Float
        });
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        self.scalar(Scalar::Float);
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        self.scalar(Scalar::String);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if matches!(self.column_type, ColumnType::Null) {
            *self.column_type = ColumnType::List(Box::new(ColumnType::Null));
        }
        match self.column_type {
            ColumnType::List(item_type) => {
                while seq
                    .next_element_seed(ValueSeed {
                        column_type: item_type,
                        observation: self.observation,
                    })?
                    .is_some()
                {}
            }
            other => {
                // An array in a `string` column, or a conflict that makes it one.
                self.observation.needs_conform = true;
                *other = ColumnType::String;
                while seq.next_element::<IgnoredAny>()?.is_some() {}
            }
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        if matches!(self.column_type, ColumnType::Null) {
            *self.column_type = ColumnType::Struct(StructType::default());
        }
        match self.column_type {
            ColumnType::Struct(struct_type) => {
                observe_members(struct_type, map, None, self.observation)
            }
            other => {
                self.observation.needs_conform = true;
                *other = ColumnType::String;
                let mut map = map;
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(())
            }
        }
    }
}

/// True if the type holds a struct without fields anywhere: its `{}` values are written as
/// null (Parquet has no empty group), which the text cannot be decoded into as written.
pub fn has_fieldless_struct(struct_type: &StructType) -> bool {
    struct_type
        .fields
        .iter()
        .any(|(_, column_type)| column_has_fieldless_struct(column_type))
}

fn column_has_fieldless_struct(column_type: &ColumnType) -> bool {
    match column_type {
        ColumnType::Struct(nested) => nested.fields.is_empty() || has_fieldless_struct(nested),
        ColumnType::List(item_type) => column_has_fieldless_struct(item_type),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn by_value(records: &[Value]) -> StructType {
        StructType::of_records(records)
    }

    fn by_text(records: &[Value]) -> (StructType, TextObservation) {
        let mut record_type = StructType::default();
        let mut observation = TextObservation::default();
        for record in records {
            record_type
                .observe_object_text(
                    &serde_json::to_string(record).unwrap(),
                    |_| false,
                    &mut observation,
                )
                .unwrap();
        }
        (record_type, observation)
    }

    fn fits_as_written(record_type: &StructType, records: &[Value]) -> bool {
        records
            .iter()
            .all(|record| record_type.object_fits(record.as_object().unwrap()))
    }

    #[test]
    fn text_and_value_observation_widen_alike_and_flag_exactly_what_needs_conforming() {
        let cases = [
            json!([{"a": 1}, {"a": 2.5}, {"a": null}]),
            json!([{"a": 1}, {"a": "x"}]),
            json!([{"a": "x"}, {"a": 1}]),
            json!([{"a": [1, 2]}, {"a": [1.5, null]}, {"a": []}]),
            json!([{"a": [1]}, {"a": ["x"]}]),
            json!([{"a": {"b": 1}}, {"a": {"c": [true]}}]),
            json!([{"a": {"b": 1}}, {"a": 3}]),
            json!([{"a": null}, {"a": "s"}, {"b": {"c": {"d": {"e": 1}}}}]),
            json!([{"u": 18446744073709551615_u64, "i": -9223372036854775808_i64}]),
            json!([{"s": "x"}, {"s": true}]),
            json!([{"l": [{"x": 1}, {"y": "z"}]}, {"l": null}]),
            json!([{"a": true}, {"a": [true]}]),
        ];
        for records in cases {
            let records = records.as_array().unwrap();
            let (from_text, observation) = by_text(records);
            assert_eq!(from_text, by_value(records), "{records:?}");
            assert_eq!(
                observation.needs_conform,
                !fits_as_written(&from_text, records),
                "{records:?}"
            );
        }
    }

    #[test]
    fn repeated_keys_skipped_keys_and_non_objects_are_reported() {
        let mut record_type = StructType::default();
        let mut observation = TextObservation::default();
        record_type
            .observe_object_text(
                r#"{"a": 1, "_meta": {"x": 1}, "a": "x"}"#,
                |key| key == "_meta",
                &mut observation,
            )
            .unwrap();
        assert!(observation.repeated_key);
        assert_eq!(record_type.fields.len(), 1);
        let error = record_type
            .observe_object_text("[1]", |_| false, &mut observation)
            .unwrap_err();
        assert!(matches!(error, TextError::NotAnObject { found: "array" }));
        assert!(
            record_type
                .observe_object_text(r#"{"a": 1e400}"#, |_| false, &mut observation)
                .is_err()
        );
    }

    #[test]
    fn fieldless_structs_are_found_at_any_depth() {
        assert!(has_fieldless_struct(&by_value(&[json!({"e": {}})])));
        assert!(has_fieldless_struct(&by_value(&[
            json!({"l": [{"n": {}}]})
        ])));
        assert!(!has_fieldless_struct(&by_value(&[json!({"o": {"k": 1}})])));
    }
}
