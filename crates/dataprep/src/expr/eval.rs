//! Evaluating an expression tree against one record, with JEXL's lenient semantics where the
//! reference leaves them (§6.3, §6.4):
//!
//! - A field that is not in the record is null; so is an index past the end of an array.
//! - `+` concatenates when either side is a string (null as the empty string), else adds;
//!   arithmetic reads null as 0 and numeric strings as numbers; integer `/` and `%` stay
//!   integral (Java's truncation), an integer overflow becomes floating; dividing by zero is
//!   an error.
//! - `==` compares numbers numerically (`"1" == 1`), null only equals null, other values by
//!   kind; `<`… compare numbers, strings (lexicographically) and dates; a comparison with null
//!   is false.
//! - `&&`, `||`, `!` and `?:` read JEXL's truth (null, `false`, 0, `""`, `[]`, `{}` are false)
//!   and short-circuit.
//! - A method on null is null.
//! - `=~` compiles its pattern once per thread (the functions' regex cache), not per record.
//!
//! An error is a transformation error: the mapping's destination becomes null and the run
//! records a warning (reference §6.4).

use std::cmp::Ordering;

use super::{BinaryOp, Expr, Method, Segment, UnaryOp};
use crate::functions::CallContext;
use crate::value::Value;

/// Why an expression could not compute its value for a record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct EvalError {
    pub message: String,
}

fn error(message: impl Into<String>) -> EvalError {
    EvalError {
        message: message.into(),
    }
}

pub fn evaluate(expr: &Expr, context: &CallContext<'_>) -> Result<Value, EvalError> {
    match expr {
        Expr::Literal(value) => Ok(value.clone()),
        Expr::Field(segments) => Ok(field(context.record, segments)
            .cloned()
            .unwrap_or(Value::Null)),
        Expr::Array(items) => items
            .iter()
            .map(|item| evaluate(item, context))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Expr::Map(entries) => {
            let mut map = crate::value::Fields::default();
            for (key, value) in entries {
                map.insert(evaluate(key, context)?.to_text(), evaluate(value, context)?);
            }
            Ok(Value::Object(map))
        }
        Expr::Call { call, args, .. } => {
            let values = args
                .iter()
                .map(|arg| evaluate(arg, context))
                .collect::<Result<Vec<_>, _>>()?;
            call(&values, context).map_err(|failure| error(failure.to_string()))
        }
        Expr::Method {
            target,
            method,
            args,
        } => {
            let target = evaluate(target, context)?;
            let args = args
                .iter()
                .map(|arg| evaluate(arg, context))
                .collect::<Result<Vec<_>, _>>()?;
            call_method(&target, *method, &args)
        }
        Expr::Index { target, index } => {
            let target = evaluate(target, context)?;
            let index = evaluate(index, context)?;
            Ok(match (&target, &index) {
                (Value::Array(items), Value::Int(at)) => usize::try_from(*at)
                    .ok()
                    .and_then(|at| items.get(at).cloned())
                    .unwrap_or(Value::Null),
                (Value::Object(fields), key) => {
                    fields.get(&key.to_text()).cloned().unwrap_or(Value::Null)
                }
                _ => Value::Null,
            })
        }
        Expr::Member { target, name } => Ok(match evaluate(target, context)? {
            Value::Object(fields) => fields.get(name).cloned().unwrap_or(Value::Null),
            _ => Value::Null,
        }),
        Expr::Unary { op, operand } => unary(*op, evaluate(operand, context)?),
        Expr::Binary {
            op: BinaryOp::And,
            left,
            right,
        } => Ok(Value::Bool(
            evaluate(left, context)?.truthy() && evaluate(right, context)?.truthy(),
        )),
        Expr::Binary {
            op: BinaryOp::Or,
            left,
            right,
        } => Ok(Value::Bool(
            evaluate(left, context)?.truthy() || evaluate(right, context)?.truthy(),
        )),
        Expr::Binary { op, left, right } => {
            binary(*op, evaluate(left, context)?, evaluate(right, context)?)
        }
        Expr::Conditional {
            condition,
            then,
            otherwise,
        } => {
            if evaluate(condition, context)?.truthy() {
                evaluate(then, context)
            } else {
                evaluate(otherwise, context)
            }
        }
        Expr::Elvis { value, fallback } => {
            let value = evaluate(value, context)?;
            if value.truthy() {
                Ok(value)
            } else {
                evaluate(fallback, context)
            }
        }
    }
}

