//! flowd's HTTP API: AEP Flow Service compatible routes under
//! `/data/foundation/flowservice` (plus Catalog's datasets and batches under
//! `/data/foundation/catalog`, the Data Access API's files under
//! `/data/foundation/export`, Data Prep under `/data/foundation/conversion` and the Schema
//! Registry's schemas under `/data/foundation/schemaregistry`), the credentials check, and
//! error bodies.
//!
//! API boundary: this is the only crate that knows HTTP status codes and
//! Flow Service wire shapes. It resolves bodies with `flowd_model` and
//! `flowd_spec`, prepares previews with `flowd-plan` and `flowd-connector`, and
//! persists through the `flowd_store` traits; it knows no SQL and writes no
//! dataset.

mod body;
mod caller;
mod catalog;
pub mod console;
mod conversion;
pub mod credentials;
pub mod error;
mod filter;
mod flowd_api;
mod lenient_target;
mod listing;
mod metadata;
mod openapi;
mod patch;
mod path_id;
pub mod request_id;
mod routes;
pub mod routing;
mod schema_registry;
mod seed;
pub mod server;
pub mod state;
mod tenant;
mod wide_integers;

use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use routing::{Routes, get};
use serde_json::json;
use tower_http::trace::TraceLayer;

pub use credentials::{IssuedCredential, issue_credential, issue_first_credential};
pub use state::{ApiConfig, AppState, DEFAULT_MAX_BODY_BYTES, Role};

/// The service's base path, as on AEP's gateway.
pub const FLOW_SERVICE_BASE_PATH: &str = "/data/foundation/flowservice";

/// The base path of the Catalog service, where datasets and their batches live.
pub const CATALOG_BASE_PATH: &str = "/data/foundation/catalog";

/// The base path of Data Prep (the "conversion" service): mapping sets.
pub const CONVERSION_BASE_PATH: &str = "/data/foundation/conversion";

/// The base path of the Schema Registry: the tenant container's schemas.
pub const SCHEMA_REGISTRY_BASE_PATH: &str = "/data/foundation/schemaregistry";

pub use catalog::data_access::DATA_ACCESS_BASE_PATH;
pub use flowd_api::FLOWD_BASE_PATH;

/// The whole HTTP application.
/// The parsers the fuzz targets (`fuzz/`) and property tests drive; not part of the API.
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::body::parse_json_body;
    pub use crate::filter::PropertyFilter;
    pub use crate::patch::{apply as apply_patch, parse_instructions as parse_patch};
}

pub fn app(state: AppState) -> Router {
    let role = state.config.role;
    let router = routes(role).into_router();
    let router = if role.serves_api() {
        router.method_not_allowed_fallback(method_not_allowed)
    } else {
        router
    };
    router
        .fallback(route_not_found)
        .with_state(state)
        .layer(TraceLayer::new_for_http())
        .layer(axum::middleware::from_fn(tenant::say_when_sandbox_created))
        .layer(axum::middleware::from_fn(request_id::assign_request_id))
}

/// Every operation a process of `role` serves (what `/openapi.json` must document).
pub fn served_routes(role: Role) -> Vec<routing::ServedRoute> {
    routes(role).served()
}

fn routes(role: Role) -> Routes {
    let operations = Routes::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics));
    if !role.serves_api() {
        return operations;
    }
    let flow_service = Routes::new()
        .merge(routes::connection_specs::routes())
        .merge(routes::flow_specs::routes())
        .merge(routes::connections::routes())
        .merge(routes::configs::routes())
        .merge(routes::flows::routes())
        .merge(routes::runs::routes())
        .merge(routes::source_connections::routes())
        .merge(routes::target_connections::routes());
    operations
        .merge(openapi::routes())
        .nest(FLOW_SERVICE_BASE_PATH, flow_service)
        .nest(
            CATALOG_BASE_PATH,
            routes::datasets::routes().merge(catalog::batches::routes()),
        )
        .nest(
            DATA_ACCESS_BASE_PATH,
            catalog::data_access::routes().merge(catalog::error_files::routes()),
        )
        .nest(CONVERSION_BASE_PATH, conversion::routes())
        .nest(SCHEMA_REGISTRY_BASE_PATH, schema_registry::routes())
        .nest(FLOWD_BASE_PATH, flowd_api::routes())
        .merge(console::routes())
}

/// Whether the store answers a trivial query within two seconds.
async fn store_reachable(state: &AppState) -> bool {
    matches!(
        tokio::time::timeout(
            std::time::Duration::from_secs(2),
            state.store.count_credentials()
        )
        .await,
        Ok(Ok(_))
    )
}

/// `GET /healthz`: the process is up (always 200), its role, and whether the store answers.
async fn healthz(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    let store = if store_reachable(&state).await {
        "reachable"
    } else {
        "unreachable"
    };
    error::json_response(
        StatusCode::OK,
        json!({"status": "ok", "role": state.config.role.as_str(), "store": store}),
    )
}

/// `GET /readyz`: 200 while the store answers, 503 while it does not (a load balancer sends
/// no request to a process that cannot serve it).
async fn readyz(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    if store_reachable(&state).await {
        error::json_response(StatusCode::OK, json!({"ready": true}))
    } else {
        error::json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"ready": false, "reason": "the store does not answer"}),
        )
    }
}

/// `GET /metrics`: the Prometheus text exposition, without credentials
/// (like `/healthz`); empty when no recorder is installed.
async fn metrics(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    let body = state
        .metrics
        .as_ref()
        .map(|handle| handle.render())
        .unwrap_or_default();
    Response::builder()
        .status(StatusCode::OK)
        .header(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )
        .body(axum::body::Body::from(body))
        .expect("static headers are valid")
}

async fn route_not_found(uri: axum::http::Uri) -> error::ApiError {
    error::FlowError::new(
        error::FlowErrorCode::RouteNotFound,
        format!("No resource exists at {}.", uri.path()),
    )
    .into()
}

async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> error::ApiError {
    error::FlowError::new(
        error::FlowErrorCode::MethodNotAllowed,
        format!("{} is not supported on {}.", method, uri.path()),
    )
    .into()
}
