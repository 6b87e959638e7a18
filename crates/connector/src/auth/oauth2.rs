//! `OAuth2RefreshCode`: `Authorization: Bearer <accessToken>`, renewed with
//! the refresh token when `expirationDate` has passed or a request gets 401
//! once (reference §4.2, §4.7).
//!
//! The refresh is one form-encoded `POST` (or a `GET` with query parameters
//! when `requestParameterOverride.authenticationMethod` says so) of
//! `grant_type=refresh_token`, `refresh_token`, and the client id and secret
//! when given, to `accessTokenUrl` (else `refreshTokenUrl`). Field names of
//! the token response (`access_token`, `refresh_token`, `expires_in`) and the
//! parameter names of the client id and secret can be overridden in
//! `requestParameterOverride`.
//!
//! New tokens (a rotated refresh token included) go to the session's
//! [`TokenStore`] *before* the new access token is used: a crash right after a
//! refresh never loses the only valid refresh token. Refreshes are serialized:
//! concurrent requests that all got 401 cause one refresh, not a storm (and a
//! session is shared by every run and preview of a connection, see
//! [`super::AuthSessions`]). A refresh the token endpoint refuses with
//! `invalid_grant` reloads the stored tokens once: another process may have
//! rotated the refresh token, in which case its tokens are used. A refresh that
//! failed is not tried again by the same session: every request waiting for it
//! fails with the same error, and the next run starts a new session.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use jiff::Timestamp;
use reqwest::header::HeaderValue;
use serde_json::{Map, Value};

use super::{AuthError, optional_string, required_string};
use crate::secret::{Redactor, Secret};

const AUTH_TYPE: &str = "OAuth2RefreshCode";

/// Tokens are renewed this long before `expirationDate`, so a request never
/// leaves with a token that expires in flight.
const EXPIRY_MARGIN: Duration = Duration::from_secs(30);

/// Tokens obtained by a refresh, handed to the [`TokenCallback`].
#[derive(Debug, Clone)]
pub struct RefreshedTokens {
    pub access_token: Secret,
    /// The new refresh token when the server rotated it, else the old one.
    pub refresh_token: Option<Secret>,
    pub expiration: Option<Timestamp>,
}

/// Where a session keeps its OAuth tokens.
#[async_trait::async_trait]
pub trait TokenStore: Send + Sync {
    /// Keeps the tokens of a refresh; called while the refresh holds the session, so no
    /// request uses the new access token before this returns. A failure is the store's to
    /// report (the tokens are valid either way).
    async fn save(&self, tokens: &RefreshedTokens);

    /// The tokens kept now, for a session whose refresh token was refused (another process
    /// may have rotated it). `None` when nothing is kept.
    async fn load(&self) -> Option<RefreshedTokens> {
        None
    }
}

/// The [`TokenStore`] a session saves into.
pub type TokenCallback = Arc<dyn TokenStore>;

/// How many refresh tokens a session remembers having held (initial and rotated), to tell a
/// stored connection it may serve from one that changed under it.
const HELD_REFRESH_TOKENS: usize = 8;

#[derive(Debug, Clone)]
struct TokenState {
    access_token: Secret,
    refresh_token: Option<Secret>,
    expires_at: Option<Timestamp>,
    /// Grows by one at each refresh; a 401 for an older generation means
    /// another request already refreshed.
    generation: u64,
    /// Why the last refresh failed: later requests fail with it at once
    /// rather than each asking the token endpoint again.
    failed_refresh: Option<AuthError>,
    /// Refresh and access tokens this session held, newest last (at most
    /// [`HELD_REFRESH_TOKENS`] of each).
    held_refresh_tokens: Vec<Secret>,
    held_access_tokens: Vec<Secret>,
}

/// A refresh that failed, and whether the token endpoint refused the refresh token itself.
struct RefreshFailure {
    error: AuthError,
    grant_refused: bool,
}

impl From<AuthError> for RefreshFailure {
    fn from(error: AuthError) -> RefreshFailure {
        RefreshFailure {
            error,
            grant_refused: false,
        }
    }
}

/// Names used when talking to the token endpoint.
#[derive(Debug, Clone)]
struct TokenEndpointNames {
    access_token_field: String,
    refresh_token_field: String,
    expires_in_field: String,
    client_id_parameter: String,
    client_secret_parameter: String,
    use_get: bool,
}

/// An OAuth2 access token with what is needed to renew it.
#[derive(Debug)]
pub struct OAuth2RefreshCode {
    state: tokio::sync::Mutex<TokenState>,
    token_url: Option<String>,
    client_id: Option<String>,
    client_secret: Option<Secret>,
    names: TokenEndpointNames,
}

