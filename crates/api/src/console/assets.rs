//! The console's files, built into the binary (`build.rs` embeds every file of
//! `crates/api/console/`): `GET /` answers `index.html`, `GET /console/assets/{*path}` any
//! file by its path under that folder.
//!
//! Every answer carries a strict Content-Security-Policy (the console has no inline script or
//! style and talks only to its own origin), `X-Content-Type-Options: nosniff`, and
//! `Cache-Control: no-cache` with an entity tag: the browser revalidates each time and gets
//! a `304` while the file is unchanged, so a new flowd never runs with an old console's files.

use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, IF_NONE_MATCH,
    X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, FlowError, FlowErrorCode};

include!(concat!(env!("OUT_DIR"), "/console_assets.rs"));

/// Where the files are served from.
pub const ASSETS_PATH: &str = "/console/assets/";

/// The policy of every console answer.
pub const CONTENT_SECURITY_POLICY_VALUE: &str = "default-src 'self'; img-src 'self' data:; \
     style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; \
     base-uri 'none'; form-action 'self'";

/// The content type of a file, by its extension.
fn content_type(path: &str) -> &'static str {
    let extension = path
        .rsplit_once('.')
        .map(|(_, extension)| extension.to_ascii_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

/// An embedded file by its path under `console/`.
fn find(path: &str) -> Option<(&'static [u8], &'static str)> {
    CONSOLE_ASSETS
        .iter()
        .find(|(name, _, _)| *name == path)
        .map(|(_, bytes, etag)| (*bytes, *etag))
}

/// The answer for the embedded file `path`, or the API's 404.
fn serve(path: &str, request_path: &str, headers: &HeaderMap) -> Result<Response, ApiError> {
    let Some((bytes, etag)) = find(path) else {
        return Err(FlowError::new(
            FlowErrorCode::RouteNotFound,
            format!("No console file exists at {request_path}."),
        )
        .into());
    };
    let unchanged = headers
        .get(IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|tags| {
            tags.split(',')
                .any(|tag| tag.trim() == etag || tag.trim() == "*")
        });
    let mut response = if unchanged {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (StatusCode::OK, bytes).into_response()
    };
    let response_headers = response.headers_mut();
    response_headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type(path)));
    response_headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response_headers.insert(ETAG, HeaderValue::from_static(etag));
    response_headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response_headers.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY_VALUE),
    );
    Ok(response)
}

/// `GET /`: the console's page.
pub(super) async fn index(headers: HeaderMap) -> Result<Response, ApiError> {
    serve("index.html", "/", &headers)
}

/// `GET /console/assets/{*path}`: one of the console's files.
pub(super) async fn asset(uri: Uri, headers: HeaderMap) -> Result<Response, ApiError> {
    let path = uri.path().strip_prefix(ASSETS_PATH).unwrap_or_default();
    serve(path, uri.path(), &headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_follow_the_extension() {
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("js/app.JS"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("style.css"), "text/css; charset=utf-8");
        assert_eq!(content_type("icons/a.svg"), "image/svg+xml");
        assert_eq!(content_type("favicon.ico"), "image/x-icon");
        assert_eq!(content_type("README"), "application/octet-stream");
    }

    #[test]
    fn every_embedded_file_has_a_quoted_entity_tag_and_a_relative_path() {
        for (path, _, etag) in CONSOLE_ASSETS {
            assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
            assert!(!path.starts_with('/') && !path.contains('\\'), "{path}");
        }
    }
}
