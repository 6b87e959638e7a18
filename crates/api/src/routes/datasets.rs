//! `/dataSets` under the Catalog base path `/data/foundation/catalog`: a
//! minimal AEP Catalog-compatible dataset resource, the target of target
//! connections (`params.dataSetId`).
//!
//! Catalog's wire shapes differ from Flow Service's and are kept: ids are
//! 24 lowercase hex characters, a create answers `["@/dataSets/<id>"]`,
//! lists and reads are objects keyed by id, a delete answers 200 with the
//! same `["@/dataSets/<id>"]` array. Credentials, tenancy and error bodies are
//! the Flow Service ones.
//!
//! A dataset carries the fields Catalog's objects carry and clients index into, next to
//! flowd's server-managed ones: `created` and `updated` (epoch ms), `imsOrg`, `sandboxId`,
//! `createdUser`, `createdClient`, `updatedUser`, `version` (`"1.0.0"`: flowd never versions a
//! dataset), `classification` (the client's, else `{"dataBehavior": "time-series",
//! "managedBy": "CUSTOMER"}`: a flow's batches append events) and `tags` (the client's object
//! of string arrays, else `{}`), both checked at their pointers. They are filled when the
//! dataset is created and, for a document an older flowd stored, when it is shown. A dataset
//! with a batch also shows `lastBatchId`, `lastBatchStatus` (`"success"`: flowd records only
//! committed batches) and `lastSuccessfulBatch`, from one store query per page; a read adds
//! flowd's `batchCount`, `recordCount` and `schema` (`{"columns": [{name, type}], "typed"}`).
//!
//! A dataset whose `schemaRef.id` names a schema of the sandbox's Schema Registry (its `$id`
//! or `meta:altId`, `crate::schema_registry`) is typed: its stored write refers to the schema
//! (pointer `/schemaRef/id`), so the schema cannot be deleted while the dataset exists, and
//! its `schema.columns` are the schema's (`flowd_sink::arrow_types::xdm_file_schema`, known
//! before the first batch) with `"typed": true`. A dataset naming any other schema is accepted
//! as before, untyped: its columns are those its batches' records were inferred as, and
//! `"typed": false`.
//!
//! `GET /dataSets` takes Catalog's `limit` (20 when absent, at most 100), `start`, `orderBy`
//! (`id`, `name`, `description`, `created`, `updated`) and `properties`
//! (`crate::catalog::params`); `properties` applies to a read too. Paging by `start` stops: a
//! `start` past the last dataset answers `{}`. An order on one indexed field (or none) is the
//! store's, which returns only the first `start + limit` datasets; any other order sorts the
//! sandbox's datasets in memory (a sandbox holds tens of datasets, not history), ties in
//! creation order either way.

use crate::routing::Routes;
use crate::routing::get;
use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use flowd_model::Dataset;
use flowd_model::record_type::StructType;
use flowd_model::xdm::XdmSchema;
use flowd_store::{BatchRecord, IndexedField, ResourceKind, ResourceRef, ResourceWrite};
use serde_json::{Map, Value, json};

use crate::catalog::params::{CatalogQuery, compare_values, project};

use crate::body::JsonBody;
use crate::error::{ApiError, FlowError, FlowErrorCode, json_response};
use crate::metadata::{stamp_created, strip_server_managed};
use crate::routes::body_fields::invalid;
use crate::routes::collections::DATASETS;
use crate::routes::documents::{self, write_refused};
use crate::state::AppState;
use crate::tenant::Tenant;

/// Catalog's own fields; a client's values are ignored.
const CATALOG_MANAGED_FIELDS: [&str; 11] = [
    "created",
    "updated",
    "imsOrg",
    "createdUser",
    "updatedUser",
    "version",
    "lastBatchId",
    "lastBatchStatus",
    "lastSuccessfulBatch",
    "batchCount",
    "recordCount",
];

/// The fields `orderBy` sorts datasets on.
const SORTABLE: &[&str] = &["id", "name", "description", "created", "updated"];

/// What a dataset is classified as when the client says nothing.
fn default_classification() -> Value {
    json!({"dataBehavior": "time-series", "managedBy": "CUSTOMER"})
}