/// Reads `expirationDate`: RFC 3339, a bare date, or epoch seconds or milliseconds.
pub fn parse_expiration(value: &Value) -> Option<Timestamp> {
    match value {
        Value::Number(number) => {
            let number = number.as_i64()?;
            if number > 100_000_000_000 {
                Timestamp::from_millisecond(number).ok()
            } else {
                Timestamp::from_second(number).ok()
            }
        }
        Value::String(text) => text
            .parse::<Timestamp>()
            .ok()
            .or_else(|| {
                let date: jiff::civil::Date = text.parse().ok()?;
                date.to_zoned_datetime(jiff::tz::TimeZone::UTC)
                    .ok()
                    .map(|zoned| zoned.timestamp())
            })
            .or_else(|| {
                text.parse::<i64>()
                    .ok()
                    .and_then(|number| parse_expiration(&Value::from(number)))
            }),
        _ => None,
    }
}

impl OAuth2RefreshCode {
    pub fn from_params(
        params: &Map<String, Value>,
        redactor: &mut Redactor,
    ) -> Result<OAuth2RefreshCode, AuthError> {
        let access_token = required_string(params, "accessToken", AUTH_TYPE)?;
        let refresh_token = optional_string(params, "refreshToken")?;
        let client_secret = optional_string(params, "clientSecret")?;
        for secret in [
            Some(&access_token),
            refresh_token.as_ref(),
            client_secret.as_ref(),
        ]
        .into_iter()
        .flatten()
        {
            redactor.add(secret);
        }
        let overrides = params
            .get("requestParameterOverride")
            .and_then(Value::as_object);
        let override_name = |key: &str, default: &str| {
            overrides
                .and_then(|overrides| overrides.get(key))
                .and_then(Value::as_str)
                .filter(|name| !name.is_empty())
                .unwrap_or(default)
                .to_owned()
        };
        let names = TokenEndpointNames {
            access_token_field: override_name("accessTokenField", "access_token"),
            refresh_token_field: override_name("refreshTokenField", "refresh_token"),
            expires_in_field: override_name("expireInField", "expires_in"),
            client_id_parameter: override_name("clientId", "client_id"),
            client_secret_parameter: override_name("clientSecret", "client_secret"),
            use_get: override_name("authenticationMethod", "POST").eq_ignore_ascii_case("GET"),
        };
        let token_url = match optional_string(params, "accessTokenUrl")? {
            Some(url) => Some(url),
            None => optional_string(params, "refreshTokenUrl")?,
        };
        let refresh_token = refresh_token.map(Secret::new);
        let access_token = Secret::new(access_token);
        Ok(OAuth2RefreshCode {
            state: tokio::sync::Mutex::new(TokenState {
                held_access_tokens: vec![access_token.clone()],
                access_token,
                held_refresh_tokens: refresh_token.iter().cloned().collect(),
                refresh_token,
                expires_at: params.get("expirationDate").and_then(parse_expiration),
                generation: 0,
                failed_refresh: None,
            }),
            token_url,
            client_id: optional_string(params, "clientId")?,
            client_secret: client_secret.map(Secret::new),
            names,
        })
    }

    /// The `Authorization` header and the token generation it carries,
    /// refreshing first when the token has expired and can be refreshed.
    pub async fn authorization(
        &self,
        client: &crate::http::HttpClient,
        redactor: &RwLock<Redactor>,
        on_refresh: Option<&TokenCallback>,
    ) -> Result<(HeaderValue, u64), AuthError> {
        let mut state = self.state.lock().await;
        let expired = state
            .expires_at
            .is_some_and(|expires_at| expires_at <= Timestamp::now() + EXPIRY_MARGIN);
        if expired && self.can_refresh(&state) {
            self.refresh(&mut state, client, redactor, on_refresh)
                .await?;
        }
        Ok((bearer(&state.access_token)?, state.generation))
    }

    /// After a 401 for a token of `generation`: refreshes unless another
    /// request already did. An error means the request must fail.
    pub async fn refresh_after_unauthorized(
        &self,
        generation: u64,
        client: &crate::http::HttpClient,
        redactor: &RwLock<Redactor>,
        on_refresh: Option<&TokenCallback>,
    ) -> Result<(), AuthError> {
        let mut state = self.state.lock().await;
        if state.generation != generation {
            return Ok(());
        }
        if !self.can_refresh(&state) {
            return Err(AuthError::RefreshUnavailable {
                reason: "the connection has no refreshToken and accessTokenUrl".to_owned(),
            });
        }
        self.refresh(&mut state, client, redactor, on_refresh).await
    }

