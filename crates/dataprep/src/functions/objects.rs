//! Object and map functions (reference §7.6, §7.8). The language does not tell XDM objects
//! from maps: both are [`Value::Object`].
//!
//! Choices where the reference is silent:
//! * null: a null object or map argument gives null (`get_keys`, `object_to_map`, `to_map`,
//!   `str_to_object`, `map_get_values`); `map_has_keys(null, …)` is false; null maps are
//!   skipped by `add_to_map`; a null array of `arrays_to_object` is an empty one.
//! * keys are text: a non-string key is converted as `concat` would (`1` → `"1"`); a null key
//!   is an error.
//! * repeated keys: the later pair wins in `to_object`, `object_to_map`, `to_map` and
//!   `array_to_map` (a Java map's `put`); the first wins in `add_to_map`, as documented.
//! * `arrays_to_object` makes as many objects as the longest array has elements; an object
//!   lacks the keys whose arrays are shorter.
//! * `str_to_object`/`get_values` split on literal (not regex) delimiters, trim keys and
//!   values, skip pairs without the value delimiter, and split a pair at its first one.
//! * `contains_key` is true for a path present in the record even when its value is null.

use crate::functions::args::Args;
use crate::functions::{CallContext, Function, FunctionError};
use crate::value::Value;

pub static OBJECT_FUNCTIONS: &[Function] = &[
    Function::new("is_empty", 1, Some(1), is_empty),
    Function::new("arrays_to_object", 2, None, arrays_to_object),
    Function::new("arrays_to_objects", 2, None, arrays_to_object),
    Function::new("to_object", 2, None, to_object),
    Function::new("str_to_object", 1, Some(3), str_to_object),
    Function::new("contains_key", 1, Some(1), contains_key),
    Function::new("is_set", 1, Some(1), contains_key),
    Function::new("nullify", 0, Some(0), nullify),
    Function::new("get_keys", 1, Some(1), get_keys),
    Function::new("get_values", 2, Some(4), get_values),
    Function::new("map_get_values", 2, Some(2), map_get_values),
    Function::new("map_has_keys", 2, Some(2), map_has_keys),
    Function::new("add_to_map", 2, None, add_to_map),
    Function::new("object_to_map", 1, None, object_to_map),
    Function::new("array_to_map", 2, Some(2), array_to_map),
    Function::new("to_map", 1, None, to_map),
];

type Outcome = Result<Value, FunctionError>;
use crate::value::Fields;

fn is_empty(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let empty = match values.first().unwrap_or(&Value::Null) {
        Value::Null => true,
        Value::Str(text) => text.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(fields) => fields.is_empty(),
        _ => false,
    };
    Ok(Value::Bool(empty))
}

/// The key at `index`, as text; a null, array or object key is an error.
fn key(args: &Args<'_>, index: usize, name: &str) -> Result<String, FunctionError> {
    match args.get(index) {
        Value::Null => Err(args.invalid(index, name, "must be a key, got null")),
        _ => args.text(index, name),
    }
}

/// Refuses an odd number of arguments for functions taking key/value pairs.
fn require_pairs(args: &Args<'_>, what: &str) -> Result<(), FunctionError> {
    if args.len().is_multiple_of(2) {
        Ok(())
    } else {
        Err(args.error(format!(
            "takes {what} in pairs, got an odd number of arguments ({})",
            args.len()
        )))
    }
}

fn arrays_to_object(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let args = Args::new("arrays_to_object", values);
    require_pairs(&args, "keys and arrays")?;
    let mut columns = Vec::new();
    for index in (0..args.len()).step_by(2) {
        columns.push((key(&args, index, "KEY")?, args.array(index + 1, "ARRAY")?));
    }
    let rows = columns
        .iter()
        .map(|(_, items)| items.len())
        .max()
        .unwrap_or(0);
    Ok(Value::Array(
        (0..rows)
            .map(|row| {
                Value::Object(
                    columns
                        .iter()
                        .filter_map(|(name, items)| {
                            items.get(row).map(|item| (name.clone(), item.clone()))
                        })
                        .collect(),
                )
            })
            .collect(),
    ))
}

