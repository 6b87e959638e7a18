//! The Schema Registry under `/data/foundation/schemaregistry`: the tenant container's schemas
//! (`/tenant/schemas`), enough of AEP's registry that a Catalog dataset's `schemaRef.id` names
//! a real schema, whose fields then type the dataset's columns and Data Prep's conversion.
//!
//! Routes: `POST /tenant/schemas` (201 with the full document), `GET /tenant/schemas`,
//! `GET /tenant/schemas/{id}` and `DELETE /tenant/schemas/{id}` (204), `{id}` being the
//! URL-encoded `$id` or the `meta:altId`. A schema cannot be replaced or patched (no PUT,
//! no PATCH: they answer 405); create another and point datasets at it. Credentials, tenancy
//! and error bodies are Flow Service's; a schema is visible only in its org and sandbox.
//!
//! A create body is AEP's (`type`, `title`, `description`, `allOf`, `properties`,
//! `definitions`, `meta:class`), read with `flowd_model::xdm::XdmSchema::from_document` after
//! the schemas its `$ref`s name are fetched (`flowd_plan::schemas`, the one walk every reader
//! uses); every problem is a `1100-400` at its pointer. `title` is required. A `$ref` may name
//! another schema of the sandbox (by `$id` or `meta:altId`) or the one bundled class,
//! `https://ns.adobe.com/xdm/data/adhoc` (no fields); flowd bundles none of Adobe's standard
//! classes, field groups or data types, so any other `$ref`, and any other `meta:class`, is
//! refused. A schema keeps a store reference to every schema it names, so those cannot be
//! deleted under it; a dataset keeps one to its schema (`routes/datasets.rs`), so a delete is
//! `1447-400` while either exists.
//!
//! The stored document is the client's fields plus the registry's: `$id`
//! (`https://ns.adobe.com/{tenant}/schemas/{32 hex}`), `meta:altId` (`_{tenant}.schemas.{hex}`),
//! `meta:resourceType` `"schemas"`, `version` `"1.0"`, `meta:containerId` `"tenant"`,
//! `meta:tenantNamespace`, `imsOrg`, `meta:sandboxId`, `meta:sandboxType` (`"production"` for
//! the sandbox `prod`, else `"development"`), `meta:class` (the client's, else the ad hoc
//! class), `meta:extensible` and `meta:abstract` `false`, and `meta:registryMetadata`
//! (created and modified epoch ms, the creating client). Client values for these are ignored.
//! The tenant name is derived from the org, stable and unique enough for a namespace: the org
//! id before its `@`, lowercased, ASCII letters and digits only (`ORG1@AdobeOrg` → `org1`;
//! `flowd` if nothing is left).
//!
//! A list is `{"results", "_page": {"orderby", "next", "count"}, "_links"}` ordered by `title`
//! (`orderby=title` or `-title`; ties by `$id`). With `Accept: application/vnd.adobe.xed-id+json`
//! (the default, also for `application/json` or none) each result is `{$id, meta:altId,
//! version, title}`; any other `application/vnd.adobe.xed…+json` (`xed`, `xed-full`, with or
//! without `; version=1`) gives the full documents. `limit` is 1 to 300 (300 when absent);
//! `start` is the `_page.next` of the previous page (an offset into the order), and
//! `_links.next.href` links to it. A read gives the full document whatever its `Accept`.

use crate::routing::Routes;
use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use flowd_plan::schemas::{ADHOC_CLASS, find_schema, referenced_schemas};
use flowd_spec::Problem;
use flowd_store::{ResourceWrite, StoredResource};
use serde_json::{Map, Value, json};

use crate::SCHEMA_REGISTRY_BASE_PATH;
use crate::body::JsonBody;
use crate::error::{ApiError, FlowError, FlowErrorCode, json_response};
use crate::routes::collections::SCHEMAS;
use crate::routes::documents::{self, empty_response, write_refused};
use crate::state::AppState;
use crate::tenant::Tenant;

