//! The one create and PATCH path of instance resources (connections, source and target
//! connections, flows): each resource only says how a body becomes what is stored
//! ([`InstanceResource::validate`]: its typed `flowd_model` resolution, the checks that need
//! other resources, the references and schedule the store enforces); stamping, etags,
//! preconditions and the store write are here.

use std::future::Future;

use crate::routing::Routes;
use crate::routing::get;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use flowd_store::{ReplaceOutcome, ResourceRef, ResourceWrite, ScheduleWrite, StoredResource};
use serde_json::{Value, json};

use crate::body::JsonBody;
use crate::error::{ApiError, FlowError, FlowErrorCode, json_response};
use crate::metadata::{SERVER_MANAGED_FIELDS, stamp_created, stamp_replaced};
use crate::patch::{apply as apply_patch, normalize_etag, parse_instructions};
use crate::path_id::PathId;
pub use crate::routes::body_fields::INSTANCE_IMMUTABLE_FIELDS;
use crate::routes::collections::ResourceType;
use crate::routes::documents::{self, Collection, write_refused};
use crate::state::AppState;
use crate::tenant::Tenant;

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
    /// `op=PUBLISH` of a draft: the stored draft, validated as fully as a create.
    Publish {
        previous: &'a StoredResource,
    },
}

impl Write<'_> {
    /// The stored document of a PATCH or a publish.
    pub fn previous(&self) -> Option<&Value> {
        match self {
            Write::Create => None,
            Write::Patch { previous, .. } | Write::Publish { previous } => Some(&previous.body),
        }
    }

    /// Whether the write brings the resource to life (a create, or a draft published): its
    /// state becomes `enabled`.
    pub fn makes_live(&self) -> bool {
        matches!(self, Write::Create | Write::Publish { .. })
    }
}

/// The `state` of a draft (`?mode=draft`): stored and listed, never run.
pub const DRAFT_STATE: &str = "draft";

/// Whether a stored document is a draft.
pub fn is_draft(document: &Value) -> bool {
    document.get("state").and_then(Value::as_str) == Some(DRAFT_STATE)
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

    /// Top-level fields a draft must have (those Adobe's OpenAPI file marks required).
    const DRAFT_REQUIRED: &'static [&'static str];

    /// Turns a create body or a patched document into what is stored (every problem at once,
    /// `1100-400` with pointers, or the resource's own codes).
    fn validate(
        context: &WriteContext<'_>,
        body: Value,
    ) -> impl Future<Output = Result<Validated, ApiError>> + Send;

    /// Turns the body of a draft (`?mode=draft`, or a PATCH of one) into what is stored: it may
    /// be incomplete, so only [`InstanceResource::DRAFT_REQUIRED`] is checked, and it refers
    /// to nothing the store enforces (publishing checks everything).
    fn validate_draft(
        _context: &WriteContext<'_>,
        body: Value,
    ) -> impl Future<Output = Result<Validated, ApiError>> + Send {
        std::future::ready(draft_fields(body, Self::TYPE.noun, Self::DRAFT_REQUIRED))
    }
}

/// The generic check of a draft: a JSON object holding `required`, each a JSON object.
fn draft_fields(body: Value, noun: &str, required: &[&str]) -> Result<Validated, ApiError> {
    let body = crate::routes::body_fields::client_instance_fields(body, noun)?;
    let problems: Vec<flowd_spec::Problem> = required
        .iter()
        .filter_map(|field| match body.get(*field) {
            None | Some(Value::Null) => Some(flowd_spec::Problem::new(
                format!("/{field}"),
                "is required, even in a draft",
            )),
            Some(Value::Object(_)) | Some(Value::String(_)) => None,
            Some(_) => Some(flowd_spec::Problem::new(
                format!("/{field}"),
                "must be an object (or, for name, a string)",
            )),
        })
        .collect();
    crate::routes::body_fields::refuse_problems(&format!("draft {noun}"), &body, problems)?;
    Ok(Validated {
        document: body,
        references: Vec::new(),
        schedule: None,
    })
}

/// `?mode=draft` on a create: whether the client asks for a draft (`draft` in any case); any
/// other mode is refused.
fn draft_mode(raw_query: Option<&str>) -> Result<bool, ApiError> {
    let Some((_, mode)) = form_urlencoded::parse(raw_query.unwrap_or_default().as_bytes())
        .find(|(name, _)| name.eq_ignore_ascii_case("mode"))
    else {
        return Ok(false);
    };
    if mode.trim().eq_ignore_ascii_case(DRAFT_STATE) {
        Ok(true)
    } else {
        let mut error = FlowError::new(
            FlowErrorCode::InvalidRequest,
            format!("mode '{mode}' is not supported; the only mode is mode=draft."),
        );
        error.report.insert("parameter".into(), json!("mode"));
        Err(error.into())
    }
}

