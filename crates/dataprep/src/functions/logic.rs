//! Logical, aggregation, type-conversion, JSON and special functions (reference §7.9–§7.13).
//!
//! * `decode` compares with equality where `1` equals `1.0`; an odd number of arguments after
//!   the key makes the last one the default; no match and no default is null.
//! * `iif` takes JEXL's truth of its condition (null, `false`, zero and empty are false).
//! * `min`/`max` take several values or one array; nulls are skipped; values of kinds that do
//!   not compare (a number and a string) are an error; all null is null.
//! * `to_bigint` parses a decimal and truncates toward zero (`"1000000.34"` → `1000000`; the
//!   reference's example keeps the fraction, impossible for an integer), within 64 bits;
//!   `to_integer` is 32-bit and refuses a fraction in a string (Java's `Integer.parseInt`)
//!   but truncates a float argument (Java's `intValue`); out of range is an error for both.
//!   `to_float` rounds to single precision and keeps the shortest decimal of that float
//!   (`"12.3456"` → `12.3456`, not `12.345600128173828`). Surrounding whitespace is allowed.
//! * `json_to_object` parses a string (any JSON value); an object or array passes through.
//! * `uuid`/`guid` give a random (version 4) UUID, lowercase and hyphenated. `fpid_to_ecid` is
//!   not offered: Adobe has not published its algorithm.
//!
//! Null: the conversions and `json_to_object` of null are null.

use std::cmp::Ordering;

use crate::functions::args::{Args, java_equal, natural_order, quote};
use crate::functions::{CallContext, Function, FunctionError};
use crate::value::Value;

pub static LOGIC_FUNCTIONS: &[Function] = &[
    Function::new("decode", 3, None, decode),
    Function::new("iif", 3, Some(3), iif),
    Function::new("min", 1, None, min),
    Function::new("max", 1, None, max),
    Function::new("to_bigint", 1, Some(1), to_bigint),
    Function::new("to_decimal", 1, Some(1), to_decimal),
    Function::new("to_float", 1, Some(1), to_float),
    Function::new("to_integer", 1, Some(1), to_integer),
    Function::new("json_to_object", 1, Some(1), json_to_object),
    Function::new("uuid", 0, Some(0), uuid),
    Function::new("guid", 0, Some(0), uuid),
];

type Outcome = Result<Value, FunctionError>;

fn decode(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let (key, rest) = values.split_first().unwrap_or((&Value::Null, &[]));
    let mut pairs = rest.chunks_exact(2);
    for pair in pairs.by_ref() {
        if java_equal(key, &pair[0]) {
            return Ok(pair[1].clone());
        }
    }
    Ok(pairs.remainder().first().cloned().unwrap_or(Value::Null))
}

fn iif(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let args = Args::new("iif", values);
    let chosen = if args.get(0).truthy() { 1 } else { 2 };
    Ok(args.get(chosen).clone())
}

/// The value `min` (`wanted` = Less) or `max` (Greater) picks by natural ordering.
fn extreme(function: &'static str, values: &[Value], wanted: Ordering) -> Outcome {
    let args = Args::new(function, values);
    let candidates = match values {
        [Value::Array(items)] => items.as_slice(),
        _ => values,
    };
    let mut best: Option<&Value> = None;
    for value in candidates.iter().filter(|value| !value.is_null()) {
        let Some(current) = best else {
            best = Some(value);
            continue;
        };
        match natural_order(value, current) {
            Some(ordering) if ordering == wanted => best = Some(value),
            Some(_) => {}
            None => {
                return Err(args.error(format!(
                    "cannot compare {} with {}",
                    value.type_name(),
                    current.type_name()
                )));
            }
        }
    }
    Ok(best.cloned().unwrap_or(Value::Null))
}

fn min(values: &[Value], _: &CallContext<'_>) -> Outcome {
    extreme("min", values, Ordering::Less)
}

fn max(values: &[Value], _: &CallContext<'_>) -> Outcome {
    extreme("max", values, Ordering::Greater)
}

/// The numeric text of the argument, trimmed; `None` for null; a non-scalar is an error.
fn numeric_text(args: &Args<'_>) -> Result<Option<String>, FunctionError> {
    match args.get(0) {
        Value::Null => Ok(None),
        Value::Bool(_) | Value::Date(_) | Value::Array(_) | Value::Object(_) => {
            Err(args.expected(0, "STRING", "a number or a numeric string"))
        }
        scalar => Ok(Some(scalar.to_text().trim().to_owned())),
    }
}

fn unparseable(args: &Args<'_>, text: &str, what: &str) -> FunctionError {
    args.invalid(0, "STRING", &format!("is not {what}: {}", quote(text)))
}

