//! Field readers shared by the resources: each records a [`Problem`] at the field's pointer and
//! carries on, so every problem of a document is reported at once.

use flowd_spec::Problem;
use serde_json::{Map, Value};

use super::{SchemaRef, SpecRef};
use crate::ids::canonical_uuid;

/// The non-empty string at `pointer`, or a problem ("is required" when absent).
pub(crate) fn required_string(
    body: &Value,
    pointer: &str,
    problems: &mut Vec<Problem>,
) -> Option<String> {
    match body.pointer(pointer) {
        Some(Value::String(text)) if !text.is_empty() => Some(text.clone()),
        Some(_) => {
            problems.push(Problem::new(pointer, "must be a non-empty string"));
            None
        }
        None => {
            problems.push(Problem::new(pointer, "is required"));
            None
        }
    }
}

/// The string at `pointer` if present; a problem when it is present but not a string.
pub(crate) fn optional_string(
    body: &Value,
    pointer: &str,
    problems: &mut Vec<Problem>,
) -> Option<String> {
    match body.pointer(pointer) {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(text.clone()),
        Some(_) => {
            problems.push(Problem::new(pointer, "must be a string"));
            None
        }
    }
}

/// The object at `pointer` (empty when absent), or a problem when it is not an object.
pub(crate) fn optional_object(
    body: &Value,
    pointer: &str,
    problems: &mut Vec<Problem>,
) -> Map<String, Value> {
    match body.pointer(pointer) {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(members)) => members.clone(),
        Some(_) => {
            problems.push(Problem::new(pointer, "must be an object"));
            Map::new()
        }
    }
}

/// A `{id, version}` spec reference at `pointer` (`id` required).
pub(crate) fn spec_ref(
    body: &Value,
    pointer: &str,
    problems: &mut Vec<Problem>,
) -> Option<SpecRef> {
    let id = required_string(body, &format!("{pointer}/id"), problems)?;
    let version = match body.pointer(&format!("{pointer}/version")) {
        None | Some(Value::Null) => None,
        Some(Value::String(version)) => Some(version.clone()),
        Some(other) => Some(other.to_string()),
    };
    Some(SpecRef { id, version })
}

/// An optional `{id, <qualifier>}` schema reference at `pointer`: absent is `None`, present
/// needs a string `id` and, if given, a string qualifier.
pub(crate) fn schema_ref(
    body: &Value,
    pointer: &str,
    qualifier: &str,
    problems: &mut Vec<Problem>,
) -> Option<SchemaRef> {
    match body.pointer(pointer) {
        None | Some(Value::Null) => None,
        Some(Value::Object(_)) => {
            let id = required_string(body, &format!("{pointer}/id"), problems);
            let qualifier = optional_string(body, &format!("{pointer}/{qualifier}"), problems);
            id.map(|id| SchemaRef { id, qualifier })
        }
        Some(_) => {
            problems.push(Problem::new(pointer, "must be an object"));
            None
        }
    }
}

/// The canonical UUID at `pointer` (a required string), described as `what` in problems.
pub(crate) fn required_uuid(
    body: &Value,
    pointer: &str,
    what: &str,
    problems: &mut Vec<Problem>,
) -> Option<String> {
    let text = required_string(body, pointer, problems)?;
    let canonical = canonical_uuid(&text);
    if canonical.is_none() {
        problems.push(Problem::new(pointer, format!("must be {what} id (a UUID)")));
    }
    canonical
}

/// `problems` sorted in the order of the fields in `body`, or `value` when there are none.
pub(crate) fn finish<T>(
    body: &Value,
    mut problems: Vec<Problem>,
    value: Option<T>,
) -> Result<T, Vec<Problem>> {
    match value {
        Some(value) if problems.is_empty() => Ok(value),
        _ => {
            flowd_spec::problem::sort_in_document_order(body, "", &mut problems);
            if problems.is_empty() {
                problems.push(Problem::new("", "is invalid"));
            }
            Err(problems)
        }
    }
}

/// Every problem of a document that is not a JSON object.
pub(crate) fn object_problems(body: &Value) -> Option<Vec<Problem>> {
    (!body.is_object()).then(|| vec![Problem::new("", "must be a JSON object")])
}