/// The value at `segments` under `root`, when there is one.
pub fn field<'a>(root: &'a Value, segments: &[Segment]) -> Option<&'a Value> {
    segments
        .iter()
        .try_fold(root, |value, segment| match (value, segment) {
            (Value::Object(fields), Segment::Name(name)) => fields.get(name),
            (Value::Array(items), Segment::Index(index)) => items.get(*index),
            _ => None,
        })
}

/// Whether a value is empty in Data Prep's sense: null, `""`, `[]` or `{}`.
pub fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Str(text) => text.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(fields) => fields.is_empty(),
        _ => false,
    }
}

fn length(value: &Value) -> i64 {
    let count = match value {
        Value::Str(text) => text.chars().count(),
        Value::Array(items) => items.len(),
        Value::Object(fields) => fields.len(),
        _ => 0,
    };
    count as i64
}

fn unary(op: UnaryOp, operand: Value) -> Result<Value, EvalError> {
    Ok(match op {
        UnaryOp::Not => Value::Bool(!operand.truthy()),
        UnaryOp::Empty => Value::Bool(is_empty(&operand)),
        UnaryOp::Size => Value::Int(length(&operand)),
        UnaryOp::Negate => match number(&operand)? {
            Number::Int(integer) => integer
                .checked_neg()
                .map_or(Value::Float(-(integer as f64)), Value::Int),
            Number::Float(float) => Value::Float(-float),
        },
        UnaryOp::BitNot => match number(&operand)? {
            Number::Int(integer) => Value::Int(!integer),
            Number::Float(_) => return Err(error("~ takes an integer")),
        },
    })
}

#[derive(Debug, Clone, Copy)]
enum Number {
    Int(i64),
    Float(f64),
}

impl Number {
    fn float(self) -> f64 {
        match self {
            Number::Int(integer) => integer as f64,
            Number::Float(float) => float,
        }
    }
}

/// A value read as a number for arithmetic: null is 0, numeric strings their number.
fn number(value: &Value) -> Result<Number, EvalError> {
    match value {
        Value::Null => Ok(Number::Int(0)),
        Value::Int(integer) => Ok(Number::Int(*integer)),
        Value::Float(float) => Ok(Number::Float(*float)),
        Value::Str(text) => {
            numeric_text(text).ok_or_else(|| error(format!("\"{text}\" is not a number")))
        }
        other => Err(error(format!("a {} is not a number", other.type_name()))),
    }
}

fn numeric_text(text: &str) -> Option<Number> {
    let trimmed = text.trim();
    trimmed
        .parse::<i64>()
        .map(Number::Int)
        .ok()
        .or_else(|| trimmed.parse::<f64>().ok().map(Number::Float))
}

fn arithmetic(op: BinaryOp, left: Number, right: Number) -> Result<Value, EvalError> {
    if let (Number::Int(a), Number::Int(b)) = (left, right) {
        let exact = match op {
            BinaryOp::Add => a.checked_add(b),
            BinaryOp::Subtract => a.checked_sub(b),
            BinaryOp::Multiply => a.checked_mul(b),
            BinaryOp::Divide | BinaryOp::Remainder if b == 0 => {
                return Err(error("division by zero"));
            }
            BinaryOp::Divide => a.checked_div(b),
            _ => a.checked_rem(b),
        };
        if let Some(exact) = exact {
            return Ok(Value::Int(exact));
        }
    }
    let (a, b) = (left.float(), right.float());
    Ok(Value::Float(match op {
        BinaryOp::Add => a + b,
        BinaryOp::Subtract => a - b,
        BinaryOp::Multiply => a * b,
        BinaryOp::Divide | BinaryOp::Remainder if b == 0.0 => {
            return Err(error("division by zero"));
        }
        BinaryOp::Divide => a / b,
        _ => a % b,
    }))
}

