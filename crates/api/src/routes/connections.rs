//! `/connections`: base connections (reference §8.1) — a connection spec, an auth spec chosen
//! by `auth.specName`, and credentials checked the way runs use them
//! (`flowd_connector::prepare_auth`), probed at `authorizationTestUrl` when given, encrypted at
//! rest and masked in every response.

use std::sync::Arc;

use crate::routing::Routes;
use crate::routing::get;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use flowd_connector::{Credentials, PrepareError, PreparedAuth, prepare_auth, probe_credentials};
use flowd_model::Connection;
use flowd_plan::ConnectionTokens;
use flowd_plan::credentials::{
    TokensInMemory, apply_tokens, open, resolve_client_params, seal, stored_params,
};
use flowd_spec::Problem;
use serde_json::{Map, Value, json};

use crate::error::{ApiError, FlowError, FlowErrorCode, json_response};
use crate::path_id::PathId;
use crate::routes::body_fields::{client_instance_fields, invalid};
use crate::routes::collections::{CONNECTION_SPECS, CONNECTIONS, ResourceType};
use crate::routes::documents::Collection;
use crate::routes::instances::{InstanceResource, Validated, WriteContext, instance_routes};
use crate::state::AppState;
use crate::tenant::Tenant;

/// The collection.
pub struct Connections;

impl Collection for Connections {
    const TYPE: ResourceType = CONNECTIONS;
}

pub fn routes() -> Routes {
    instance_routes::<Connections>()
        .merge(crate::routes::actions::action_routes::<Connections>())
        .merge(crate::routes::search::search_routes::<Connections>())
        .route("/connections/{id}/test", get(test))
        .route(
            "/connections/{id}/explore",
            get(crate::routes::explore::explore),
        )
}

/// The connection spec `spec_id` of the tenant's sandbox, or `1413-400`.
pub async fn load_connection_spec(
    state: &AppState,
    tenant: &Tenant,
    spec_id: &str,
) -> Result<Value, ApiError> {
    state
        .store
        .get_resource(&tenant.scope, CONNECTION_SPECS.kind, spec_id)
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
            .into()
        })
}

/// `1415-400` for an unknown auth spec, `1100-400` for anything else wrong with credentials.
fn credentials_refused(error: PrepareError, spec_id: &str, body: &Value) -> ApiError {
    match error {
        PrepareError::UnknownAuthSpec { spec_name, .. } => FlowError::new(
            FlowErrorCode::AuthSpecNotFound,
            format!(
                "auth spec {spec_name} could not be found for the connection spec ID {spec_id}"
            ),
        )
        .into(),
        PrepareError::Invalid { problems } => invalid("connection", body, problems),
    }
}

fn probe_failed(reason: String) -> ApiError {
    FlowError::new(
        FlowErrorCode::InvalidRequest,
        format!("The credentials were refused by authorizationTestUrl: {reason}"),
    )
    .into()
}

/// Calls `authorizationTestUrl` when the credentials name one; `Ok(None)` when they do not.
async fn probe(
    state: &AppState,
    prepared: &PreparedAuth,
    plain: &Map<String, Value>,
) -> Option<Result<(), String>> {
    let url = plain.get("authorizationTestUrl").and_then(Value::as_str)?;
    Some(probe_credentials(&state.http, prepared, url).await)
}