/// The registry's own fields; a client's values for them are ignored.
const REGISTRY_MANAGED_FIELDS: [&str; 12] = [
    "$id",
    "meta:altId",
    "meta:resourceType",
    "version",
    "meta:containerId",
    "meta:tenantNamespace",
    "imsOrg",
    "meta:sandboxId",
    "meta:sandboxType",
    "meta:extensible",
    "meta:abstract",
    "meta:registryMetadata",
];

/// Results per page when `limit` is absent, and the most a page holds.
const MAX_LIMIT: usize = 300;

pub fn routes() -> Routes {
    use crate::routing::get;
    Routes::new()
        .route("/tenant/schemas", get(list).post(create))
        .route("/tenant/schemas/{id}", get(read).delete(delete))
}

/// The tenant name of an org: its id before the `@`, lowercased, letters and digits only.
pub fn tenant_name(org_id: &str) -> String {
    let name: String = org_id
        .split('@')
        .next()
        .unwrap_or_default()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|character| character.to_ascii_lowercase())
        .collect();
    if name.is_empty() {
        "flowd".to_owned()
    } else {
        name
    }
}

/// The problems of the fields the registry reads itself: `title`, `description`,
/// `meta:class`.
fn header_problems(body: &Value, problems: &mut Vec<Problem>) {
    match body.get("title") {
        Some(Value::String(title)) if !title.trim().is_empty() => {}
        None => problems.push(Problem::new("/title", "is required")),
        Some(_) => problems.push(Problem::new("/title", "must be a non-empty string")),
    }
    if body
        .get("description")
        .is_some_and(|value| !value.is_string())
    {
        problems.push(Problem::new("/description", "must be a string"));
    }
    match body.get("meta:class") {
        None => {}
        Some(Value::String(class)) if class == ADHOC_CLASS => {}
        Some(Value::String(class)) => problems.push(Problem::new(
            "/meta:class",
            format!(
                "names {class}, which flowd's schema registry does not have (the one class flowd bundles is the ad hoc class {ADHOC_CLASS})"
            ),
        )),
        Some(_) => problems.push(Problem::new("/meta:class", "must be a string")),
    }
}

/// `POST /tenant/schemas`: 201 with the stored document.
async fn create(
    State(state): State<AppState>,
    tenant: Tenant,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let Value::Object(mut fields) = body else {
        return Err(FlowError::invalid_body(
            SCHEMAS.noun,
            vec![Problem::new("", "must be a JSON object (a schema)")],
        )
        .into());
    };
    for managed in REGISTRY_MANAGED_FIELDS {
        fields.shift_remove(managed);
    }
    let body = Value::Object(fields);
    let mut problems = Vec::new();
    header_problems(&body, &mut problems);
    let referenced = referenced_schemas(state.store.as_ref(), &tenant.scope, &body).await?;
    if let Err(found) = referenced.read(&body) {
        problems.extend(found);
    }
    if !problems.is_empty() {
        flowd_spec::problem::sort_in_document_order(&body, "", &mut problems);
        return Err(FlowError::invalid_body(SCHEMAS.noun, problems).into());
    }
    let hex = uuid::Uuid::new_v4().simple().to_string();
    let document = registry_document(&tenant, &hex, body);
    let references = referenced.references_of(&document);
    state
        .store
        .insert_resource(
            &tenant.scope,
            SCHEMAS.kind,
            &hex,
            ResourceWrite::with_references(&document, &references),
        )
        .await
        .map_err(|error| {
            write_refused(
                error,
                &references,
                FlowErrorCode::InvalidRequest,
                SCHEMAS.noun,
            )
        })?;
    tracing::info!(kind = SCHEMAS.noun, id = %hex, "created");
    Ok(json_response(StatusCode::CREATED, document))
}

