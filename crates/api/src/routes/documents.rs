//! What every stored resource type shares: listing with `property` filters,
//! reading one (`{"items": [x]}`), creating and replacing with
//! server-managed fields, deleting unless referenced.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use flowd_store::{DeleteOutcome, Reference, ReplaceOutcome, ResourceKind};
use serde_json::{Value, json};

use crate::error::{ApiError, FlowError, FlowErrorCode, json_response};
use crate::listing::ListQuery;
use crate::metadata::{SERVER_MANAGED_FIELDS, Stamp, stamp_created, stamp_replaced};
use crate::patch::{apply as apply_patch, normalize_etag, parse_instructions};
use crate::path_id::PathId;
use crate::state::AppState;
use crate::tenant::Tenant;

/// Fields of connection and flow specs that `orderby` accepts.
pub const SPEC_SORTABLE_FIELDS: &[&str] = &[
    "id",
    "name",
    "providerId",
    "createdAt",
    "updatedAt",
    "version",
    "type",
];

/// How one resource type appears on the wire.
#[derive(Debug, Clone, Copy)]
pub struct ResourceType {
    pub kind: ResourceKind,
    /// The collection's path segment, also used as `report.type` in errors.
    pub collection: &'static str,
    /// Lowercase singular noun for messages ("connection spec").
    pub noun: &'static str,
    /// Fields `orderby` accepts.
    pub sortable: &'static [&'static str],
    /// Where other resources refer to one of these; a delete is refused
    /// while any does.
    pub references: &'static [Reference],
    /// The code of that refusal.
    pub in_use: FlowErrorCode,
    /// What clients see of a stored document (secrets masked).
    pub present: fn(Value) -> Value,
}

/// [`ResourceType::present`] for resources shown as stored.
pub fn as_stored(document: Value) -> Value {
    document
}

/// A collection whose list, read and delete routes are the shared ones.
pub trait Collection: Send + Sync + 'static {
    const TYPE: ResourceType;
}

/// `GET /<collection>` for a [`Collection`].
pub async fn list_handler<C: Collection>(
    State(state): State<AppState>,
    tenant: Tenant,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    list(&state, &tenant, C::TYPE, query.as_deref()).await
}

/// `GET /<collection>/{id}` for a [`Collection`].
pub async fn read_handler<C: Collection>(
    State(state): State<AppState>,
    tenant: Tenant,
    PathId(id): PathId,
) -> Result<Response, ApiError> {
    read(&state, &tenant, C::TYPE, &id).await
}

/// `DELETE /<collection>/{id}` for a [`Collection`].
pub async fn delete_handler<C: Collection>(
    State(state): State<AppState>,
    tenant: Tenant,
    PathId(id): PathId,
) -> Result<Response, ApiError> {
    delete(&state, &tenant, C::TYPE, &id).await
}

/// `GET /<collection>`: `{"items": [...]}` with the list parameters of
/// [`ListQuery`].
pub async fn list(
    state: &AppState,
    tenant: &Tenant,
    resource_type: ResourceType,
    raw_query: Option<&str>,
) -> Result<Response, ApiError> {
    let query = ListQuery::parse(raw_query, resource_type.sortable)?;
    let documents: Vec<(i64, Value)> = state
        .store
        .list_resources(&tenant.scope, resource_type.kind)
        .await?
        .into_iter()
        .map(|stored| (stored.position, (resource_type.present)(stored.body)))
        .collect();
    let body = query.respond(documents, &format!("/{}", resource_type.collection));
    Ok(json_response(StatusCode::OK, body))
}

/// Reads one document or answers `FLOW-1439-404`.
pub async fn load(
    state: &AppState,
    tenant: &Tenant,
    resource_type: ResourceType,
    id: &str,
) -> Result<Value, ApiError> {
    state
        .store
        .get_resource(&tenant.scope, resource_type.kind, id)
        .await?
        .map(|stored| stored.body)
        .ok_or_else(|| FlowError::not_found(resource_type.collection, id).into())
}

/// `GET /<collection>/{id}`: `{"items": [document]}`.
pub async fn read(
    state: &AppState,
    tenant: &Tenant,
    resource_type: ResourceType,
    id: &str,
) -> Result<Response, ApiError> {
    let document = (resource_type.present)(load(state, tenant, resource_type, id).await?);
    Ok(json_response(
        StatusCode::OK,
        json!({ "items": [document] }),
    ))
}