pub fn routes() -> Routes {
    Routes::new()
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
fn validate_dataset(body: Value) -> Result<(Value, Dataset), ApiError> {
    let noun = DATASETS.noun;
    let mut body = strip_server_managed(body);
    if let Some(fields) = body.as_object_mut() {
        for managed in CATALOG_MANAGED_FIELDS {
            fields.shift_remove(managed);
        }
    }
    let dataset =
        Dataset::from_document(&body).map_err(|problems| invalid(noun, &body, problems))?;
    Ok((body, dataset))
}

/// Catalog's fields of a dataset filled from flowd's where the document lacks them (one an
/// older flowd stored), and its last batch when it has one.
fn present_dataset(mut document: Value, last_batch: Option<&BatchRecord>) -> Value {
    let Some(fields) = document.as_object_mut() else {
        return document;
    };
    let copies = [
        ("created", "createdAt"),
        ("updated", "updatedAt"),
        ("imsOrg", "imsOrgId"),
        ("createdUser", "createdBy"),
        ("updatedUser", "updatedBy"),
    ];
    for (catalog, flowd) in copies {
        if !fields.contains_key(catalog)
            && let Some(value) = fields.get(flowd).cloned()
        {
            fields.insert(catalog.into(), value);
        }
    }
    fields.entry("version").or_insert_with(|| json!("1.0.0"));
    fields
        .entry("classification")
        .or_insert_with(default_classification);
    fields.entry("tags").or_insert_with(|| json!({}));
    if let Some(batch) = last_batch {
        fields.insert("lastBatchId".into(), json!(batch.batch_id));
        fields.insert("lastBatchStatus".into(), json!("success"));
        fields.insert("lastSuccessfulBatch".into(), json!(batch.batch_id));
    }
    document
}

/// The store's order for `order`, when it can answer it: none, or one indexed field.
fn store_order(order: &[(String, bool)]) -> Option<Option<(IndexedField, bool)>> {
    match order {
        [] => Some(None),
        [(field, descending)] => {
            let indexed = match field.as_str() {
                "id" => IndexedField::Id,
                "name" => IndexedField::Name,
                "created" => IndexedField::CreatedAt,
                "updated" => IndexedField::UpdatedAt,
                _ => return None,
            };
            Some(Some((indexed, *descending)))
        }
        _ => None,
    }
}

/// `GET /dataSets`: a page of the sandbox's datasets, keyed by id.
async fn list(
    State(state): State<AppState>,
    tenant: Tenant,
    RawQuery(raw_query): RawQuery,
) -> Result<Response, ApiError> {
    let query = CatalogQuery::parse(raw_query.as_deref(), SORTABLE)?;
    let start = usize::try_from(query.start).unwrap_or(usize::MAX);
    let limit = usize::try_from(query.limit).unwrap_or(usize::MAX);
    let kind = ResourceKind::Dataset;
    let mut documents: Vec<Value> = match store_order(&query.order) {
        Some(order) => {
            let store_query = flowd_store::ListQuery {
                order,
                limit: Some(start.saturating_add(limit)),
                ..flowd_store::ListQuery::default()
            };
            let stored = state
                .store
                .list_resources(&tenant.scope, kind, &store_query)
                .await?;
            stored.into_iter().map(|stored| stored.body).collect()
        }
        None => {
            let stored = state
                .store
                .list_resources(&tenant.scope, kind, &flowd_store::ListQuery::default())
                .await?;
            let mut documents: Vec<Value> = stored
                .into_iter()
                .map(|stored| present_dataset(stored.body, None))
                .collect();
            // Stable: ties stay in creation order.
            documents.sort_by(|left, right| {
                query
                    .order
                    .iter()
                    .map(|(field, descending)| {
                        compare_values(left.get(field), right.get(field), *descending)
                    })
                    .find(|ordering| ordering.is_ne())
                    .unwrap_or(std::cmp::Ordering::Equal)
            });
            documents
        }
    };
    let page: Vec<Value> = documents.drain(..).skip(start).take(limit).collect();
    let ids: Vec<String> = page
        .iter()
        .filter_map(|document| document.get("id").and_then(Value::as_str))
        .map(str::to_owned)
        .collect();
    let last_batches = state.store.newest_batches(&tenant.scope, &ids).await?;
    let mut keyed = Map::new();
    for (id, document) in ids.iter().zip(page) {
        let last = last_batches.iter().find(|batch| &batch.dataset_id == id);
        let shown = project(present_dataset(document, last), query.properties.as_deref());
        keyed.insert(id.clone(), shown);
    }
    Ok(json_response(StatusCode::OK, Value::Object(keyed)))
}

/// `batchCount` and `recordCount` of the batches committed so far, as the store keeps them,
/// and `schema`: the columns (Arrow types, flowd's own columns last) of the XDM schema of a
/// typed dataset, else those the store inferred from the batches (none before the first).
fn dataset_stats(
    stats: Option<flowd_store::DatasetStats>,
    typed: Option<&XdmSchema>,
) -> Map<String, Value> {
    let stats = stats.unwrap_or_default();
    let columns = dataset_columns(&stats, typed);
    let mut shown = Map::new();
    shown.insert("batchCount".into(), json!(stats.batch_count));
    shown.insert("recordCount".into(), json!(stats.record_count));
    shown.insert(
        "schema".into(),
        json!({"columns": columns, "typed": typed.is_some()}),
    );
    shown
}

/// The dataset's columns, `[{"name", "type"}]`: its XDM schema's when it is typed, else those
/// the store inferred from its batches (none before the first).
pub(crate) fn dataset_columns(
    stats: &flowd_store::DatasetStats,
    typed: Option<&XdmSchema>,
) -> Vec<Value> {
    let file_schema = match (typed, stats.schema.as_deref()) {
        (Some(schema), _) => Some(flowd_sink::arrow_types::xdm_file_schema(schema)),
        (None, None) => None,
        (None, Some(inferred)) => {
            let record_type: StructType = serde_json::from_str(inferred).unwrap_or_else(|error| {
                tracing::warn!(%error, "a dataset's stored schema cannot be read");
                StructType::default()
            });
            Some(flowd_sink::arrow_types::file_schema(&record_type))
        }
    };
    file_schema
        .iter()
        .flat_map(|schema| schema.fields().iter())
        .map(|field| json!({"name": field.name(), "type": field.data_type().to_string()}))
        .collect()
}

/// The XDM schema of a typed dataset's document; `None` for an untyped one (and, logged, for
/// a stored schema that no longer reads).
pub(crate) async fn typed_schema(
    state: &AppState,
    tenant: &Tenant,
    document: &Value,
) -> Result<Option<XdmSchema>, ApiError> {
    let Some(schema_id) = document.pointer("/schemaRef/id").and_then(Value::as_str) else {
        return Ok(None);
    };
    match flowd_plan::dataset_schema(state.store.as_ref(), &tenant.scope, schema_id).await {
        Ok(schema) => Ok(schema),
        Err(flowd_plan::LoadError::Store(error)) => Err(error.into()),
        Err(error) => {
            tracing::warn!(%error, schema_id, "a dataset's schema cannot be read; shown untyped");
            Ok(None)
        }
    }
}

/// `GET /dataSets/{id}`: the dataset with its statistics, keyed by id (`properties` cuts it).
async fn read(
    State(state): State<AppState>,
    tenant: Tenant,
    DatasetId(id): DatasetId,
    RawQuery(raw_query): RawQuery,
) -> Result<Response, ApiError> {
    let query = CatalogQuery::parse(raw_query.as_deref(), SORTABLE)?;
    let document = documents::load(&state, &tenant, DATASETS, &id).await?;
    let stats = state.store.dataset_stats(&tenant.scope, &id).await?;
    let last_batch = state
        .store
        .newest_batches(&tenant.scope, std::slice::from_ref(&id))
        .await?;
    let typed = typed_schema(&state, &tenant, &document).await?;
    let mut document = present_dataset(document, last_batch.first());
    if let Some(fields) = document.as_object_mut() {
        fields.extend(dataset_stats(stats, typed.as_ref()));
    }
    let mut keyed = Map::new();
    keyed.insert(id, project(document, query.properties.as_deref()));
    Ok(json_response(StatusCode::OK, Value::Object(keyed)))
}

async fn create(
    State(state): State<AppState>,
    tenant: Tenant,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let (body, dataset) = validate_dataset(body)?;
    let references: Vec<ResourceRef> =
        flowd_plan::find_schema(state.store.as_ref(), &tenant.scope, &dataset.schema_ref.id)
            .await?
            .map(|schema| dataset.schema_reference(&schema.id))
            .into_iter()
            .collect();
    let id = flowd_model::ids::new_dataset_id();
    let stamp = tenant.stamp();
    let mut document = stamp_created(&id, body, &stamp);
    document["created"] = json!(stamp.at);
    document["updated"] = json!(stamp.at);
    let document = present_dataset(document, None);
    state
        .store
        .insert_resource(
            &tenant.scope,
            DATASETS.kind,
            &id,
            ResourceWrite::with_references(&document, &references),
        )
        .await
        .map_err(|error| {
            write_refused(
                error,
                &references,
                FlowErrorCode::InvalidRequest,
                DATASETS.noun,
            )
        })?;
    tracing::info!(kind = DATASETS.noun, %id, typed = !references.is_empty(), "created");
    Ok(json_response(StatusCode::CREATED, reference_list(&id)))
}

/// `DELETE /dataSets/{id}`: 200 `["@/dataSets/<id>"]`, refused with `1447-400` while a target
/// connection writes to the dataset (its references to a schema go with it).
async fn delete(
    State(state): State<AppState>,
    tenant: Tenant,
    DatasetId(id): DatasetId,
) -> Result<Response, ApiError> {
    documents::delete(&state, &tenant, DATASETS, &id).await?;
    Ok(json_response(StatusCode::OK, reference_list(&id)))
}
