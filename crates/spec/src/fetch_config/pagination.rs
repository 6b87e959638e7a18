//! `paginationParams`: the pagination type (closed set OFFSET, POINTER, CONTINUATION_TOKEN,
//! PAGE, NONE) and the fields each one needs (reference §5.8).
//!
//! Decisions: an absent `paginationParams` means NONE (a single request), since a resource
//! that fits in one response is legitimate; the type may be spelled in any letter case and
//! under the beta key `paginationType`; `limitName`/`limitValue` are optional (but paired) for
//! every type except OFFSET, which needs them; `endPageIndex` is a non-negative integer or
//! `headers.<name>` and nothing else; `delayRequestMillis` and `maximumRequest` are accepted
//! for every type.

use serde_json::{Map, Value};

use super::lenient::{
    aliased_member, json_path_at, non_negative_integer, positive_integer, require_pair,
    required_string,
};
use super::{
    ContinuationTokenPagination, DEFAULT_PAGE_MAXIMUM_REQUEST, EndCondition, EndPageIndex,
    OffsetPagination, PagePagination, PageSize, Pagination, PointerPagination, RequestPacing,
    TokenParameterLocation,
};
use crate::problem::{Problem, child_pointer};

/// The longest pause `delayRequestMillis` may ask for between two requests: a minute. An
/// upstream that needs more is better served by a schedule than by a worker held asleep.
pub const MAX_DELAY_REQUEST_MILLIS: u64 = 60_000;

const PAGINATION_TYPE_NAMES: &str = "OFFSET, POINTER, CONTINUATION_TOKEN, PAGE, NONE";

/// Prefix Adobe puts before a literal end-condition value (`Const:false`).
const CONSTANT_PREFIX: &str = "Const:";

/// Resolves `paginationParams` found at `pointer` into the strategy and its pacing.
pub(super) fn resolve_pagination(
    value: &Value,
    pointer: &str,
    problems: &mut Vec<Problem>,
) -> Option<(Pagination, RequestPacing)> {
    let Some(members) = value.as_object() else {
        problems.push(Problem::new(pointer, "must be an object"));
        return None;
    };
    let problems_before = problems.len();
    let pagination_type =
        match aliased_member(members, pointer, &["type", "paginationType"], problems) {
            None => {
                problems.push(Problem::new(
                    child_pointer(pointer, "type"),
                    format!("is required (one of {PAGINATION_TYPE_NAMES})"),
                ));
                None
            }
            Some(type_member) => {
                let type_text = type_member.value.as_str().unwrap_or_default();
                let normalized_type = type_text.to_ascii_uppercase();
                if PAGINATION_TYPE_NAMES
                    .split(", ")
                    .any(|known| known == normalized_type)
                {
                    Some(normalized_type)
                } else {
                    problems.push(Problem::new(
                        type_member.pointer,
                        format!("must be one of {PAGINATION_TYPE_NAMES}"),
                    ));
                    None
                }
            }
        };
    let delay_request_millis = members.get("delayRequestMillis").map(|delay_value| {
        let delay_pointer = child_pointer(pointer, "delayRequestMillis");
        non_negative_integer(delay_value, &delay_pointer, problems).filter(|&delay| {
            let within = delay <= MAX_DELAY_REQUEST_MILLIS;
            if !within {
                problems.push(Problem::new(
                    &delay_pointer,
                    format!(
                        "must be at most {MAX_DELAY_REQUEST_MILLIS} (a minute between two requests); {delay} would hold a worker for hours"
                    ),
                ));
            }
            within
        })
    });
    let maximum_request = members.get("maximumRequest").map(|maximum_value| {
        positive_integer(
            maximum_value,
            &child_pointer(pointer, "maximumRequest"),
            problems,
        )
    });

    let pagination = match pagination_type.as_deref() {
        Some("OFFSET") => resolve_offset(members, pointer, problems).map(Pagination::Offset),
        Some("POINTER") => resolve_pointer(members, pointer, problems).map(Pagination::Pointer),
        Some("CONTINUATION_TOKEN") => resolve_continuation_token(members, pointer, problems)
            .map(Pagination::ContinuationToken),
        Some("PAGE") => resolve_page(members, pointer, problems).map(Pagination::Page),
        Some(_) => Some(Pagination::None),
        None => None,
    };
    if problems.len() != problems_before {
        return None;
    }
    let pagination = pagination?;
    let default_maximum_request = match pagination {
        Pagination::Page(_) => Some(DEFAULT_PAGE_MAXIMUM_REQUEST),
        _ => None,
    };
    let maximum_request = maximum_request.flatten();
    let pacing = RequestPacing {
        delay_request_millis: delay_request_millis.flatten().unwrap_or(0),
        maximum_request_is_default: maximum_request.is_none() && default_maximum_request.is_some(),
        maximum_request: maximum_request.or(default_maximum_request),
    };
    Some((pagination, pacing))
}

