//! Records converted into a dataset's XDM schema and validated against it (reference
//! `data-prep.md` §9): each value becomes its field's type by the batch-ingestion matrix of
//! §9.3 (strings to numbers, booleans and dates; numbers to strings; epoch milliseconds to
//! dates; objects and maps into each other; arrays element by element), then `required`,
//! `enum`, `minimum`/`maximum`, `minLength`/`maxLength` and `pattern` are checked.
//!
//! A converted record is written straight as the JSON text the dataset's Arrow decoder reads
//! (integers for integer types, `date` as days since the epoch, `date-time` as microseconds
//! since the epoch in UTC): no intermediate tree. A record that cannot be converted or breaks
//! the schema is rejected whole ([`Rejection`]), with every problem at its JSON pointer; it
//! counts as a failed record of the run (§9.4). Fields the schema does not have are not
//! written.

use flowd_model::diagnostics::RowErrorKind;
use flowd_model::xdm::{FieldRules, XdmField, XdmSchema, XdmType};
use std::fmt::Write as _;

use jiff::ZonedDateTime;
use jiff::tz::TimeZone;

use crate::functions::dates::parse_auto;
use crate::functions::regex::{Anchoring, cached};
pub use crate::value::push_json_string;
use crate::value::{Value, float_text, render_date};

/// Longest piece of a value quoted in a message.
const QUOTED_CHARS: usize = 64;

/// One thing wrong with a record.
#[derive(Debug, Clone, PartialEq)]
pub struct RowProblem {
    /// JSON Pointer of the field in the record (`/person/age`, `/tags/1`).
    pub pointer: String,
    pub kind: RowErrorKind,
    /// The JSON Schema keyword that failed (`type`, `required`, `enum`, `minimum`, …).
    pub keyword: &'static str,
    pub message: String,
}

/// Why a record was not written: every problem found in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    pub problems: Vec<RowProblem>,
}

impl Rejection {
    /// A record that is not a JSON object: a parsing error, whatever the schema.
    pub fn not_an_object(record: &Value) -> Rejection {
        Rejection {
            problems: vec![RowProblem {
                pointer: String::new(),
                kind: RowErrorKind::Parsing,
                keyword: "type",
                message: format!(
                    "Row is corrupted and cannot be read: a record must be a JSON object, not {}",
                    record.type_name()
                ),
            }],
        }
    }

    /// The reason the record counts under: a conversion failure before a schema violation.
    pub fn kind(&self) -> RowErrorKind {
        [
            RowErrorKind::Parsing,
            RowErrorKind::Conversion,
            RowErrorKind::Required,
        ]
        .into_iter()
        .find(|kind| self.problems.iter().any(|problem| problem.kind == *kind))
        .unwrap_or(RowErrorKind::Constraint)
    }

    /// The record as the diagnostics files show it (§10.5): its fields, then `_errors` for
    /// conversion problems (`{column, code, message}`) and `_validationErrors` for schema
    /// violations (`{causingExceptions, keyword, message, pointerToViolation,
    /// schemaLocation}`), then `_filename`.
    pub fn diagnostic_record(&self, record: &serde_json::Value) -> serde_json::Value {
        let mut shown = match record {
            serde_json::Value::Object(fields) => fields.clone(),
            other => {
                let mut corrupt = serde_json::Map::new();
                corrupt.insert("_corrupt_record".into(), other.to_string().into());
                corrupt
            }
        };
        let code = |kind: RowErrorKind| {
            kind.code()
                .trim_start_matches("INGEST-")
                .split('-')
                .next()
                .unwrap_or_default()
                .to_owned()
        };
        let errors: Vec<serde_json::Value> = self
            .problems
            .iter()
            .filter(|problem| {
                matches!(
                    problem.kind,
                    RowErrorKind::Conversion | RowErrorKind::Parsing
                )
            })
            .map(|problem| {
                serde_json::json!({
                    "column": column_of(&problem.pointer),
                    "code": code(problem.kind),
                    "message": problem.message,
                })
            })
            .collect();
        let validation: Vec<serde_json::Value> = self
            .problems
            .iter()
            .filter(|problem| {
                matches!(
                    problem.kind,
                    RowErrorKind::Required | RowErrorKind::Constraint
                )
            })
            .map(|problem| {
                serde_json::json!({
                    "causingExceptions": [],
                    "keyword": problem.keyword,
                    "message": problem.message,
                    "pointerToViolation": format!("#{}", problem.pointer),
                    "schemaLocation": schema_location(&problem.pointer),
                })
            })
            .collect();
        if !errors.is_empty() {
            shown.insert("_errors".into(), errors.into());
        }
        if !validation.is_empty() {
            shown.insert("_validationErrors".into(), validation.into());
        }
        shown.insert("_filename".into(), self.kind().file_name().into());
        serde_json::Value::Object(shown)
    }
}

