//! Field checks shared by the resources whose bodies are validated by hand
//! here (connections, source and target connections, flows, datasets). Each check records a
//! [`Problem`] at the field's JSON pointer and carries on, so every problem
//! of a body is reported at once.

use flowd_spec::Problem;
use serde_json::Value;

use crate::error::{ApiError, FlowError};
use crate::metadata::strip_server_managed;

/// Fields the server computes on instances; a client's values are ignored.
const INSTANCE_OWNED_FIELDS: [&str; 4] = ["etag", "version", "state", "inheritedAttributes"];

/// The client's part of an instance body (a create, or a patched
/// document): server-managed and computed fields removed. Anything but a
/// JSON object is a `1100-400`.
pub fn client_instance_fields(body: Value, noun: &str) -> Result<Value, ApiError> {
    let mut body = strip_server_managed(body);
    let Some(fields) = body.as_object_mut() else {
        return Err(
            FlowError::invalid_body(noun, vec![Problem::new("", "must be a JSON object")]).into(),
        );
    };
    for owned in INSTANCE_OWNED_FIELDS {
        fields.shift_remove(owned);
    }
    Ok(body)
}

/// The non-empty string at `pointer`, or a problem ("is required" when absent).
pub fn required_string<'a>(
    body: &'a Value,
    pointer: &str,
    problems: &mut Vec<Problem>,
) -> Option<&'a str> {
    match body.pointer(pointer) {
        Some(Value::String(text)) if !text.is_empty() => Some(text),
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

/// A problem when the member at `pointer` is present but not a string.
pub fn optional_string(body: &Value, pointer: &str, problems: &mut Vec<Problem>) {
    if body
        .pointer(pointer)
        .is_some_and(|value| !value.is_string())
    {
        problems.push(Problem::new(pointer, "must be a string"));
    }
}

/// The canonical (lowercase, hyphenated) form of a UUID, so a reference
/// stored in a body matches the id the referenced row is stored under.
pub fn canonical_uuid(text: &str) -> Option<String> {
    uuid::Uuid::try_parse(text)
        .ok()
        .map(|uuid| uuid.hyphenated().to_string())
}

/// `problems` sorted in the order of the fields in `body`, as `1100-400`.
pub fn invalid(noun: &str, body: &Value, mut problems: Vec<Problem>) -> ApiError {
    flowd_spec::problem::sort_in_document_order(body, "", &mut problems);
    FlowError::invalid_body(noun, problems).into()
}