fn resolve_offset(
    members: &Map<String, Value>,
    pointer: &str,
    problems: &mut Vec<Problem>,
) -> Option<OffsetPagination> {
    let page_size = required_page_size(members, pointer, "OFFSET", problems);
    let offset_parameter_name = required_string(
        members,
        pointer,
        &["offSetName", "offsetName"],
        "is required for OFFSET pagination (offSetName or offsetName)",
        problems,
    );
    let end_condition = end_condition(members, pointer, problems);
    Some(OffsetPagination {
        page_size: page_size?,
        offset_parameter_name: offset_parameter_name?.1.to_owned(),
        end_condition: end_condition?,
    })
}

fn resolve_pointer(
    members: &Map<String, Value>,
    pointer: &str,
    problems: &mut Vec<Problem>,
) -> Option<PointerPagination> {
    let pointer_path =
        match aliased_member(members, pointer, &["pointerPath", "pointerName"], problems) {
            Some(path_member) => json_path_at(path_member.value, &path_member.pointer, problems),
            None => {
                problems.push(Problem::new(
                    child_pointer(pointer, "pointerPath"),
                    "is required for POINTER pagination (pointerPath or pointerName)",
                ));
                None
            }
        };
    let page_size = optional_page_size(members, pointer, problems);
    let (pointer_path, pointer_path_text) = pointer_path?;
    Some(PointerPagination {
        pointer_path,
        pointer_path_text,
        page_size: page_size?,
    })
}

fn resolve_continuation_token(
    members: &Map<String, Value>,
    pointer: &str,
    problems: &mut Vec<Problem>,
) -> Option<ContinuationTokenPagination> {
    let token_path_pointer = child_pointer(pointer, "continuationTokenPath");
    let token_path = match members.get("continuationTokenPath") {
        Some(path_value) => json_path_at(path_value, &token_path_pointer, problems),
        None => {
            problems.push(Problem::new(
                token_path_pointer,
                "is required for CONTINUATION_TOKEN pagination",
            ));
            None
        }
    };
    let parameter_name = required_string(
        members,
        pointer,
        &["parameterName"],
        "is required for CONTINUATION_TOKEN pagination",
        problems,
    );
    let parameter_location = match members.get("parameterType") {
        None => Some(TokenParameterLocation::QueryParam),
        Some(location_value) => match location_value
            .as_str()
            .map(str::to_ascii_uppercase)
            .as_deref()
        {
            Some("QUERYPARAM") => Some(TokenParameterLocation::QueryParam),
            Some("HEADERPARAM") => Some(TokenParameterLocation::HeaderParam),
            _ => {
                problems.push(Problem::new(
                    child_pointer(pointer, "parameterType"),
                    "must be QUERYPARAM or HEADERPARAM",
                ));
                None
            }
        },
    };
    let page_size = optional_page_size(members, pointer, problems);
    let (token_path, token_path_text) = token_path?;
    Some(ContinuationTokenPagination {
        token_path,
        token_path_text,
        parameter_name: parameter_name?.1.to_owned(),
        parameter_location: parameter_location?,
        page_size: page_size?,
    })
}

