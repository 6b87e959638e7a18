//! The one create and PATCH path of instance resources (connections, source and target
//! connections, flows): each resource only says how a body becomes what is stored
//! ([`InstanceResource::validate`]: its typed `flowd_model` resolution, the checks that need
//! other resources, the references and schedule the store enforces); stamping, etags,
//! preconditions and the store write are here.

use std::future::Future;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use flowd_store::{ReplaceOutcome, ResourceRef, ResourceWrite, ScheduleWrite, StoredResource};
use serde_json::{Value, json};

use crate::body::JsonBody;
use crate::error::{ApiError, FlowError, FlowErrorCode, json_response};
use crate::metadata::{SERVER_MANAGED_FIELDS, stamp_created, stamp_replaced};
use crate::patch::{apply as apply_patch, normalize_etag, parse_instructions};
use crate::path_id::PathId;
use crate::routes::collections::ResourceType;
use crate::routes::documents::{self, Collection, write_refused};
use crate::state::AppState;
use crate::tenant::Tenant;

/// Top-level fields of instance resources, besides the server-managed ones every resource
/// has, that the server computes: no PATCH may change them, and a client's values are
/// ignored.
pub const INSTANCE_IMMUTABLE_FIELDS: &[&str] = &[
    "etag",
    "version",
    "state",
    "inheritedAttributes",
    "lastOperation",
    "lastRunDetails",
    "runs",
];

/// What a validated body stores.
#[derive(Debug, Clone)]
pub struct Validated {
    /// The document without server-managed fields (they are stamped here).
    pub document: Value,
    /// The resources it refers to; the store refuses the write if one is gone.
    pub references: Vec<ResourceRef>,
    /// For flows: their schedule row.
    pub schedule: Option<ScheduleWrite>,
}

/// Which write a body is validated for.
#[derive(Debug, Clone, Copy)]
pub enum Write<'a> {
    Create,
    /// A PATCH: the stored resource and the instructions that were applied to it.
    Patch {
        previous: &'a StoredResource,
        instructions: &'a Value,
    },
}

impl Write<'_> {
    /// The stored document of a PATCH.
    pub fn previous(&self) -> Option<&Value> {
        match self {
            Write::Create => None,
            Write::Patch { previous, .. } => Some(&previous.body),
        }
    }
}

/// One write of one instance: who asks, which resource, which kind of write.
#[derive(Clone, Copy)]
pub struct WriteContext<'a> {
    pub state: &'a AppState,
    pub tenant: &'a Tenant,
    /// The resource's id (new for a create).
    pub id: &'a str,
    pub write: Write<'a>,
}

/// An instance collection created with `POST` and changed with `PATCH` through the shared
/// handlers.
pub trait InstanceResource: Collection {
    /// Fields no PATCH may change besides the server's own and [`INSTANCE_IMMUTABLE_FIELDS`].
    const IMMUTABLE_FIELDS: &'static [&'static str] = &[];

    /// Turns a create body or a patched document into what is stored (every problem at once,
    /// `1100-400` with pointers, or the resource's own codes).
    fn validate(
        context: &WriteContext<'_>,
        body: Value,
    ) -> impl Future<Output = Result<Validated, ApiError>> + Send;
}

/// `/<collection>` and `/<collection>/{id}` (with and without a trailing slash) of `R`.
pub fn instance_routes<R: InstanceResource>() -> Router<AppState> {
    let collection = format!("/{}", R::TYPE.collection);
    let one = get(documents::read_handler::<R>)
        .patch(patch_handler::<R>)
        .delete(documents::delete_handler::<R>);
    Router::new()
        .route(
            &collection,
            get(documents::list_handler::<R>).post(create_handler::<R>),
        )
        .route(&format!("{collection}/{{id}}"), one.clone())
        .route(&format!("{collection}/{{id}}/"), one)
}

/// A fresh etag, shaped like AEP's: a JSON string holding a quoted value.
pub fn new_etag() -> String {
    format!("\"{}\"", flowd_model::ids::new_resource_id())
}

