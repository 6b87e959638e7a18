//! From a connection spec, a connection's credentials and a source connection's params to a
//! [`RunPlan`]: the one place where a connection becomes something that runs. Explore,
//! `/connections/{id}/test`, the `authorizationTestUrl` probe, `flowd spec test` and the run
//! executor all go through [`prepare_auth`] and [`prepare_run`], so they accept and refuse the
//! same things.
//!
//! Problems carry pointers as the resources that hold the inputs have them: `/params/…` for
//! source params (a source connection's `params`), `/auth/…` for credentials (a base
//! connection's `auth`), and spec pointers (`/sourceSpec/…`, `/authSpec/…`) for the spec.

use std::sync::Arc;

use flowd_spec::{AuthSpec, AuthSpecs, Problem, schema_problems};
use serde_json::{Map, Value};

use crate::auth::{AuthSession, TokenCallback, resolve_connection_auth};
use crate::http::{HttpClient, OutgoingRequest};
use crate::request::{RequestError, check_credential_origin, credential_origin};
use crate::run::{RunLimits, RunPlan};
use crate::window::Window;

/// The credentials a connection binds: the auth spec its `specName` names and its plaintext
/// `params`.
#[derive(Debug, Clone, Copy)]
pub struct Credentials<'a> {
    pub spec_name: &'a str,
    pub params: &'a Map<String, Value>,
}

/// Why a connection or a source cannot run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PrepareError {
    /// `auth.specName` names no auth spec of the connection spec.
    #[error("auth spec {spec_name} could not be found in the connection spec (it has: {})", known.join(", "))]
    UnknownAuthSpec {
        spec_name: String,
        known: Vec<String>,
    },
    /// Everything else, each problem with its pointer.
    #[error("{}", problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid { problems: Vec<Problem> },
}

impl PrepareError {
    /// The problems, the unknown auth spec being one at `/auth/specName`.
    pub fn problems(&self) -> Vec<Problem> {
        match self {
            PrepareError::UnknownAuthSpec { .. } => {
                vec![Problem::new("/auth/specName", self.to_string())]
            }
            PrepareError::Invalid { problems } => problems.clone(),
        }
    }
}

fn invalid(problems: Vec<Problem>) -> PrepareError {
    PrepareError::Invalid { problems }
}

/// A connection's resolved authentication.
#[derive(Debug, Clone)]
pub struct PreparedAuth {
    pub auth_spec: AuthSpec,
    pub session: Arc<AuthSession>,
    /// Where the credentials may be sent (`crate::request::credential_origin`): the spec's
    /// `urlParams.host` when the spec itself holds it, else the auth params' host.
    pub credential_origin: Result<url::Origin, RequestError>,
}

impl PreparedAuth {
    /// The auth params that are secrets (sealed at rest, masked on read).
    pub fn secret_param_names(&self) -> &[String] {
        self.session.secret_names()
    }
}

/// Resolves the auth spec `credentials.spec_name` names in `connection_spec`, checks the params
/// against its schema (problems under `/auth/params`) and builds the session that
/// authenticates requests; `on_refresh` receives OAuth tokens refreshed on the way.
pub fn prepare_auth(
    connection_spec: &Value,
    credentials: Credentials<'_>,
    on_refresh: Option<TokenCallback>,
) -> Result<PreparedAuth, PrepareError> {
    let auth_specs = AuthSpecs::resolve(connection_spec).map_err(invalid)?;
    let auth_spec = auth_specs
        .find(credentials.spec_name)
        .ok_or_else(|| PrepareError::UnknownAuthSpec {
            spec_name: credentials.spec_name.to_owned(),
            known: auth_specs.iter().map(|spec| spec.name.clone()).collect(),
        })?
        .clone();
    let params = Value::Object(credentials.params.clone());
    let validator = flowd_spec::compile_schema(&auth_spec.schema).map_err(|error| {
        invalid(vec![Problem::new(
            format!("/authSpec/{}/spec", auth_spec.index),
            format!("does not compile: {error}"),
        )])
    })?;
    let mut problems = schema_problems(&validator, &params, "/auth/params");
    problems.extend(flowd_spec::auth_param_header_problems(credentials.params));
    if !problems.is_empty() {
        return Err(invalid(problems));
    }
    let auth = resolve_connection_auth(&auth_spec, credentials.params).map_err(|error| {
        let pointer = match error.param_name() {
            Some(name) => format!(
                "/auth/params/{}",
                flowd_spec::problem::escape_pointer_token(name)
            ),
            None => "/auth/params".to_owned(),
        };
        invalid(vec![Problem::new(pointer, error.to_string())])
    })?;
    // The template shape keeps its host in each source connection's params; then only the
    // auth params can say where the credentials belong.
    let spec_host = match flowd_spec::source_shape(connection_spec) {
        flowd_spec::SourceShape::Executable => {
            flowd_spec::resolve_source_fetch_config(connection_spec, &Value::Null)
                .ok()
                .and_then(|fetch| fetch.url.host)
        }
        flowd_spec::SourceShape::GenericTemplate { .. } => None,
    };
    let credential_origin = credential_origin(spec_host.as_deref(), credentials.params);
    Ok(PreparedAuth {
        auth_spec,
        session: Arc::new(AuthSession::new(auth, on_refresh)),
        credential_origin,
    })
}

