//! The flowd console's server side: its sign-in sessions, the session cookie that stands in
//! for AEP's credential headers, and its files, built into the binary. The console itself is
//! `crates/api/console/` (HTML, JavaScript, CSS) and talks to the same API as curl does,
//! through the same tenancy checks (`crate::tenant`).
//!
//! Routes, at the root (not under a service base path), served when the role serves the API:
//! `GET /` (the page), `GET /console/assets/{*path}` (its files), `POST`, `GET` and `DELETE
//! /console/session` (sign in, the session, sign out) and `GET /console/sandboxes` (the
//! sandboxes of the caller's org).
//!
//! Sessions live in the store (`flowd_store::SessionStore`), not in a signed cookie: a
//! sign-out must revoke the session at once, and every API process of a fleet shares them.

mod assets;
pub(crate) mod cookie;
mod session;

use crate::routing::{Routes, get};

pub use assets::CONTENT_SECURITY_POLICY_VALUE;
pub use cookie::{CSRF_HEADER, SESSION_COOKIE, SESSION_LIFETIME_SECONDS};

/// The console's routes.
pub(crate) fn routes() -> Routes {
    Routes::new()
        .route("/", get(assets::index))
        .route("/console/assets/{*path}", get(assets::asset))
        .route(
            "/console/session",
            get(session::read_session)
                .post(session::sign_in)
                .delete(session::sign_out),
        )
        .route("/console/sandboxes", get(session::list_sandboxes))
}
