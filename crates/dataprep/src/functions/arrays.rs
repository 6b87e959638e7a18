//! Array functions (reference §7.7).
//!
//! `coalesce`, `first` and `last` take either several values or one array of them. The
//! destinations-only functions (`filterArray`, `transformArray`, `flattenArray`,
//! `array_to_string`) are deliberately not registered: a sources mapping cannot use them, and
//! the evaluator refuses them by name. `upsert_array_append`/`upsert_array_replace` only
//! matter for streaming upserts to Profile; on ingestion they return their array.
//!
//! Choices where the reference is silent: `add_to_array` and `to_array` add an array value as
//! one element (no flattening); `join_arrays` adds a non-array argument as one element and
//! skips nulls; `size_of` counts an array's elements, a string's characters, an object's
//! fields, and is 0 for null (JEXL's `size`).

use crate::functions::args::Args;
use crate::functions::{CallContext, Function, FunctionError};
use crate::value::Value;

pub static ARRAY_FUNCTIONS: &[Function] = &[
    Function::new("coalesce", 1, None, coalesce),
    Function::new("first", 1, None, first),
    Function::new("last", 1, None, last),
    Function::new("add_to_array", 1, None, add_to_array),
    Function::new("join_arrays", 1, None, join_arrays),
    Function::new("to_array", 1, None, to_array),
    Function::new("size_of", 1, Some(1), size_of),
    Function::new("upsert_array_append", 1, Some(2), upsert_array),
    Function::new("upsert_array_replace", 1, Some(2), upsert_array),
];

type Outcome = Result<Value, FunctionError>;

/// The values a varargs-or-array function works on: one array argument stands for its
/// elements, one null for none.
fn candidates(values: &[Value]) -> &[Value] {
    match values {
        [Value::Array(items)] => items,
        [Value::Null] => &[],
        _ => values,
    }
}

fn coalesce(values: &[Value], _: &CallContext<'_>) -> Outcome {
    Ok(candidates(values)
        .iter()
        .find(|value| !value.is_null())
        .cloned()
        .unwrap_or(Value::Null))
}

fn first(values: &[Value], _: &CallContext<'_>) -> Outcome {
    Ok(candidates(values).first().cloned().unwrap_or(Value::Null))
}

fn last(values: &[Value], _: &CallContext<'_>) -> Outcome {
    Ok(candidates(values).last().cloned().unwrap_or(Value::Null))
}

fn add_to_array(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let args = Args::new("add_to_array", values);
    let mut items = args.array(0, "ARRAY")?.to_vec();
    items.extend(values.iter().skip(1).cloned());
    Ok(Value::Array(items))
}

fn join_arrays(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let mut items = Vec::new();
    for value in values {
        match value {
            Value::Array(elements) => items.extend(elements.iter().cloned()),
            Value::Null => {}
            other => items.push(other.clone()),
        }
    }
    Ok(Value::Array(items))
}

fn to_array(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let args = Args::new("to_array", values);
    let include_nulls = args.boolean(0, "INCLUDE_NULLS")?;
    Ok(Value::Array(
        values
            .iter()
            .skip(1)
            .filter(|value| include_nulls || !value.is_null())
            .cloned()
            .collect(),
    ))
}

fn size_of(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let args = Args::new("size_of", values);
    let size = match args.get(0) {
        Value::Null => 0,
        Value::Array(items) => items.len(),
        Value::Object(fields) => fields.len(),
        Value::Str(text) => text.chars().count(),
        _ => return Err(args.expected(0, "INPUT", "an array, an object or a string")),
    };
    Ok(Value::Int(size as i64))
}

fn upsert_array(values: &[Value], _: &CallContext<'_>) -> Outcome {
    Ok(values.first().cloned().unwrap_or(Value::Null))
}
