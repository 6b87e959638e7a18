//! The router: every route, wrapped in the layer that records each request, delays it by the
//! latency fault and answers configured route errors (steps 1 and 2 of `state`'s order).

use std::sync::atomic::Ordering;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};

use crate::request::{RecordedRequest, decode_pairs};
use crate::state::{AppState, json_error};
use crate::{oauth, routes};

/// Steps 1 and 2 of the module docs, for every path.
async fn observe(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, usize::MAX).await else {
        return json_error(StatusCode::BAD_REQUEST, "unreadable body");
    };
    st.request_count.fetch_add(1, Ordering::SeqCst);
    if st.scenario.record_requests {
        let query = parts.uri.query().unwrap_or("").to_owned();
        let recorded = RecordedRequest {
            method: parts.method.as_str().to_owned(),
            path: parts.uri.path().to_owned(),
            query_pairs: decode_pairs(&query),
            query,
            headers: parts
                .headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body: String::from_utf8_lossy(&bytes).into_owned(),
        };
        st.recorded().push(recorded);
    }
    let latency = st.scenario.faults.latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if let Some(err) = st
        .scenario
        .faults
        .route_errors
        .iter()
        .find(|e| e.path == parts.uri.path())
    {
        let status = StatusCode::from_u16(err.status).unwrap_or(StatusCode::FORBIDDEN);
        return json_error(status, status.canonical_reason().unwrap_or("error"));
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

async fn not_found() -> Response {
    json_error(StatusCode::NOT_FOUND, "no such route")
}

/// All routes, wrapped in the recording/latency/route-error layer.
pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .route("/offset", get(routes::offset))
        .route("/pointer", get(routes::pointer))
        .route("/cursor", get(routes::cursor))
        .route("/page", get(routes::page))
        .route("/none", get(routes::none))
        .route("/array", get(routes::array))
        .route("/search", post(routes::search))
        .route(
            "/3.0/lists/{list_id}/members",
            get(routes::mailchimp_members),
        )
        .route("/oauth/token", get(oauth::token).post(oauth::token))
        .route("/auth/test", get(oauth::auth_test))
        .route("/echo", get(routes::echo))
        .route("/redirect", axum::routing::any(routes::redirect))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}
