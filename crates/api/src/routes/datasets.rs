//! `/dataSets` under the Catalog base path `/data/foundation/catalog`: a
//! minimal AEP Catalog-compatible dataset resource, the target of target
//! connections (`params.dataSetId`).
//!
//! Catalog's wire shapes differ from Flow Service's and are kept: ids are
//! 24 lowercase hex characters, a create answers `["@/dataSets/<id>"]`,
//! lists and reads are objects keyed by id, a delete answers 200 with the
//! same `["@/dataSets/<id>"]` array. Documents carry Catalog's `created` and
//! `updated` (epoch ms) next to flowd's server-managed fields. Credentials,
//! tenancy and error bodies are the Flow Service ones.

use std::path::PathBuf;

use axum::Router;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use axum::routing::get;
use flowd_spec::Problem;
use flowd_store::{Reference, ResourceKind};
use rand::RngCore;
use serde_json::{Map, Value, json};

use crate::body::JsonBody;
use crate::error::{ApiError, FlowError, FlowErrorCode, json_response};
use crate::metadata::{Stamp, stamp_created, strip_server_managed};
use crate::routes::body_fields::{invalid, optional_string, required_string};
use crate::routes::documents::{self, ResourceType};
use crate::state::AppState;
use crate::tenant::Tenant;

pub const DATASETS: ResourceType = ResourceType {
    kind: ResourceKind::Dataset,
    collection: "dataSets",
    noun: "dataset",
    sortable: &[],
    references: &REFERENCES,
    in_use: FlowErrorCode::StillReferenced,
    present: documents::as_stored,
};

/// Where other resources refer to a dataset.
const REFERENCES: [Reference; 1] = [Reference {
    kind: ResourceKind::TargetConnection,
    field: "$.params.dataSetId",
}];

/// Catalog's own timestamps; a client's values are ignored.
const CATALOG_MANAGED_FIELDS: [&str; 2] = ["created", "updated"];

/// Length of a dataset id: 12 random bytes in lowercase hex, as AEP's.
const DATASET_ID_LENGTH: usize = 24;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/dataSets", get(list).post(create))
        .route("/dataSets/{id}", get(read).delete(delete))
        .route("/dataSets/{id}/", get(read).delete(delete))
}

/// The canonical (lowercase) form of a dataset id, or `None` when `text`
/// is not 24 hexadecimal characters.
pub fn canonical_dataset_id(text: &str) -> Option<String> {
    (text.len() == DATASET_ID_LENGTH && text.bytes().all(|byte| byte.is_ascii_hexdigit()))
        .then(|| text.to_ascii_lowercase())
}

fn new_dataset_id() -> String {
    let mut bytes = [0u8; DATASET_ID_LENGTH / 2];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The `{id}` path segment of dataset routes: a dataset id, else `1411-400`.
#[derive(Debug, Clone)]
pub struct DatasetId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for DatasetId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<DatasetId, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| {
                FlowError::new(
                    FlowErrorCode::InvalidPathId,
                    "The dataset id could not be read from the path.",
                )
            })?;
        canonical_dataset_id(&raw).map(DatasetId).ok_or_else(|| {
            FlowError::new(
                FlowErrorCode::InvalidPathId,
                format!(
                    "The dataset id '{raw}' in the path is not a dataset id (24 hexadecimal characters)."
                ),
            )
            .into()
        })
    }
}

/// `["@/dataSets/<id>"]`, Catalog's answer to a create or a delete.
fn reference_list(id: &str) -> Value {
    json!([format!("@/dataSets/{id}")])
}

/// The client's dataset fields, checked: `name` and `schemaRef.id` required.
fn validate_dataset(body: Value) -> Result<Value, ApiError> {
    let noun = DATASETS.noun;
    let mut body = strip_server_managed(body);
    let Some(fields) = body.as_object_mut() else {
        return Err(invalid(
            noun,
            &Value::Null,
            vec![Problem::new("", "must be a JSON object")],
        ));
    };
    for managed in CATALOG_MANAGED_FIELDS {
        fields.shift_remove(managed);
    }
    let mut problems = Vec::new();
    required_string(&body, "/name", &mut problems);
    optional_string(&body, "/description", &mut problems);
    match body.get("schemaRef") {
        None => problems.push(Problem::new("/schemaRef", "is required")),
        Some(Value::Object(_)) => {
            required_string(&body, "/schemaRef/id", &mut problems);
            optional_string(&body, "/schemaRef/contentType", &mut problems);
        }
        Some(_) => problems.push(Problem::new("/schemaRef", "must be an object")),
    }
    if !problems.is_empty() {
        return Err(invalid(noun, &body, problems));
    }
    Ok(body)
}

