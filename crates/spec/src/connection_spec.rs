//! Validation of connection specs (`POST`/`PUT /connectionSpecs`), reporting every problem
//! at once in document order.
//!
//! Scope by `type`: an absent `type` or `generic-rest` (any letter case) gets the full batch
//! SDK rules (auth specs, an executable or template-shaped `sourceSpec`, `exploreSpec`),
//! because those are the sources flowd can run. Any other `type` string (`generic-streaming`,
//! the Data Lake target spec, Adobe's file and table sources) gets only the rules every spec
//! shares: `name`, `providerId`, `targetSpec.spec` compiling when present, and the `authSpec`
//! checks when `authSpec` is present — flowd
//! stores such specs so flows can refer to them, but never executes them. A non-string `type`
//! is reported and nothing type-specific is checked.
//!
//! The caller strips server-managed fields (`id`, `createdAt`, …) first; unknown members are
//! never reported. Missing members are reported at the pointer they should have had.

use serde_json::Value;

use crate::auth_spec::auth_spec_problems;
use crate::fetch_config::{DeclaredNames, FetchConfig, resolve_fetch_config};
use crate::header::{check_auth_header_conflicts, check_header_placeholder_values};
use crate::json_schema::{compile_schema, schema_definition_problems, schema_problems};
use crate::problem::{Problem, child_pointer, sort_in_document_order};

/// The `type` of the specs flowd can execute.
pub const GENERIC_REST_TYPE: &str = "generic-rest";

/// The fetch-configuration members whose presence under `sourceSpec.attributes` makes a spec
/// executable; one of them (`urlParams`) is enough to decide.
const FETCH_CONFIG_MARKER: &str = "urlParams";

/// Where a connection spec keeps its fetch configuration (reference §5.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceShape {
    /// The fetch configuration is given as values under `sourceSpec.attributes` (all real SDK
    /// specs). Also the classification of a spec with no recognizable fetch configuration, so
    /// that validation reports what is missing.
    Executable,
    /// The fetch configuration is described by a JSON Schema (whose `properties` include
    /// `urlParams`) and every source connection supplies it in its `params`.
    GenericTemplate {
        /// Pointer of that schema: `/sourceSpec/spec` or `/sourceSpec/attributes/spec`.
        fetch_config_schema_pointer: String,
    },
}

/// Classifies where `connection_spec` keeps its fetch configuration.
pub fn source_shape(connection_spec: &Value) -> SourceShape {
    if connection_spec
        .pointer("/sourceSpec/attributes")
        .and_then(|attributes| attributes.get(FETCH_CONFIG_MARKER))
        .is_some()
    {
        return SourceShape::Executable;
    }
    for schema_pointer in ["/sourceSpec/spec", "/sourceSpec/attributes/spec"] {
        let describes_fetch_config = connection_spec
            .pointer(schema_pointer)
            .and_then(|schema| schema.get("properties"))
            .and_then(|properties| properties.get(FETCH_CONFIG_MARKER))
            .is_some();
        if describes_fetch_config {
            return SourceShape::GenericTemplate {
                fetch_config_schema_pointer: schema_pointer.to_owned(),
            };
        }
    }
    SourceShape::Executable
}

/// Whether the spec gets the generic-rest rules (absent `type` or `generic-rest`).
pub fn is_generic_rest(connection_spec: &Value) -> bool {
    match connection_spec.get("type") {
        None => true,
        Some(type_value) => type_value
            .as_str()
            .is_some_and(|type_text| type_text.eq_ignore_ascii_case(GENERIC_REST_TYPE)),
    }
}

