//! The credentials check: every API request names its token, client, org and
//! sandbox in AEP's headers (or, from the console, its session cookie in place of the first
//! three), and leaves this extractor as a [`Tenant`] that every handler scopes its store
//! access with.
//!
//! Architecture invariant: a handler can only reach the store through the
//! [`Scope`] of an authenticated [`Tenant`], so one org never sees another's
//! resources and a sandbox never sees another sandbox's.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use flowd_store::{Scope, SeedResource};

use crate::caller::{Caller, header};
use crate::credentials::token_hash;
use crate::error::{ApiError, FlowError, FlowErrorCode, GatewayError};
use crate::metadata::Stamp;
use crate::seed::builtin_seed;
use crate::state::AppState;

/// The authenticated caller of a request and the sandbox it acts in.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub scope: Scope,
    /// Stable UUID of the (org, sandbox) pair.
    pub sandbox_id: String,
    /// The credential's principal id (`createdBy`/`updatedBy`).
    pub principal_id: String,
    /// The `x-api-key` of the request (`createdClient`/`updatedClient`).
    pub client_id: String,
}

impl Tenant {
    /// Who and when, for the server-managed fields of a write made now.
    pub fn stamp(&self) -> Stamp<'_> {
        Stamp {
            principal_id: &self.principal_id,
            client_id: &self.client_id,
            org_id: &self.scope.org_id,
            sandbox_name: &self.scope.sandbox_name,
            sandbox_id: &self.sandbox_id,
            at: flowd_model::time::now_millis(),
        }
    }
}

/// AEP sandbox names are lowercase letters, digits and hyphens.
fn sandbox_name_problem(name: &str) -> Option<&'static str> {
    if name.len() > 128 {
        return Some("is longer than 128 characters");
    }
    let valid = name.bytes().all(|byte| {
        byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-' || byte == b'_'
    });
    (!valid).then_some("may only hold lowercase letters, digits, '-' and '_'")
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
        // An Authorization header wins over a cookie: curl and SDK calls behave as they
        // always did, whatever cookie a browser adds.
        if let Some(authorization) = header(&parts.headers, "authorization") {
            return caller_of_headers(&parts.headers, authorization, state).await;
        }
        crate::console::cookie::caller_of_session_cookie(parts, state)
            .await?
            .ok_or_else(|| GatewayError::TokenMissing.into())
    }
}

/// The caller named by AEP's credential headers.
async fn caller_of_headers(
    headers: &HeaderMap,
    authorization: &str,
    state: &AppState,
) -> Result<Caller, ApiError> {
    let api_key = header(headers, "x-api-key").ok_or(GatewayError::ApiKeyMissing)?;
    let token = authorization
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty())
        .ok_or(GatewayError::TokenInvalid)?;
    let credential = state
        .store
        .find_credential_by_token_hash(&token_hash(token))
        .await?
        .ok_or(GatewayError::TokenInvalid)?;
    if credential.api_key != api_key {
        return Err(GatewayError::ApiKeyInvalid.into());
    }
    let org_id = header(headers, "x-gw-ims-org-id").ok_or(GatewayError::OrgHeaderMissing)?;
    if credential.org_id != org_id {
        return Err(GatewayError::ProfileInvalid.into());
    }
    Ok(Caller {
        org_id: credential.org_id,
        principal_id: credential.id,
        client_id: api_key.to_owned(),
    })
}

impl FromRequestParts<AppState> for Tenant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Tenant, ApiError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        let sandbox_name = header(&parts.headers, "x-sandbox-name").ok_or_else(|| {
            FlowError::new(
                FlowErrorCode::SandboxHeaderInvalid,
                "header x-sandbox-name is missing",
            )
        })?;
        if let Some(problem) = sandbox_name_problem(sandbox_name) {
            return Err(FlowError::new(
                FlowErrorCode::SandboxHeaderInvalid,
                format!("header x-sandbox-name {problem}"),
            )
            .into());
        }
        let (sandbox_id, created) = sandbox_id(state, &caller.org_id, sandbox_name).await?;
        if created {
            tracing::info!(
                org_id = %caller.org_id,
                sandbox = sandbox_name,
                "sandbox \"{sandbox_name}\" of org {} created by this request; it starts empty (check x-sandbox-name if another was meant)",
                caller.org_id
            );
            if let Some(flag) = parts.extensions.get::<SandboxCreated>() {
                flag.0.store(true, Ordering::Relaxed);
            }
        }
        Ok(Tenant {
            scope: Scope {
                org_id: caller.org_id,
                sandbox_name: sandbox_name.to_owned(),
            },
            sandbox_id,
            principal_id: caller.principal_id,
            client_id: caller.client_id,
        })
    }
}

/// The response header that says the request created the sandbox it named (a new, empty
/// one: often a mistyped `x-sandbox-name`). Absent on every other response.
pub const SANDBOX_CREATED_HEADER: &str = "x-flowd-sandbox-created";

/// Set by the [`Tenant`] extractor when its request created the sandbox.
#[derive(Clone, Default)]
struct SandboxCreated(Arc<AtomicBool>);

/// Middleware: adds [`SANDBOX_CREATED_HEADER`] to the response of a request that created its
/// sandbox.
pub async fn say_when_sandbox_created(mut request: Request, next: Next) -> Response {
    let created = SandboxCreated::default();
    request.extensions_mut().insert(created.clone());
    let mut response = next.run(request).await;
    if created.0.load(Ordering::Relaxed) {
        response
            .headers_mut()
            .insert(SANDBOX_CREATED_HEADER, HeaderValue::from_static("true"));
    }
    response
}

/// The sandbox's id, creating the sandbox (with its built-in specs) on its
/// first request; and whether this request created it.
async fn sandbox_id(
    state: &AppState,
    org_id: &str,
    sandbox_name: &str,
) -> Result<(String, bool), ApiError> {
    let key = (org_id.to_owned(), sandbox_name.to_owned());
    if let Some(id) = state
        .known_sandboxes
        .read()
        .expect("sandbox cache lock poisoned")
        .get(&key)
    {
        return Ok((id.clone(), false));
    }
    let seeder =
        |sandbox_id: &str| -> Vec<SeedResource> { builtin_seed(org_id, sandbox_name, sandbox_id) };
    let ensured = state
        .store
        .ensure_sandbox(org_id, sandbox_name, &seeder)
        .await?;
    state
        .known_sandboxes
        .write()
        .expect("sandbox cache lock poisoned")
        .insert(key, ensured.sandbox.id.clone());
    Ok((ensured.sandbox.id, ensured.created))
}
