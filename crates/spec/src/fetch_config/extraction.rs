//! `contentPath` and `explodeEntityPath`: where the records are in a response page and which
//! nested array, if any, is flattened into one record per element.
//!
//! Both accept the object form `{path, skipAttributes | keepAttributes,
//! overrideWrapperAttribute}` and the legacy plain-string form `"$.members"`.

use serde_json::Value;

use super::lenient::{json_path_at, non_empty_string};
use super::{AttributeFilter, ContentPath};
use crate::problem::{Problem, child_pointer, index_pointer};

/// Resolves a `contentPath`-shaped value found at `pointer`.
pub(super) fn resolve_content_path(
    value: &Value,
    pointer: &str,
    problems: &mut Vec<Problem>,
) -> Option<ContentPath> {
    let members = match value {
        Value::String(_) => {
            let (path, path_text) = json_path_at(value, pointer, problems)?;
            return Some(ContentPath {
                path,
                path_text,
                attribute_filter: AttributeFilter::KeepAll,
                wrapper: None,
            });
        }
        Value::Object(members) => members,
        _ => {
            problems.push(Problem::new(
                pointer,
                "must be an object with a path, or a JSONPath string",
            ));
            return None;
        }
    };
    let problems_before = problems.len();
    let path_pointer = child_pointer(pointer, "path");
    let compiled_path = match members.get("path") {
        Some(path_value) => json_path_at(path_value, &path_pointer, problems),
        None => {
            problems.push(Problem::new(path_pointer, "is required"));
            None
        }
    };
    let skip = members.get("skipAttributes").map(|skip_value| {
        string_list(
            skip_value,
            &child_pointer(pointer, "skipAttributes"),
            problems,
        )
    });
    let keep = members.get("keepAttributes").map(|keep_value| {
        string_list(
            keep_value,
            &child_pointer(pointer, "keepAttributes"),
            problems,
        )
    });
    let attribute_filter = match (skip, keep) {
        (None, None) => AttributeFilter::KeepAll,
        (Some(skip_names), None) => AttributeFilter::Skip(skip_names),
        (None, Some(keep_names)) => AttributeFilter::Keep(keep_names),
        (Some(_), Some(_)) => {
            problems.push(Problem::new(
                pointer,
                "skipAttributes and keepAttributes cannot be used together",
            ));
            AttributeFilter::KeepAll
        }
    };
    let wrapper = members
        .get("overrideWrapperAttribute")
        .and_then(|wrapper_value| {
            non_empty_string(
                wrapper_value,
                &child_pointer(pointer, "overrideWrapperAttribute"),
                problems,
            )
            .map(str::to_owned)
        });
    if problems.len() != problems_before {
        return None;
    }
    let (path, path_text) = compiled_path?;
    Some(ContentPath {
        path,
        path_text,
        attribute_filter,
        wrapper,
    })
}

fn string_list(value: &Value, pointer: &str, problems: &mut Vec<Problem>) -> Vec<String> {
    let Some(elements) = value.as_array() else {
        problems.push(Problem::new(pointer, "must be an array of strings"));
        return Vec::new();
    };
    let mut names = Vec::with_capacity(elements.len());
    for (index, element) in elements.iter().enumerate() {
        match element.as_str() {
            Some(name) => names.push(name.to_owned()),
            None => problems.push(Problem::new(
                index_pointer(pointer, index),
                "must be a string",
            )),
        }
    }
    names
}
