//! The values Data Prep expressions compute with: JSON's, with integers and floats kept apart
//! (JEXL's arithmetic keeps `7 / 2` integral) and dates (`date()` returns a zoned date-time,
//! rendered ISO-8601 when it lands in a string field).

use indexmap::IndexMap;
use jiff::ZonedDateTime;

/// A value of the expression language.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Array(Vec<Value>),
    /// An object or an XDM map (the language does not tell them apart), keys in order.
    Object(IndexMap<String, Value>),
    /// A zoned date-time (Java's `ZonedDateTime`).
    Date(ZonedDateTime),
}

impl Value {
    /// The value of a JSON value: integers that fit an `i64` are `Int`, other numbers `Float`.
    pub fn from_json(json: &serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(flag) => Value::Bool(*flag),
            serde_json::Value::Number(number) => match number.as_i64() {
                Some(integer) => Value::Int(integer),
                None => Value::Float(number.as_f64().unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(text) => Value::Str(text.clone()),
            serde_json::Value::Array(items) => {
                Value::Array(items.iter().map(Value::from_json).collect())
            }
            serde_json::Value::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(name, field)| (name.clone(), Value::from_json(field)))
                    .collect(),
            ),
        }
    }

    /// The JSON form: dates as ISO-8601 strings ([`render_date`]), non-finite floats as null.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(flag) => serde_json::Value::Bool(*flag),
            Value::Int(integer) => serde_json::Value::from(*integer),
            Value::Float(float) => serde_json::Number::from_f64(*float)
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
            Value::Str(text) => serde_json::Value::String(text.clone()),
            Value::Array(items) => {
                serde_json::Value::Array(items.iter().map(Value::to_json).collect())
            }
            Value::Object(fields) => serde_json::Value::Object(
                fields
                    .iter()
                    .map(|(name, field)| (name.clone(), field.to_json()))
                    .collect(),
            ),
            Value::Date(date) => serde_json::Value::String(render_date(date)),
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The name of the value's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Float(_) => "number",
            Value::Str(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
            Value::Date(_) => "date",
        }
    }

    /// The value as text, as Java's `toString` would give it for concatenation: null is the
    /// empty string, floats without a needless fraction part are still written with one
    /// (`2.0`), dates ISO-8601, arrays and objects as JSON.
    pub fn to_text(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::Bool(flag) => flag.to_string(),
            Value::Int(integer) => integer.to_string(),
            Value::Float(float) => float_text(*float),
            Value::Str(text) => text.clone(),
            Value::Date(date) => render_date(date),
            Value::Array(_) | Value::Object(_) => self.to_json().to_string(),
        }
    }

    /// JEXL's truth: false for null, `false`, zero, the empty string, an empty array or object.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(flag) => *flag,
            Value::Int(integer) => *integer != 0,
            Value::Float(float) => *float != 0.0,
            Value::Str(text) => !text.is_empty(),
            Value::Array(items) => !items.is_empty(),
            Value::Object(fields) => !fields.is_empty(),
            Value::Date(_) => true,
        }
    }
}

/// A float as Java prints a double: `2.0`, `0.5`, `1.0E21` is left to Rust's shortest form.
pub fn float_text(float: f64) -> String {
    if float.is_finite() && float.fract() == 0.0 && float.abs() < 1e16 {
        format!("{float:.1}")
    } else {
        float.to_string()
    }
}

/// A date as the examples show it: ISO-8601, `Z` for UTC, the offset otherwise, fractional
/// seconds only when there are some (`2019-10-23T11:24:00Z`).
pub fn render_date(date: &ZonedDateTime) -> String {
    let offset = date.offset();
    let base = date.strftime("%Y-%m-%dT%H:%M:%S").to_string();
    let nanos = date.subsec_nanosecond();
    let fraction = if nanos == 0 {
        String::new()
    } else {
        let digits = format!("{nanos:09}");
        format!(".{}", digits.trim_end_matches('0'))
    };
    let zone = if offset.seconds() == 0 {
        "Z".to_owned()
    } else {
        date.strftime("%:z").to_string()
    };
    format!("{base}{fraction}{zone}")
}