/// Stores a validated body under a new id; 201 with the stored document.
pub async fn create(
    state: &AppState,
    tenant: &Tenant,
    resource_type: ResourceType,
    body: Value,
) -> Result<Response, ApiError> {
    let id = uuid::Uuid::new_v4().to_string();
    let document = stamp_created(&id, body, &Stamp::for_tenant(tenant));
    state
        .store
        .insert_resource(&tenant.scope, resource_type.kind, &id, &document)
        .await?;
    tracing::info!(kind = resource_type.noun, %id, "created");
    Ok(json_response(StatusCode::CREATED, document))
}

/// Replaces a document by a validated body, keeping id and `created*`;
/// 200 with the stored document.
pub async fn replace(
    state: &AppState,
    tenant: &Tenant,
    resource_type: ResourceType,
    id: &str,
    body: Value,
) -> Result<Response, ApiError> {
    // A concurrent replace between our read and write is retried, so the
    // `created*` fields we keep are always those of the row we overwrite.
    for _attempt in 0..8 {
        let Some(previous) = state
            .store
            .get_resource(&tenant.scope, resource_type.kind, id)
            .await?
        else {
            break;
        };
        let document = stamp_replaced(id, body.clone(), &previous.body, &Stamp::for_tenant(tenant));
        match state
            .store
            .replace_resource(
                &tenant.scope,
                resource_type.kind,
                id,
                &document,
                Some(previous.revision),
            )
            .await?
        {
            ReplaceOutcome::Replaced(_) => {
                tracing::info!(kind = resource_type.noun, %id, "replaced");
                return Ok(json_response(StatusCode::OK, document));
            }
            ReplaceOutcome::NotFound => break,
            ReplaceOutcome::RevisionMismatch { .. } => continue,
        }
    }
    Err(FlowError::not_found(resource_type.collection, id).into())
}

/// `DELETE /<collection>/{id}`: 204, or 404, or `1447-400` naming the
/// resources that still refer to it.
pub async fn delete(
    state: &AppState,
    tenant: &Tenant,
    resource_type: ResourceType,
    id: &str,
) -> Result<Response, ApiError> {
    match state
        .store
        .delete_resource(
            &tenant.scope,
            resource_type.kind,
            id,
            resource_type.references,
        )
        .await?
    {
        DeleteOutcome::Deleted => {
            tracing::info!(kind = resource_type.noun, %id, "deleted");
            Ok(json_response_empty(StatusCode::NO_CONTENT))
        }
        DeleteOutcome::NotFound => Err(FlowError::not_found(resource_type.collection, id).into()),
        DeleteOutcome::Referenced(referencing) => {
            let names: Vec<String> = referencing
                .iter()
                .map(|(kind, referencing_id)| format!("{} {referencing_id}", kind.as_str()))
                .collect();
            let mut error = FlowError::new(
                resource_type.in_use,
                format!(
                    "The {} {id} cannot be deleted: it is still referenced by {}. Remove those references first.",
                    resource_type.noun,
                    names.join(", ")
                ),
            );
            error.report.insert("id".into(), json!(id));
            error
                .report
                .insert("type".into(), json!(resource_type.collection));
            error.report.insert(
                "referencedBy".into(),
                json!(
                    referencing
                        .iter()
                        .map(|(kind, id)| json!({"type": kind.as_str(), "id": id}))
                        .collect::<Vec<_>>()
                ),
            );
            Err(error.into())
        }
    }
}

fn json_response_empty(status: StatusCode) -> Response {
    let mut response = Response::new(axum::body::Body::empty());
    *response.status_mut() = status;
    response
}

/// Top-level fields of instance resources, besides the server-managed ones
/// every resource has, that no PATCH may change.
pub const INSTANCE_IMMUTABLE_FIELDS: &[&str] = &[
    "etag",
    "version",
    "state",
    "inheritedAttributes",
    "lastOperation",
    "lastRunDetails",
    "runs",
];

/// A fresh etag, shaped like AEP's: a JSON string holding a quoted value.
pub fn new_etag() -> String {
    format!("\"{}\"", uuid::Uuid::new_v4())
}

