//! `/data/foundation/conversion/mappingSets` (Data Prep reference §3): mapping sets with
//! immutable versions. A create is version 0; a PUT appends the next version (every mapping
//! gets a new id, as Adobe's do); `GET ?version=k` reads version k, no version the latest.
//! Checking and previewing a set without storing it are in `checks`.
//!
//! Decisions where the reference is silent (docs/api-decisions.md): ids are 32 lowercase hex
//! characters (any case accepted in paths); the whole history of a set is one stored document
//! (sets are small and versions few); `status` is `PUBLISHED` (a set is usable as soon as it
//! is written); `outputSchema.id` is derived from the schema reference; a list is the latest
//! version of each set, `orderBy` `createdDate` or `modifiedDate` (`updatedDate`,
//! `lastUpdateDate` alike) with `+`/`-`, `name` a case-insensitive substring; errors use Flow
//! Service's bodies.

use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use flowd_dataprep::MappingSetBody;
use flowd_spec::Problem;
use flowd_store::ResourceWrite;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::body::JsonBody;
use crate::error::{ApiError, FlowError, FlowErrorCode, json_response};
use crate::metadata::{stamp_created, stamp_replaced};
use crate::routes::collections::MAPPING_SETS;
use crate::state::AppState;
use crate::tenant::Tenant;

/// A new 32-hex id, as Data Prep's.
fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

pub(crate) fn is_hex_id(text: &str) -> bool {
    text.len() == 32 && text.bytes().all(|byte| byte.is_ascii_hexdigit())
}

/// The `{id}` of a mapping-set path: 32 hexadecimal characters, else `1411-400`.
pub struct MappingSetId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for MappingSetId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<MappingSetId, ApiError> {
        let Path(segments) = Path::<Vec<String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| {
                FlowError::new(
                    FlowErrorCode::InvalidPathId,
                    "The mapping set id could not be read from the path.",
                )
            })?;
        let raw = segments.first().cloned().unwrap_or_default();
        if is_hex_id(&raw) {
            Ok(MappingSetId(raw.to_ascii_lowercase()))
        } else {
            Err(FlowError::new(
                FlowErrorCode::InvalidPathId,
                format!("The mapping set id '{raw}' in the path is not a mapping set id (32 hexadecimal characters)."),
            )
            .into())
        }
    }
}

pub(crate) fn invalid_body(problems: Vec<flowd_dataprep::BodyProblem>) -> ApiError {
    let problems = problems
        .into_iter()
        .map(|problem| Problem::new(problem.pointer, problem.message))
        .collect();
    FlowError::invalid_body("mapping set", problems).into()
}

/// The `outputSchema.id` Data Prep shows: a 32-hex digest of the schema reference.
fn schema_record_id(schema_id: &str) -> String {
    hex::encode(&Sha256::digest(schema_id.as_bytes())[..16])
}

/// A new version of a set: its body, with an id for each mapping.
fn version_of(body: &MappingSetBody, version: i64, at: i64, by: &str) -> Value {
    let mut stored = body.to_stored();
    if let Some(mappings) = stored["mappings"].as_array_mut() {
        for mapping in mappings {
            mapping["id"] = json!(new_id());
        }
    }
    json!({"version": version, "modifiedDate": at, "modifiedBy": by, "set": stored})
}

/// `{id, version, createdDate, modifiedDate, createdBy, modifiedBy}`.
pub(crate) fn simple(document: &Value, version: &Value) -> Value {
    json!({
        "id": document["id"],
        "version": version["version"],
        "createdDate": document["createdDate"],
        "modifiedDate": version["modifiedDate"],
        "createdBy": document["createdBy"],
        "modifiedBy": version["modifiedBy"],
    })
}

/// A version of a stored set as Adobe shows it, both dialects' names included.
pub(crate) fn present(document: &Value, version: &Value) -> Value {
    let set = &version["set"];
    let schema_ref = set["outputSchema"]["schemaRef"].clone();
    let schema_id = schema_ref["id"].as_str().unwrap_or_default().to_owned();
    let mapping_meta = json!({
        "version": 0,
        "createdDate": version["modifiedDate"],
        "modifiedDate": version["modifiedDate"],
        "createdBy": version["modifiedBy"],
        "modifiedBy": version["modifiedBy"],
    });
    let mappings: Vec<Value> = set["mappings"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|mapping| {
            let mut shown = flowd_dataprep::mapping_set::present_mapping(mapping);
            for (name, value) in mapping_meta.as_object().expect("an object") {
                shown[name] = value.clone();
            }
            shown
        })
        .collect();
    let mut shown = simple(document, version);
    shown["supportVersion"] = json!("1.1");
    if let Some(name) = set.get("name") {
        shown["name"] = name.clone();
    }
    if let Some(input_schema) = set.get("inputSchema") {
        shown["inputSchema"] = input_schema.clone();
    }
    shown["outputSchema"] =
        json!({"id": schema_record_id(&schema_id), "version": 0, "schemaRef": schema_ref});
    shown["mappings"] = Value::Array(mappings);
    shown["status"] = json!("PUBLISHED");
    shown["strictMapping"] = set["strictMapping"].clone();
    shown["allowNullValues"] = set["allowNullValues"].clone();
    shown["xdmVersion"] = schema_ref["contentType"].clone();
    shown["schemaRef"] = schema_ref;
    shown["xdmSchema"] = json!(schema_id);
    if let Some(tags) = set.get("tags") {
        shown["tags"] = tags.clone();
    }
    shown
}