/// `/<collection>` and `/<collection>/{id}` (with and without a trailing slash) of `R`.
pub fn instance_routes<R: InstanceResource>() -> Routes {
    let collection = format!("/{}", R::TYPE.collection);
    let one = get(documents::read_handler::<R>)
        .patch(patch_handler::<R>)
        .delete(documents::delete_handler::<R>);
    Routes::new()
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
    RawQuery(query): RawQuery,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let draft = draft_mode(query.as_deref())?;
    let id = flowd_model::ids::new_resource_id();
    let context = WriteContext {
        state: &state,
        tenant: &tenant,
        id: &id,
        write: Write::Create,
    };
    let mut validated = if draft {
        R::validate_draft(&context, body).await?
    } else {
        R::validate(&context, body).await?
    };
    if draft {
        validated.document["state"] = json!(DRAFT_STATE);
    }
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
    // A draft is work in progress: what binds a published resource may still be filled in.
    let bound: &[&str] = if is_draft(&previous.body) {
        &[]
    } else {
        R::IMMUTABLE_FIELDS
    };
    let immutable: Vec<&str> = SERVER_MANAGED_FIELDS
        .iter()
        .chain(INSTANCE_IMMUTABLE_FIELDS)
        .chain(bound)
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
    let validated = if is_draft(&previous.body) {
        R::validate_draft(&context, patched).await?
    } else {
        R::validate(&context, patched).await?
    };
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

/// Publishes the draft `id` of `R` (`op=PUBLISH`, and `FINALIZE` of a draft): the stored draft
/// is validated as fully as a create, every resource it refers to must exist and be published
/// itself, and it is stored `enabled` with a new etag (a flow then runs on its schedule). A
/// resource that is not a draft is left as it is. 200 `{"id", "etag"}`.
pub async fn publish<R: InstanceResource>(
    state: &AppState,
    tenant: &Tenant,
    id: &str,
) -> Result<Response, ApiError> {
    let resource_type = R::TYPE;
    for _attempt in 0..8 {
        let previous = state
            .store
            .get_resource(&tenant.scope, resource_type.kind, id)
            .await?
            .ok_or_else(|| FlowError::not_found(resource_type.collection, id))?;
        if !is_draft(&previous.body) {
            let etag = previous.body["etag"].clone();
            return Ok(json_response(
                StatusCode::OK,
                json!({"id": id, "etag": etag}),
            ));
        }
        let context = WriteContext {
            state,
            tenant,
            id,
            write: Write::Publish {
                previous: &previous,
            },
        };
        let validated = R::validate(&context, previous.body.clone()).await?;
        for reference in &validated.references {
            let referenced = state
                .store
                .get_resource(&tenant.scope, reference.kind, &reference.id)
                .await?;
            if referenced
                .as_ref()
                .is_some_and(|stored| is_draft(&stored.body))
            {
                let noun = crate::routes::collections::of_kind(reference.kind).noun;
                return Err(FlowError::new(
                    FlowErrorCode::NotApplicableInState,
                    format!(
                        "The {} {id} cannot be published while the {noun} {} it refers to at {} is a draft; publish that one first.",
                        resource_type.noun, reference.id, reference.pointer
                    ),
                )
                .with_problems(vec![flowd_spec::Problem::new(
                    reference.pointer.clone(),
                    format!("names a draft {noun}"),
                )])
                .into());
            }
        }
        let etag = new_etag();
        let mut document = stamp_replaced(id, validated.document, &previous.body, &tenant.stamp());
        document["etag"] = json!(etag);
        document["version"] = json!(etag);
        let outcome = state
            .store
            .replace_resource(
                &tenant.scope,
                resource_type.kind,
                id,
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
                tracing::info!(kind = resource_type.noun, %id, "draft published");
                return Ok(json_response(
                    StatusCode::OK,
                    json!({"id": id, "etag": etag}),
                ));
            }
            ReplaceOutcome::NotFound => break,
            ReplaceOutcome::RevisionMismatch { .. } => continue,
        }
    }
    Err(FlowError::not_found(resource_type.collection, id).into())
}
