//! `GET /connections/{id}/configs`, `GET /connectionSpecs/{id}/configs` and
//! `GET /connectionSpecs/{id}/explore` (Adobe's OpenAPI file, reference §6.4): the columns of
//! a source's records, as `{"items": [{"columnName", "columnType"}]}`.
//!
//! Decisions where the file says no more than its example: for a REST source the "configs" are
//! the columns its records have.
//! - A connection spec answers the columns its custom `schema` declares
//!   (`sourceSpec.attributes.schema`; a `date` or `date-time` format is the column's type), and
//!   `{"items": []}` when it declares none: without a connection there are no credentials to
//!   fetch a page with. `sourceParams` (base64 JSON, as for explore) fills in a template spec.
//! - A connection answers its spec's declared columns, else the columns inferred from a preview
//!   of its first page (the same call as explore, with the same limits and errors).

use crate::routing::Routes;
use crate::routing::get;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use crate::error::{ApiError, json_response};
use crate::path_id::PathId;
use crate::routes::collections::{CONNECTION_SPECS, CONNECTIONS};
use crate::routes::documents::load;
use crate::routes::explore::{declared_columns, preview, source_params_of};
use crate::state::AppState;
use crate::tenant::Tenant;

pub fn routes() -> Routes {
    Routes::new()
        .route("/connections/{id}/configs", get(connection_configs))
        .route("/connectionSpecs/{id}/configs", get(spec_configs))
        .route("/connectionSpecs/{id}/explore", get(spec_configs))
}

/// `{"items": [{"columnName", "columnType"}]}` of `[{"name", "type"}]` columns.
fn config_items(columns: Vec<Value>) -> Value {
    let items: Vec<Value> = columns
        .into_iter()
        .map(|column| json!({"columnName": column["name"], "columnType": column["type"]}))
        .collect();
    json!({ "items": items })
}

async fn spec_configs(
    State(state): State<AppState>,
    tenant: Tenant,
    PathId(id): PathId,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let spec = load(&state, &tenant, CONNECTION_SPECS, &id).await?;
    let source_params = source_params_of(query.as_deref())?;
    let columns = declared_columns(&spec, &source_params).unwrap_or_default();
    Ok(json_response(StatusCode::OK, config_items(columns)))
}

async fn connection_configs(
    State(state): State<AppState>,
    tenant: Tenant,
    PathId(id): PathId,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let connection = load(&state, &tenant, CONNECTIONS, &id).await?;
    let source_params = source_params_of(query.as_deref())?;
    let spec_id = connection
        .pointer("/connectionSpec/id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let spec = load(&state, &tenant, CONNECTION_SPECS, spec_id).await?;
    let columns = match declared_columns(&spec, &source_params) {
        Some(columns) => columns,
        None => preview(&state, &tenant, &id, &source_params)
            .await?
            .columns(),
    };
    Ok(json_response(StatusCode::OK, config_items(columns)))
}
