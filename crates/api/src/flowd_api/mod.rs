//! flowd's own API under `/flowd/v1`: what the console (and any client) needs that Adobe's
//! APIs have no route for. It lives outside Adobe's base paths (`/data/foundation/...`) so a
//! client written against AEP never meets a route AEP does not have, and a future AEP route
//! can never collide with one of flowd's. The same credentials, tenancy and error bodies as
//! the rest of the API apply.
//!
//! - `POST /connectionSpecs/validate` (`validate`): the problems `POST /connectionSpecs` would
//!   refuse a body with, nothing stored.
//! - `POST /connectionSpecs/test` (`spec_test`): `flowd spec test` on the server.
//! - `GET /dataSets/{id}/rows` (`rows`): a dataset's first records, read from its files.
//!
//! A flow's `nextRunAtUTC` (`next_run`) is presented by the Flow Service routes.

pub(crate) mod next_run;
mod rows;
mod spec_test;
mod validate;

use crate::routing::{Routes, get, post};

/// flowd's own routes, nested under [`FLOWD_BASE_PATH`].
pub fn routes() -> Routes {
    Routes::new()
        .route("/connectionSpecs/validate", post(validate::validate))
        .route("/connectionSpecs/test", post(spec_test::test))
        .route("/dataSets/{id}/rows", get(rows::rows))
}

/// Where flowd's own API lives.
pub const FLOWD_BASE_PATH: &str = "/flowd/v1";
