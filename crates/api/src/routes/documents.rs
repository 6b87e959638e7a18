//! What every stored resource type shares: listing with the list parameters (answered by the
//! store where it can), reading one (`{"items": [x]}`), creating and replacing spec documents
//! with server-managed fields, and deleting unless referenced.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use flowd_spec::Problem;
use flowd_store::{DeleteOutcome, ReplaceOutcome, ResourceRef, ResourceWrite, StoreError};
use futures::future::BoxFuture;
use serde_json::{Value, json};

use crate::error::{ApiError, FlowError, FlowErrorCode, json_response};
use crate::listing::{DOCUMENT_INDEXED_FIELDS, ListQuery};
use crate::metadata::{stamp_created, stamp_replaced};
use crate::path_id::PathId;
use crate::routes::collections::{ResourceType, of_kind};
use crate::state::AppState;
use crate::tenant::Tenant;

/// A collection whose list, read and delete routes are the shared ones.
pub trait Collection: Send + Sync + 'static {
    const TYPE: ResourceType;
    /// Computed fields added to every document shown (after [`ResourceType::present`]).
    const DECORATE: Option<Decorate> = None;
}

/// `GET /<collection>` for a [`Collection`].
pub async fn list_handler<C: Collection>(
    State(state): State<AppState>,
    tenant: Tenant,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    list(&state, &tenant, C::TYPE, query.as_deref(), C::DECORATE).await
}

/// `GET /<collection>/{id}` for a [`Collection`].
pub async fn read_handler<C: Collection>(
    State(state): State<AppState>,
    tenant: Tenant,
    PathId(id): PathId,
) -> Result<Response, ApiError> {
    read(&state, &tenant, C::TYPE, &id, C::DECORATE).await
}

/// `DELETE /<collection>/{id}` for a [`Collection`].
pub async fn delete_handler<C: Collection>(
    State(state): State<AppState>,
    tenant: Tenant,
    PathId(id): PathId,
) -> Result<Response, ApiError> {
    delete(&state, &tenant, C::TYPE, &id).await?;
    Ok(empty_response(StatusCode::NO_CONTENT))
}

/// Adds computed fields (a flow's `lastRunDetails`) to presented documents before they are
/// filtered and returned.
pub type Decorate =
    for<'a> fn(&'a AppState, &'a Tenant, &'a mut [Value]) -> BoxFuture<'a, Result<(), ApiError>>;

/// `GET /<collection>`: `{"items": [...]}` with the list parameters of [`ListQuery`]; what the
/// store cannot answer is applied in memory.
pub async fn list(
    state: &AppState,
    tenant: &Tenant,
    resource_type: ResourceType,
    raw_query: Option<&str>,
    decorate: Option<Decorate>,
) -> Result<Response, ApiError> {
    let collection_path = format!("/{}", resource_type.collection);
    let body = list_body(
        state,
        tenant,
        resource_type,
        raw_query,
        decorate,
        &collection_path,
    )
    .await?;
    Ok(json_response(StatusCode::OK, body))
}

/// The body of a list of `resource_type` (`{"items", "_links"}` or `{"count"}`), whose next
/// link points at `collection_path` (the search routes page at their own path).
pub async fn list_body(
    state: &AppState,
    tenant: &Tenant,
    resource_type: ResourceType,
    raw_query: Option<&str>,
    decorate: Option<Decorate>,
    collection_path: &str,
) -> Result<Value, ApiError> {
    let query = ListQuery::parse(raw_query, resource_type.sortable)?;
    let plan = query.store_plan(DOCUMENT_INDEXED_FIELDS);
    if plan.complete && query.counts() {
        let count = state
            .store
            .count_resources(&tenant.scope, resource_type.kind, &plan.query)
            .await?;
        return Ok(ListQuery::count_response(count));
    }
    let stored = state
        .store
        .list_resources(&tenant.scope, resource_type.kind, &plan.query)
        .await?;
    let positions: Vec<i64> = stored.iter().map(|resource| resource.position).collect();
    let mut documents: Vec<Value> = stored
        .into_iter()
        .map(|resource| (resource_type.present)(resource.body))
        .collect();
    if let Some(decorate) = decorate {
        decorate(state, tenant, &mut documents).await?;
    }
    let documents: Vec<(i64, Value)> = positions.into_iter().zip(documents).collect();
    Ok(if plan.complete {
        query.respond_store_page(documents, collection_path)
    } else {
        query.respond(documents, collection_path)
    })
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
    decorate: Option<Decorate>,
) -> Result<Response, ApiError> {
    let mut documents = [(resource_type.present)(
        load(state, tenant, resource_type, id).await?,
    )];
    if let Some(decorate) = decorate {
        decorate(state, tenant, &mut documents).await?;
    }
    let [document] = documents;
    Ok(json_response(
        StatusCode::OK,
        json!({ "items": [document] }),
    ))
}