/// An object from the key/value pairs of `args`.
fn pairs(args: &Args<'_>) -> Result<Fields, FunctionError> {
    require_pairs(args, "keys and values")?;
    let mut fields = Fields::default();
    for index in (0..args.len()).step_by(2) {
        fields.insert(key(args, index, "KEY")?, args.get(index + 1).clone());
    }
    Ok(fields)
}

fn to_object(values: &[Value], _: &CallContext<'_>) -> Outcome {
    Ok(Value::Object(pairs(&Args::new("to_object", values))?))
}

/// The delimiter at `index`, `default` when null or empty.
fn delimiter(
    args: &Args<'_>,
    index: usize,
    name: &str,
    default: &str,
) -> Result<String, FunctionError> {
    Ok(args
        .optional_text(index, name)?
        .filter(|delimiter| !delimiter.is_empty())
        .unwrap_or_else(|| default.into()))
}

/// The fields of a `k<value delimiter>v<field delimiter>…` string.
fn parse_fields(text: &str, value_delimiter: &str, field_delimiter: &str) -> Fields {
    text.split(field_delimiter)
        .filter_map(|pair| pair.split_once(value_delimiter))
        .map(|(name, value)| (name.trim().to_owned(), Value::Str(value.trim().to_owned())))
        .filter(|(name, _)| !name.is_empty())
        .collect()
}

fn str_to_object(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let args = Args::new("str_to_object", values);
    let Some(text) = args.optional_text(0, "STRING")? else {
        return Ok(Value::Null);
    };
    let value_delimiter = delimiter(&args, 1, "VALUE_DELIMITER", ":")?;
    let field_delimiter = delimiter(&args, 2, "FIELD_DELIMITER", ",")?;
    Ok(Value::Object(parse_fields(
        &text,
        &value_delimiter,
        &field_delimiter,
    )))
}

fn get_values(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let args = Args::new("get_values", values);
    let Some(text) = args.optional_text(0, "STRING")? else {
        return Ok(Value::Null);
    };
    let wanted = key(&args, 1, "KEY")?;
    let value_delimiter = delimiter(&args, 2, "VALUE_DELIMITER", ":")?;
    let field_delimiter = delimiter(&args, 3, "FIELD_DELIMITER", ",")?;
    let mut fields = parse_fields(&text, &value_delimiter, &field_delimiter);
    Ok(fields.swap_remove(&wanted).unwrap_or(Value::Null))
}

/// The segments of a dotted path: `\.` is a dot inside a name, `[n]` an array index.
fn path_segments(path: &str) -> Vec<String> {
    let mut segments = Vec::new();
    let mut current = String::new();
    let mut characters = path.chars();
    while let Some(character) = characters.next() {
        match character {
            '\\' => current.extend(characters.next()),
            '.' => segments.push(std::mem::take(&mut current)),
            '[' => {
                if !current.is_empty() {
                    segments.push(std::mem::take(&mut current));
                }
                let index: String = characters.by_ref().take_while(|&c| c != ']').collect();
                segments.push(index);
                if characters.as_str().starts_with('.') {
                    characters.next();
                }
            }
            _ => current.push(character),
        }
    }
    if !current.is_empty() || segments.is_empty() {
        segments.push(current);
    }
    segments
}

fn contains_key(values: &[Value], context: &CallContext<'_>) -> Outcome {
    let args = Args::new("contains_key", values);
    let path = args.text(0, "PATH")?;
    let mut current = context.record;
    for segment in path_segments(&path) {
        let next = match current {
            Value::Object(fields) => fields.get(&segment),
            Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        };
        match next {
            Some(value) => current = value,
            None => return Ok(Value::Bool(false)),
        }
    }
    Ok(Value::Bool(true))
}