/// `GET /dataSets`: every dataset of the sandbox, keyed by id.
async fn list(State(state): State<AppState>, tenant: Tenant) -> Result<Response, ApiError> {
    let datasets: Map<String, Value> = state
        .store
        .list_resources(&tenant.scope, DATASETS.kind)
        .await?
        .into_iter()
        .map(|stored| (stored.id, stored.body))
        .collect();
    Ok(json_response(StatusCode::OK, Value::Object(datasets)))
}

async fn read(
    State(state): State<AppState>,
    tenant: Tenant,
    DatasetId(id): DatasetId,
) -> Result<Response, ApiError> {
    let mut document = documents::load(&state, &tenant, DATASETS, &id).await?;
    let stats = dataset_stats(state.config.datasets_root.clone(), id.clone()).await?;
    if let Some(fields) = document.as_object_mut() {
        fields.extend(stats);
    }
    let mut keyed = Map::new();
    keyed.insert(id, document);
    Ok(json_response(StatusCode::OK, Value::Object(keyed)))
}

/// `batchCount`, `recordCount` and `schema.columns` of the dataset's
/// visible batches, read from the data dir (zeros and no columns when the
/// API has no datasets root or nothing was ingested yet).
async fn dataset_stats(
    datasets_root: Option<PathBuf>,
    id: String,
) -> Result<Map<String, Value>, ApiError> {
    let read = move || -> Result<(usize, u64, Vec<Value>), flowd_sink::SinkError> {
        let Some(root) = datasets_root else {
            return Ok((0, 0, Vec::new()));
        };
        let dataset = flowd_sink::Dataset::open(root, &id)?;
        let batches = dataset.batches()?.len();
        let records = dataset.record_count()?;
        let columns = dataset
            .schema()?
            .map(|schema| {
                schema
                    .fields()
                    .iter()
                    .map(|field| json!({"name": field.name(), "type": field.data_type().to_string()}))
                    .collect()
            })
            .unwrap_or_default();
        Ok((batches, records, columns))
    };
    let (batches, records, columns) = tokio::task::spawn_blocking(read)
        .await
        .map_err(|error| {
            tracing::error!(%error, "reading the dataset's files panicked");
            ApiError::from(FlowError::internal())
        })?
        .map_err(|error| {
            tracing::error!(%error, "reading the dataset's files failed");
            ApiError::from(FlowError::internal())
        })?;
    let mut stats = Map::new();
    stats.insert("batchCount".into(), json!(batches));
    stats.insert("recordCount".into(), json!(records));
    stats.insert("schema".into(), json!({"columns": columns}));
    Ok(stats)
}

async fn create(
    State(state): State<AppState>,
    tenant: Tenant,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let body = validate_dataset(body)?;
    let id = new_dataset_id();
    let stamp = Stamp::for_tenant(&tenant);
    let mut document = stamp_created(&id, body, &stamp);
    document["created"] = json!(stamp.at);
    document["updated"] = json!(stamp.at);
    state
        .store
        .insert_resource(&tenant.scope, DATASETS.kind, &id, &document)
        .await?;
    tracing::info!(kind = DATASETS.noun, %id, "created");
    Ok(json_response(StatusCode::CREATED, reference_list(&id)))
}

/// `DELETE /dataSets/{id}`: 200 `["@/dataSets/<id>"]`, refused with
/// `1447-400` while a target connection writes to the dataset.
async fn delete(
    State(state): State<AppState>,
    tenant: Tenant,
    DatasetId(id): DatasetId,
) -> Result<Response, ApiError> {
    documents::delete(&state, &tenant, DATASETS, &id).await?;
    Ok(json_response(StatusCode::OK, reference_list(&id)))
}
