//! The console's session cookie: reading it, checking a request authenticated by it, and the
//! `Set-Cookie` values that start and end a session.
//!
//! The cookie holds 256 random bits (base64url); the store keeps only their SHA-256, so the
//! store's rows cannot be replayed as cookies. A request authenticated by the cookie that may
//! change state (any method but GET, HEAD and OPTIONS) must also send the session's CSRF
//! token in `x-csrf-token`: a cross-site page can make a browser send the cookie (SameSite
//! aside), but it cannot read the token, which the console gets from the sign-in answer or
//! from `GET /console/session`.
//!
//! The cookie is `HttpOnly` (no script reads it), `SameSite=Strict`, `Path=/`, and `Secure`
//! when the request arrived over HTTPS as a reverse proxy says with `X-Forwarded-Proto:
//! https` (flowd itself serves plain HTTP; without the header a browser on `http://` could
//! not keep a `Secure` cookie).

use axum::extract::FromRequestParts;
use axum::http::header::COOKIE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method};
use base64::Engine;
use flowd_store::Session;
use subtle::ConstantTimeEq;

use crate::caller::{Caller, header};
use crate::credentials::{random_bytes, token_hash};
use crate::error::{ApiError, GatewayError};
use crate::state::AppState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "flowd_session";

/// The header a cookie-authenticated state-changing request carries its CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// How long a session lasts from its sign-in (12 hours), in seconds.
pub const SESSION_LIFETIME_SECONDS: i64 = 12 * 60 * 60;

/// A fresh secret: 256 random bits, base64url without padding (43 characters).
pub(crate) fn random_token() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

/// Whether `value` can be a session cookie flowd issued (spares the store a lookup of junk).
fn is_session_value(value: &str) -> bool {
    value.len() == 43
        && value
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

/// The value of the request's session cookie, if it sent one (the first, if several).
fn session_cookie_value(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|line| line.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| name.trim() == SESSION_COOKIE)
        .map(|(_, value)| value.trim().trim_matches('"'))
}

/// The store id (SHA-256) of the session the request's cookie names, live or not.
pub(crate) fn session_cookie_hash(headers: &HeaderMap) -> Option<String> {
    session_cookie_value(headers)
        .filter(|value| is_session_value(value))
        .map(token_hash)
}

/// The live session the request's cookie names: `None` when it sent no session cookie,
/// [`GatewayError::SessionInvalid`] when the cookie names no live session.
pub(crate) async fn session_of_cookie(
    headers: &HeaderMap,
    state: &AppState,
) -> Result<Option<Session>, ApiError> {
    let Some(value) = session_cookie_value(headers) else {
        return Ok(None);
    };
    if !is_session_value(value) {
        return Err(GatewayError::SessionInvalid.into());
    }
    let now = flowd_model::time::now_millis();
    match state.store.find_session(&token_hash(value), now).await? {
        Some(session) => Ok(Some(session)),
        None => Err(GatewayError::SessionInvalid.into()),
    }
}

/// Refuses a request that may change state (any method but GET, HEAD and OPTIONS) unless its
/// `x-csrf-token` is the session's, compared in constant time.
fn check_csrf(method: &Method, headers: &HeaderMap, session: &Session) -> Result<(), ApiError> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let sent = header(headers, CSRF_HEADER).unwrap_or_default();
    if bool::from(sent.as_bytes().ct_eq(session.csrf_token.as_bytes())) {
        Ok(())
    } else {
        Err(GatewayError::CsrfTokenInvalid.into())
    }
}

/// The caller of a request authenticated by the session cookie (`None`: it sent none). The
/// org is the session's; an `x-gw-ims-org-id` header, when sent, must name it.
pub(crate) async fn caller_of_session_cookie(
    parts: &Parts,
    state: &AppState,
) -> Result<Option<Caller>, ApiError> {
    let Some(session) = session_of_cookie(&parts.headers, state).await? else {
        return Ok(None);
    };
    check_csrf(&parts.method, &parts.headers, &session)?;
    if header(&parts.headers, "x-gw-ims-org-id").is_some_and(|org_id| org_id != session.org_id) {
        return Err(GatewayError::ProfileInvalid.into());
    }
    Ok(Some(Caller {
        org_id: session.org_id,
        principal_id: session.credential_id,
        client_id: session.api_key,
    }))
}