/// A pointer as a dotted column name (`/person/age` → `person.age`).
fn column_of(pointer: &str) -> String {
    pointer.trim_start_matches('/').replace('/', ".")
}

/// Where in the schema a record pointer's field is declared (array indexes become `items`).
fn schema_location(pointer: &str) -> String {
    let mut location = String::from("#");
    for token in pointer.split('/').skip(1) {
        if token.parse::<usize>().is_ok() {
            location.push_str("/items");
        } else {
            location.push_str("/properties/");
            location.push_str(token);
        }
    }
    location
}

/// Converts `record` into `schema`'s types and appends it to `out` as one JSON object; on
/// rejection `out` is left as it was.
pub fn conform_record(
    schema: &XdmSchema,
    record: &Value,
    out: &mut String,
) -> Result<(), Rejection> {
    conform_into(schema, record, out, false)
}

/// [`conform_record`] for people to read (a preview): the same conversion and checks, dates
/// as `yyyy-MM-dd` and date-times as RFC 3339 in UTC instead of the numbers Arrow decodes.
pub fn conform_for_display(
    schema: &XdmSchema,
    record: &Value,
) -> Result<serde_json::Value, Rejection> {
    let mut out = String::new();
    conform_into(schema, record, &mut out, true)?;
    Ok(serde_json::from_str(&out).expect("the converted text is JSON"))
}

fn conform_into(
    schema: &XdmSchema,
    record: &Value,
    out: &mut String,
    display: bool,
) -> Result<(), Rejection> {
    let start = out.len();
    let mut writer = Writer {
        out,
        pointer: String::new(),
        problems: Vec::new(),
        display,
    };
    match record {
        Value::Object(_) => writer.object(record, &schema.fields),
        other => writer.problems = Rejection::not_an_object(other).problems,
    }
    if writer.problems.is_empty() {
        Ok(())
    } else {
        let problems = writer.problems;
        out.truncate(start);
        Err(Rejection { problems })
    }
}

struct Writer<'a> {
    out: &'a mut String,
    pointer: String,
    problems: Vec<RowProblem>,
    /// Dates and date-times as text rather than as numbers.
    display: bool,
}