/// Every problem of a connection spec document, in document order; empty means valid.
pub fn validate_connection_spec(connection_spec: &Value) -> Vec<Problem> {
    let Some(members) = connection_spec.as_object() else {
        return vec![Problem::new("", "must be an object")];
    };
    let mut problems = Vec::new();
    require_non_empty_string(members.get("name"), "/name", &mut problems);
    require_non_empty_string(members.get("providerId"), "/providerId", &mut problems);
    let generic_rest = match members.get("type") {
        None => true,
        Some(Value::String(type_text)) => type_text.eq_ignore_ascii_case(GENERIC_REST_TYPE),
        Some(_) => {
            problems.push(Problem::new("/type", "must be a string"));
            false
        }
    };
    match members.get("authSpec") {
        Some(auth_specs) => check_auth_specs(auth_specs, generic_rest, &mut problems),
        None if generic_rest => problems.push(Problem::new(
            "/authSpec",
            "is required for generic-rest sources (a non-empty array)",
        )),
        None => {}
    }
    if let Some(target_params_schema) = connection_spec.pointer("/targetSpec/spec") {
        problems.extend(schema_definition_problems(
            target_params_schema,
            "/targetSpec/spec",
        ));
    }
    if generic_rest {
        check_source_spec(connection_spec, &mut problems);
        check_explore_spec(members.get("exploreSpec"), &mut problems);
    }
    sort_in_document_order(connection_spec, "", &mut problems);
    problems
}

/// The effective fetch configuration of a source connection of `connection_spec`: the spec's
/// own for the executable shape (problems point into the spec), or the one the source
/// connection supplies in `source_params` for the template shape (problems point into the
/// source connection, under `/params`). [`resolve_source`] also checks the params.
pub fn resolve_source_fetch_config(
    connection_spec: &Value,
    source_params: &Value,
) -> Result<FetchConfig, Vec<Problem>> {
    let declared = DeclaredNames::from_connection_spec(connection_spec);
    let (fetch_values, base_pointer) = match source_shape(connection_spec) {
        SourceShape::Executable => (
            connection_spec
                .pointer("/sourceSpec/attributes")
                .unwrap_or(&Value::Null),
            "/sourceSpec/attributes",
        ),
        SourceShape::GenericTemplate { .. } => (source_params, "/params"),
    };
    let resolved = resolve_fetch_config(fetch_values, base_pointer, &declared);
    // Conflicts are reported with the other problems, so read from the document when the
    // fetch config does not resolve.
    let header_names: Vec<&str> = match &resolved {
        Ok(fetch_config) => fetch_config
            .header_params
            .iter()
            .map(|header| header.name.as_str())
            .collect(),
        Err(_) => fetch_values
            .pointer("/headerParams")
            .and_then(Value::as_object)
            .map(|headers| headers.keys().map(String::as_str).collect())
            .unwrap_or_default(),
    };
    let mut conflicts = Vec::new();
    check_auth_header_conflicts(
        connection_spec,
        &header_names,
        &child_pointer(base_pointer, "headerParams"),
        &mut conflicts,
    );
    match resolved {
        Ok(fetch_config) if conflicts.is_empty() => Ok(fetch_config),
        Ok(_) => Err(conflicts),
        Err(mut problems) => {
            problems.extend(conflicts);
            sort_in_document_order(fetch_values, base_pointer, &mut problems);
            Err(problems)
        }
    }
}

/// Whether a source connection of `connection_spec` with `source_params` can run, and what it
/// fetches — the one place that decides it, used when a source connection is written and when
/// a run or a preview is prepared:
///
/// 1. `source_params` are checked against the spec's `sourceSpec.spec` and, for the template
///    shape, against the schema describing the fetch configuration (problems under `/params`);
/// 2. the fetch configuration is resolved ([`resolve_source_fetch_config`]), leaving out
///    problems at a pointer the schema check already reported.
pub fn resolve_source(
    connection_spec: &Value,
    source_params: &Value,
) -> Result<FetchConfig, Vec<Problem>> {
    let shape = source_shape(connection_spec);
    let mut schema_pointers = vec!["/sourceSpec/spec".to_owned()];
    if let SourceShape::GenericTemplate {
        fetch_config_schema_pointer,
    } = &shape
        && !schema_pointers.contains(fetch_config_schema_pointer)
    {
        schema_pointers.push(fetch_config_schema_pointer.clone());
    }
    let mut problems = Vec::new();
    for schema_pointer in &schema_pointers {
        let Some(schema) = connection_spec.pointer(schema_pointer) else {
            continue;
        };
        match compile_schema(schema) {
            Ok(validator) => {
                problems.extend(schema_problems(&validator, source_params, "/params"));
            }
            Err(error) => problems.push(Problem::new(
                schema_pointer,
                format!("does not compile: {error}"),
            )),
        }
    }
    match resolve_source_fetch_config(connection_spec, source_params) {
        Ok(fetch_config) => {
            check_header_placeholder_values(
                &fetch_config.header_params,
                source_params,
                &mut problems,
            );
            if problems.is_empty() {
                Ok(fetch_config)
            } else {
                Err(problems)
            }
        }
        Err(fetch_config_problems) => {
            let reported: Vec<String> = problems
                .iter()
                .map(|problem| problem.pointer.clone())
                .collect();
            problems.extend(
                fetch_config_problems
                    .into_iter()
                    .filter(|problem| !reported.contains(&problem.pointer)),
            );
            Err(problems)
        }
    }
}

