//! The older single-mapping routes of a mapping set (Data Prep reference §3.6, the 2020 API
//! that aepp and the legacy collection still call): `POST /mappingSets/{id}/mappings` adds one
//! mapping, `PUT …/mappings/{mappingId}` replaces one, `DELETE …/mappings/{mappingId}` removes
//! one. Each writes a new version of the set, as a PUT of the whole set does (so every mapping
//! of the new version has a new id); the answer is the mapping's simple representation (the
//! replaced mapping in full for a PUT). A mapping is read in either dialect and checked like
//! any other, its problems at pointers into the one mapping sent.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use flowd_dataprep::{BodyProblem, MappingSetBody};
use serde_json::{Value, json};

use crate::body::JsonBody;
use crate::conversion::mapping_sets::{
    MappingSetId, append_version, invalid_body, is_hex_id, latest, present,
};
use crate::error::{ApiError, FlowError, FlowErrorCode, json_response};
use crate::state::AppState;
use crate::tenant::Tenant;

/// The set `set` with its mappings changed by `edit`, read back as a mapping set; problems of
/// the mapping at `position` are reported at pointers into the mapping itself.
fn edited(
    set: &Value,
    position: usize,
    edit: impl FnOnce(&mut Vec<Value>),
) -> Result<MappingSetBody, ApiError> {
    let mut set = set.clone();
    let mut mappings = set["mappings"].as_array().cloned().unwrap_or_default();
    edit(&mut mappings);
    set["mappings"] = Value::Array(mappings);
    MappingSetBody::from_json(&set).map_err(|problems| {
        let prefix = format!("/mappings/{position}");
        invalid_body(
            problems
                .into_iter()
                .map(|problem| BodyProblem {
                    pointer: problem
                        .pointer
                        .strip_prefix(&prefix)
                        .map_or(problem.pointer.clone(), str::to_owned),
                    message: problem.message,
                })
                .collect(),
        )
    })
}

/// `{id, version, createdDate, modifiedDate, createdBy, modifiedBy}` of a presented mapping.
fn simple_mapping(mapping: &Value) -> Value {
    json!({
        "id": mapping["id"],
        "version": mapping["version"],
        "createdDate": mapping["createdDate"],
        "modifiedDate": mapping["modifiedDate"],
        "createdBy": mapping["createdBy"],
        "modifiedBy": mapping["modifiedBy"],
    })
}

/// The presented mappings of the set's latest version.
fn latest_mappings(document: &Value) -> Vec<Value> {
    present(document, latest(document))["mappings"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Where `mapping_id` stands in the latest version of the set `id`, else `1439-404`.
async fn position_of(
    state: &AppState,
    tenant: &Tenant,
    id: &str,
    mapping_id: &str,
) -> Result<usize, ApiError> {
    let stored = crate::conversion::mapping_sets::load(state, tenant, id).await?;
    latest(&stored.body)["set"]["mappings"]
        .as_array()
        .and_then(|mappings| {
            mappings
                .iter()
                .position(|mapping| mapping["id"] == mapping_id)
        })
        .ok_or_else(|| FlowError::not_found("mappings", mapping_id).into())
}

fn ids(raw_id: &str, raw_mapping_id: &str) -> Result<(String, String), ApiError> {
    for raw in [raw_id, raw_mapping_id] {
        if !is_hex_id(raw) {
            return Err(FlowError::new(
                FlowErrorCode::InvalidPathId,
                format!("'{raw}' in the path is not a mapping set or mapping id (32 hexadecimal characters)."),
            )
            .into());
        }
    }
    Ok((
        raw_id.to_ascii_lowercase(),
        raw_mapping_id.to_ascii_lowercase(),
    ))
}

/// `POST /mappingSets/{id}/mappings`: the mapping appended in a new version.
pub async fn add(
    State(state): State<AppState>,
    tenant: Tenant,
    MappingSetId(id): MappingSetId,
    JsonBody(mapping): JsonBody,
) -> Result<Response, ApiError> {
    let document = append_version(&state, &tenant, &id, |set| {
        let position = set["mappings"].as_array().map_or(0, Vec::len);
        edited(set, position, |mappings| mappings.push(mapping.clone()))
    })
    .await?;
    let added = latest_mappings(&document).pop().unwrap_or(Value::Null);
    Ok(json_response(StatusCode::OK, simple_mapping(&added)))
}

/// `PUT /mappingSets/{id}/mappings/{mappingId}`: the mapping replaced in a new version.
pub async fn replace(
    State(state): State<AppState>,
    tenant: Tenant,
    Path((raw_id, raw_mapping_id)): Path<(String, String)>,
    JsonBody(mapping): JsonBody,
) -> Result<Response, ApiError> {
    let (id, mapping_id) = ids(&raw_id, &raw_mapping_id)?;
    let position = position_of(&state, &tenant, &id, &mapping_id).await?;
    let document = append_version(&state, &tenant, &id, |set| {
        edited(set, position, |mappings| {
            if let Some(slot) = mappings.get_mut(position) {
                *slot = mapping.clone();
            }
        })
    })
    .await?;
    let replaced = latest_mappings(&document)
        .get(position)
        .cloned()
        .unwrap_or(Value::Null);
    Ok(json_response(StatusCode::OK, replaced))
}

/// `DELETE /mappingSets/{id}/mappings/{mappingId}`: the mapping removed in a new version.
pub async fn remove(
    State(state): State<AppState>,
    tenant: Tenant,
    Path((raw_id, raw_mapping_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (id, mapping_id) = ids(&raw_id, &raw_mapping_id)?;
    let stored = crate::conversion::mapping_sets::load(&state, &tenant, &id).await?;
    let position = position_of(&state, &tenant, &id, &mapping_id).await?;
    let removed = latest_mappings(&stored.body)
        .get(position)
        .cloned()
        .unwrap_or(Value::Null);
    append_version(&state, &tenant, &id, |set| {
        edited(set, position, |mappings| {
            if position < mappings.len() {
                mappings.remove(position);
            }
        })
    })
    .await?;
    Ok(json_response(StatusCode::OK, simple_mapping(&removed)))
}
