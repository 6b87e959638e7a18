//! Authentication of outbound requests, one module per `authSpec[].type`
//! (reference §4.7), resolved once per run from the connection's
//! `auth.specName` and `auth.params`.
//!
//! `specName` is matched against `authSpec[].name`, then `authSpec[].type`,
//! ignoring case and every character that is not a letter or digit, so the
//! spellings Adobe's own documents use for one spec (`OAuth2 Refresh Code`,
//! `OAuth 2 Refresh Code`, `oAuth2RefreshCode`) all find it.

mod basic;
mod key_based;
mod oauth2;

use std::sync::{Arc, RwLock};

use reqwest::header::{HeaderName, HeaderValue};
use serde_json::{Map, Value};

pub use basic::BasicAuthentication;
pub use key_based::KeyBasedAuthentication;
pub(crate) use oauth2::transport_error_kind;
pub use oauth2::{OAuth2RefreshCode, RefreshedTokens, TokenCallback};

use crate::secret::Redactor;

/// Why authentication could not be set up or renewed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("auth spec {spec_name} could not be found in the connection spec")]
    SpecNotFound { spec_name: String },
    #[error(
        "auth type {auth_type} is not supported (supported: BasicAuthentication, OAuth2RefreshCode, KeyBased)"
    )]
    UnsupportedType { auth_type: String },
    #[error("auth param {name} is required for {auth_type}")]
    MissingParam { name: String, auth_type: String },
    #[error("auth param {name} must be {expected}")]
    InvalidParam { name: String, expected: String },
    #[error("the access token was refused and cannot be refreshed: {reason}")]
    RefreshUnavailable { reason: String },
    #[error("refreshing the access token at {url} failed: {reason}")]
    RefreshFailed { url: String, reason: String },
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
                let shown = if ALWAYS_SECRET_PARAMS.contains(&name.as_str())
                    || name.starts_with("authKey")
                {
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

/// Params that hold credentials for every auth type, whatever the schema says.
const ALWAYS_SECRET_PARAMS: [&str; 4] = ["password", "accessToken", "refreshToken", "clientSecret"];

fn comparable(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|character| character.to_ascii_lowercase())
        .collect()
}

/// The `authSpec[]` element `spec_name` designates: by `name`, then by `type`.
pub fn find_auth_spec<'a>(auth_specs: &'a Value, spec_name: &str) -> Option<&'a Value> {
    let wanted = comparable(spec_name);
    let elements = auth_specs.as_array()?;
    let matching = |field: &str| {
        elements.iter().find(|element| {
            element
                .get(field)
                .and_then(Value::as_str)
                .is_some_and(|value| comparable(value) == wanted)
        })
    };
    matching("name").or_else(|| matching("type"))
}

/// Builds the run's authentication from the connection spec's `authSpec`
/// array and the connection's `auth` object (`{"specName", "params"}`).
pub fn resolve_connection_auth(
    auth_specs: &Value,
    connection_auth: &Value,
) -> Result<ConnectionAuth, AuthError> {
    let spec_name = connection_auth
        .get("specName")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let auth_spec =
        find_auth_spec(auth_specs, spec_name).ok_or_else(|| AuthError::SpecNotFound {
            spec_name: spec_name.to_owned(),
        })?;
    let auth_type = auth_spec
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let params = connection_auth
        .get("params")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let schema = auth_spec.get("spec").unwrap_or(&Value::Null);
    let mut redactor = Redactor::default();
    for name in secret_param_names(schema) {
        if let Some(value) = params.get(&name).and_then(Value::as_str) {
            redactor.add(value);
        }
    }
    let method = match comparable(auth_type).as_str() {
        "basicauthentication" | "basic" => {
            AuthMethod::Basic(BasicAuthentication::from_params(&params, &mut redactor)?)
        }
        "oauth2refreshcode" => AuthMethod::OAuth2(Box::new(OAuth2RefreshCode::from_params(
            &params,
            &mut redactor,
        )?)),
        "keybased" | "apikeyauthentication" | "apikey" => AuthMethod::KeyBased(
            KeyBasedAuthentication::from_params(schema, &params, &mut redactor)?,
        ),
        _ => {
            return Err(AuthError::UnsupportedType {
                auth_type: auth_type.to_owned(),
            });
        }
    };
    Ok(ConnectionAuth {
        method,
        params,
        redactor: Arc::new(RwLock::new(redactor)),
    })
}

/// Param names that hold secrets: `format: password` in the schema, plus
/// the credential names every auth type uses whatever the schema says.
pub fn secret_param_names(schema: &Value) -> Vec<String> {
    let mut names = flowd_spec::secret_properties(schema);
    for always_secret in ALWAYS_SECRET_PARAMS {
        if !names.iter().any(|name| name == always_secret) {
            names.push(always_secret.to_owned());
        }
    }
    names
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

/// The authentication state of one run, shared by its concurrent requests.
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

    /// `text` with every secret this session knows replaced.
    pub fn redact(&self, text: &str) -> String {
        self.auth
            .redactor
            .read()
            .expect("redactor lock")
            .redact(text)
    }

    /// Headers that authenticate one request (refreshing an expired token).
    pub async fn credentials(
        &self,
        client: &reqwest::Client,
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
        client: &reqwest::Client,
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn auth_specs() -> Value {
        json!([
            {"name": "OAuth2 Refresh Code", "type": "OAuth2RefreshCode", "spec": {"properties": {"accessToken": {"type": "string", "format": "password"}}}},
            {"name": "Basic Authentication", "type": "BasicAuthentication", "spec": {"properties": {"password": {"type": "string", "format": "password"}}}}
        ])
    }

    #[test]
    fn spec_names_match_by_name_then_type_ignoring_case_and_spacing() {
        let specs = auth_specs();
        for (spec_name, expected_type) in [
            ("OAuth2 Refresh Code", "OAuth2RefreshCode"),
            ("OAuth 2 Refresh Code", "OAuth2RefreshCode"),
            ("oAuth2RefreshCode", "OAuth2RefreshCode"),
            ("basic authentication", "BasicAuthentication"),
            ("BasicAuthentication", "BasicAuthentication"),
        ] {
            let found = find_auth_spec(&specs, spec_name).expect(spec_name);
            assert_eq!(found["type"], expected_type, "{spec_name}");
        }
        assert!(find_auth_spec(&specs, "KeyBased").is_none());
    }

    #[test]
    fn an_unknown_spec_name_is_a_clear_error() {
        let error =
            resolve_connection_auth(&auth_specs(), &json!({"specName": "Nope", "params": {}}))
                .unwrap_err();
        assert_eq!(
            error.to_string(),
            "auth spec Nope could not be found in the connection spec"
        );
    }
}