fn binary(op: BinaryOp, left: Value, right: Value) -> Result<Value, EvalError> {
    match op {
        BinaryOp::Add if matches!(left, Value::Str(_)) || matches!(right, Value::Str(_)) => {
            Ok(Value::Str(format!("{}{}", left.to_text(), right.to_text())))
        }
        BinaryOp::Add
        | BinaryOp::Subtract
        | BinaryOp::Multiply
        | BinaryOp::Divide
        | BinaryOp::Remainder => arithmetic(op, number(&left)?, number(&right)?),
        BinaryOp::Equal => Ok(Value::Bool(loosely_equal(&left, &right))),
        BinaryOp::NotEqual => Ok(Value::Bool(!loosely_equal(&left, &right))),
        BinaryOp::Less | BinaryOp::LessOrEqual | BinaryOp::Greater | BinaryOp::GreaterOrEqual => {
            let ordering = compare(&left, &right);
            Ok(Value::Bool(ordering.is_some_and(|ordering| match op {
                BinaryOp::Less => ordering.is_lt(),
                BinaryOp::LessOrEqual => ordering.is_le(),
                BinaryOp::Greater => ordering.is_gt(),
                _ => ordering.is_ge(),
            })))
        }
        BinaryOp::Matches | BinaryOp::NotMatches => {
            let matched = matches(&left, &right)?;
            Ok(Value::Bool(matched == (op == BinaryOp::Matches)))
        }
        BinaryOp::BitAnd | BinaryOp::BitOr | BinaryOp::BitXor => {
            match (number(&left)?, number(&right)?) {
                (Number::Int(a), Number::Int(b)) => Ok(Value::Int(match op {
                    BinaryOp::BitAnd => a & b,
                    BinaryOp::BitOr => a | b,
                    _ => a ^ b,
                })),
                _ => Err(error("bitwise operators take integers")),
            }
        }
        BinaryOp::And | BinaryOp::Or => unreachable!("short-circuited in evaluate"),
    }
}

/// `==`: numbers numerically (a numeric string is its number), null only equals null, dates by
/// instant, the rest by value.
pub fn loosely_equal(left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::Null, Value::Null) => true,
        (Value::Null, _) | (_, Value::Null) => false,
        (Value::Date(a), Value::Date(b)) => a.timestamp() == b.timestamp(),
        (Value::Int(_) | Value::Float(_), _) | (_, Value::Int(_) | Value::Float(_)) => {
            match (number(left), number(right)) {
                (Ok(a), Ok(b)) => a.float() == b.float(),
                _ => false,
            }
        }
        (Value::Bool(a), Value::Str(text)) | (Value::Str(text), Value::Bool(a)) => {
            text.eq_ignore_ascii_case(if *a { "true" } else { "false" })
        }
        (a, b) => a == b,
    }
}

