//! `/connections`: base connections (reference §8.1) — a connection spec, an
//! auth spec chosen by `auth.specName`, and credentials validated against
//! that auth spec's JSON Schema, probed at `authorizationTestUrl` when given,
//! encrypted at rest and masked in every response.

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use flowd_spec::Problem;
use flowd_store::{Reference, ResourceKind};
use serde_json::{Map, Value, json};

use crate::body::JsonBody;
use crate::connection_secrets::{masked, open, resolve_client_params, seal};
use crate::error::{ApiError, FlowError, FlowErrorCode, json_response};
use crate::path_id::PathId;
use crate::routes::body_fields::{client_instance_fields, required_string};
use crate::routes::connection_specs::CONNECTION_SPECS;
use crate::routes::documents::{self, Collection, ResourceType};
use crate::state::AppState;
use crate::tenant::Tenant;

pub const CONNECTIONS: ResourceType = ResourceType {
    kind: ResourceKind::Connection,
    collection: "connections",
    noun: "connection",
    sortable: &[
        "id",
        "name",
        "description",
        "state",
        "createdAt",
        "updatedAt",
    ],
    references: &REFERENCES,
    in_use: FlowErrorCode::ConnectionInUse,
    present,
};

/// The collection, for the shared list, read and delete routes.
pub struct Connections;

impl Collection for Connections {
    const TYPE: ResourceType = CONNECTIONS;
}

/// Where other resources refer to a base connection.
const REFERENCES: [Reference; 1] = [Reference {
    kind: ResourceKind::SourceConnection,
    field: "$.baseConnectionId",
}];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/connections",
            get(documents::list_handler::<Connections>).post(create),
        )
        .route(
            "/connections/{id}",
            get(documents::read_handler::<Connections>)
                .patch(patch)
                .delete(documents::delete_handler::<Connections>),
        )
        .route(
            "/connections/{id}/",
            get(documents::read_handler::<Connections>)
                .patch(patch)
                .delete(documents::delete_handler::<Connections>),
        )
        .route("/connections/{id}/test", get(test))
        .route(
            "/connections/{id}/explore",
            get(crate::routes::explore::explore),
        )
}

/// A validated connection: what to store, and the plaintext credentials.
pub struct ValidatedConnection {
    pub stored: Value,
    pub plain_params: Map<String, Value>,
    pub connection_spec: Value,
}

/// Checks a connection body (a create, or a patched document) and seals its
/// secrets. `previous_plain` holds the stored credentials of a PATCH.
pub async fn validate_connection(
    state: &AppState,
    tenant: &Tenant,
    id: &str,
    body: Value,
    previous_plain: Option<&Map<String, Value>>,
) -> Result<ValidatedConnection, ApiError> {
    let mut body = client_instance_fields(body, "connection")?;
    let mut problems = Vec::new();
    required_string(&body, "/name", &mut problems);
    let spec_id = required_string(&body, "/connectionSpec/id", &mut problems).map(str::to_owned);
    let spec_name = required_string(&body, "/auth/specName", &mut problems).map(str::to_owned);
    let sent_params = match body.pointer("/auth/params") {
        None => Map::new(),
        Some(Value::Object(params)) => params.clone(),
        Some(_) => {
            problems.push(Problem::new("/auth/params", "must be an object"));
            Map::new()
        }
    };
    if !problems.is_empty() {
        return Err(FlowError::invalid_body("connection", problems).into());
    }
    let (spec_id, spec_name) = (spec_id.unwrap_or_default(), spec_name.unwrap_or_default());
    let connection_spec = state
        .store
        .get_resource(&tenant.scope, CONNECTION_SPECS.kind, &spec_id)
        .await?
        .map(|stored| stored.body)
        .ok_or_else(|| {
            FlowError::new(
                FlowErrorCode::InvalidSpecId,
                format!("The connection spec {spec_id} does not exist in this sandbox."),
            )
            .with_problems(vec![Problem::new(
                "/connectionSpec/id",
                "names no connection spec of this sandbox",
            )])
        })?;
    let auth_specs = connection_spec
        .get("authSpec")
        .cloned()
        .unwrap_or(Value::Null);
    let auth_spec =
        flowd_connector::auth::find_auth_spec(&auth_specs, &spec_name).ok_or_else(|| {
            FlowError::new(
                FlowErrorCode::AuthSpecNotFound,
                format!(
                    "auth spec {spec_name} could not be found for the connection spec ID {spec_id}"
                ),
            )
        })?;
    let schema = auth_spec.get("spec").cloned().unwrap_or(Value::Null);
    let plain_params = resolve_client_params(&sent_params, previous_plain);
    let validator = flowd_spec::compile_schema(&schema).map_err(|error| {
        FlowError::new(
            FlowErrorCode::InvalidRequest,
            format!("The auth spec {spec_name} has a schema that does not compile: {error}"),
        )
    })?;
    let problems = flowd_spec::schema_problems(
        &validator,
        &Value::Object(plain_params.clone()),
        "/auth/params",
    );
    if !problems.is_empty() {
        return Err(FlowError::invalid_body("connection", problems).into());
    }
    let secret_names = flowd_connector::auth::secret_param_names(&schema);
    let sealed = seal(
        &state.cipher,
        &tenant.scope,
        id,
        &plain_params,
        &secret_names,
    );
    body["auth"]["params"] = Value::Object(sealed);
    if body.get("state").is_none() {
        body["state"] = json!("enabled");
    }
    Ok(ValidatedConnection {
        stored: body,
        plain_params,
        connection_spec,
    })
}

