//! `/console/session` (sign in, read the session, sign out) and `/console/sandboxes`.
//!
//! Signing in trades an API credential (API key and access token, as `flowd credentials
//! create` prints them) for a session cookie and the session's CSRF token. The body must be
//! `application/json`: a cross-site HTML form can only send form encodings or plain text, so
//! no other site can sign a browser in to its own session (and SameSite=Strict keeps the
//! cookie from being sent by other sites' requests at all).

use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use flowd_spec::Problem;
use flowd_store::Session;
use serde_json::{Value, json};
use subtle::ConstantTimeEq;

use super::cookie::{
    ConsoleSession, SESSION_LIFETIME_SECONDS, arrived_over_https, cleared_session_cookie,
    random_token, session_cookie_hash, session_set_cookie,
};
use crate::body::JsonBody;
use crate::caller::Caller;
use crate::credentials::token_hash;
use crate::error::{ApiError, FlowError, GatewayError, json_response};
use crate::state::AppState;

/// What the console learns about its session (never the cookie, which it cannot read).
fn session_body(session: &Session) -> Value {
    json!({
        "imsOrgId": session.org_id,
        "principalId": session.credential_id,
        "csrfToken": session.csrf_token,
        "expiresAt": session.expires_at,
    })
}

/// The `apiKey` and `accessToken` of a sign-in body, or a problem at each one missing.
fn sign_in_fields(body: &Value) -> Result<(&str, &str), ApiError> {
    let field = |name: &str| {
        body.get(name)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|value| !value.is_empty())
    };
    match (field("apiKey"), field("accessToken")) {
        (Some(api_key), Some(access_token)) => Ok((api_key, access_token)),
        (api_key, access_token) => {
            let problems = [("apiKey", api_key), ("accessToken", access_token)]
                .into_iter()
                .filter(|(_, value)| value.is_none())
                .map(|(name, _)| {
                    Problem::new(format!("/{name}"), "is required, a non-empty string")
                })
                .collect();
            Err(FlowError::invalid_body("sign-in request", problems).into())
        }
    }
}

/// `POST /console/session`: checks the credential and starts a session (201, its cookie and
/// its CSRF token). A wrong access token or API key is a 401.
pub(super) async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let (api_key, access_token) = sign_in_fields(&body)?;
    let credential = state
        .store
        .find_credential_by_token_hash(&token_hash(access_token))
        .await?
        .ok_or(GatewayError::TokenInvalid)?;
    if !bool::from(credential.api_key.as_bytes().ct_eq(api_key.as_bytes())) {
        return Err(GatewayError::SignInApiKeyInvalid.into());
    }
    let now = flowd_model::time::now_millis();
    // Sign-ins are rare next to requests: the moment to drop the sessions that ended.
    state.store.purge_expired_sessions(now).await?;
    let cookie_value = random_token();
    let session = Session {
        id_hash: token_hash(&cookie_value),
        credential_id: credential.id,
        org_id: credential.org_id,
        api_key: credential.api_key,
        csrf_token: random_token(),
        created_at: now,
        expires_at: now + SESSION_LIFETIME_SECONDS * 1000,
    };
    state.store.insert_session(&session).await?;
    // Signing in again replaces the browser's session: the one its cookie named ends now.
    if let Some(previous) = session_cookie_hash(&headers) {
        state.store.delete_session(&previous).await?;
    }
    let mut response = json_response(StatusCode::CREATED, session_body(&session));
    response.headers_mut().insert(
        SET_COOKIE,
        session_set_cookie(&cookie_value, arrived_over_https(&headers)),
    );
    Ok(response)
}

/// `GET /console/session`: the session the cookie names (401 when none is live).
pub(super) async fn read_session(ConsoleSession { session, .. }: ConsoleSession) -> Response {
    json_response(StatusCode::OK, session_body(&session))
}

/// `DELETE /console/session` (with the CSRF token): ends the session in the store, so its
/// cookie is refused from now on by every process, and tells the browser to forget it.
pub(super) async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    ConsoleSession { id_hash, .. }: ConsoleSession,
) -> Result<Response, ApiError> {
    state.store.delete_session(&id_hash).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        SET_COOKIE,
        cleared_session_cookie(arrived_over_https(&headers)),
    );
    Ok(response)
}

/// `GET /console/sandboxes`: the sandboxes of the caller's org that exist (a sandbox exists
/// from its first request), by name; no `x-sandbox-name` needed.
pub(super) async fn list_sandboxes(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let sandboxes = state.store.list_sandboxes(&caller.org_id).await?;
    let items: Vec<Value> = sandboxes
        .into_iter()
        .map(|sandbox| json!({"name": sandbox.name}))
        .collect();
    Ok(json_response(StatusCode::OK, json!({"items": items})))
}
