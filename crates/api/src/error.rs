//! The API's errors and their wire bodies. This is the one place that maps
//! error codes to HTTP statuses.
//!
//! Two body formats exist, as in AEP: the gateway's `{"error_code",
//! "message"}` for credential problems, and Flow Service's RFC 7807-like
//! body (`type` = `https://ns.adobe.com/aep/errors/FLOW-<code>-<status>`,
//! `title`, `status`, `report`) for everything else. Every message is built
//! from request structure only, never from a secret value.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use flowd_spec::Problem;
use serde_json::{Map, Value, json};

use crate::request_id;

/// Refusals of the API gateway layer (credentials and org), reference §1.6(a).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatewayError {
    /// `403010`: no `Authorization` header.
    TokenMissing,
    /// `401013`: the token is malformed or unknown.
    TokenInvalid,
    /// `403000`: no `x-api-key` header.
    ApiKeyMissing,
    /// `403003`: the `x-api-key` is not the one the token was issued with.
    ApiKeyInvalid,
    /// `400003`: no `x-gw-ims-org-id` header.
    OrgHeaderMissing,
    /// `403025`: the token is not bound to the org in `x-gw-ims-org-id`.
    ProfileInvalid,
    /// `401003` (flowd's, the console's sign-in): the API key is not the one the access token
    /// was issued with. A sign-in with a wrong credential is a 401 whichever half is wrong.
    SignInApiKeyInvalid,
    /// `401020` (flowd's): the console session cookie names no live session (unknown,
    /// expired or signed out).
    SessionInvalid,
    /// `403020` (flowd's): a state-changing request authenticated by the console session
    /// cookie without the session's `x-csrf-token`.
    CsrfTokenInvalid,
}

impl GatewayError {
    fn code_and_message(self) -> (&'static str, &'static str) {
        match self {
            GatewayError::TokenMissing => ("403010", "Oauth token is missing."),
            GatewayError::TokenInvalid => ("401013", "Oauth token is not valid"),
            GatewayError::ApiKeyMissing => ("403000", "Api Key is required"),
            GatewayError::ApiKeyInvalid => ("403003", "Api Key is invalid"),
            GatewayError::OrgHeaderMissing => ("400003", "Missing header"),
            GatewayError::ProfileInvalid => ("403025", "Profile is not valid"),
            GatewayError::SignInApiKeyInvalid => ("401003", "Api Key is invalid"),
            GatewayError::SessionInvalid => (
                "401020",
                "Console session is missing, expired or signed out: sign in again",
            ),
            GatewayError::CsrfTokenInvalid => (
                "403020",
                "CSRF token is missing or wrong: send the session's csrfToken in x-csrf-token",
            ),
        }
    }
}

/// The closed set of Flow Service error codes flowd answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowErrorCode {
    /// `1100-400`: the request is malformed or fails validation.
    InvalidRequest,
    /// `1100-413`: the body is larger than the configured limit.
    PayloadTooLarge,
    /// `1101-404`: no route matches the path.
    RouteNotFound,
    /// `1101-405`: the route exists but not with this method.
    MethodNotAllowed,
    /// `1400-500`: an internal failure (details are only logged).
    Internal,
    /// `1401-400`: `limit` and `count=true` together.
    LimitWithCount,
    /// `1403-400`: a required header (`If-Match`) is missing.
    RequiredHeaderMissing,
    /// `1404-412`: `If-Match` is not the current etag.
    VersionMismatch,
    /// `1405-400`: the body is empty.
    EmptyBody,
    /// `1409-400`: the operation does not apply in the resource's current
    /// state (re-triggering a run that has not failed, a second run for a
    /// window).
    NotApplicableInState,
    /// `1411-400`: the id in the path is not a UUID.
    InvalidPathId,
    /// `1410-400`: `state` may not be given when creating a flow.
    StateNotAllowed,
    /// `1413-400`: a referenced spec id does not exist.
    InvalidSpecId,
    /// `1412-400`: a flow's mapping set, or the version it names, does not exist.
    InvalidMappingVersion,
    /// `1425-400`: a flow's mapping set writes another schema than its dataset's.
    MappingSchemaMismatch,
    /// `1419-400`: a flow's mapping set does not validate against its dataset's schema (a
    /// destination the schema does not have).
    MappingValidationFailed,
    /// `1430-400`: the flow a run names does not exist in this sandbox.
    FlowNotFound,
    /// `1414-400`: a connection's connection spec cannot change.
    ConnectionSpecImmutable,
    /// `1415-400`: `auth.specName` names no auth spec of the connection spec.
    AuthSpecNotFound,
    /// `1418-400`: the base connection is used by source connections or flows.
    ConnectionInUse,
    /// `1434-400`: unsupported PATCH op.
    PatchOpUnsupported,
    /// `1439-404`: the resource does not exist in this sandbox.
    ResourceNotFound,
    /// `1440-400`: unsupported filter operator.
    FilterOperatorUnsupported,
    /// `1443-400`: several values given with a comparison operator.
    FilterMultipleValuesNotAllowed,
    /// `1432-400`: `orderby` is malformed.
    OrderBySyntaxInvalid,
    /// `1433-400`: `orderby` names a field that cannot be sorted on.
    OrderByFieldUnsupported,
    /// `1447-400`: other resources still reference the resource.
    StillReferenced,
    /// `1449-400`: the filter's field is empty or malformed.
    FilterFieldInvalid,
    /// `1455-400`: a PATCH instruction is malformed or cannot be applied.
    PatchInvalid,
    /// `2105-400`: `x-sandbox-name` is missing or malformed.
    SandboxHeaderInvalid,
    /// `1100-408`: the body did not arrive within the body timeout.
    BodyTimeout,
    /// `1100-414`: the request target is longer than flowd reads.
    UriTooLong,
    /// `1100-431`: the request's headers are larger than flowd reads.
    HeadersTooLarge,
    /// `1100-416`: a `Range` that asks for no byte of the file.
    RangeNotSatisfiable,
}

