//! Reading a function's arguments: each reader names the function, the argument's position
//! (1-based, as a user counts) and its placeholder name from the reference, so a wrong type
//! reads `lpad: argument 2 (COUNT) must be an integer, got string "x"`.
//!
//! Also the comparisons several families share: loose equality (`decode`) and the natural
//! ordering (`min`, `max`).

use std::cmp::Ordering;

use crate::functions::FunctionError;
use crate::value::Value;

/// The arguments of one call of `function`.
pub(crate) struct Args<'a> {
    pub(crate) function: &'static str,
    pub(crate) values: &'a [Value],
}

impl<'a> Args<'a> {
    pub(crate) fn new(function: &'static str, values: &'a [Value]) -> Args<'a> {
        Args { function, values }
    }

    /// The argument at `index` (0-based); null when absent (an optional argument left out).
    pub(crate) fn get(&self, index: usize) -> &'a Value {
        self.values.get(index).unwrap_or(&Value::Null)
    }

    pub(crate) fn len(&self) -> usize {
        self.values.len()
    }

    /// An error about the call as a whole.
    pub(crate) fn error(&self, message: impl Into<String>) -> FunctionError {
        FunctionError::new(self.function, message)
    }

    /// An error about the argument at `index`.
    pub(crate) fn invalid(&self, index: usize, name: &str, problem: &str) -> FunctionError {
        self.error(format!("argument {} ({name}) {problem}", index + 1))
    }

    fn wrong_type(&self, index: usize, name: &str, expected: &str) -> FunctionError {
        let value = self.get(index);
        let shown = match value {
            Value::Null | Value::Array(_) | Value::Object(_) => value.type_name().to_owned(),
            Value::Str(text) => format!("string {}", quote(text)),
            other => format!("{} {}", other.type_name(), other.to_text()),
        };
        self.invalid(index, name, &format!("must be {expected}, got {shown}"))
    }

    /// A text argument: scalars as Java's `toString`, null as the empty string; an array or
    /// object is refused (it is almost always a mapping mistake).
    pub(crate) fn text(&self, index: usize, name: &str) -> Result<String, FunctionError> {
        match self.get(index) {
            Value::Array(_) | Value::Object(_) => Err(self.wrong_type(index, name, "a string")),
            scalar => Ok(scalar.to_text()),
        }
    }

    /// A text argument that is null when null (or absent).
    pub(crate) fn optional_text(
        &self,
        index: usize,
        name: &str,
    ) -> Result<Option<String>, FunctionError> {
        match self.get(index) {
            Value::Null => Ok(None),
            _ => self.text(index, name).map(Some),
        }
    }

    /// An integer argument: an integer, a float without a fraction, or a string holding one
    /// (JEXL coerces numeric strings).
    pub(crate) fn integer(&self, index: usize, name: &str) -> Result<i64, FunctionError> {
        let value = self.get(index);
        let integer = match value {
            Value::Int(integer) => Some(*integer),
            Value::Float(float) if float.fract() == 0.0 && float.abs() < 9.2e18 => {
                Some(*float as i64)
            }
            Value::Str(text) => text.trim().parse::<i64>().ok(),
            _ => None,
        };
        integer.ok_or_else(|| self.wrong_type(index, name, "an integer"))
    }

    /// An integer argument that must lie in `range`.
    pub(crate) fn integer_in(
        &self,
        index: usize,
        name: &str,
        range: std::ops::RangeInclusive<i64>,
    ) -> Result<i64, FunctionError> {
        let integer = self.integer(index, name)?;
        if range.contains(&integer) {
            Ok(integer)
        } else {
            Err(self.invalid(
                index,
                name,
                &format!(
                    "must be between {} and {}, got {integer}",
                    range.start(),
                    range.end()
                ),
            ))
        }
    }

    /// A boolean argument: `true`/`false`, or the strings `"true"`/`"false"` in any case.
    pub(crate) fn boolean(&self, index: usize, name: &str) -> Result<bool, FunctionError> {
        match self.get(index) {
            Value::Bool(flag) => Ok(*flag),
            Value::Str(text) if text.eq_ignore_ascii_case("true") => Ok(true),
            Value::Str(text) if text.eq_ignore_ascii_case("false") => Ok(false),
            _ => Err(self.wrong_type(index, name, "a boolean")),
        }
    }

    /// An array argument; null is the empty array.
    pub(crate) fn array(&self, index: usize, name: &str) -> Result<&'a [Value], FunctionError> {
        match self.get(index) {
            Value::Array(items) => Ok(items),
            Value::Null => Ok(&[]),
            _ => Err(self.wrong_type(index, name, "an array")),
        }
    }

    /// An object (map) argument; `None` for null.
    pub(crate) fn object(
        &self,
        index: usize,
        name: &str,
    ) -> Result<Option<&'a crate::value::Fields>, FunctionError> {
        match self.get(index) {
            Value::Object(fields) => Ok(Some(fields)),
            Value::Null => Ok(None),
            _ => Err(self.wrong_type(index, name, "an object")),
        }
    }

    /// Refuses an argument of the wrong type, for readers the families write themselves.
    pub(crate) fn expected(&self, index: usize, name: &str, expected: &str) -> FunctionError {
        self.wrong_type(index, name, expected)
    }
}

/// A string in double quotes for messages, shortened when long.
pub(crate) fn quote(text: &str) -> String {
    const LIMIT: usize = 60;
    if text.chars().count() > LIMIT {
        let head: String = text.chars().take(LIMIT).collect();
        format!("\"{head}…\"")
    } else {
        format!("\"{text}\"")
    }
}

/// The number a value holds, for comparisons between integers and floats.
fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Int(integer) => Some(*integer as f64),
        Value::Float(float) => Some(*float),
        _ => None,
    }
}

/// Java's `equals` as `decode` needs it: equal values of one kind, with `1` equal to `1.0` (no
/// string coercion, unlike the language's `==`).
pub(crate) fn java_equal(left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::Int(left), Value::Int(right)) => left == right,
        _ => match (number(left), number(right)) {
            (Some(left), Some(right)) => left == right,
            _ => left == right,
        },
    }
}

/// The natural ordering of Java's `Comparable`s: numbers numerically, strings by code point,
/// dates chronologically, booleans false first; `None` when the two are not comparable.
pub(crate) fn natural_order(left: &Value, right: &Value) -> Option<Ordering> {
    match (left, right) {
        (Value::Int(left), Value::Int(right)) => Some(left.cmp(right)),
        (Value::Str(left), Value::Str(right)) => Some(left.cmp(right)),
        (Value::Date(left), Value::Date(right)) => Some(left.cmp(right)),
        (Value::Bool(left), Value::Bool(right)) => Some(left.cmp(right)),
        _ => match (number(left), number(right)) {
            (Some(left), Some(right)) => left.partial_cmp(&right),
            _ => None,
        },
    }
}