/// Everything a run needs besides the HTTP client.
pub struct RunInputs<'a> {
    /// The connection spec document.
    pub connection_spec: &'a Value,
    /// The base connection's credentials; `None` runs without authentication.
    pub credentials: Option<Credentials<'a>>,
    /// The source connection's `params`.
    pub source_params: &'a Map<String, Value>,
    pub window: Option<Window>,
    pub limits: RunLimits,
    /// Receives OAuth tokens refreshed during the run.
    pub on_refresh: Option<TokenCallback>,
}

/// The plan of one run: the source params checked and the fetch configuration resolved
/// (`flowd_spec::resolve_source`), then the credentials ([`prepare_auth`]).
/// Every problem of both is reported at once.
pub fn prepare_run(inputs: RunInputs<'_>) -> Result<RunPlan, PrepareError> {
    let fetch = flowd_spec::resolve_source(
        inputs.connection_spec,
        &Value::Object(inputs.source_params.clone()),
    );
    let auth = inputs
        .credentials
        .map(|credentials| prepare_auth(inputs.connection_spec, credentials, inputs.on_refresh))
        .transpose();
    match (fetch, auth) {
        (Ok(fetch), Ok(auth)) => Ok(RunPlan {
            fetch: Arc::new(fetch),
            auth: auth.map(|prepared| prepared.session),
            source_params: inputs.source_params.clone(),
            window: inputs.window,
            limits: inputs.limits,
        }),
        (Ok(_), Err(error)) => Err(error),
        (Err(problems), Ok(_)) => Err(invalid(problems)),
        (Err(mut problems), Err(error)) => {
            problems.extend(error.problems());
            Err(invalid(problems))
        }
    }
}

/// Calls `url` (a connection's `authorizationTestUrl`) with the credentials applied; `Err`
/// with the reason (secrets redacted) unless it answers 2xx.
pub async fn probe_credentials(
    client: &HttpClient,
    prepared: &PreparedAuth,
    url: &str,
) -> Result<(), String> {
    let session = &prepared.session;
    let url =
        url::Url::parse(url).map_err(|_| "authorizationTestUrl is not a valid URL".to_owned())?;
    let allowed = prepared
        .credential_origin
        .as_ref()
        .map_err(ToString::to_string)?;
    check_credential_origin(&url, allowed)
        .map_err(|error| format!("authorizationTestUrl: {error}"))?;
    let request = OutgoingRequest {
        method: reqwest::Method::GET,
        url,
        headers: Vec::new(),
        body: None,
    };
    client
        .send(&request, Some(session))
        .await
        .map(|_| ())
        .map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec() -> Value {
        json!({
            "authSpec": [
                {"name": "OAuth2 Refresh Code", "type": "OAuth2RefreshCode", "spec": {"type": "object", "required": ["accessToken"], "properties": {"accessToken": {"type": "string", "format": "password"}}}},
                {"name": "Basic Authentication", "type": "BasicAuthentication", "spec": {"type": "object", "properties": {"password": {"type": "string", "format": "password"}}}}
            ],
            "sourceSpec": {
                "spec": {"type": "object", "required": ["listId"], "properties": {"listId": {"type": "string"}}},
                "attributes": {"urlParams": {"host": "https://example.test", "path": "/x"}, "contentPath": {"path": "$.items"}}
            }
        })
    }

    #[test]
    fn an_unknown_spec_name_names_the_known_ones() {
        let params = Map::new();
        let error = prepare_auth(
            &spec(),
            Credentials {
                spec_name: "Nope",
                params: &params,
            },
            None,
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "auth spec Nope could not be found in the connection spec (it has: OAuth2 Refresh Code, Basic Authentication)"
        );
    }

    #[test]
    fn source_params_and_credentials_are_checked_together() {
        let params = Map::new();
        let source_params = json!({"listId": 5}).as_object().unwrap().clone();
        let error = prepare_run(RunInputs {
            connection_spec: &spec(),
            credentials: Some(Credentials {
                spec_name: "OAuth 2 Refresh Code",
                params: &params,
            }),
            source_params: &source_params,
            window: None,
            limits: RunLimits::default(),
            on_refresh: None,
        })
        .err()
        .expect("the run cannot be prepared");
        let pointers: Vec<String> = error
            .problems()
            .into_iter()
            .map(|problem| problem.pointer)
            .collect();
        assert_eq!(pointers, ["/params/listId", "/auth/params"]);
    }

    #[test]
    fn a_valid_connection_prepares_a_plan_with_its_session() {
        let params = json!({"username": "u", "password": "p"})
            .as_object()
            .unwrap()
            .clone();
        let source_params = json!({"listId": "l"}).as_object().unwrap().clone();
        let plan = prepare_run(RunInputs {
            connection_spec: &spec(),
            credentials: Some(Credentials {
                spec_name: "basic authentication",
                params: &params,
            }),
            source_params: &source_params,
            window: None,
            limits: RunLimits::default(),
            on_refresh: None,
        })
        .unwrap_or_else(|error| panic!("{error}"));
        assert!(plan.auth.is_some());
        assert_eq!(plan.source_params["listId"], "l");
    }
}