impl FlowErrorCode {
    /// (numeric code, HTTP status, title)
    pub fn parts(self) -> (u16, StatusCode, &'static str) {
        use FlowErrorCode::*;
        match self {
            InvalidRequest => (1100, StatusCode::BAD_REQUEST, "Invalid request"),
            PayloadTooLarge => (1100, StatusCode::PAYLOAD_TOO_LARGE, "Payload too large"),
            RouteNotFound => (1101, StatusCode::NOT_FOUND, "Resource not found"),
            MethodNotAllowed => (1101, StatusCode::METHOD_NOT_ALLOWED, "Method not allowed"),
            Internal => (1400, StatusCode::INTERNAL_SERVER_ERROR, "Internal error"),
            LimitWithCount => (1401, StatusCode::BAD_REQUEST, "Invalid list parameters"),
            RequiredHeaderMissing => (1403, StatusCode::BAD_REQUEST, "Required header missing"),
            VersionMismatch => (1404, StatusCode::PRECONDITION_FAILED, "Version mismatch"),
            EmptyBody => (1405, StatusCode::BAD_REQUEST, "Request body is empty"),
            NotApplicableInState => (
                1409,
                StatusCode::BAD_REQUEST,
                "Operation not applicable in current state",
            ),
            InvalidPathId => (1411, StatusCode::BAD_REQUEST, "Invalid entity id"),
            StateNotAllowed => (1410, StatusCode::BAD_REQUEST, "State not allowed"),
            InvalidSpecId => (1413, StatusCode::BAD_REQUEST, "Invalid spec id"),
            InvalidMappingVersion => (1412, StatusCode::BAD_REQUEST, "Invalid mapping version"),
            MappingSchemaMismatch => (
                1425,
                StatusCode::BAD_REQUEST,
                "Dataset schema does not match the mapping schema",
            ),
            MappingValidationFailed => (1419, StatusCode::BAD_REQUEST, "Mapping validation failed"),
            FlowNotFound => (1430, StatusCode::BAD_REQUEST, "Flow not found"),
            ConnectionSpecImmutable => (
                1414,
                StatusCode::BAD_REQUEST,
                "Connection spec cannot change",
            ),
            AuthSpecNotFound => (1415, StatusCode::BAD_REQUEST, "Auth spec not found"),
            ConnectionInUse => (1418, StatusCode::BAD_REQUEST, "Connection in use"),
            PatchOpUnsupported => (1434, StatusCode::BAD_REQUEST, "Unsupported patch operation"),
            ResourceNotFound => (1439, StatusCode::NOT_FOUND, "Resource not found"),
            FilterOperatorUnsupported => (
                1440,
                StatusCode::BAD_REQUEST,
                "Filter operator not supported",
            ),
            FilterMultipleValuesNotAllowed => (
                1443,
                StatusCode::BAD_REQUEST,
                "Multiple values not allowed for this operator",
            ),
            OrderBySyntaxInvalid => (1432, StatusCode::BAD_REQUEST, "Invalid orderby"),
            OrderByFieldUnsupported => (1433, StatusCode::BAD_REQUEST, "Unsupported orderby field"),
            StillReferenced => (1447, StatusCode::BAD_REQUEST, "Resource still referenced"),
            FilterFieldInvalid => (1449, StatusCode::BAD_REQUEST, "Invalid filter"),
            PatchInvalid => (1455, StatusCode::BAD_REQUEST, "Invalid patch instruction"),
            SandboxHeaderInvalid => (2105, StatusCode::BAD_REQUEST, "Invalid sandbox header"),
            BodyTimeout => (1100, StatusCode::REQUEST_TIMEOUT, "Request body timeout"),
            UriTooLong => (1100, StatusCode::URI_TOO_LONG, "URI too long"),
            HeadersTooLarge => (
                1100,
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "Request header fields too large",
            ),
            RangeNotSatisfiable => (
                1100,
                StatusCode::RANGE_NOT_SATISFIABLE,
                "Range not satisfiable",
            ),
        }
    }
}