impl InstanceResource for Connections {
    const DRAFT_REQUIRED: &'static [&'static str] = &["connectionSpec", "auth"];

    /// A draft base connection is checked like any other: its secrets are sealed at rest, so
    /// they must resolve against the auth spec.
    async fn validate_draft(
        context: &WriteContext<'_>,
        body: Value,
    ) -> Result<Validated, ApiError> {
        let mut validated = Self::validate(context, body).await?;
        validated.references.clear();
        Ok(validated)
    }

    async fn validate(context: &WriteContext<'_>, body: Value) -> Result<Validated, ApiError> {
        let (state, tenant, id, write) = (context.state, context.tenant, context.id, context.write);
        let mut body = client_instance_fields(body, CONNECTIONS.noun)?;
        let connection = Connection::from_document(&body)
            .map_err(|problems| invalid("connection", &body, problems))?;
        if let Some(previous) = write.previous()
            && body.get("connectionSpec") != previous.get("connectionSpec")
        {
            return Err(FlowError::new(
                FlowErrorCode::ConnectionSpecImmutable,
                "The connection spec of a connection cannot be changed; create a new connection instead.",
            )
            .into());
        }
        let spec_id = &connection.connection_spec.id;
        let spec = load_connection_spec(state, tenant, spec_id).await?;
        let previous_plain = match write.previous() {
            Some(previous) => Some(
                open(&state.cipher, &tenant.scope, id, &stored_params(previous)).map_err(|error| {
                    tracing::error!(%error, connection_id = id, "stored credentials cannot be decrypted");
                    ApiError::from(FlowError::internal())
                })?,
            ),
            None => None,
        };
        let plain = resolve_client_params(&connection.auth.params, previous_plain.as_ref());
        let credentials = Credentials {
            spec_name: &connection.auth.spec_name,
            params: &plain,
        };
        let probe_tokens = Arc::new(TokensInMemory::default());
        let prepared = prepare_auth(&spec, credentials, Some(probe_tokens.clone()))
            .map_err(|error| credentials_refused(error, spec_id, &body))?;
        let spec_name_changed = write.previous().is_some_and(|previous| {
            previous.pointer("/auth/specName") != body.pointer("/auth/specName")
        });
        let auth_changed = previous_plain.as_ref() != Some(&plain) || spec_name_changed;
        if auth_changed && let Some(Err(reason)) = probe(state, &prepared, &plain).await {
            return Err(probe_failed(reason));
        }
        let mut plain = plain;
        if let Some(tokens) = probe_tokens.take() {
            // The probe refreshed the token: what is stored must be what is valid now.
            apply_tokens(&mut plain, &tokens);
        }
        let sealed = seal(
            &state.cipher,
            &tenant.scope,
            id,
            &plain,
            prepared.secret_param_names(),
        );
        body["auth"]["params"] = Value::Object(sealed);
        if write.makes_live() {
            body["state"] = json!("enabled");
        }
        Ok(Validated {
            document: body,
            references: connection.references(),
            schedule: None,
        })
    }
}

/// `GET /connections/{id}/test`: `{"result": true}`, or false with the reason.
async fn test(
    State(state): State<AppState>,
    tenant: Tenant,
    PathId(id): PathId,
) -> Result<Response, ApiError> {
    let chain =
        flowd_plan::load_connection(state.store.as_ref(), &state.cipher, &tenant.scope, &id)
            .await
            .map_err(|error| crate::routes::explore::chain_refused(error, &id))?;
    if !chain.plain_params.contains_key("authorizationTestUrl") {
        return Ok(json_response(
            StatusCode::OK,
            json!({"result": true, "detail": "the connection has no authorizationTestUrl; its credentials are checked when data is first fetched"}),
        ));
    }
    let tokens = ConnectionTokens::new(
        state.store.clone(),
        state.cipher.clone(),
        tenant.scope.clone(),
        &id,
    );
    let prepared = prepare_auth(
        &chain.connection_spec,
        chain.credentials(),
        Some(tokens.clone()),
    );
    let body = match prepared {
        Err(error) => json!({"result": false, "reason": error.to_string()}),
        Ok(mut prepared) => {
            prepared.session = state
                .sessions
                .share(&tokens.session_key(), prepared.session)
                .await;
            match probe(&state, &prepared, &chain.plain_params).await {
                Some(Err(reason)) => json!({"result": false, "reason": reason}),
                _ => json!({"result": true}),
            }
        }
    };
    Ok(json_response(StatusCode::OK, body))
}
