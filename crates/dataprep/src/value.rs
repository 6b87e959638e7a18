//! The values Data Prep expressions compute with: JSON's, with integers and floats kept apart
//! (JEXL's arithmetic keeps `7 / 2` integral) and dates (`date()` returns a zoned date-time,
//! rendered ISO-8601 when it lands in a string field).

use indexmap::IndexMap;

/// An object's members in order, hashed with foldhash (a record's keys are short and trusted
/// enough; SipHash's DoS resistance costs a fifth of a mapped record's time).
pub type Fields = IndexMap<String, Value, foldhash::fast::RandomState>;
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
    Object(Fields),
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

impl Value {
    /// Appends the value's JSON form ([`Value::to_json`]) as text, without building it.
    pub fn write_json(&self, out: &mut String) {
        use std::fmt::Write as _;
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(flag) => out.push_str(if *flag { "true" } else { "false" }),
            Value::Int(integer) => {
                let _ = write!(out, "{integer}");
            }
            Value::Float(float) if float.is_finite() => {
                let _ = write!(out, "{float:?}");
            }
            Value::Float(_) => out.push_str("null"),
            Value::Str(text) => push_json_string(out, text),
            Value::Date(date) => push_json_string(out, &render_date(date)),
            Value::Array(items) => {
                out.push('[');
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    item.write_json(out);
                }
                out.push(']');
            }
            Value::Object(fields) => {
                out.push('{');
                for (index, (name, field)) in fields.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    push_json_string(out, name);
                    out.push(':');
                    field.write_json(out);
                }
                out.push('}');
            }
        }
    }
}

/// Reads a value straight from JSON text (no `serde_json::Value` in between): integers that
/// fit an `i64` are `Int`, other numbers `Float`, as [`Value::from_json`].
impl<'de> serde::Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> serde::de::Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E>(self, flag: bool) -> Result<Value, E> {
        Ok(Value::Bool(flag))
    }

    fn visit_i64<E>(self, integer: i64) -> Result<Value, E> {
        Ok(Value::Int(integer))
    }

    fn visit_u64<E>(self, integer: u64) -> Result<Value, E> {
        Ok(i64::try_from(integer).map_or(Value::Float(integer as f64), Value::Int))
    }

    fn visit_f64<E>(self, float: f64) -> Result<Value, E> {
        Ok(Value::Float(float))
    }

    fn visit_str<E>(self, text: &str) -> Result<Value, E> {
        Ok(Value::Str(text.to_owned()))
    }

    fn visit_string<E>(self, text: String) -> Result<Value, E> {
        Ok(Value::Str(text))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut items: A) -> Result<Value, A::Error> {
        let mut values = Vec::with_capacity(items.size_hint().unwrap_or(0));
        while let Some(item) = items.next_element()? {
            values.push(item);
        }
        Ok(Value::Array(values))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut members: A) -> Result<Value, A::Error> {
        let mut fields =
            Fields::with_capacity_and_hasher(members.size_hint().unwrap_or(0), Default::default());
        while let Some((name, value)) = members.next_entry::<String, Value>()? {
            fields.insert(name, value);
        }
        Ok(Value::Object(fields))
    }
}

/// Appends `text` as a JSON string.
pub fn push_json_string(out: &mut String, text: &str) {
    out.push('"');
    let mut plain = 0;
    for (index, byte) in text.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&text[plain..index]);
        if escape.is_empty() {
            let _ = std::fmt::Write::write_fmt(out, format_args!("\\u{byte:04x}"));
        } else {
            out.push_str(escape);
        }
        plain = index + 1;
    }
    out.push_str(&text[plain..]);
    out.push('"');
}
