//! Who sends a request: the [`Caller`] the credentials check leaves (its org, principal and
//! client, before any sandbox is named), and the header reader every check uses. The check
//! itself is in `tenant.rs` (AEP's headers) and `console/cookie.rs` (the session cookie);
//! both produce this.

use axum::http::HeaderMap;

/// Who sends a request, its credential checked: the org it acts for, its principal and its
/// client. A request proves it with AEP's headers (`Authorization` + `x-api-key` +
/// `x-gw-ims-org-id`) or, without an `Authorization` header, with the console's session
/// cookie (`crate::console::cookie`).
#[derive(Debug, Clone)]
pub struct Caller {
    pub org_id: String,
    pub principal_id: String,
    pub client_id: String,
}

/// A header's trimmed value; `None` when absent, empty or not visible ASCII.
pub(crate) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|value| !value.is_empty())
}