/// The client's fields with the registry's around them.
fn registry_document(tenant: &Tenant, hex: &str, body: Value) -> Value {
    let name = tenant_name(&tenant.scope.org_id);
    let stamp = tenant.stamp();
    let mut document = Map::new();
    document.insert(
        "$id".into(),
        json!(format!("https://ns.adobe.com/{name}/schemas/{hex}")),
    );
    document.insert("meta:altId".into(), json!(format!("_{name}.schemas.{hex}")));
    document.insert("meta:resourceType".into(), json!("schemas"));
    document.insert("version".into(), json!("1.0"));
    if let Value::Object(fields) = body {
        document.extend(fields);
    }
    document
        .entry("meta:class")
        .or_insert_with(|| json!(ADHOC_CLASS));
    let sandbox_type = if tenant.scope.sandbox_name == "prod" {
        "production"
    } else {
        "development"
    };
    let registry = [
        ("meta:containerId", json!("tenant")),
        ("meta:tenantNamespace", json!(format!("_{name}"))),
        ("imsOrg", json!(tenant.scope.org_id)),
        ("meta:sandboxId", json!(tenant.sandbox_id)),
        ("meta:sandboxType", json!(sandbox_type)),
        ("meta:extensible", json!(false)),
        ("meta:abstract", json!(false)),
        (
            "meta:registryMetadata",
            json!({
                "repo:createdDate": stamp.at,
                "repo:lastModifiedDate": stamp.at,
                "xdm:createdClientId": tenant.client_id,
                "xdm:lastModifiedClientId": tenant.client_id,
            }),
        ),
    ];
    for (name, value) in registry {
        document.insert(name.into(), value);
    }
    Value::Object(document)
}

/// The `{id}` of a schema path (percent-decoded), else `1411-400`.
struct SchemaPathId(String);

impl<S: Send + Sync> FromRequestParts<S> for SchemaPathId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<SchemaPathId, ApiError> {
        let Path(id) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| {
                FlowError::new(
                    FlowErrorCode::InvalidPathId,
                    "The schema id could not be read from the path (a URL-encoded $id or a meta:altId).",
                )
            })?;
        Ok(SchemaPathId(id))
    }
}

/// The schema `id` (`$id` or `meta:altId`) names in the caller's sandbox, else `1439-404`.
async fn load(state: &AppState, tenant: &Tenant, id: &str) -> Result<StoredResource, ApiError> {
    find_schema(state.store.as_ref(), &tenant.scope, id)
        .await?
        .ok_or_else(|| FlowError::not_found(SCHEMAS.collection, id).into())
}

/// `GET /tenant/schemas/{id}`: the full document.
async fn read(
    State(state): State<AppState>,
    tenant: Tenant,
    SchemaPathId(id): SchemaPathId,
) -> Result<Response, ApiError> {
    let stored = load(&state, &tenant, &id).await?;
    Ok(json_response(StatusCode::OK, stored.body))
}

/// `DELETE /tenant/schemas/{id}`: 204, or `1447-400` while a dataset or a schema names it.
async fn delete(
    State(state): State<AppState>,
    tenant: Tenant,
    SchemaPathId(id): SchemaPathId,
) -> Result<Response, ApiError> {
    let stored = load(&state, &tenant, &id).await?;
    documents::delete(&state, &tenant, SCHEMAS, &stored.id).await?;
    Ok(empty_response(StatusCode::NO_CONTENT))
}