/// A Flow Service error response under construction.
#[derive(Debug, Clone)]
pub struct FlowError {
    pub code: FlowErrorCode,
    /// Human-readable sentence; becomes `report.detailed-message`.
    pub message: String,
    /// Extra `report` members (`type`, `id` of the resource concerned).
    pub report: Map<String, Value>,
    /// Every problem found, each with the JSON pointer of what is wrong.
    pub problems: Vec<Problem>,
    /// Extra top-level members (e.g. the `detail` of a content-type refusal).
    pub extra: Map<String, Value>,
}

impl FlowError {
    pub fn new(code: FlowErrorCode, message: impl Into<String>) -> FlowError {
        FlowError {
            code,
            message: message.into(),
            report: Map::new(),
            problems: Vec::new(),
            extra: Map::new(),
        }
    }

    /// `FLOW-1439-404` for the resource `id` of `resource_type` (e.g. `connectionSpecs`).
    pub fn not_found(resource_type: &str, id: &str) -> FlowError {
        let mut error = FlowError::new(
            FlowErrorCode::ResourceNotFound,
            format!(
                "The requested {resource_type} resource {id} is not found. Verify the resource ID before trying again."
            ),
        );
        error.report.insert("id".into(), json!(id));
        error.report.insert("type".into(), json!(resource_type));
        error
    }

    /// `FLOW-1100-400` listing every validation problem of a body.
    pub fn invalid_body(what: &str, problems: Vec<Problem>) -> FlowError {
        let listing = problems
            .iter()
            .map(|problem| format!("{}: {}", display_pointer(&problem.pointer), problem.message))
            .collect::<Vec<_>>()
            .join("; ");
        let count = problems.len();
        let noun = if count == 1 { "problem" } else { "problems" };
        let mut error = FlowError::new(
            FlowErrorCode::InvalidRequest,
            format!("The {what} is invalid ({count} {noun}): {listing}"),
        );
        error.problems = problems;
        error
    }

    pub fn internal() -> FlowError {
        FlowError::new(
            FlowErrorCode::Internal,
            "An internal error occurred. The request id identifies it in the server log.",
        )
    }

    pub fn with_problems(mut self, problems: Vec<Problem>) -> FlowError {
        self.problems = problems;
        self
    }
}

fn display_pointer(pointer: &str) -> &str {
    if pointer.is_empty() {
        "(root)"
    } else {
        pointer
    }
}

/// Any error an API handler returns.
#[derive(Debug)]
pub enum ApiError {
    Gateway(GatewayError),
    Flow(Box<FlowError>),
}

impl From<GatewayError> for ApiError {
    fn from(error: GatewayError) -> ApiError {
        ApiError::Gateway(error)
    }
}

impl From<FlowError> for ApiError {
    fn from(error: FlowError) -> ApiError {
        ApiError::Flow(Box::new(error))
    }
}

impl From<flowd_store::StoreError> for ApiError {
    fn from(error: flowd_store::StoreError) -> ApiError {
        tracing::error!(%error, request_id = %request_id::current(), "store failure");
        FlowError::internal().into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Gateway(error) => {
                let (code, message) = error.code_and_message();
                let status = StatusCode::from_u16(code[..3].parse().unwrap_or(400))
                    .unwrap_or(StatusCode::BAD_REQUEST);
                json_response(status, json!({"error_code": code, "message": message}))
            }
            ApiError::Flow(error) => flow_error_response(*error),
        }
    }
}

fn flow_error_response(error: FlowError) -> Response {
    let (code, status, title) = error.code.parts();
    let mut report = Map::new();
    report.insert("detailed-message".into(), json!(error.message));
    report.insert("request-id".into(), json!(request_id::current()));
    report.extend(error.report);
    let mut body = Map::new();
    body.insert(
        "type".into(),
        json!(format!(
            "https://ns.adobe.com/aep/errors/FLOW-{code}-{}",
            status.as_u16()
        )),
    );
    body.insert("title".into(), json!(title));
    body.insert("status".into(), json!(status.as_u16()));
    body.insert("report".into(), Value::Object(report));
    body.insert("errorMessage".into(), json!(error.message));
    body.insert("errorDetails".into(), json!(error.message));
    if !error.problems.is_empty() {
        body.insert("problems".into(), json!(error.problems));
    }
    body.extend(error.extra);
    json_response(status, Value::Object(body))
}

/// A JSON response with the given status.
pub fn json_response(status: StatusCode, body: Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