/// The error of a write the store refused: a reference that does not exist (any more) is a
/// body problem at the field naming it, with `code`; anything else is internal.
pub fn write_refused(
    error: StoreError,
    references: &[ResourceRef],
    code: FlowErrorCode,
    what: &str,
) -> ApiError {
    match error {
        StoreError::MissingReference { kind, id } => {
            let pointer = references
                .iter()
                .find(|reference| reference.kind == kind && reference.id == id)
                .map(|reference| reference.pointer.clone())
                .unwrap_or_default();
            let noun = of_kind(kind).noun;
            let mut refused = FlowError::invalid_body(
                what,
                vec![Problem::new(
                    pointer,
                    format!("names no {noun} of this sandbox"),
                )],
            );
            refused.code = code;
            refused.into()
        }
        other => other.into(),
    }
}

/// [`write_refused`] for specs: a listed connection spec that is gone is `1413-400`.
fn spec_write_refused<'a>(
    resource_type: ResourceType,
    references: &'a [ResourceRef],
) -> impl FnOnce(StoreError) -> ApiError + 'a {
    move |error| {
        write_refused(
            error,
            references,
            FlowErrorCode::InvalidSpecId,
            resource_type.noun,
        )
    }
}

/// Stores a validated spec body under a new id; 201 with the stored document.
pub async fn create(
    state: &AppState,
    tenant: &Tenant,
    resource_type: ResourceType,
    body: Value,
    references: &[ResourceRef],
) -> Result<Response, ApiError> {
    let id = flowd_model::ids::new_resource_id();
    let document = stamp_created(&id, body, &tenant.stamp());
    state
        .store
        .insert_resource(
            &tenant.scope,
            resource_type.kind,
            &id,
            ResourceWrite::with_references(&document, references),
        )
        .await
        .map_err(spec_write_refused(resource_type, references))?;
    tracing::info!(kind = resource_type.noun, %id, "created");
    Ok(json_response(StatusCode::CREATED, document))
}

/// Replaces a spec document by a validated body, keeping id and `created*`; 200 with the
/// stored document.
pub async fn replace(
    state: &AppState,
    tenant: &Tenant,
    resource_type: ResourceType,
    id: &str,
    body: Value,
    references: &[ResourceRef],
) -> Result<Response, ApiError> {
    // A concurrent replace between our read and write is retried, so the `created*` fields we
    // keep are always those of the row we overwrite.
    for _attempt in 0..8 {
        let Some(previous) = state
            .store
            .get_resource(&tenant.scope, resource_type.kind, id)
            .await?
        else {
            break;
        };
        let document = stamp_replaced(id, body.clone(), &previous.body, &tenant.stamp());
        let outcome = state
            .store
            .replace_resource(
                &tenant.scope,
                resource_type.kind,
                id,
                ResourceWrite::with_references(&document, references),
                Some(previous.revision),
            )
            .await
            .map_err(spec_write_refused(resource_type, references))?;
        match outcome {
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

/// Deletes unless referenced: 404, or `in_use` naming the resources that still refer to it.
pub async fn delete(
    state: &AppState,
    tenant: &Tenant,
    resource_type: ResourceType,
    id: &str,
) -> Result<(), ApiError> {
    match state
        .store
        .delete_resource(&tenant.scope, resource_type.kind, id)
        .await?
    {
        DeleteOutcome::Deleted => {
            tracing::info!(kind = resource_type.noun, %id, "deleted");
            Ok(())
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

/// A response without a body.
pub fn empty_response(status: StatusCode) -> Response {
    let mut response = Response::new(axum::body::Body::empty());
    *response.status_mut() = status;
    response
}