impl Writer<'_> {
    fn problem(&mut self, kind: RowErrorKind, keyword: &'static str, message: String) {
        self.problems.push(RowProblem {
            pointer: self.pointer.clone(),
            kind,
            keyword,
            message,
        });
    }

    fn cannot_convert(&mut self, value: &Value, to: &XdmType) {
        let message = format!(
            "Cannot convert {} {} to {}",
            value.type_name(),
            quoted(value),
            to.name()
        );
        self.problem(RowErrorKind::Conversion, "type", message);
    }

    fn with_token<T>(&mut self, token: &str, write: impl FnOnce(&mut Self) -> T) -> T {
        let length = self.pointer.len();
        self.pointer.push('/');
        if token.contains(['~', '/']) {
            self.pointer
                .push_str(&token.replace('~', "~0").replace('/', "~1"));
        } else {
            self.pointer.push_str(token);
        }
        let result = write(self);
        self.pointer.truncate(length);
        result
    }

    /// Writes the members of an object record: the schema's fields it has, in schema order.
    fn object(&mut self, record: &Value, fields: &[XdmField]) {
        let Value::Object(members) = record else {
            return;
        };
        self.out.push('{');
        let mut first = true;
        for field in fields {
            let value = members.get(&field.name).unwrap_or(&Value::Null);
            if value.is_null() {
                if field.required {
                    self.with_token(&field.name, |writer| {
                        let message = format!("required key [{}] not found", field.name);
                        writer.problem(RowErrorKind::Required, "required", message);
                    });
                }
                continue;
            }
            if !first {
                self.out.push(',');
            }
            first = false;
            push_json_string(self.out, &field.name);
            self.out.push(':');
            self.with_token(&field.name, |writer| {
                writer.value(value, &field.field_type);
                if let Some(rules) = &field.rules {
                    writer.check_rules(value, &field.field_type, rules);
                }
            });
        }
        self.out.push('}');
    }

    fn value(&mut self, value: &Value, to: &XdmType) {
        if value.is_null() {
            self.out.push_str("null");
            return;
        }
        match to {
            XdmType::String => match string_of(value) {
                Some(text) => push_json_string(self.out, &text),
                None => self.fail(value, to),
            },
            XdmType::Byte | XdmType::Short | XdmType::Int | XdmType::Long => {
                match integer_of(value, to) {
                    Some(integer) => push_integer(self.out, integer),
                    None => self.fail(value, to),
                }
            }
            XdmType::Double => match double_of(value) {
                Some(double) => {
                    let _ = write!(self.out, "{double:?}");
                }
                None => self.fail(value, to),
            },
            XdmType::Boolean => match boolean_of(value) {
                Some(flag) => self.out.push_str(if flag { "true" } else { "false" }),
                None => self.fail(value, to),
            },
            XdmType::Date if self.display => match date_of(value) {
                Some(date) => push_json_string(self.out, &date.date().to_string()),
                None => self.fail(value, to),
            },
            XdmType::DateTime if self.display => match date_of(value) {
                Some(date) => push_json_string(self.out, &date.timestamp().to_string()),
                None => self.fail(value, to),
            },
            XdmType::Date => match date_of(value) {
                Some(date) => {
                    let days = TimeZone::UTC
                        .to_zoned_datetime(date.date().to_datetime(jiff::civil::Time::midnight()))
                        .map(|midnight| midnight.timestamp().as_second().div_euclid(86_400));
                    match days {
                        Ok(days) => push_integer(self.out, days),
                        Err(_) => self.fail(value, to),
                    }
                }
                None => self.fail(value, to),
            },
            XdmType::DateTime => match date_of(value) {
                Some(date) => push_integer(self.out, date.timestamp().as_microsecond()),
                None => self.fail(value, to),
            },
            XdmType::Object(fields) => match value {
                Value::Object(_) if fields.is_empty() => self.out.push_str("null"),
                Value::Object(_) => self.object(value, fields),
                _ => self.fail(value, to),
            },
            XdmType::Map(values) => match value {
                Value::Object(members) => {
                    self.out.push('{');
                    for (index, (key, member)) in members.iter().enumerate() {
                        if index > 0 {
                            self.out.push(',');
                        }
                        push_json_string(self.out, key);
                        self.out.push(':');
                        self.with_token(key, |writer| writer.value(member, values));
                    }
                    self.out.push('}');
                }
                _ => self.fail(value, to),
            },
            XdmType::Array(items) => match value {
                Value::Array(elements) => {
                    self.out.push('[');
                    for (index, element) in elements.iter().enumerate() {
                        if index > 0 {
                            self.out.push(',');
                        }
                        self.with_token(&index.to_string(), |writer| {
                            if !element.is_null() && !compatible(element, items) {
                                let message = format!(
                                    "Cannot convert array element from {} {} to {}",
                                    element.type_name(),
                                    quoted(element),
                                    items.name()
                                );
                                writer.problem(RowErrorKind::Conversion, "type", message);
                                writer.out.push_str("null");
                            } else {
                                writer.value(element, items);
                            }
                        });
                    }
                    self.out.push(']');
                }
                _ => self.fail(value, to),
            },
        }
    }

    /// Records the conversion problem and writes a placeholder, so that the text stays JSON
    /// while the rest of the record is checked (a rejected record's text is dropped).
    fn fail(&mut self, value: &Value, to: &XdmType) {
        self.cannot_convert(value, to);
        self.out.push_str("null");
    }

    fn check_rules(&mut self, value: &Value, to: &XdmType, rules: &FieldRules) {
        let text = matches!(to, XdmType::String)
            .then(|| string_of(value))
            .flatten();
        let number = match to {
            XdmType::Byte | XdmType::Short | XdmType::Int | XdmType::Long => {
                integer_of(value, to).map(|integer| integer as f64)
            }
            XdmType::Double => double_of(value),
            _ => None,
        };
        if let Some(allowed) = &rules.allowed {
            let found = allowed
                .iter()
                .any(|candidate| match (candidate, &text, number) {
                    (serde_json::Value::String(candidate), Some(text), _) => candidate == text,
                    (serde_json::Value::Number(candidate), _, Some(number)) => {
                        candidate.as_f64() == Some(number)
                    }
                    (serde_json::Value::Bool(candidate), _, _) => {
                        boolean_of(value) == Some(*candidate)
                    }
                    _ => false,
                });
            if !found {
                let choices: Vec<String> = allowed.iter().map(ToString::to_string).collect();
                let message = format!(
                    "{} is not a valid enum value (one of {})",
                    quoted(value),
                    choices.join(", ")
                );
                self.problem(RowErrorKind::Constraint, "enum", message);
            }
        }
        if let Some(number) = number {
            if let Some(minimum) = rules.minimum.filter(|minimum| number < *minimum) {
                self.problem(
                    RowErrorKind::Constraint,
                    "minimum",
                    format!("{number} is not greater or equal to {minimum}"),
                );
            }
            if let Some(maximum) = rules.maximum.filter(|maximum| number > *maximum) {
                self.problem(
                    RowErrorKind::Constraint,
                    "maximum",
                    format!("{number} is not less or equal to {maximum}"),
                );
            }
        }
        if let Some(text) = &text {
            let length = text.chars().count() as u64;
            if let Some(min_length) = rules.min_length.filter(|min| length < *min) {
                self.problem(
                    RowErrorKind::Constraint,
                    "minLength",
                    format!("expected minLength: {min_length}, actual: {length}"),
                );
            }
            if let Some(max_length) = rules.max_length.filter(|max| length > *max) {
                self.problem(
                    RowErrorKind::Constraint,
                    "maxLength",
                    format!("expected maxLength: {max_length}, actual: {length}"),
                );
            }
            if let Some(pattern) = &rules.pattern {
                let matches = cached(pattern, Anchoring::Anywhere)
                    .map(|regex| regex.is_match(text).unwrap_or(false))
                    .unwrap_or(false);
                if !matches {
                    self.problem(
                        RowErrorKind::Constraint,
                        "pattern",
                        format!("string [{text}] does not match pattern {pattern}"),
                    );
                }
            }
        }
    }
}