pub(crate) async fn load(
    state: &AppState,
    tenant: &Tenant,
    id: &str,
) -> Result<flowd_store::StoredResource, ApiError> {
    state
        .store
        .get_resource(&tenant.scope, MAPPING_SETS.kind, id)
        .await?
        .ok_or_else(|| FlowError::not_found(MAPPING_SETS.collection, id).into())
}

pub(crate) fn latest(document: &Value) -> &Value {
    flowd_dataprep::mapping_set::stored_version(document, None).unwrap_or(&Value::Null)
}

fn query_parameter(raw_query: Option<&str>, name: &str) -> Option<String> {
    form_urlencoded::parse(raw_query.unwrap_or_default().as_bytes())
        .find(|(found, _)| found == name)
        .map(|(_, value)| value.into_owned())
}

fn parameter_error(name: &str, message: String) -> ApiError {
    let mut error = FlowError::new(FlowErrorCode::InvalidRequest, message);
    error.report.insert("parameter".into(), json!(name));
    error.into()
}

/// `POST /mappingSets`: 200 with the new set's `{id, version: 0, …}` (Adobe answers 200).
pub(crate) async fn create(
    State(state): State<AppState>,
    tenant: Tenant,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let parsed = MappingSetBody::from_json(&body).map_err(invalid_body)?;
    let id = new_id();
    let stamp = tenant.stamp();
    let version = version_of(&parsed, 0, stamp.at, &tenant.principal_id);
    let document = stamp_created(
        &id,
        json!({
            "name": parsed.name,
            "createdDate": stamp.at,
            "createdBy": tenant.principal_id,
            "versions": [version],
        }),
        &stamp,
    );
    state
        .store
        .insert_resource(
            &tenant.scope,
            MAPPING_SETS.kind,
            &id,
            ResourceWrite::document(&document),
        )
        .await?;
    tracing::info!(mapping_set_id = %id, "mapping set created");
    Ok(json_response(
        StatusCode::OK,
        simple(&document, latest(&document)),
    ))
}

/// `PUT /mappingSets/{id}`: the next version, 200 with it in full.
pub(crate) async fn update(
    State(state): State<AppState>,
    tenant: Tenant,
    MappingSetId(id): MappingSetId,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let parsed = MappingSetBody::from_json(&body).map_err(invalid_body)?;
    let document = append_version(&state, &tenant, &id, |_| Ok(parsed.clone())).await?;
    Ok(json_response(
        StatusCode::OK,
        present(&document, latest(&document)),
    ))
}

/// Appends the version `next` makes of the latest one's stored set to the set `id`; the
/// stored document after the write.
pub(crate) async fn append_version(
    state: &AppState,
    tenant: &Tenant,
    id: &str,
    next: impl Fn(&Value) -> Result<MappingSetBody, ApiError>,
) -> Result<Value, ApiError> {
    for _attempt in 0..8 {
        let stored = load(state, tenant, id).await?;
        let mut document = stored.body.clone();
        let body = next(&latest(&document)["set"])?;
        let number = latest(&document)["version"].as_i64().unwrap_or(-1) + 1;
        let stamp = tenant.stamp();
        let version = version_of(&body, number, stamp.at, &tenant.principal_id);
        document["versions"]
            .as_array_mut()
            .expect("versions")
            .push(version);
        if body.name.is_some() {
            document["name"] = json!(body.name);
        }
        let document = stamp_replaced(id, document, &stored.body, &stamp);
        match state
            .store
            .replace_resource(
                &tenant.scope,
                MAPPING_SETS.kind,
                id,
                ResourceWrite::document(&document),
                Some(stored.revision),
            )
            .await?
        {
            flowd_store::ReplaceOutcome::Replaced(_) => {
                tracing::info!(mapping_set_id = %id, version = number, "mapping set version added");
                return Ok(document);
            }
            flowd_store::ReplaceOutcome::NotFound => break,
            flowd_store::ReplaceOutcome::RevisionMismatch { .. } => continue,
        }
    }
    Err(FlowError::not_found(MAPPING_SETS.collection, id).into())
}

/// The version `?version=` names (the latest without it).
fn requested_version<'a>(
    document: &'a Value,
    raw_query: Option<&str>,
) -> Result<&'a Value, ApiError> {
    let Some(text) = query_parameter(raw_query, "version") else {
        return Ok(latest(document));
    };
    let wanted: i64 = text.trim().parse().map_err(|_| {
        parameter_error(
            "version",
            format!("version '{text}' is not a version number (0, 1, …)."),
        )
    })?;
    flowd_dataprep::mapping_set::stored_version(document, Some(wanted)).ok_or_else(|| {
        let newest = flowd_dataprep::mapping_set::newest_version(document);
        parameter_error(
            "version",
            format!("The mapping set has no version {wanted}; its versions are 0 to {newest}."),
        )
    })
}