fn nullify(_: &[Value], _: &CallContext<'_>) -> Outcome {
    Ok(Value::Null)
}

fn get_keys(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let args = Args::new("get_keys", values);
    Ok(args.object(0, "OBJECT")?.map_or(Value::Null, |fields| {
        Value::Array(fields.keys().cloned().map(Value::Str).collect())
    }))
}

/// The keys asked for: one key, or each element of an array of keys (duplicates once).
fn wanted_keys(args: &Args<'_>) -> Result<Vec<String>, FunctionError> {
    let mut keys: Vec<String> = match args.get(1) {
        Value::Array(items) => items
            .iter()
            .filter(|item| !item.is_null())
            .map(Value::to_text)
            .collect(),
        _ => vec![key(args, 1, "KEY")?],
    };
    let mut seen = std::collections::HashSet::new();
    keys.retain(|key| seen.insert(key.clone()));
    Ok(keys)
}

fn map_get_values(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let args = Args::new("map_get_values", values);
    let Some(map) = args.object(0, "MAP")? else {
        return Ok(Value::Null);
    };
    let keys = wanted_keys(&args)?;
    if !matches!(args.get(1), Value::Array(_)) {
        return Ok(map.get(&keys[0]).cloned().unwrap_or(Value::Null));
    }
    Ok(Value::Object(
        keys.into_iter()
            .filter_map(|key| map.get(&key).map(|value| (key, value.clone())))
            .collect(),
    ))
}

fn map_has_keys(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let args = Args::new("map_has_keys", values);
    let Some(map) = args.object(0, "MAP")? else {
        return Ok(Value::Bool(false));
    };
    let keys = wanted_keys(&args)?;
    Ok(Value::Bool(keys.iter().any(|key| map.contains_key(key))))
}

fn add_to_map(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let args = Args::new("add_to_map", values);
    let mut merged = Fields::default();
    for index in 0..args.len() {
        for (name, value) in args.object(index, "MAP")?.into_iter().flatten() {
            merged.entry(name.clone()).or_insert_with(|| value.clone());
        }
    }
    Ok(Value::Object(merged))
}

/// A map of the objects of `items` keyed by each one's `attribute` (as text); elements
/// without it (or that are not objects) are left out.
fn keyed_by(items: &[Value], attribute: &str) -> Fields {
    items
        .iter()
        .filter_map(|item| match item {
            Value::Object(fields) => fields
                .get(attribute)
                .filter(|key| !key.is_null())
                .map(|key| (key.to_text(), item.clone())),
            _ => None,
        })
        .collect()
}

fn object_to_map(values: &[Value], _: &CallContext<'_>) -> Outcome {
    map_from(Args::new("object_to_map", values))
}

fn to_map(values: &[Value], _: &CallContext<'_>) -> Outcome {
    map_from(Args::new("to_map", values))
}

/// The three syntaxes of `object_to_map` (and `to_map`): `(OBJECT)`,
/// `(OBJECT_ARRAY, ATTRIBUTE)` and `(K1, V1, K2, V2, …)`.
fn map_from(args: Args<'_>) -> Outcome {
    match (args.len(), args.get(0)) {
        (1, Value::Null) => Ok(Value::Null),
        (1, Value::Object(fields)) => Ok(Value::Object(fields.clone())),
        (1, _) => Err(args.expected(0, "OBJECT", "an object")),
        (2, Value::Array(items)) => {
            Ok(Value::Object(keyed_by(items, &key(&args, 1, "ATTRIBUTE")?)))
        }
        _ => Ok(Value::Object(pairs(&args)?)),
    }
}

fn array_to_map(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let args = Args::new("array_to_map", values);
    if args.get(0).is_null() {
        return Ok(Value::Null);
    }
    let items = args.array(0, "OBJECT_ARRAY")?;
    let attribute = key(&args, 1, "KEY")?;
    Ok(Value::Object(keyed_by(items, &attribute)))
}