/// The natural order of two values, when they have one: numbers (and numeric strings against
/// numbers), strings, dates, booleans.
pub fn compare(left: &Value, right: &Value) -> Option<Ordering> {
    match (left, right) {
        (Value::Null, _) | (_, Value::Null) => None,
        (Value::Str(a), Value::Str(b)) => Some(a.cmp(b)),
        (Value::Date(a), Value::Date(b)) => Some(a.timestamp().cmp(&b.timestamp())),
        (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
        _ => match (number(left), number(right)) {
            (Ok(a), Ok(b)) => a.float().partial_cmp(&b.float()),
            _ => None,
        },
    }
}

/// `=~`: membership in an array, or a full match of the left side's text by the regex.
fn matches(left: &Value, right: &Value) -> Result<bool, EvalError> {
    match right {
        Value::Array(items) => Ok(items.iter().any(|item| loosely_equal(left, item))),
        Value::Str(pattern) => {
            // From the thread's cache: the pattern is usually the same for every record.
            let regex =
                crate::functions::regex::cached(pattern, crate::functions::regex::Anchoring::Whole)
                    .map_err(|failure| {
                        error(format!("the pattern {pattern:?} is not a regex: {failure}"))
                    })?;
            regex
                .is_match(&left.to_text())
                .map_err(|failure| error(format!("matching {pattern:?} failed: {failure}")))
        }
        Value::Null => Ok(false),
        other => Err(error(format!(
            "=~ takes a regex or an array, not a {}",
            other.type_name()
        ))),
    }
}

fn text_argument(args: &[Value], at: usize) -> String {
    args.get(at).map(Value::to_text).unwrap_or_default()
}

fn char_index(text: &str, at: &Value, method: &str) -> Result<usize, EvalError> {
    let length = text.chars().count();
    match number(at)? {
        Number::Int(index) if index >= 0 && index as usize <= length => Ok(index as usize),
        _ => Err(error(format!(
            "{method}: index {} is outside a string of {length} characters",
            at.to_text()
        ))),
    }
}

fn call_method(target: &Value, method: Method, args: &[Value]) -> Result<Value, EvalError> {
    if target.is_null() {
        return Ok(Value::Null);
    }
    let text = || target.to_text();
    Ok(match method {
        Method::Equals => Value::Bool(match (target, &args[0]) {
            (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
                loosely_equal(target, &args[0])
            }
            (a, b) => a == b,
        }),
        Method::EqualsIgnoreCase => Value::Bool(
            !args[0].is_null() && text().to_lowercase() == args[0].to_text().to_lowercase(),
        ),
        Method::Get => match (target, &args[0]) {
            (Value::Object(fields), key) => {
                fields.get(&key.to_text()).cloned().unwrap_or(Value::Null)
            }
            (Value::Array(items), Value::Int(index)) => usize::try_from(*index)
                .ok()
                .and_then(|index| items.get(index).cloned())
                .unwrap_or(Value::Null),
            _ => Value::Null,
        },
        Method::ToUpperCase => Value::Str(text().to_uppercase()),
        Method::ToLowerCase => Value::Str(text().to_lowercase()),
        Method::Trim => Value::Str(text().trim().to_owned()),
        Method::Length => Value::Int(length(target)),
        Method::IsEmpty => Value::Bool(is_empty(target)),
        Method::Contains => Value::Bool(match target {
            Value::Array(items) => items.iter().any(|item| loosely_equal(item, &args[0])),
            Value::Object(fields) => fields.contains_key(&args[0].to_text()),
            _ => text().contains(&text_argument(args, 0)),
        }),
        Method::StartsWith => Value::Bool(text().starts_with(&text_argument(args, 0))),
        Method::EndsWith => Value::Bool(text().ends_with(&text_argument(args, 0))),
        Method::IndexOf => Value::Int(match target {
            Value::Array(items) => items
                .iter()
                .position(|item| loosely_equal(item, &args[0]))
                .map_or(-1, |at| at as i64),
            _ => {
                let haystack = text();
                haystack
                    .find(&text_argument(args, 0))
                    .map_or(-1, |byte| haystack[..byte].chars().count() as i64)
            }
        }),
        Method::Substring => {
            let haystack = text();
            let begin = char_index(&haystack, &args[0], "substring")?;
            let end = match args.get(1) {
                Some(end) => char_index(&haystack, end, "substring")?,
                None => haystack.chars().count(),
            };
            if end < begin {
                return Err(error(format!(
                    "substring: end {end} is before begin {begin}"
                )));
            }
            Value::Str(haystack.chars().skip(begin).take(end - begin).collect())
        }
        Method::Replace => {
            Value::Str(text().replace(&text_argument(args, 0), &text_argument(args, 1)))
        }
        Method::ToString => Value::Str(text()),
    })
}
