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

use axum::Router;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use axum::routing::get;
use flowd_model::Dataset;
use flowd_model::record_type::StructType;
use flowd_store::ResourceWrite;
use serde_json::{Map, Value, json};

use crate::body::JsonBody;
use crate::error::{ApiError, FlowError, FlowErrorCode, json_response};
use crate::metadata::{stamp_created, strip_server_managed};
use crate::routes::body_fields::invalid;
use crate::routes::collections::DATASETS;
use crate::routes::documents;
use crate::state::AppState;
use crate::tenant::Tenant;

/// Catalog's own timestamps; a client's values are ignored.
const CATALOG_MANAGED_FIELDS: [&str; 2] = ["created", "updated"];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/dataSets", get(list).post(create))
        .route("/dataSets/{id}", get(read).delete(delete))
        .route("/dataSets/{id}/", get(read).delete(delete))
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
        flowd_model::ids::canonical_dataset_id(&raw).map(DatasetId).ok_or_else(|| {
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
    if let Some(fields) = body.as_object_mut() {
        for managed in CATALOG_MANAGED_FIELDS {
            fields.shift_remove(managed);
        }
    }
    Dataset::from_document(&body).map_err(|problems| invalid(noun, &body, problems))?;
    Ok(body)
}

/// `GET /dataSets`: every dataset of the sandbox, keyed by id.
async fn list(State(state): State<AppState>, tenant: Tenant) -> Result<Response, ApiError> {
    let datasets: Map<String, Value> = state
        .store
        .list_resources(
            &tenant.scope,
            DATASETS.kind,
            &flowd_store::ListQuery::default(),
        )
        .await?
        .into_iter()
        .map(|stored| (stored.id, stored.body))
        .collect();
    Ok(json_response(StatusCode::OK, Value::Object(datasets)))
}

/// `batchCount`, `recordCount` and `schema.columns` (Arrow types, flowd's own columns last) of
/// the batches committed so far, as the store keeps them: zeros and no columns before the
/// first one.
fn dataset_stats(stats: Option<flowd_store::DatasetStats>) -> Map<String, Value> {
    let stats = stats.unwrap_or_default();
    let columns: Vec<Value> = match stats.schema.as_deref() {
        None => Vec::new(),
        Some(schema) => {
            let record_type: StructType = serde_json::from_str(schema).unwrap_or_else(|error| {
                tracing::warn!(%error, "a dataset's stored schema cannot be read");
                StructType::default()
            });
            flowd_sink::arrow_types::file_schema(&record_type)
                .fields()
                .iter()
                .map(|field| json!({"name": field.name(), "type": field.data_type().to_string()}))
                .collect()
        }
    };
    let mut shown = Map::new();
    shown.insert("batchCount".into(), json!(stats.batch_count));
    shown.insert("recordCount".into(), json!(stats.record_count));
    shown.insert("schema".into(), json!({"columns": columns}));
    shown
}

async fn read(
    State(state): State<AppState>,
    tenant: Tenant,
    DatasetId(id): DatasetId,
) -> Result<Response, ApiError> {
    let mut document = documents::load(&state, &tenant, DATASETS, &id).await?;
    let stats = state.store.dataset_stats(&tenant.scope, &id).await?;
    if let Some(fields) = document.as_object_mut() {
        fields.extend(dataset_stats(stats));
    }
    let mut keyed = Map::new();
    keyed.insert(id, document);
    Ok(json_response(StatusCode::OK, Value::Object(keyed)))
}

async fn create(
    State(state): State<AppState>,
    tenant: Tenant,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let body = validate_dataset(body)?;
    let id = flowd_model::ids::new_dataset_id();
    let stamp = tenant.stamp();
    let mut document = stamp_created(&id, body, &stamp);
    document["created"] = json!(stamp.at);
    document["updated"] = json!(stamp.at);
    state
        .store
        .insert_resource(
            &tenant.scope,
            DATASETS.kind,
            &id,
            ResourceWrite::document(&document),
        )
        .await?;
    tracing::info!(kind = DATASETS.noun, %id, "created");
    Ok(json_response(StatusCode::CREATED, reference_list(&id)))
}

/// `DELETE /dataSets/{id}`: 200 `["@/dataSets/<id>"]`, refused with `1447-400` while a target
/// connection writes to the dataset.
async fn delete(
    State(state): State<AppState>,
    tenant: Tenant,
    DatasetId(id): DatasetId,
) -> Result<Response, ApiError> {
    documents::delete(&state, &tenant, DATASETS, &id).await?;
    Ok(json_response(StatusCode::OK, reference_list(&id)))
}
