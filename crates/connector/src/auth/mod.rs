//! Authentication of outbound requests, one module per `flowd_spec::AuthType`
//! (reference §4.7), built once per run from the resolved auth spec and the
//! connection's `auth.params` (see `crate::plan` for where the auth spec is
//! chosen).

mod basic;
mod key_based;
mod oauth2;
mod shared;

use std::sync::{Arc, RwLock};

use reqwest::header::{HeaderName, HeaderValue};
use serde_json::{Map, Value};

pub use basic::BasicAuthentication;
pub use key_based::KeyBasedAuthentication;
pub use oauth2::{OAuth2RefreshCode, RefreshedTokens, TokenCallback, TokenStore, parse_expiration};
pub use shared::AuthSessions;

use flowd_spec::{AuthSpec, AuthType};

use crate::secret::Redactor;

/// Why authentication could not be set up or renewed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("auth param {name} is required for {auth_type}")]
    MissingParam { name: String, auth_type: String },
    #[error("auth param {name} must be {expected}")]
    InvalidParam { name: String, expected: String },
    #[error("the access token was refused and cannot be refreshed: {reason}")]
    RefreshUnavailable { reason: String },
    #[error("refreshing the access token at {url} failed: {reason}")]
    RefreshFailed { url: String, reason: String },
}

impl AuthError {
    /// The auth param the error is about, when it is about one.
    pub fn param_name(&self) -> Option<&str> {
        match self {
            AuthError::MissingParam { name, .. } | AuthError::InvalidParam { name, .. } => {
                Some(name)
            }
            _ => None,
        }
    }
}

/// One supported authentication method with its credentials.
#[derive(Debug)]
pub enum AuthMethod {
    Basic(BasicAuthentication),
    OAuth2(Box<OAuth2RefreshCode>),
    KeyBased(KeyBasedAuthentication),
}

/// The credentials of one run: the method, the raw params (for `${...}`
/// placeholders such as `host`), and the redactor that knows every secret.
pub struct ConnectionAuth {
    pub method: AuthMethod,
    /// `auth.params` as given; secrets among them are redacted on display.
    pub params: Map<String, Value>,
    /// The params that are secrets ([`AuthSpec::secret_param_names`]).
    pub secret_names: Vec<String>,
    pub redactor: Arc<RwLock<Redactor>>,
}

impl std::fmt::Debug for ConnectionAuth {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redactor = self.redactor.read().expect("redactor lock");
        // Values of credential names are hidden whatever their length (the
        // redactor skips very short values); every other string goes
        // through the redactor.
        let shown_params: Map<String, Value> = self
            .params
            .iter()
            .map(|(name, value)| {
                let shown = if self.secret_names.contains(name) {
                    Value::from(crate::secret::REDACTED)
                } else {
                    match value {
                        Value::String(text) => Value::from(redactor.redact(text)),
                        other => Value::from(redactor.redact(&other.to_string())),
                    }
                };
                (name.clone(), shown)
            })
            .collect();
        formatter
            .debug_struct("ConnectionAuth")
            .field("method", &self.method)
            .field("params", &shown_params)
            .field("redactor", &*redactor)
            .finish()
    }
}

/// Builds a connection's authentication from its resolved auth spec and its plaintext
/// `auth.params`.
pub fn resolve_connection_auth(
    auth_spec: &AuthSpec,
    params: &Map<String, Value>,
) -> Result<ConnectionAuth, AuthError> {
    let mut redactor = Redactor::default();
    let secret_names = auth_spec.secret_param_names(params);
    for name in &secret_names {
        if let Some(value) = params.get(name).and_then(Value::as_str) {
            redactor.add(value);
        }
    }
    let method = match auth_spec.auth_type {
        AuthType::BasicAuthentication => {
            AuthMethod::Basic(BasicAuthentication::from_params(params, &mut redactor)?)
        }
        AuthType::OAuth2RefreshCode => AuthMethod::OAuth2(Box::new(
            OAuth2RefreshCode::from_params(params, &mut redactor)?,
        )),
        AuthType::KeyBased => AuthMethod::KeyBased(KeyBasedAuthentication::from_params(
            &auth_spec.schema,
            params,
            &mut redactor,
        )?),
    };
    Ok(ConnectionAuth {
        method,
        params: params.clone(),
        secret_names,
        redactor: Arc::new(RwLock::new(redactor)),
    })
}

fn required_string(
    params: &Map<String, Value>,
    name: &str,
    auth_type: &str,
) -> Result<String, AuthError> {
    optional_string(params, name)?.ok_or_else(|| AuthError::MissingParam {
        name: name.to_owned(),
        auth_type: auth_type.to_owned(),
    })
}