/// The session of a `/console/session` request: the cookie must name a live session, and a
/// DELETE must carry its CSRF token.
pub(crate) struct ConsoleSession {
    pub session: Session,
    /// The SHA-256 of the cookie value (the session's id in the store).
    pub id_hash: String,
}

impl FromRequestParts<AppState> for ConsoleSession {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<ConsoleSession, ApiError> {
        let session = session_of_cookie(&parts.headers, state)
            .await?
            .ok_or(GatewayError::SessionInvalid)?;
        check_csrf(&parts.method, &parts.headers, &session)?;
        Ok(ConsoleSession {
            id_hash: session.id_hash.clone(),
            session,
        })
    }
}

/// Whether the request reached the proxy in front of flowd over HTTPS (`X-Forwarded-Proto`'s
/// first value is `https`).
pub(crate) fn arrived_over_https(headers: &HeaderMap) -> bool {
    header(headers, "x-forwarded-proto")
        .and_then(|protocols| protocols.split(',').next())
        .is_some_and(|protocol| protocol.trim().eq_ignore_ascii_case("https"))
}

fn cookie_attributes(max_age: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{secure}")
}

/// The `Set-Cookie` that starts a session whose cookie value is `value`.
pub(crate) fn session_set_cookie(value: &str, secure: bool) -> HeaderValue {
    let attributes = cookie_attributes(SESSION_LIFETIME_SECONDS, secure);
    HeaderValue::from_str(&format!("{SESSION_COOKIE}={value}; {attributes}"))
        .expect("a base64url value and fixed attributes are a valid header")
}

/// The `Set-Cookie` that makes the browser forget the session cookie.
pub(crate) fn cleared_session_cookie(secure: bool) -> HeaderValue {
    let attributes = cookie_attributes(0, secure);
    HeaderValue::from_str(&format!("{SESSION_COOKIE}=; {attributes}"))
        .expect("fixed attributes are a valid header")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn the_session_cookie_is_found_among_others_and_across_cookie_headers() {
        let token = random_token();
        assert!(is_session_value(&token));
        let line = format!("theme=dark; {SESSION_COOKIE}={token}; other=1");
        assert_eq!(
            session_cookie_value(&headers(&[("cookie", &line)])),
            Some(token.as_str())
        );
        let second = format!("{SESSION_COOKIE}=\"{token}\"");
        assert_eq!(
            session_cookie_value(&headers(&[("cookie", "a=b"), ("cookie", &second)])),
            Some(token.as_str())
        );
        assert_eq!(
            session_cookie_value(&headers(&[("cookie", "flowd_session_old=x")])),
            None
        );
        assert!(!is_session_value("short"));
        assert!(!is_session_value(&format!("{}=", &token[..42])));
    }

    #[test]
    fn https_is_taken_from_the_first_forwarded_protocol() {
        assert!(arrived_over_https(&headers(&[(
            "x-forwarded-proto",
            "HTTPS"
        )])));
        assert!(arrived_over_https(&headers(&[(
            "x-forwarded-proto",
            "https, http"
        )])));
        assert!(!arrived_over_https(&headers(&[(
            "x-forwarded-proto",
            "http"
        )])));
        assert!(!arrived_over_https(&HeaderMap::new()));
    }

    #[test]
    fn the_cookie_is_http_only_strict_and_secure_only_over_https() {
        let plain = session_set_cookie("v", false);
        assert_eq!(
            plain,
            "flowd_session=v; HttpOnly; SameSite=Strict; Path=/; Max-Age=43200"
        );
        let secure = session_set_cookie("v", true);
        assert!(secure.to_str().unwrap().ends_with("; Secure"));
        assert_eq!(
            cleared_session_cookie(false),
            "flowd_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"
        );
    }
}
