//! What the instance routes share when reading a body: the client's part of it, and problems
//! reported as one `1100-400` in document order.

use flowd_spec::Problem;
use serde_json::Value;

use crate::error::{ApiError, FlowError};
use crate::metadata::strip_server_managed;

/// Top-level fields of instance resources, besides the server-managed ones every resource
/// has, that the server computes: no PATCH may change them, and a client's values are
/// ignored.
pub const INSTANCE_IMMUTABLE_FIELDS: &[&str] = &[
    "etag",
    "version",
    "state",
    "inheritedAttributes",
    "lastOperation",
    "lastRunDetails",
    "nextRunAtUTC",
    "runs",
];

/// The client's part of an instance body (a create, or a patched document): server-managed and
/// computed fields removed. Anything but a JSON object is a `1100-400`.
pub fn client_instance_fields(body: Value, noun: &str) -> Result<Value, ApiError> {
    let mut body = strip_server_managed(body);
    let Some(fields) = body.as_object_mut() else {
        return Err(
            FlowError::invalid_body(noun, vec![Problem::new("", "must be a JSON object")]).into(),
        );
    };
    for &owned in INSTANCE_IMMUTABLE_FIELDS {
        fields.shift_remove(owned);
    }
    Ok(body)
}

/// `problems` sorted in the order of the fields in `body`, as `1100-400`.
pub fn invalid(noun: &str, body: &Value, mut problems: Vec<Problem>) -> ApiError {
    flowd_spec::problem::sort_in_document_order(body, "", &mut problems);
    FlowError::invalid_body(noun, problems).into()
}

/// A `1100-400` for `problems` unless there are none.
pub fn refuse_problems(noun: &str, body: &Value, problems: Vec<Problem>) -> Result<(), ApiError> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(invalid(noun, body, problems))
    }
}
