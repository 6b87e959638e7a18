//! The Data Prep mapping sets a flow's `Mapping` transformations name
//! (`{"name": "Mapping", "params": {"mappingId", "mappingVersion"}}`): each must exist in the
//! sandbox with the version it names (`1412-400`), and write the schema of the flow's dataset
//! (`1425-400`), whose fields must all exist (`1419-400`, when the schema is in the
//! sandbox's registry). A transformation without `mappingVersion` is pinned to the set's latest
//! version when the flow is written, so a later version of the set changes nothing until the
//! flow is patched. The store keeps a reference from the flow to each set, so a mapping set a
//! flow uses cannot be deleted.

use flowd_dataprep::MappingSetBody;
use flowd_dataprep::destinations::destinations_outside;
use flowd_dataprep::mapping_set::{
    mapping_transformations, newest_version, stored_version, version_number,
};
use flowd_model::ResourceRef;
use flowd_spec::Problem;
use serde_json::{Value, json};

use crate::error::{ApiError, FlowError, FlowErrorCode};
use crate::routes::collections::{DATASETS, MAPPING_SETS};
use crate::state::AppState;
use crate::tenant::Tenant;

/// The part of a schema reference both of Adobe's spellings share: `…/schemas/<hash>` and the
/// altId `_<tenant>.schemas.<hash>` name the same schema.
fn schema_key(reference: &str) -> &str {
    reference.rsplit(['/', '.']).next().unwrap_or(reference)
}

fn mapping_error(code: FlowErrorCode, message: String, pointer: String) -> ApiError {
    FlowError::new(code, message)
        .with_problems(vec![Problem::new(pointer.clone(), "see the message")])
        .into()
}

/// The version `mappingVersion` names: a number or a numeric string; `None` when absent.
fn version_of(params: &Value, pointer: &str) -> Result<Option<i64>, ApiError> {
    match params.get("mappingVersion") {
        None | Some(Value::Null) => Ok(None),
        Some(version) => version_number(version).map(Some).ok_or_else(|| {
            FlowError::invalid_body(
                "flow",
                vec![Problem::new(
                    format!("{pointer}/mappingVersion"),
                    "must be a version number (0, 1, …)",
                )],
            )
            .into()
        }),
    }
}

/// Refuses (`1419-400`) a mapping set version with destinations the dataset's schema does not
/// have, when the schema is in the sandbox's registry (a dataset on a schema flowd does not
/// have is untyped: any destination lands).
async fn check_destinations(
    state: &AppState,
    tenant: &Tenant,
    mapping_id: &str,
    version: &Value,
    dataset_schema: &str,
    pointer: &str,
) -> Result<(), ApiError> {
    let Some(schema) =
        flowd_plan::dataset_schema(state.store.as_ref(), &tenant.scope, dataset_schema)
            .await
            .map_err(|error| {
                tracing::error!(%error, "a dataset's schema cannot be read");
                ApiError::from(FlowError::internal())
            })?
    else {
        return Ok(());
    };
    let Ok(body) = MappingSetBody::from_json(&version["set"]) else {
        return Ok(());
    };
    let outside = destinations_outside(&schema, &body);
    if outside.is_empty() {
        return Ok(());
    }
    let problems = outside
        .iter()
        .map(|problem| {
            Problem::new(
                format!("{pointer}/mappingId"),
                format!(
                    "the mapping set's /mappings/{}/destination {} {}",
                    problem.index, problem.destination, problem.message
                ),
            )
        })
        .collect();
    Err(FlowError::new(
        FlowErrorCode::MappingValidationFailed,
        format!(
            "The mapping set {mapping_id} writes {} field(s) the schema {dataset_schema} does not have; fix the destinations or the schema.",
            outside.len()
        ),
    )
    .with_problems(problems)
    .into())
}

/// Checks the flow's mapping transformations (pinning absent versions in `transformations`)
/// against `dataset_id`'s schema; the references the store keeps.
pub async fn check_mappings(
    state: &AppState,
    tenant: &Tenant,
    transformations: &mut [Value],
    dataset_id: Option<&str>,
) -> Result<Vec<ResourceRef>, ApiError> {
    let mut references = Vec::new();
    let dataset_schema = match dataset_id {
        Some(id) => state
            .store
            .get_resource(&tenant.scope, DATASETS.kind, id)
            .await?
            .and_then(|stored| {
                stored
                    .body
                    .pointer("/schemaRef/id")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            }),
        None => None,
    };
    let positions: Vec<usize> = mapping_transformations(transformations)
        .map(|(position, _)| position)
        .collect();
    for index in positions {
        let transformation = &mut transformations[index];
        let pointer = format!("/transformations/{index}/params");
        let params = transformation.get("params").cloned().unwrap_or(Value::Null);
        let Some(mapping_id) = params
            .get("mappingId")
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase)
        else {
            return Err(FlowError::invalid_body(
                "flow",
                vec![Problem::new(
                    format!("{pointer}/mappingId"),
                    "is required: the id of a mapping set of this sandbox",
                )],
            )
            .into());
        };
        let wanted = version_of(&params, &pointer)?;
        let Some(stored) = state
            .store
            .get_resource(&tenant.scope, MAPPING_SETS.kind, &mapping_id)
            .await?
        else {
            return Err(mapping_error(
                FlowErrorCode::InvalidMappingVersion,
                format!(
                    "The mapping set {mapping_id} does not exist in this sandbox; create it with POST /data/foundation/conversion/mappingSets."
                ),
                format!("{pointer}/mappingId"),
            ));
        };
        let Some(version) = stored_version(&stored.body, wanted).cloned() else {
            let newest = newest_version(&stored.body);
            return Err(mapping_error(
                FlowErrorCode::InvalidMappingVersion,
                format!(
                    "The mapping set {mapping_id} has no version {}; its versions are 0 to {newest}.",
                    wanted.unwrap_or_default()
                ),
                format!("{pointer}/mappingVersion"),
            ));
        };
        let mapping_schema = version
            .pointer("/set/outputSchema/schemaRef/id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if let Some(dataset_schema) = &dataset_schema
            && schema_key(dataset_schema) != schema_key(mapping_schema)
        {
            return Err(mapping_error(
                FlowErrorCode::MappingSchemaMismatch,
                format!(
                    "The mapping set {mapping_id} writes the schema {mapping_schema}, but the flow's dataset {} has the schema {dataset_schema}.",
                    dataset_id.unwrap_or_default()
                ),
                format!("{pointer}/mappingId"),
            ));
        }
        if let Some(dataset_schema) = &dataset_schema {
            check_destinations(
                state,
                tenant,
                &mapping_id,
                &version,
                dataset_schema,
                &pointer,
            )
            .await?;
        }
        transformation["params"]["mappingId"] = json!(mapping_id);
        transformation["params"]["mappingVersion"] = version["version"].clone();
        references.push(ResourceRef {
            kind: MAPPING_SETS.kind,
            id: mapping_id,
            pointer: format!("{pointer}/mappingId"),
        });
    }
    Ok(references)
}