fn optional_string(params: &Map<String, Value>, name: &str) -> Result<Option<String>, AuthError> {
    match params.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.is_empty() => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(AuthError::InvalidParam {
            name: name.to_owned(),
            expected: "a string".to_owned(),
        }),
    }
}

fn header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), AuthError> {
    let header_name =
        HeaderName::from_bytes(name.as_bytes()).map_err(|_| AuthError::InvalidParam {
            name: name.to_owned(),
            expected: "a valid HTTP header name".to_owned(),
        })?;
    let mut header_value = HeaderValue::from_str(value).map_err(|_| AuthError::InvalidParam {
        name: name.to_owned(),
        expected: "a value allowed in an HTTP header".to_owned(),
    })?;
    header_value.set_sensitive(true);
    Ok((header_name, header_value))
}

/// The authentication state of a connection, shared by the concurrent requests of a run and,
/// for OAuth, by every run and preview of the connection ([`AuthSessions`]).
pub struct AuthSession {
    auth: ConnectionAuth,
    on_refresh: Option<TokenCallback>,
}

impl std::fmt::Debug for AuthSession {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("AuthSession")
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

/// Credentials for one request, and what to quote if the server refuses them.
pub struct RequestCredentials {
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// The OAuth token generation the headers carry (`None` for other types).
    pub token_generation: Option<u64>,
}

impl AuthSession {
    pub fn new(auth: ConnectionAuth, on_refresh: Option<TokenCallback>) -> AuthSession {
        AuthSession { auth, on_refresh }
    }

    /// The connection's `auth.params` (for placeholders such as `${host}`).
    pub fn params(&self) -> &Map<String, Value> {
        &self.auth.params
    }

    /// The auth params that are secrets (sealed at rest, masked on read).
    pub fn secret_names(&self) -> &[String] {
        &self.auth.secret_names
    }

    /// `text` with every secret this session knows replaced.
    pub fn redact(&self, text: &str) -> String {
        self.auth
            .redactor
            .read()
            .expect("redactor lock")
            .redact(text)
    }

    /// The first `max_bytes` of `body`, every secret this session knows redacted (see
    /// [`Redactor::snippet`]).
    pub fn snippet(&self, body: &[u8], max_bytes: usize) -> String {
        self.auth
            .redactor
            .read()
            .expect("redactor lock")
            .snippet(body, max_bytes)
    }

    /// The headers [`AuthSession::credentials`] adds to every request, for a trace: their
    /// names and the scheme (`Basic`, `Bearer`), every value masked.
    pub fn shown_headers(&self) -> Vec<(String, String)> {
        const MASK: &str = "********";
        match &self.auth.method {
            AuthMethod::Basic(_) => vec![("Authorization".to_owned(), format!("Basic {MASK}"))],
            AuthMethod::OAuth2(_) => vec![("Authorization".to_owned(), format!("Bearer {MASK}"))],
            AuthMethod::KeyBased(keys) => keys
                .header_names()
                .map(|name| (name.to_owned(), MASK.to_owned()))
                .collect(),
        }
    }

    /// Headers that authenticate one request (refreshing an expired token).
    pub async fn credentials(
        &self,
        client: &crate::http::HttpClient,
    ) -> Result<RequestCredentials, AuthError> {
        match &self.auth.method {
            AuthMethod::Basic(basic) => Ok(RequestCredentials {
                headers: basic.headers()?,
                token_generation: None,
            }),
            AuthMethod::KeyBased(keys) => Ok(RequestCredentials {
                headers: keys.headers()?,
                token_generation: None,
            }),
            AuthMethod::OAuth2(oauth) => {
                let (authorization, generation) = oauth
                    .authorization(client, &self.auth.redactor, self.on_refresh.as_ref())
                    .await?;
                Ok(RequestCredentials {
                    headers: vec![(reqwest::header::AUTHORIZATION, authorization)],
                    token_generation: Some(generation),
                })
            }
        }
    }

    /// After a 401: `Ok(true)` when the request should be sent once more with
    /// renewed credentials, `Ok(false)` when the method cannot renew them.
    pub async fn renew_after_unauthorized(
        &self,
        client: &crate::http::HttpClient,
        token_generation: Option<u64>,
    ) -> Result<bool, AuthError> {
        match (&self.auth.method, token_generation) {
            (AuthMethod::OAuth2(oauth), Some(generation)) => {
                oauth
                    .refresh_after_unauthorized(
                        generation,
                        client,
                        &self.auth.redactor,
                        self.on_refresh.as_ref(),
                    )
                    .await?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}
