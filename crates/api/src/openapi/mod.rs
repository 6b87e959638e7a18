//! flowd's own OpenAPI 3.1 document, `GET /openapi.json`: every route `crate::served_routes`
//! lists, with its parameters, request body, success responses and error bodies.
//!
//! The document is generated from code (`builder.rs`'s small vocabulary: an operation, a list
//! envelope, the instance trio …), built once and served as it is. It is not derived from the
//! handlers' types (flowd's bodies are `serde_json::Value`s walked by hand, so every problem
//! is found at its pointer); instead `tests/openapi_document.rs` holds it to the router both
//! ways (every served operation documented, every documented one served), validates it
//! against the OpenAPI 3.1 schema, and checks real answers against their documented schemas,
//! and `scripts/schemathesis.sh` fuzzes a real flowd with it.

mod builder;
mod catalog;
mod components;
mod console;
mod data_prep;
mod flow_service;
mod resources;
mod runs;

use std::sync::OnceLock;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::routing::{Routes, get};
use builder::Operation;

/// `GET /openapi.json`, served without credentials.
pub fn routes() -> Routes {
    Routes::new().route("/openapi.json", get(serve))
}

async fn serve() -> Response {
    static TEXT: OnceLock<String> = OnceLock::new();
    let text = TEXT.get_or_init(|| document().to_string());
    let mut response = (StatusCode::OK, text.as_str()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The document, built on first use.
pub fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(build)
}

/// Every documented operation.
fn operations() -> Vec<Operation> {
    let mut operations = console::operations();
    operations.extend(flow_service::operations());
    operations.extend(catalog::operations());
    operations.extend(data_prep::operations());
    operations.extend(data_prep::registry_operations());
    operations.extend(console::console_operations());
    operations.extend(console::flowd_operations());
    operations
}

fn build() -> Value {
    let mut paths: Map<String, Value> = Map::new();
    for operation in operations() {
        let method = operation.method.to_ascii_lowercase();
        let path = operation.path.clone();
        let entry = paths.entry(path).or_insert_with(|| json!({}));
        entry[method] = operation.build();
    }
    paths.sort_keys();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "flowd",
            "version": env!("CARGO_PKG_VERSION"),
            "summary": "A self-hosted, AEP Flow Service compatible REST ingestion service",
            "description": "AEP's Flow Service, Catalog, Data Access, Data Prep and Schema Registry routes as flowd serves them, its health routes, and the console's own routes. Every API request carries AEP's four headers (Authorization: Bearer, x-api-key, x-gw-ims-org-id, x-sandbox-name) or the console's session cookie. Errors use Flow Service's body, and the gateway's {error_code, message} for credentials.",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "tags": [
            {"name": "Flow Service", "description": "connection and flow specs, connections, flows and runs"},
            {"name": "Catalog", "description": "datasets and batches"},
            {"name": "Data Access", "description": "a batch's files and error diagnostics"},
            {"name": "Data Prep", "description": "mapping sets and the expression language"},
            {"name": "Schema Registry", "description": "the tenant's XDM schemas"},
            {"name": "Console", "description": "the console's page, sessions and sandboxes"},
            {"name": "flowd", "description": "flowd's own API for the console"},
            {"name": "Operations", "description": "health, metrics and this document"},
        ],
        "paths": paths,
        "components": components::components(),
    })
}