/// Stores a new instance (validated `body`, server fields not yet set) under
/// `id`: 201 with `{"id", "etag"}` and a `Location` header.
pub async fn create_instance(
    state: &AppState,
    tenant: &Tenant,
    resource_type: ResourceType,
    id: &str,
    body: Value,
) -> Result<Response, ApiError> {
    let etag = new_etag();
    let mut document = stamp_created(id, body, &Stamp::for_tenant(tenant));
    document["etag"] = json!(etag);
    document["version"] = json!(etag);
    state
        .store
        .insert_resource(&tenant.scope, resource_type.kind, id, &document)
        .await?;
    tracing::info!(kind = resource_type.noun, %id, "created");
    let mut response = json_response(StatusCode::CREATED, json!({"id": id, "etag": etag}));
    if let Ok(location) = axum::http::HeaderValue::from_str(&format!(
        "{}/{}/{id}",
        crate::FLOW_SERVICE_BASE_PATH,
        resource_type.collection
    )) {
        response
            .headers_mut()
            .insert(axum::http::header::LOCATION, location);
    }
    Ok(response)
}

/// A PATCH checked against its precondition and applied to the stored
/// document, waiting for the resource's own validation.
pub struct PendingPatch {
    pub previous: flowd_store::StoredResource,
    pub patched: Value,
}

/// The `If-Match` of a request: the header, else the `if-match` query parameter.
pub fn if_match(headers: &axum::http::HeaderMap, raw_query: Option<&str>) -> Option<String> {
    headers
        .get(axum::http::header::IF_MATCH)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
        .or_else(|| {
            form_urlencoded::parse(raw_query.unwrap_or_default().as_bytes())
                .find(|(name, _)| name.eq_ignore_ascii_case("if-match"))
                .map(|(_, value)| value.into_owned())
        })
        .filter(|value| !value.trim().is_empty())
}

/// Loads the instance, checks `If-Match` (`1403-400` missing, `1404-412`
/// stale; see [`if_match`]) and applies the PATCH instructions of `body`.
pub async fn begin_patch(
    state: &AppState,
    tenant: &Tenant,
    resource_type: ResourceType,
    id: &str,
    if_match: Option<String>,
    body: &Value,
    immutable: &[&str],
) -> Result<PendingPatch, ApiError> {
    let previous = state
        .store
        .get_resource(&tenant.scope, resource_type.kind, id)
        .await?
        .ok_or_else(|| FlowError::not_found(resource_type.collection, id))?;
    let supplied = if_match.ok_or_else(|| {
        FlowError::new(
            FlowErrorCode::RequiredHeaderMissing,
            "The If-Match header (or if-match query parameter) with the current etag is required.",
        )
    })?;
    let current = previous.body["etag"].as_str().unwrap_or_default();
    if normalize_etag(&supplied) != normalize_etag(current) {
        return Err(version_mismatch(&supplied, id).into());
    }
    let instructions = parse_instructions(body)?;
    let immutable: Vec<&str> = SERVER_MANAGED_FIELDS
        .iter()
        .chain(INSTANCE_IMMUTABLE_FIELDS)
        .chain(immutable)
        .copied()
        .collect();
    let patched = apply_patch(&previous.body, &instructions, &immutable)?;
    Ok(PendingPatch { previous, patched })
}

fn version_mismatch(supplied: &str, id: &str) -> FlowError {
    FlowError::new(
        FlowErrorCode::VersionMismatch,
        format!(
            "Supplied version=[{supplied}] does not match the current version on entity=[{id}]"
        ),
    )
}

/// Stores a validated patched document with a new etag: 200 `{"id", "etag"}`.
pub async fn finish_patch(
    state: &AppState,
    tenant: &Tenant,
    resource_type: ResourceType,
    id: &str,
    pending: &PendingPatch,
    validated: Value,
) -> Result<Response, ApiError> {
    let etag = new_etag();
    let mut document = stamp_replaced(
        id,
        validated,
        &pending.previous.body,
        &Stamp::for_tenant(tenant),
    );
    document["etag"] = json!(etag);
    document["version"] = json!(etag);
    match state
        .store
        .replace_resource(
            &tenant.scope,
            resource_type.kind,
            id,
            &document,
            Some(pending.previous.revision),
        )
        .await?
    {
        ReplaceOutcome::Replaced(_) => {
            tracing::info!(kind = resource_type.noun, %id, "patched");
            Ok(json_response(
                StatusCode::OK,
                json!({"id": id, "etag": etag}),
            ))
        }
        ReplaceOutcome::NotFound => Err(FlowError::not_found(resource_type.collection, id).into()),
        ReplaceOutcome::RevisionMismatch { .. } => {
            let supplied = pending.previous.body["etag"].as_str().unwrap_or_default();
            Err(version_mismatch(supplied, id).into())
        }
    }
}