    fn can_refresh(&self, state: &TokenState) -> bool {
        state.refresh_token.is_some() && self.token_url.is_some()
    }

    /// Whether this session may serve a connection whose tokens are now `access_token` and
    /// `refresh_token`: its last refresh did not fail, and it held both (the connection was
    /// stored before or after one of this session's refreshes, not changed by someone else).
    pub(crate) async fn serves_tokens(
        &self,
        access_token: Option<&str>,
        refresh_token: Option<&str>,
    ) -> bool {
        let state = self.state.lock().await;
        let held =
            |tokens: &[Secret], token: &str| tokens.iter().any(|held| held.expose() == token);
        state.failed_refresh.is_none()
            && access_token.is_some_and(|token| held(&state.held_access_tokens, token))
            && match refresh_token {
                None => state.refresh_token.is_none(),
                Some(token) => held(&state.held_refresh_tokens, token),
            }
    }

    /// Refreshes once per session: after a failure, returns that failure. A refresh token the
    /// endpoint refuses sends the session to the stored tokens once.
    async fn refresh(
        &self,
        state: &mut TokenState,
        client: &crate::http::HttpClient,
        redactor: &RwLock<Redactor>,
        on_refresh: Option<&TokenCallback>,
    ) -> Result<(), AuthError> {
        if let Some(error) = &state.failed_refresh {
            return Err(error.clone());
        }
        let mut outcome = self
            .request_new_tokens(state, client, redactor, on_refresh)
            .await;
        if let (Err(failure), Some(store)) = (&outcome, on_refresh)
            && failure.grant_refused
            && let Some(stored) = store.load().await
            && stored.refresh_token.as_ref().map(Secret::expose)
                != state.refresh_token.as_ref().map(Secret::expose)
        {
            tracing::info!(
                "the refresh token was refused and the stored one differs (rotated elsewhere); using the stored tokens"
            );
            self.adopt(state, &stored, redactor);
            let fresh = state
                .expires_at
                .is_none_or(|expires_at| expires_at > Timestamp::now() + EXPIRY_MARGIN);
            outcome = if fresh {
                Ok(())
            } else {
                self.request_new_tokens(state, client, redactor, on_refresh)
                    .await
            };
        }
        outcome.map_err(|failure| {
            state.failed_refresh = Some(failure.error.clone());
            failure.error
        })
    }

    /// Takes over tokens another session stored.
    fn adopt(&self, state: &mut TokenState, stored: &RefreshedTokens, redactor: &RwLock<Redactor>) {
        {
            let mut redactor = redactor.write().expect("redactor lock");
            redactor.add(stored.access_token.expose());
            if let Some(token) = &stored.refresh_token {
                redactor.add(token.expose());
            }
        }
        state.access_token = stored.access_token.clone();
        hold(&mut state.held_access_tokens, &stored.access_token);
        if let Some(token) = &stored.refresh_token {
            state.refresh_token = Some(token.clone());
            hold(&mut state.held_refresh_tokens, token);
        }
        state.expires_at = stored.expiration;
        state.generation += 1;
    }