/// `GET /mappingSets/{id}[?version=k]`: the bare mapping set.
pub(crate) async fn read(
    State(state): State<AppState>,
    tenant: Tenant,
    MappingSetId(id): MappingSetId,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let stored = load(&state, &tenant, &id).await?;
    let version = requested_version(&stored.body, query.as_deref())?;
    Ok(json_response(
        StatusCode::OK,
        present(&stored.body, version),
    ))
}

/// `DELETE /mappingSets/{id}`: 200 with the deleted set's `{id, version, …}`.
pub(crate) async fn delete(
    State(state): State<AppState>,
    tenant: Tenant,
    MappingSetId(id): MappingSetId,
) -> Result<Response, ApiError> {
    let stored = load(&state, &tenant, &id).await?;
    crate::routes::documents::delete(&state, &tenant, MAPPING_SETS, &id).await?;
    Ok(json_response(
        StatusCode::OK,
        simple(&stored.body, latest(&stored.body)),
    ))
}

/// `GET /mappingSets/{id}/mappings`: the latest version's mappings, a bare array.
pub(crate) async fn mappings(
    State(state): State<AppState>,
    tenant: Tenant,
    MappingSetId(id): MappingSetId,
) -> Result<Response, ApiError> {
    let stored = load(&state, &tenant, &id).await?;
    let shown = present(&stored.body, latest(&stored.body));
    Ok(json_response(StatusCode::OK, shown["mappings"].clone()))
}

/// `GET /mappingSets/{id}/mappings/{mappingId}`: one mapping of any version.
pub(crate) async fn mapping(
    State(state): State<AppState>,
    tenant: Tenant,
    Path((id, mapping_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    if !is_hex_id(&id) {
        return Err(FlowError::new(
            FlowErrorCode::InvalidPathId,
            format!("The mapping set id '{id}' in the path is not a mapping set id (32 hexadecimal characters)."),
        )
        .into());
    }
    let id = id.to_ascii_lowercase();
    let stored = load(&state, &tenant, &id).await?;
    let versions = stored.body["versions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let found = versions.iter().rev().find_map(|version| {
        present(&stored.body, version)["mappings"]
            .as_array()
            .and_then(|mappings| {
                mappings
                    .iter()
                    .find(|mapping| mapping["id"] == mapping_id.to_ascii_lowercase())
                    .cloned()
            })
    });
    found
        .map(|mapping| json_response(StatusCode::OK, mapping))
        .ok_or_else(|| FlowError::not_found("mappings", &mapping_id).into())
}

/// `GET /mappingSets?limit=&start=&name=&orderBy=`: `{"data": [latest versions], "_page"}`.
pub(crate) async fn list(
    State(state): State<AppState>,
    tenant: Tenant,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let raw = query.as_deref();
    let number = |name: &str, default: usize, max: usize| -> Result<usize, ApiError> {
        match query_parameter(raw, name) {
            None => Ok(default),
            Some(text) => text
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|value| *value <= max)
                .ok_or_else(|| {
                    parameter_error(
                        name,
                        format!("{name} '{text}' must be a whole number from 0 to {max}."),
                    )
                }),
        }
    };
    let limit = number("limit", 10, 1000)?.max(1);
    let start = number("start", 0, usize::MAX)?;
    let name = query_parameter(raw, "name").map(|name| name.to_lowercase());
    let order = query_parameter(raw, "orderBy").unwrap_or_else(|| "-modifiedDate".to_owned());
    let (descending, field) = match order.trim().as_bytes().first() {
        Some(b'-') => (true, order.trim()[1..].to_owned()),
        Some(b'+') => (false, order.trim()[1..].to_owned()),
        _ => (false, order.trim().to_owned()),
    };
    let by_created = match field.as_str() {
        "createdDate" => true,
        "modifiedDate" | "updatedDate" | "lastUpdateDate" => false,
        other => {
            return Err(parameter_error(
                "orderBy",
                format!(
                    "orderBy '{other}' is not sortable; use createdDate or modifiedDate, with + or -."
                ),
            ));
        }
    };
    let stored = state
        .store
        .list_resources(
            &tenant.scope,
            MAPPING_SETS.kind,
            &flowd_store::ListQuery::default(),
        )
        .await?;
    let mut sets: Vec<Value> = stored
        .iter()
        .map(|resource| present(&resource.body, latest(&resource.body)))
        .filter(|set| {
            name.as_ref().is_none_or(|wanted| {
                set["name"]
                    .as_str()
                    .is_some_and(|name| name.to_lowercase().contains(wanted))
            })
        })
        .collect();
    let key = if by_created {
        "createdDate"
    } else {
        "modifiedDate"
    };
    sets.sort_by_key(|set| set[key].as_i64().unwrap_or_default());
    if descending {
        sets.reverse();
    }
    let page: Vec<Value> = sets.into_iter().skip(start).take(limit).collect();
    Ok(json_response(
        StatusCode::OK,
        json!({"_page": {"count": page.len(), "limit": limit}, "data": page}),
    ))
}