/// Whether an array element can become `to` (checked before converting it, so its error
/// names the element as Adobe's does).
fn compatible(element: &Value, to: &XdmType) -> bool {
    match to {
        XdmType::String => string_of(element).is_some(),
        XdmType::Byte | XdmType::Short | XdmType::Int | XdmType::Long => {
            integer_of(element, to).is_some()
        }
        XdmType::Double => double_of(element).is_some(),
        XdmType::Boolean => boolean_of(element).is_some(),
        XdmType::Date | XdmType::DateTime => date_of(element).is_some(),
        XdmType::Object(_) | XdmType::Map(_) => matches!(element, Value::Object(_)),
        XdmType::Array(_) => matches!(element, Value::Array(_)),
    }
}

/// The value as a string field holds it: text as is, numbers and booleans as their text,
/// dates ISO-8601; objects and arrays do not convert.
fn string_of(value: &Value) -> Option<String> {
    match value {
        Value::Str(text) => Some(text.clone()),
        Value::Int(integer) => Some(integer.to_string()),
        Value::Float(float) if float.is_finite() => Some(float_text(*float)),
        Value::Bool(flag) => Some(flag.to_string()),
        Value::Date(date) => Some(render_date(date)),
        _ => None,
    }
}

/// An integer within `to`'s range: integers, integral floats and decimal integer text.
fn integer_of(value: &Value, to: &XdmType) -> Option<i64> {
    let (low, high) = to.integer_range()?;
    let integer = match value {
        Value::Int(integer) => *integer,
        Value::Float(float) if float.fract() == 0.0 && *float >= -9.2e18 && *float <= 9.2e18 => {
            *float as i64
        }
        Value::Str(text) => text.parse::<i64>().ok()?,
        _ => return None,
    };
    (low..=high).contains(&integer).then_some(integer)
}

/// A finite double: numbers and decimal or exponent text.
fn double_of(value: &Value) -> Option<f64> {
    let double = match value {
        Value::Int(integer) => *integer as f64,
        Value::Float(float) => *float,
        Value::Str(text)
            if text
                .bytes()
                .all(|byte| byte.is_ascii_digit() || b"+-.eE".contains(&byte)) =>
        {
            text.parse().ok()?
        }
        _ => return None,
    };
    double.is_finite().then_some(double)
}

/// Booleans, and the strings §9.1 lists.
fn boolean_of(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(flag) => Some(*flag),
        Value::Str(text) => match text.as_str() {
            "y" | "yes" | "Y" | "YES" | "on" | "ON" | "true" | "TRUE" => Some(true),
            "n" | "N" | "no" | "NO" | "off" | "OFF" | "false" | "FALSE" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// Dates, strings in the forms of §8.2, and epoch milliseconds.
fn date_of(value: &Value) -> Option<ZonedDateTime> {
    match value {
        Value::Date(date) => Some(date.clone()),
        Value::Str(text) => parse_auto(text),
        Value::Int(millis) => jiff::Timestamp::from_millisecond(*millis)
            .ok()
            .map(|instant| instant.to_zoned_datetime(TimeZone::UTC)),
        _ => None,
    }
}

/// A value shown in a message: text quoted and cut, anything else as JSON.
fn quoted(value: &Value) -> String {
    let text = match value {
        Value::Str(text) => format!("\"{text}\""),
        other => other.to_json().to_string(),
    };
    if text.chars().count() > QUOTED_CHARS {
        let cut: String = text.chars().take(QUOTED_CHARS).collect();
        format!("{cut}…")
    } else {
        text
    }
}

fn push_integer(out: &mut String, integer: i64) {
    let _ = write!(out, "{integer}");
}