    async fn request_new_tokens(
        &self,
        state: &mut TokenState,
        client: &crate::http::HttpClient,
        redactor: &RwLock<Redactor>,
        on_refresh: Option<&TokenCallback>,
    ) -> Result<(), RefreshFailure> {
        let (Some(token_url), Some(refresh_token)) = (&self.token_url, &state.refresh_token) else {
            return Err(AuthError::RefreshUnavailable {
                reason: "the connection has no refreshToken and accessTokenUrl".to_owned(),
            }
            .into());
        };
        let shown_url = redactor.read().expect("redactor lock").redact(token_url);
        let failed = |reason: String| AuthError::RefreshFailed {
            url: shown_url.clone(),
            reason,
        };
        let mut form: Vec<(&str, &str)> = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
        ];
        if let Some(client_id) = &self.client_id {
            form.push((&self.names.client_id_parameter, client_id));
        }
        if let Some(client_secret) = &self.client_secret {
            form.push((&self.names.client_secret_parameter, client_secret.expose()));
        }
        let parsed_url = url::Url::parse(token_url)
            .map_err(|_| failed("accessTokenUrl is not a valid URL".to_owned()))?;
        client
            .upstream()
            .check_url(&parsed_url, &shown_url)
            .map_err(|refused| failed(refused.to_string()))?;
        let request = if self.names.use_get {
            client.inner().get(parsed_url).query(&form)
        } else {
            client.inner().post(parsed_url).form(&form)
        };
        let response = request
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|error| match crate::upstream::refusal_in(&error) {
                Some(refused) => failed(refused.to_string()),
                None => failed(format!(
                    "the token endpoint could not be reached ({})",
                    transport_cause(&error, &shown_url, client)
                )),
            })?;
        let status = response.status();
        let body = response.bytes().await.map_err(|error| {
            failed(format!(
                "the token response could not be read ({})",
                transport_cause(&error, &shown_url, client)
            ))
        })?;
        if !status.is_success() {
            let snippet = redactor.read().expect("redactor lock").snippet(&body, 300);
            // RFC 6749 §5.2: a refused refresh token is `invalid_grant`, with 400 (some
            // servers answer 401).
            let grant_refused = matches!(status.as_u16(), 400 | 401)
                && serde_json::from_slice::<Value>(&body).is_ok_and(|answer| {
                    answer.get("error").and_then(Value::as_str) == Some("invalid_grant")
                });
            return Err(RefreshFailure {
                error: failed(format!("status {}: {snippet}", status.as_u16())),
                grant_refused,
            });
        }
        let answer: Value = serde_json::from_slice(&body)
            .map_err(|_| failed("the token response is not JSON".to_owned()))?;
        let access_token = answer
            .get(&self.names.access_token_field)
            .and_then(Value::as_str)
            .filter(|token| !token.is_empty())
            .ok_or_else(|| {
                failed(format!(
                    "the token response has no {} field",
                    self.names.access_token_field
                ))
            })?;
        let rotated_refresh_token = answer
            .get(&self.names.refresh_token_field)
            .and_then(Value::as_str)
            .filter(|token| !token.is_empty());
        let expires_in = answer.get(&self.names.expires_in_field).and_then(|value| {
            value
                .as_i64()
                .or_else(|| value.as_str().and_then(|text| text.parse().ok()))
        });
        {
            let mut redactor = redactor.write().expect("redactor lock");
            redactor.add(access_token);
            if let Some(token) = rotated_refresh_token {
                redactor.add(token);
            }
        }
        state.access_token = Secret::new(access_token);
        hold(&mut state.held_access_tokens, &state.access_token.clone());
        if let Some(token) = rotated_refresh_token {
            let token = Secret::new(token);
            hold(&mut state.held_refresh_tokens, &token);
            state.refresh_token = Some(token);
        }
        state.expires_at = expires_in.and_then(|seconds| {
            Timestamp::now()
                .checked_add(jiff::SignedDuration::from_secs(seconds))
                .ok()
        });
        state.generation += 1;
        tracing::info!(
            generation = state.generation,
            "oauth2 access token refreshed"
        );
        if let Some(store) = on_refresh {
            store
                .save(&RefreshedTokens {
                    access_token: state.access_token.clone(),
                    refresh_token: state.refresh_token.clone(),
                    expiration: state.expires_at,
                })
                .await;
        }
        fail::fail_point!("oauth-tokens-saved");
        Ok(())
    }
}

fn hold(held: &mut Vec<Secret>, token: &Secret) {
    if held.len() == HELD_REFRESH_TOKENS {
        held.remove(0);
    }
    held.push(token.clone());
}

fn bearer(token: &Secret) -> Result<HeaderValue, AuthError> {
    let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
        AuthError::InvalidParam {
            name: "accessToken".to_owned(),
            expected: "a value allowed in an HTTP header".to_owned(),
        }
    })?;
    value.set_sensitive(true);
    Ok(value)
}

/// The kind of a transport error, without its URL (which may hold secrets).
/// The cause of a failed token request, said once ([`crate::cause::TransportCause`]).
fn transport_cause(
    error: &reqwest::Error,
    shown_url: &str,
    client: &crate::http::HttpClient,
) -> crate::cause::TransportCause {
    let options = client.options();
    crate::cause::TransportCause::of(
        error,
        shown_url,
        options.connect_timeout,
        options.request_timeout,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn expiration_dates_are_read_in_every_form_seen() {
        let expected: Timestamp = "2024-05-01T00:00:00Z".parse().unwrap();
        for value in [
            json!("2024-05-01T00:00:00Z"),
            json!("2024-05-01"),
            json!(1714521600),
            json!(1714521600000_i64),
            json!("1714521600"),
        ] {
            assert_eq!(parse_expiration(&value), Some(expected), "{value}");
        }
        assert_eq!(parse_expiration(&json!("soon")), None);
    }

    #[test]
    fn debug_output_shows_no_token() {
        let params = json!({"accessToken": "at-123456", "refreshToken": "rt-123456", "clientSecret": "cs-123456"});
        let oauth =
            OAuth2RefreshCode::from_params(params.as_object().unwrap(), &mut Redactor::default())
                .unwrap();
        let shown = format!("{oauth:?}");
        for secret in ["at-123456", "rt-123456", "cs-123456"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }
}
