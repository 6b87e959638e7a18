//! A flow's `scheduleParams` checked against its flow spec's `scheduleSpec` (a JSON Schema),
//! with every problem said in words at the pointer of the field it is about: `interval is
//! required when frequency is minute` at `/scheduleParams/interval`, `frequency must be one of
//! once, minute, hour, day, week` at `/scheduleParams/frequency`, rather than the validator's
//! own text (`{"required":["interval"]} is not allowed for {…}`).
//!
//! A `startTime` given as an RFC 3339 instant is read as the epoch seconds it names
//! ([`start_time_in_seconds`]) before anything checks it, and stored so.
//!
//! A conditional (`if`/`then`/`else`) whose `if` tests a property names that property with
//! the value the schedule gives it (`when frequency is once`); keywords without a sentence
//! here keep the validator's message.

use flowd_spec::Problem;
use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::Value;

/// Rewrites `scheduleParams.startTime` given as an RFC 3339 instant (`"2024-01-01T00:00:00Z"`)
/// as the epoch seconds it names, the form AEP's `scheduleSpec` asks for; anything else is left
/// for the schedule's own checks.
pub fn start_time_in_seconds(flow: &mut Value) {
    let Some(start_time) = flow.pointer_mut("/scheduleParams/startTime") else {
        return;
    };
    let Some(text) = start_time.as_str().map(str::trim) else {
        return;
    };
    if text.parse::<f64>().is_ok() {
        return;
    }
    if let Ok(instant) = text.parse::<jiff::Timestamp>() {
        *start_time = Value::from(instant.as_second());
    }
}

/// Every problem of `schedule` against `validator` (compiled from `schema`), located under
/// `base_pointer`.
pub fn schedule_problems(
    validator: &jsonschema::Validator,
    schema: &Value,
    schedule: &Value,
    base_pointer: &str,
) -> Vec<Problem> {
    let mut problems: Vec<Problem> = Vec::new();
    for error in validator.iter_errors(schedule) {
        let instance_path = error.instance_path().as_str().to_owned();
        let condition = condition(schema, error.schema_path().as_str(), schedule);
        let name = field_name(&instance_path);
        let got = error.instance();
        let (pointer, message) = match error.kind() {
            ValidationErrorKind::Required { property } => {
                let property = property.as_str().unwrap_or_default();
                (
                    format!("{instance_path}/{property}"),
                    format!("{property} is required{condition}"),
                )
            }
            ValidationErrorKind::Not { schema } => match forbidden_fields(schema) {
                Some(fields) => {
                    for field in &fields[1..] {
                        problems.push(Problem::new(
                            format!("{base_pointer}{instance_path}/{field}"),
                            format!("{field} is not allowed{condition}"),
                        ));
                    }
                    (
                        format!("{instance_path}/{}", fields[0]),
                        format!("{} is not allowed{condition}", fields[0]),
                    )
                }
                None => (instance_path, error.to_string()),
            },
            ValidationErrorKind::Enum { options } => (
                instance_path,
                format!(
                    "{name} must be one of {}{condition}, got {got}",
                    one_of(options)
                ),
            ),
            ValidationErrorKind::Constant { expected_value } => (
                instance_path,
                format!(
                    "{name} must be {}{condition}, got {got}",
                    plain(expected_value)
                ),
            ),
            ValidationErrorKind::Minimum { limit } => (
                instance_path,
                format!("{name} must be at least {limit}{condition}, got {got}"),
            ),
            ValidationErrorKind::Maximum { limit } => (
                instance_path,
                format!("{name} must be at most {limit}{condition}, got {got}"),
            ),
            ValidationErrorKind::ExclusiveMinimum { limit } => (
                instance_path,
                format!("{name} must be more than {limit}{condition}, got {got}"),
            ),
            ValidationErrorKind::ExclusiveMaximum { limit } => (
                instance_path,
                format!("{name} must be less than {limit}{condition}, got {got}"),
            ),
            ValidationErrorKind::Type { kind } => (
                instance_path,
                format!("{name} must be {}{condition}, got {got}", type_words(kind)),
            ),
            _ => (instance_path, error.to_string()),
        };
        problems.push(Problem::new(format!("{base_pointer}{pointer}"), message));
    }
    problems
}

/// The field an instance path names (`/interval` → `interval`); the root is `scheduleParams`.
fn field_name(instance_path: &str) -> String {
    match instance_path.rsplit('/').next() {
        Some(last) if !last.is_empty() => last.replace("~1", "/").replace("~0", "~"),
        _ => "scheduleParams".to_owned(),
    }
}

/// The fields a `not: {required: [...]}` forbids.
fn forbidden_fields(schema: &Value) -> Option<Vec<String>> {
    let object = schema.as_object()?;
    if object.len() != 1 {
        return None;
    }
    let fields: Vec<String> = object
        .get("required")?
        .as_array()?
        .iter()
        .filter_map(|field| field.as_str().map(str::to_owned))
        .collect();
    (!fields.is_empty()).then_some(fields)
}

/// ` when frequency is minute`: the innermost `then`/`else` on the keyword's path whose `if`
/// tests properties, with the values the schedule gives them; empty when there is none.
fn condition(schema: &Value, schema_path: &str, schedule: &Value) -> String {
    let mut node = schema;
    let mut found = String::new();
    for segment in schema_path.split('/').filter(|segment| !segment.is_empty()) {
        if matches!(segment, "then" | "else")
            && let Some(tested) = node.pointer("/if/properties").and_then(Value::as_object)
        {
            let parts: Vec<String> = tested
                .keys()
                .filter_map(|field| {
                    schedule
                        .get(field)
                        .map(|value| format!("{field} is {}", plain(value)))
                })
                .collect();
            if !parts.is_empty() {
                found = format!(" when {}", parts.join(" and "));
            }
        }
        let next = match node {
            Value::Object(members) => members.get(segment),
            Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        };
        match next {
            Some(next) => node = next,
            None => break,
        }
    }
    found
}

/// A value as a reader writes it: strings without quotes.
fn plain(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// `once, minute, hour, day, week`.
fn one_of(options: &Value) -> String {
    match options.as_array() {
        Some(options) => options.iter().map(plain).collect::<Vec<_>>().join(", "),
        None => plain(options),
    }
}

fn type_words(kind: &TypeKind) -> String {
    let article = |name: String| {
        let vowel = name.starts_with(['a', 'e', 'i', 'o', 'u']);
        format!("{} {name}", if vowel { "an" } else { "a" })
    };
    match kind {
        TypeKind::Single(json_type) => article(json_type.to_string()),
        TypeKind::Multiple(types) => types
            .iter()
            .map(|json_type| article(json_type.to_string()))
            .collect::<Vec<_>>()
            .join(" or "),
    }
}