/// Calls `authorizationTestUrl` with the credentials applied; `Err` with
/// the reason when it does not answer 2xx.
pub async fn probe_credentials(
    state: &AppState,
    connection_spec: &Value,
    spec_name: &str,
    plain_params: &Map<String, Value>,
) -> Result<(), String> {
    let Some(url) = plain_params
        .get("authorizationTestUrl")
        .and_then(Value::as_str)
    else {
        return Ok(());
    };
    let auth_specs = connection_spec
        .get("authSpec")
        .cloned()
        .unwrap_or(Value::Null);
    let auth = flowd_connector::resolve_connection_auth(
        &auth_specs,
        &json!({"specName": spec_name, "params": plain_params}),
    )
    .map_err(|error| error.to_string())?;
    let session = flowd_connector::AuthSession::new(auth, None);
    let url =
        url::Url::parse(url).map_err(|_| "authorizationTestUrl is not a valid URL".to_owned())?;
    let request = flowd_connector::http::OutgoingRequest {
        method: reqwest::Method::GET,
        url,
        headers: Vec::new(),
        body: None,
    };
    state
        .http
        .send(&request, Some(&session))
        .await
        .map(|_| ())
        .map_err(|error| error.to_string())
}

/// A stored connection as clients see it: secrets masked.
pub fn present(mut document: Value) -> Value {
    if let Some(Value::Object(params)) = document.pointer("/auth/params") {
        let shown = masked(params);
        document["auth"]["params"] = Value::Object(shown);
    }
    document
}

/// The stored connection and its plaintext credentials.
pub async fn load_with_credentials(
    state: &AppState,
    tenant: &Tenant,
    id: &str,
) -> Result<(Value, Map<String, Value>), ApiError> {
    let document = documents::load(state, tenant, CONNECTIONS, id).await?;
    let stored_params = document
        .pointer("/auth/params")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let plain = open(&state.cipher, &tenant.scope, id, &stored_params)?;
    Ok((document, plain))
}

fn probe_failed(reason: String) -> ApiError {
    FlowError::new(
        FlowErrorCode::InvalidRequest,
        format!("The credentials were refused by authorizationTestUrl: {reason}"),
    )
    .into()
}

async fn create(
    State(state): State<AppState>,
    tenant: Tenant,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let id = uuid::Uuid::new_v4().to_string();
    let validated = validate_connection(&state, &tenant, &id, body, None).await?;
    let spec_name = validated
        .stored
        .pointer("/auth/specName")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    probe_credentials(
        &state,
        &validated.connection_spec,
        &spec_name,
        &validated.plain_params,
    )
    .await
    .map_err(probe_failed)?;
    documents::create_instance(&state, &tenant, CONNECTIONS, &id, validated.stored).await
}

async fn patch(
    State(state): State<AppState>,
    tenant: Tenant,
    PathId(id): PathId,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let pending = documents::begin_patch(
        &state,
        &tenant,
        CONNECTIONS,
        &id,
        documents::if_match(&headers, query.as_deref()),
        &body,
        &[],
    )
    .await?;
    if pending.patched.get("connectionSpec") != pending.previous.body.get("connectionSpec") {
        return Err(FlowError::new(
            FlowErrorCode::ConnectionSpecImmutable,
            "The connection spec of a connection cannot be changed; create a new connection instead.",
        )
        .into());
    }
    let previous_params = pending
        .previous
        .body
        .pointer("/auth/params")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let previous_plain = open(&state.cipher, &tenant.scope, &id, &previous_params)?;
    let validated = validate_connection(
        &state,
        &tenant,
        &id,
        pending.patched.clone(),
        Some(&previous_plain),
    )
    .await?;
    let auth_changed = validated.plain_params != previous_plain
        || validated.stored.pointer("/auth/specName")
            != pending.previous.body.pointer("/auth/specName");
    if auth_changed {
        let spec_name = validated
            .stored
            .pointer("/auth/specName")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        probe_credentials(
            &state,
            &validated.connection_spec,
            &spec_name,
            &validated.plain_params,
        )
        .await
        .map_err(probe_failed)?;
    }
    let mut stored = validated.stored;
    stored["state"] = pending.previous.body["state"].clone();
    documents::finish_patch(&state, &tenant, CONNECTIONS, &id, &pending, stored).await
}

/// `GET /connections/{id}/test`: `{"result": true}`, or false with the reason.
async fn test(
    State(state): State<AppState>,
    tenant: Tenant,
    PathId(id): PathId,
) -> Result<Response, ApiError> {
    let (document, plain) = load_with_credentials(&state, &tenant, &id).await?;
    let spec_id = document
        .pointer("/connectionSpec/id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let connection_spec = documents::load(&state, &tenant, CONNECTION_SPECS, spec_id).await?;
    let spec_name = document
        .pointer("/auth/specName")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !plain.contains_key("authorizationTestUrl") {
        return Ok(json_response(
            StatusCode::OK,
            json!({"result": true, "detail": "the connection has no authorizationTestUrl; its credentials are checked when data is first fetched"}),
        ));
    }
    let body = match probe_credentials(&state, &connection_spec, spec_name, &plain).await {
        Ok(()) => json!({"result": true}),
        Err(reason) => json!({"result": false, "reason": reason}),
    };
    Ok(json_response(StatusCode::OK, body))
}
