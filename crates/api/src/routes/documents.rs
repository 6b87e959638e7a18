//! What every stored resource type shares: listing with `property` filters,
//! reading one (`{"items": [x]}`), creating and replacing with
//! server-managed fields, deleting unless referenced.

use axum::http::StatusCode;
use axum::response::Response;
use flowd_store::{DeleteOutcome, Reference, ReplaceOutcome, ResourceKind};
use serde_json::{Value, json};

use crate::error::{ApiError, FlowError, FlowErrorCode, json_response};
use crate::listing::ListQuery;
use crate::metadata::{Stamp, stamp_created, stamp_replaced};
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
        .map(|stored| (stored.position, stored.body))
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
    let document = load(state, tenant, resource_type, id).await?;
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
    references: &[Reference],
) -> Result<Response, ApiError> {
    match state
        .store
        .delete_resource(&tenant.scope, resource_type.kind, id, references)
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
                FlowErrorCode::StillReferenced,
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
