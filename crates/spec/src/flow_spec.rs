//! Validation and normalization of flow specs (`POST`/`PUT /flowSpecs`).
//!
//! Only the document itself is checked here: whether the connection spec ids it lists exist
//! is the API's question, since it needs the store. Adobe spells the transformation list three
//! ways (`transformationSpec` in the docs' PUT example, `transformationSpecDTOS` in the OAS
//! request schema, `transformationSpecs` in every response); [`normalize_flow_spec`] folds
//! them into `transformationSpecs`, which is what flowd stores and returns.

use serde_json::Value;

use crate::json_schema::schema_definition_problems;
use crate::problem::{Problem, child_pointer, index_pointer, sort_in_document_order};

/// The spelling flowd stores and returns.
pub const TRANSFORMATION_SPECS_KEY: &str = "transformationSpecs";

/// Every accepted spelling, the stored one first.
pub const TRANSFORMATION_SPECS_ALIASES: [&str; 3] = [
    TRANSFORMATION_SPECS_KEY,
    "transformationSpec",
    "transformationSpecDTOS",
];

/// Every problem of a flow spec document, in document order; empty means valid.
///
/// Meant to run after [`normalize_flow_spec`], but checks the transformation specs under any
/// of their spellings so that skipping normalization cannot let a bad schema through.
pub fn validate_flow_spec(flow_spec: &Value) -> Vec<Problem> {
    let Some(members) = flow_spec.as_object() else {
        return vec![Problem::new("", "must be an object")];
    };
    let mut problems = Vec::new();
    for required_key in ["name", "providerId"] {
        let pointer = child_pointer("", required_key);
        match members.get(required_key) {
            None => problems.push(Problem::new(pointer, "is required")),
            Some(Value::String(text)) if !text.is_empty() => {}
            Some(_) => problems.push(Problem::new(pointer, "must be a non-empty string")),
        }
    }
    for ids_key in ["sourceConnectionSpecIds", "targetConnectionSpecIds"] {
        if let Some(ids) = members.get(ids_key) {
            check_string_array(ids, &child_pointer("", ids_key), &mut problems);
        }
    }
    for spec_holder_key in ["scheduleSpec", "optionSpec"] {
        if let Some(spec_holder) = members.get(spec_holder_key) {
            check_spec_holder(
                spec_holder,
                &child_pointer("", spec_holder_key),
                &mut problems,
            );
        }
    }
    for alias in TRANSFORMATION_SPECS_ALIASES {
        let alias_pointer = child_pointer("", alias);
        match members.get(alias) {
            None => {}
            Some(Value::Array(transformation_specs)) => {
                for (index, transformation_spec) in transformation_specs.iter().enumerate() {
                    check_spec_holder(
                        transformation_spec,
                        &index_pointer(&alias_pointer, index),
                        &mut problems,
                    );
                }
            }
            // A lone object is what normalization would wrap into a one-element array.
            Some(single @ Value::Object(_)) if alias != TRANSFORMATION_SPECS_KEY => {
                check_spec_holder(single, &alias_pointer, &mut problems);
            }
            Some(_) => problems.push(Problem::new(alias_pointer, "must be an array")),
        }
    }
    sort_in_document_order(flow_spec, "", &mut problems);
    problems
}

/// Folds `transformationSpec` / `transformationSpecDTOS` into `transformationSpecs` (an
/// object becomes a one-element array). Two spellings at once are a problem, and the document
/// is then left unchanged.
pub fn normalize_flow_spec(flow_spec: &mut Value) -> Vec<Problem> {
    let Some(members) = flow_spec.as_object_mut() else {
        return Vec::new();
    };
    let present_aliases: Vec<&str> = TRANSFORMATION_SPECS_ALIASES
        .into_iter()
        .filter(|alias| members.contains_key(*alias))
        .collect();
    match present_aliases.as_slice() {
        [] => Vec::new(),
        [single_alias] => {
            let Some(transformation_specs) = members.remove(*single_alias) else {
                return Vec::new();
            };
            let transformation_specs = match transformation_specs {
                single @ Value::Object(_) => Value::Array(vec![single]),
                other => other,
            };
            members.insert(TRANSFORMATION_SPECS_KEY.to_owned(), transformation_specs);
            Vec::new()
        }
        [first_alias, other_aliases @ ..] => other_aliases
            .iter()
            .map(|other_alias| {
                Problem::new(
                    child_pointer("", other_alias),
                    format!(
                        "conflicts with {first_alias}; give the transformation specs under \
                         one name only"
                    ),
                )
            })
            .collect(),
    }
}

/// `{name?, type?, spec}` holders (scheduleSpec, optionSpec, transformation specs): `spec`
/// must compile when present.
fn check_spec_holder(holder: &Value, pointer: &str, problems: &mut Vec<Problem>) {
    let Some(holder_members) = holder.as_object() else {
        problems.push(Problem::new(pointer, "must be an object"));
        return;
    };
    if let Some(spec) = holder_members.get("spec") {
        problems.extend(schema_definition_problems(
            spec,
            &child_pointer(pointer, "spec"),
        ));
    }
}

fn check_string_array(value: &Value, pointer: &str, problems: &mut Vec<Problem>) {
    let Some(elements) = value.as_array() else {
        problems.push(Problem::new(pointer, "must be an array of strings"));
        return;
    };
    for (index, element) in elements.iter().enumerate() {
        if !element.is_string() {
            problems.push(Problem::new(
                index_pointer(pointer, index),
                "must be a string",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn singular_object_alias_becomes_a_one_element_array() {
        let mut flow_spec = json!({"name": "n", "transformationSpec": {"name": "Mapping"}});
        assert_eq!(normalize_flow_spec(&mut flow_spec), []);
        assert_eq!(
            flow_spec,
            json!({"name": "n", "transformationSpecs": [{"name": "Mapping"}]})
        );
    }

    #[test]
    fn dto_alias_is_renamed() {
        let mut flow_spec = json!({"transformationSpecDTOS": [{"name": "Mapping"}]});
        assert_eq!(normalize_flow_spec(&mut flow_spec), []);
        assert_eq!(
            flow_spec,
            json!({"transformationSpecs": [{"name": "Mapping"}]})
        );
    }

    #[test]
    fn two_aliases_at_once_are_a_problem_and_nothing_changes() {
        let original = json!({"transformationSpec": [], "transformationSpecs": []});
        let mut flow_spec = original.clone();
        let problems = normalize_flow_spec(&mut flow_spec);
        assert_eq!(
            problems,
            [Problem::new(
                "/transformationSpec",
                "conflicts with transformationSpecs; give the transformation specs under one \
                 name only"
            )]
        );
        assert_eq!(flow_spec, original);
    }
}
