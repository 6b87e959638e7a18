//! JSON Schema handling for every schema a spec embeds (`authSpec[].spec`, `sourceSpec.spec`,
//! flow-spec `scheduleSpec.spec`, …): always draft-07, never any network or file access.
//!
//! Draft-07 is forced because stored specs carry unusable `$schema` values (`""` in the seed
//! page, `"http: //json-schema.org/..."` with a space in every Adobe copy); the `$schema` member
//! is removed from a clone before compiling. Unknown keywords (`uiAttributes`,
//! `restAttributes`) and unknown formats (`password`) are annotations and never errors. The
//! crate is built without `resolve-http`/`resolve-file`, so a remote `$ref` fails to compile
//! instead of being fetched.

use serde_json::Value;

use crate::problem::Problem;

/// The format Adobe uses to mark a secret property (masked on read, encrypted at rest).
pub const SECRET_FORMAT: &str = "password";

/// Compiles `schema` with draft-07 semantics whatever its `$schema` says.
///
/// The error text names the location inside the schema when the compiler gives one.
pub fn compile_schema(schema: &Value) -> Result<jsonschema::Validator, String> {
    let schema_without_dialect = without_dialect_declaration(schema);
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .should_ignore_unknown_formats(true)
        .build(&schema_without_dialect)
        .map_err(|compile_error| {
            let location = compile_error.instance_path().as_str();
            if location.is_empty() {
                compile_error.to_string()
            } else {
                format!("{location}: {compile_error}")
            }
        })
}

/// Every reason why `schema` (located at `schema_pointer` in the validated document) is not a
/// usable draft-07 schema, or nothing when it compiles.
///
/// Meta-schema violations are reported one by one with their own pointers; only when the
/// document satisfies the meta-schema is the compiler asked (it catches e.g. unresolvable
/// `$ref`s and bad regular expressions, one error at a time).
pub fn schema_definition_problems(schema: &Value, schema_pointer: &str) -> Vec<Problem> {
    if !schema.is_object() && !schema.is_boolean() {
        return vec![Problem::new(
            schema_pointer,
            "must be a JSON Schema (an object or a boolean)",
        )];
    }
    let schema_without_dialect = without_dialect_declaration(schema);
    let meta_validator = jsonschema::draft7::meta::validator();
    let meta_problems: Vec<Problem> = meta_validator
        .iter_errors(&schema_without_dialect)
        .map(|meta_error| {
            Problem::new(
                format!("{schema_pointer}{}", meta_error.instance_path().as_str()),
                format!("is not a valid json schema: {meta_error}"),
            )
        })
        .collect();
    if !meta_problems.is_empty() {
        return meta_problems;
    }
    match compile_schema(schema) {
        Ok(_) => Vec::new(),
        Err(compile_message) => vec![Problem::new(
            schema_pointer,
            format!("is not a valid json schema: {compile_message}"),
        )],
    }
}

/// Every validation error of `instance` against `validator`, located by instance pointer
/// prefixed with `base_pointer` (where `instance` sits in the caller's document).
pub fn schema_problems(
    validator: &jsonschema::Validator,
    instance: &Value,
    base_pointer: &str,
) -> Vec<Problem> {
    validator
        .iter_errors(instance)
        .map(|validation_error| {
            Problem::new(
                format!(
                    "{base_pointer}{}",
                    validation_error.instance_path().as_str()
                ),
                validation_error.to_string(),
            )
        })
        .collect()
}

/// Top-level property names declared with `format: "password"`, in schema order; these values
/// are masked when read back and must never be logged.
pub fn secret_properties(schema: &Value) -> Vec<String> {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return Vec::new();
    };
    properties
        .iter()
        .filter(|(_, property_schema)| {
            property_schema.get("format").and_then(Value::as_str) == Some(SECRET_FORMAT)
        })
        .map(|(property_name, _)| property_name.clone())
        .collect()
}

/// A clone of `schema` without its root `$schema`, so the dialect is always the one we force.
fn without_dialect_declaration(schema: &Value) -> Value {
    let mut schema_clone = schema.clone();
    if let Some(members) = schema_clone.as_object_mut() {
        members.remove("$schema");
    }
    schema_clone
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn broken_dialect_declarations_compile_as_draft_07() {
        for dialect in ["", "http: //json-schema.org/draft-07/schema#", "http: //"] {
            let schema = json!({"$schema": dialect, "type": "object",
                "properties": {"accessToken": {"type": "string", "format": "password",
                    "uiAttributes": {"hidden": true},
                    "restAttributes": {"headerParamName": "X-Auth-Key1"}}},
                "required": ["accessToken"]});
            let validator = compile_schema(&schema).expect("schema compiles");
            assert!(validator.is_valid(&json!({"accessToken": "secret"})));
            assert!(!validator.is_valid(&json!({})));
        }
    }

    #[test]
    fn draft_07_semantics_apply_even_when_a_newer_dialect_is_declared() {
        // Under 2020-12, `items` with an array is invalid; in draft-07 it is a tuple schema.
        let schema = json!({"$schema": "https://json-schema.org/draft/2020-12/schema",
            "items": [{"type": "string"}]});
        let validator = compile_schema(&schema).expect("draft-07 tuple items compile");
        assert!(!validator.is_valid(&json!([1])));
    }

    #[test]
    fn invalid_schemas_are_reported_with_pointers() {
        let problems = schema_definition_problems(&json!({"type": 12}), "/authSpec/0/spec");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].pointer, "/authSpec/0/spec/type");
        assert!(
            schema_definition_problems(&json!("nope"), "/x")[0]
                .message
                .starts_with("must be")
        );
    }

    #[test]
    fn remote_references_are_never_fetched() {
        let schema = json!({"$ref": "https://example.invalid/schema.json"});
        assert!(compile_schema(&schema).is_err());
    }

    #[test]
    fn instance_errors_carry_prefixed_pointers() {
        let validator = compile_schema(&json!({"type": "object",
            "properties": {"listId": {"type": "string"}}}))
        .unwrap();
        let problems = schema_problems(&validator, &json!({"listId": 5}), "/params");
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].pointer, "/params/listId");
    }

    #[test]
    fn secret_properties_are_those_with_password_format() {
        let schema = json!({"properties": {"username": {"type": "string"},
            "password": {"type": "string", "format": "password"},
            "clientSecret": {"format": "password"}}});
        assert_eq!(secret_properties(&schema), ["password", "clientSecret"]);
    }
}