/// `POST /<collection>`: 201 with `{"id", "etag"}` and a `Location` header.
pub async fn create_handler<R: InstanceResource>(
    State(state): State<AppState>,
    tenant: Tenant,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let id = flowd_model::ids::new_resource_id();
    let context = WriteContext {
        state: &state,
        tenant: &tenant,
        id: &id,
        write: Write::Create,
    };
    let validated = R::validate(&context, body).await?;
    let etag = new_etag();
    let mut document = stamp_created(&id, validated.document, &tenant.stamp());
    document["etag"] = json!(etag);
    document["version"] = json!(etag);
    state
        .store
        .insert_resource(
            &tenant.scope,
            R::TYPE.kind,
            &id,
            ResourceWrite {
                body: &document,
                references: Some(&validated.references),
                schedule: validated.schedule,
            },
        )
        .await
        .map_err(|error| refused(error, &validated.references, R::TYPE))?;
    tracing::info!(kind = R::TYPE.noun, %id, "created");
    let mut response = json_response(StatusCode::CREATED, json!({"id": id, "etag": etag}));
    let location = format!(
        "{}/{}/{id}",
        crate::FLOW_SERVICE_BASE_PATH,
        R::TYPE.collection
    );
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

fn refused(
    error: flowd_store::StoreError,
    references: &[ResourceRef],
    resource_type: ResourceType,
) -> ApiError {
    write_refused(
        error,
        references,
        FlowErrorCode::InvalidRequest,
        resource_type.noun,
    )
}

/// The `If-Match` of a request: the header, else the `if-match` query parameter.
fn if_match(headers: &HeaderMap, raw_query: Option<&str>) -> Option<String> {
    headers
        .get(header::IF_MATCH)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
        .or_else(|| {
            form_urlencoded::parse(raw_query.unwrap_or_default().as_bytes())
                .find(|(name, _)| name.eq_ignore_ascii_case("if-match"))
                .map(|(_, value)| value.into_owned())
        })
        .filter(|value| !value.trim().is_empty())
}

fn version_mismatch(supplied: &str, id: &str) -> FlowError {
    FlowError::new(
        FlowErrorCode::VersionMismatch,
        format!(
            "Supplied version=[{supplied}] does not match the current version on entity=[{id}]"
        ),
    )
}

/// `PATCH /<collection>/{id}`: `If-Match` required (`1403-400` missing, `1404-412` stale), the
/// instructions applied to the stored document, the result validated like a create and
/// stored with a new etag; 200 `{"id", "etag"}`.
pub async fn patch_handler<R: InstanceResource>(
    State(state): State<AppState>,
    tenant: Tenant,
    PathId(id): PathId,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let resource_type = R::TYPE;
    let previous = state
        .store
        .get_resource(&tenant.scope, resource_type.kind, &id)
        .await?
        .ok_or_else(|| FlowError::not_found(resource_type.collection, &id))?;
    let supplied = if_match(&headers, query.as_deref()).ok_or_else(|| {
        FlowError::new(
            FlowErrorCode::RequiredHeaderMissing,
            "The If-Match header (or if-match query parameter) with the current etag is required.",
        )
    })?;
    let current = previous.body["etag"].as_str().unwrap_or_default();
    if normalize_etag(&supplied) != normalize_etag(current) {
        return Err(version_mismatch(&supplied, &id).into());
    }
    let instructions = parse_instructions(&body)?;
    let immutable: Vec<&str> = SERVER_MANAGED_FIELDS
        .iter()
        .chain(INSTANCE_IMMUTABLE_FIELDS)
        .chain(R::IMMUTABLE_FIELDS)
        .copied()
        .collect();
    let patched = apply_patch(&previous.body, &instructions, &immutable)?;
    let context = WriteContext {
        state: &state,
        tenant: &tenant,
        id: &id,
        write: Write::Patch {
            previous: &previous,
            instructions: &body,
        },
    };
    let validated = R::validate(&context, patched).await?;
    let etag = new_etag();
    let mut document = stamp_replaced(&id, validated.document, &previous.body, &tenant.stamp());
    document["state"] = previous.body["state"].clone();
    document["etag"] = json!(etag);
    document["version"] = json!(etag);
    let outcome = state
        .store
        .replace_resource(
            &tenant.scope,
            resource_type.kind,
            &id,
            ResourceWrite {
                body: &document,
                references: Some(&validated.references),
                schedule: validated.schedule,
            },
            Some(previous.revision),
        )
        .await
        .map_err(|error| refused(error, &validated.references, resource_type))?;
    match outcome {
        ReplaceOutcome::Replaced(_) => {
            tracing::info!(kind = resource_type.noun, %id, "patched");
            Ok(json_response(
                StatusCode::OK,
                json!({"id": id, "etag": etag}),
            ))
        }
        ReplaceOutcome::NotFound => Err(FlowError::not_found(resource_type.collection, &id).into()),
        ReplaceOutcome::RevisionMismatch { .. } => Err(version_mismatch(current, &id).into()),
    }
}