fn resolve_page(
    members: &Map<String, Value>,
    pointer: &str,
    problems: &mut Vec<Problem>,
) -> Option<PagePagination> {
    let page_parameter_name = required_string(
        members,
        pointer,
        &["pageParamName"],
        "is required for PAGE pagination",
        problems,
    );
    let page_size = optional_page_size(members, pointer, problems);
    let initial_page_index = match members.get("initialPageIndex") {
        Some(index_value) => non_negative_integer(
            index_value,
            &child_pointer(pointer, "initialPageIndex"),
            problems,
        ),
        None => Some(0),
    };
    let end_page_index = match members.get("endPageIndex") {
        None => Some(None),
        Some(Value::String(text)) if text.starts_with("headers.") => {
            let header_name = &text["headers.".len()..];
            if header_name.is_empty() {
                problems.push(Problem::new(
                    child_pointer(pointer, "endPageIndex"),
                    "must name a response header after headers.",
                ));
                None
            } else {
                Some(Some(EndPageIndex::ResponseHeader(header_name.to_owned())))
            }
        }
        Some(index_value) => {
            let end_pointer = child_pointer(pointer, "endPageIndex");
            let mut index_problems = Vec::new();
            match non_negative_integer(index_value, &end_pointer, &mut index_problems) {
                Some(index) => Some(Some(EndPageIndex::Fixed(index))),
                None => {
                    problems.push(Problem::new(
                        end_pointer,
                        "must be a non-negative integer or headers.<response header name>",
                    ));
                    None
                }
            }
        }
    };
    Some(PagePagination {
        page_parameter_name: page_parameter_name?.1.to_owned(),
        page_size: page_size?,
        initial_page_index: initial_page_index?,
        end_page_index: end_page_index?,
    })
}

/// `limitName` + `limitValue`, both required.
fn required_page_size(
    members: &Map<String, Value>,
    pointer: &str,
    pagination_type: &str,
    problems: &mut Vec<Problem>,
) -> Option<PageSize> {
    let why_required = format!("is required for {pagination_type} pagination");
    let parameter_name = required_string(members, pointer, &["limitName"], &why_required, problems);
    let limit_pointer = child_pointer(pointer, "limitValue");
    let value = match members.get("limitValue") {
        Some(limit_value) => positive_integer(limit_value, &limit_pointer, problems),
        None => {
            problems.push(Problem::new(limit_pointer, why_required));
            None
        }
    };
    Some(PageSize {
        parameter_name: parameter_name?.1.to_owned(),
        value: value?,
    })
}

/// `limitName` + `limitValue`, optional but only as a pair; `None` when a problem was
/// reported, `Some(None)` when both are absent.
fn optional_page_size(
    members: &Map<String, Value>,
    pointer: &str,
    problems: &mut Vec<Problem>,
) -> Option<Option<PageSize>> {
    let problems_before = problems.len();
    require_pair(members, pointer, ("limitName", "limitValue"), problems);
    if problems.len() != problems_before {
        return None;
    }
    if !members.contains_key("limitName") {
        return Some(None);
    }
    required_page_size(members, pointer, "this", problems).map(Some)
}

/// `endConditionName` + `endConditionValue`; `None` when a problem was reported.
fn end_condition(
    members: &Map<String, Value>,
    pointer: &str,
    problems: &mut Vec<Problem>,
) -> Option<Option<EndCondition>> {
    let problems_before = problems.len();
    require_pair(
        members,
        pointer,
        ("endConditionName", "endConditionValue"),
        problems,
    );
    let (Some(name_value), Some(expected_value)) = (
        members.get("endConditionName"),
        members.get("endConditionValue"),
    ) else {
        return (problems.len() == problems_before).then_some(None);
    };
    let (path, path_text) = json_path_at(
        name_value,
        &child_pointer(pointer, "endConditionName"),
        problems,
    )?;
    Some(Some(EndCondition {
        path,
        path_text,
        expected_value: interpret_end_condition_value(expected_value),
    }))
}

/// `Const:false` → `false`; `Const:abc` → `"abc"`; non-strings are taken as they are.
fn interpret_end_condition_value(value: &Value) -> Value {
    let Some(text) = value.as_str() else {
        return value.clone();
    };
    let literal = match text.get(..CONSTANT_PREFIX.len()) {
        Some(prefix) if prefix.eq_ignore_ascii_case(CONSTANT_PREFIX) => {
            &text[CONSTANT_PREFIX.len()..]
        }
        _ => text,
    };
    match serde_json::from_str::<Value>(literal) {
        Ok(scalar) if !scalar.is_object() && !scalar.is_array() => scalar,
        _ => Value::String(literal.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn end_condition_values_drop_the_const_prefix() {
        for (written, expected) in [
            (json!("Const:false"), json!(false)),
            (json!("const:0"), json!(0)),
            (json!("Const:done"), json!("done")),
            (json!("true"), json!(true)),
            (json!(false), json!(false)),
            (json!("Const:[1]"), json!("[1]")),
        ] {
            assert_eq!(
                interpret_end_condition_value(&written),
                expected,
                "{written}"
            );
        }
    }
}