fn require_non_empty_string(value: Option<&Value>, pointer: &str, problems: &mut Vec<Problem>) {
    match value {
        None => problems.push(Problem::new(pointer, "is required")),
        Some(Value::String(text)) if !text.is_empty() => {}
        Some(_) => problems.push(Problem::new(pointer, "must be a non-empty string")),
    }
}

fn check_auth_specs(auth_specs: &Value, generic_rest: bool, problems: &mut Vec<Problem>) {
    if auth_specs.as_array().is_some_and(Vec::is_empty) && generic_rest {
        problems.push(Problem::new(
            "/authSpec",
            "must hold at least one auth spec for generic-rest sources",
        ));
    }
    // flowd runs generic-rest sources only, so only their auth types must be ones it runs.
    auth_spec_problems(auth_specs, generic_rest, problems);
}

fn check_source_spec(connection_spec: &Value, problems: &mut Vec<Problem>) {
    let source_spec = match connection_spec.get("sourceSpec") {
        None => {
            problems.push(Problem::new(
                "/sourceSpec",
                "is required for generic-rest sources",
            ));
            return;
        }
        Some(Value::Object(source_spec)) => source_spec,
        Some(_) => {
            problems.push(Problem::new("/sourceSpec", "must be an object"));
            return;
        }
    };
    if let Some(user_input_schema) = source_spec.get("spec") {
        problems.extend(schema_definition_problems(
            user_input_schema,
            "/sourceSpec/spec",
        ));
    }
    let attributes = source_spec.get("attributes");
    match source_shape(connection_spec) {
        SourceShape::GenericTemplate {
            fetch_config_schema_pointer,
        } => {
            if fetch_config_schema_pointer != "/sourceSpec/spec"
                && let Some(template_schema) = connection_spec.pointer(&fetch_config_schema_pointer)
            {
                problems.extend(schema_definition_problems(
                    template_schema,
                    &fetch_config_schema_pointer,
                ));
            }
            if let Some(attributes) = attributes
                && !attributes.is_object()
            {
                problems.push(Problem::new("/sourceSpec/attributes", "must be an object"));
            }
        }
        SourceShape::Executable => match attributes {
            None => problems.push(Problem::new(
                "/sourceSpec/attributes",
                "is required (it holds urlParams, contentPath and the other fetch settings)",
            )),
            Some(_) => {
                if let Err(fetch_problems) =
                    resolve_source_fetch_config(connection_spec, &Value::Null)
                {
                    problems.extend(fetch_problems);
                }
            }
        },
    }
}

fn check_explore_spec(explore_spec: Option<&Value>, problems: &mut Vec<Problem>) {
    let explore_members = match explore_spec {
        None => {
            problems.push(Problem::new(
                "/exploreSpec",
                "is required for generic-rest sources",
            ));
            return;
        }
        Some(Value::Object(explore_members)) => explore_members,
        Some(_) => {
            problems.push(Problem::new("/exploreSpec", "must be an object"));
            return;
        }
    };
    for schema_key in ["requestSpec", "responseSpec"] {
        if let Some(schema) = explore_members.get(schema_key) {
            problems.extend(schema_definition_problems(
                schema,
                &child_pointer("/exploreSpec", schema_key),
            ));
        }
    }
}