/// Parses a decimal (`-12.75`, `1e3`) into an integer, truncating toward zero.
fn truncated(args: &Args<'_>, text: &str) -> Result<i128, FunctionError> {
    if let Ok(integer) = text.parse::<i128>() {
        return Ok(integer);
    }
    let plain_decimal = text
        .strip_prefix(['-', '+'])
        .unwrap_or(text)
        .split_once('.')
        .filter(|(whole, fraction)| {
            !(whole.is_empty() && fraction.is_empty())
                && whole.bytes().all(|b| b.is_ascii_digit())
                && fraction.bytes().all(|b| b.is_ascii_digit())
        });
    if let Some((whole, _)) = plain_decimal {
        let magnitude = if whole.is_empty() {
            0
        } else {
            whole
                .parse::<i128>()
                .map_err(|_| args.invalid(0, "STRING", "is out of range"))?
        };
        return Ok(if text.starts_with('-') {
            -magnitude
        } else {
            magnitude
        });
    }
    match text.parse::<f64>() {
        Ok(float) if float.is_finite() && float.abs() < 1e38 => Ok(float.trunc() as i128),
        Ok(float) if float.is_finite() => Err(args.invalid(0, "STRING", "is out of range")),
        _ => Err(unparseable(args, text, "a number")),
    }
}

fn to_bigint(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let args = Args::new("to_bigint", values);
    let Some(text) = numeric_text(&args)? else {
        return Ok(Value::Null);
    };
    let integer = truncated(&args, &text)?;
    i64::try_from(integer).map(Value::Int).map_err(|_| {
        args.invalid(
            0,
            "STRING",
            &format!("is out of the 64-bit integer range: {}", quote(&text)),
        )
    })
}

/// Parses a float (Java's `Double.parseDouble`, which also takes a trailing `d`/`f`).
fn parse_double(args: &Args<'_>, text: &str) -> Result<f64, FunctionError> {
    let digits = text.strip_suffix(['d', 'D', 'f', 'F']).unwrap_or(text);
    digits
        .parse::<f64>()
        .map_err(|_| unparseable(args, text, "a number"))
}

fn to_decimal(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let args = Args::new("to_decimal", values);
    let Some(text) = numeric_text(&args)? else {
        return Ok(Value::Null);
    };
    Ok(Value::Float(parse_double(&args, &text)?))
}

fn to_float(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let args = Args::new("to_float", values);
    let Some(text) = numeric_text(&args)? else {
        return Ok(Value::Null);
    };
    let double = parse_double(&args, &text)?;
    let single = double as f32;
    if double.is_finite() && !single.is_finite() {
        return Err(args.invalid(
            0,
            "STRING",
            &format!("is out of the float range: {}", quote(&text)),
        ));
    }
    // The shortest decimal that reads back as this single-precision float, as Java's
    // `Float.toString` prints it.
    let shortest = single
        .to_string()
        .parse::<f64>()
        .unwrap_or(f64::from(single));
    Ok(Value::Float(shortest))
}

fn to_integer(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let args = Args::new("to_integer", values);
    let integer = match args.get(0) {
        Value::Float(float) if float.is_finite() => float.trunc() as i128,
        Value::Float(_) => return Err(args.expected(0, "STRING", "a finite number")),
        _ => {
            let Some(text) = numeric_text(&args)? else {
                return Ok(Value::Null);
            };
            let digits = text.strip_prefix('+').unwrap_or(&text);
            digits
                .parse::<i128>()
                .map_err(|_| unparseable(&args, &text, "an integer"))?
        }
    };
    i32::try_from(integer)
        .map(|integer| Value::Int(i64::from(integer)))
        .map_err(|_| {
            args.invalid(
                0,
                "STRING",
                &format!("is out of the 32-bit integer range: {integer}"),
            )
        })
}

fn json_to_object(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let args = Args::new("json_to_object", values);
    match args.get(0) {
        Value::Null => Ok(Value::Null),
        Value::Str(text) => serde_json::from_str::<serde_json::Value>(text)
            .map(|json| Value::from_json(&json))
            .map_err(|error| args.invalid(0, "STRING", &format!("is not JSON: {error}"))),
        Value::Object(_) | Value::Array(_) => Ok(args.get(0).clone()),
        _ => Err(args.expected(0, "STRING", "a JSON string, an object or an array")),
    }
}

fn uuid(_: &[Value], _: &CallContext<'_>) -> Outcome {
    Ok(Value::Str(uuid::Uuid::new_v4().to_string()))
}
