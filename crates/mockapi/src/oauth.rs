//! The OAuth2 refresh-token endpoint and the credential test URL.
//!
//! `/oauth/token` accepts parameters from the form body (POST) and the query
//! string (GET, for `requestParameterOverride.authenticationMethod: GET`);
//! client credentials may also come as HTTP Basic, as RFC 6749 §2.3.1
//! prefers. New tokens are numbered (`access-1`, `refresh-1`, ...) so tests
//! can predict them.

use std::sync::atomic::Ordering;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use crate::request::decode_pairs;
use crate::state::{AppState, basic_credentials, json_response};

fn oauth_error(status: StatusCode, code: &str, description: &str) -> Response {
    let body = serde_json::json!({ "error": code, "error_description": description });
    json_response(status, body.to_string())
}

/// `POST|GET /oauth/token` with `grant_type=refresh_token`.
pub(crate) async fn token(
    State(st): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    body: String,
) -> Response {
    let mut params = decode_pairs(&body);
    params.extend(decode_pairs(q.as_deref().unwrap_or("")));
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let o = &st.scenario.oauth;

    if get("grant_type").as_deref() != Some("refresh_token") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type must be refresh_token",
        );
    }
    let authz = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (id, secret) = match (get(&o.client_id_param), get(&o.client_secret_param)) {
        (Some(id), Some(secret)) => (id, secret),
        _ => basic_credentials(authz).unwrap_or_default(),
    };
    if id != o.client_id || secret != o.client_secret {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "unknown client or wrong secret",
        );
    }

    let mut tokens = st.tokens();
    if get("refresh_token").as_deref() != Some(tokens.refresh.as_str()) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "refresh token is invalid or was rotated",
        );
    }
    let n = st.refreshes.fetch_add(1, Ordering::SeqCst) + 1;
    let access = format!("access-{n}");
    tokens.access = Some(access.clone());
    let mut out = Map::new();
    out.insert(o.fields.access_token.clone(), Value::from(access));
    if o.rotate_refresh_token {
        tokens.refresh = format!("refresh-{n}");
        out.insert(
            o.fields.refresh_token.clone(),
            Value::from(tokens.refresh.clone()),
        );
    }
    out.insert(o.fields.expires_in.clone(), Value::from(o.expires_in));
    out.insert("token_type".into(), Value::from("Bearer"));
    json_response(StatusCode::OK, Value::Object(out).to_string())
}

/// `GET /auth/test`: 200 with valid credentials, 401 otherwise. Not a data
/// route, so neither counted for `fail_first` nor paginated.
pub(crate) async fn auth_test(State(st): State<AppState>, headers: HeaderMap) -> Response {
    match st.check_auth(&headers) {
        Ok(()) => json_response(StatusCode::OK, r#"{"ok":true}"#.into()),
        Err(reject) => reject.into_response(),
    }
}