/// Whether the `Accept` header asks for whole documents (`xed`, `xed-full`, …), not ids.
fn wants_full_documents(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|media_type| {
            media_type
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .find(|media_type| media_type.starts_with("application/vnd.adobe.xed"))
        .is_some_and(|media_type| media_type != "application/vnd.adobe.xed-id+json")
}

fn parameter_error(name: &str, message: String) -> ApiError {
    let mut error = FlowError::new(FlowErrorCode::InvalidRequest, message);
    error.report.insert("parameter".into(), json!(name));
    error.into()
}

/// A list's parameters: `(limit, start, descending)`.
fn list_parameters(raw_query: Option<&str>) -> Result<(usize, usize, bool), ApiError> {
    let (mut limit, mut start, mut descending) = (MAX_LIMIT, 0, false);
    for (name, value) in form_urlencoded::parse(raw_query.unwrap_or_default().as_bytes()) {
        let value = value.trim();
        match name.as_ref() {
            "limit" => {
                limit = value
                    .parse()
                    .ok()
                    .filter(|limit| (1..=MAX_LIMIT).contains(limit))
                    .ok_or_else(|| {
                        parameter_error(
                            "limit",
                            format!("limit '{value}' is not an integer from 1 to {MAX_LIMIT}."),
                        )
                    })?;
            }
            "start" => {
                start = value.parse().map_err(|_| {
                    parameter_error(
                        "start",
                        format!("start '{value}' is not the _page.next of a previous page."),
                    )
                })?;
            }
            "orderby" => {
                descending = match value {
                    "title" | "+title" => false,
                    "-title" => true,
                    other => {
                        return Err(parameter_error(
                            "orderby",
                            format!("orderby '{other}' is not supported; use title or -title."),
                        ));
                    }
                };
            }
            _ => {}
        }
    }
    Ok((limit, start, descending))
}

/// `GET /tenant/schemas`: a page of the sandbox's schemas by title.
async fn list(
    State(state): State<AppState>,
    tenant: Tenant,
    headers: HeaderMap,
    RawQuery(raw_query): RawQuery,
) -> Result<Response, ApiError> {
    let (limit, start, descending) = list_parameters(raw_query.as_deref())?;
    let stored = state
        .store
        .list_resources(
            &tenant.scope,
            SCHEMAS.kind,
            &flowd_store::ListQuery::default(),
        )
        .await?;
    let mut documents: Vec<Value> = stored.into_iter().map(|stored| stored.body).collect();
    let key = |document: &Value| {
        let text = |name: &str| document[name].as_str().unwrap_or_default().to_owned();
        (text("title"), text("$id"))
    };
    documents.sort_by_key(key);
    if descending {
        documents.reverse();
    }
    let total = documents.len();
    let full = wants_full_documents(&headers);
    let results: Vec<Value> = documents
        .into_iter()
        .skip(start)
        .take(limit)
        .map(|document| {
            if full {
                document
            } else {
                json!({
                    "$id": document["$id"],
                    "meta:altId": document["meta:altId"],
                    "version": document["version"],
                    "title": document["title"],
                })
            }
        })
        .collect();
    let end = start.saturating_add(results.len());
    let next = (end < total).then(|| end.to_string());
    let orderby = if descending { "-title" } else { "title" };
    let links = match &next {
        Some(next) => json!({"next": {
            "href": format!("{SCHEMA_REGISTRY_BASE_PATH}/tenant/schemas?orderby={orderby}&limit={limit}&start={next}")
        }}),
        None => json!({}),
    };
    Ok(json_response(
        StatusCode::OK,
        json!({
            "results": results,
            "_page": {"orderby": orderby, "next": next, "count": results.len()},
            "_links": links,
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tenant_name_keeps_the_orgs_letters_and_digits() {
        assert_eq!(tenant_name("ORG1@AdobeOrg"), "org1");
        assert_eq!(tenant_name("53A1-B2_c@AdobeOrg"), "53a1b2c");
        assert_eq!(tenant_name("@AdobeOrg"), "flowd");
    }

    #[test]
    fn only_the_xed_id_media_type_asks_for_ids() {
        let accept = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::ACCEPT, value.parse().unwrap());
            wants_full_documents(&headers)
        };
        assert!(!wants_full_documents(&HeaderMap::new()));
        assert!(!accept("application/json"));
        assert!(!accept("application/vnd.adobe.xed-id+json; version=1"));
        assert!(accept("application/vnd.adobe.xed+json"));
        assert!(accept("application/vnd.adobe.xed-full+json;version=1"));
    }
}
