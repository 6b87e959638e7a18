//! The JSON body extractor: every body-bearing route reads its body through
//! [`JsonBody`], so a missing content type, an oversized, empty or malformed
//! body always gets a Flow Service error, never axum's plain-text default.

use axum::extract::{FromRequest, Request};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use serde_json::{Value, json};

use crate::error::{ApiError, FlowError, FlowErrorCode};
use crate::state::AppState;

/// A request body that was declared, and parsed, as JSON.
#[derive(Debug)]
pub struct JsonBody(pub Value);

fn is_json_media_type(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn too_large(limit: usize) -> ApiError {
    FlowError::new(
        FlowErrorCode::PayloadTooLarge,
        format!("The request body is larger than the limit of {limit} bytes."),
    )
    .into()
}

impl FromRequest<AppState> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<JsonBody, ApiError> {
        let limit = state.config.max_body_bytes;
        let headers = request.headers();
        let content_type = headers
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok());
        if !content_type.is_some_and(is_json_media_type) {
            // AEP answers this case with a "BadRequestError" whose `detail`
            // is this sentence; keep it so clients matching on it still work.
            let mut error = FlowError::new(
                FlowErrorCode::InvalidRequest,
                "A valid content-type must be specified: send Content-Type: application/json.",
            );
            error.extra.insert(
                "detail".into(),
                json!("A valid content-type must be specified"),
            );
            return Err(error.into());
        }
        let declared_length = headers
            .get(CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<u64>().ok());
        if declared_length.is_some_and(|length| length > limit as u64) {
            return Err(too_large(limit));
        }
        let timeout = state.config.body_timeout;
        let bytes = tokio::time::timeout(timeout, axum::body::to_bytes(request.into_body(), limit))
            .await
            .map_err(|_| {
                FlowError::new(
                    FlowErrorCode::BodyTimeout,
                    format!(
                        "The request body did not arrive within {} s.",
                        timeout.as_secs_f64()
                    ),
                )
            })?
            .map_err(|_| too_large(limit))?;
        parse_json_body(&bytes).map(JsonBody)
    }
}

/// The JSON document of a request body that arrived whole: refused when it is empty, not
/// JSON (nested deeper than the parser's 128 levels included), or holds an integer beyond 64
/// bits (which the parser would round).
pub fn parse_json_body(bytes: &[u8]) -> Result<Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(FlowError::new(
            FlowErrorCode::EmptyBody,
            "The request body is empty; a JSON object is required.",
        )
        .into());
    }
    let value = serde_json::from_slice(bytes).map_err(|error| {
        FlowError::new(
            FlowErrorCode::InvalidRequest,
            format!("The request body is not valid JSON: {error}."),
        )
    })?;
    let problems = crate::wide_integers::wide_integer_problems(bytes, &value);
    if !problems.is_empty() {
        return Err(FlowError::invalid_body("request body", problems).into());
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::is_json_media_type;

    #[test]
    fn json_media_types_are_recognised_with_parameters_and_suffixes() {
        for accepted in [
            "application/json",
            "Application/JSON; charset=utf-8",
            "application/vnd.adobe.flow+json",
        ] {
            assert!(is_json_media_type(accepted), "{accepted}");
        }
        for refused in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "",
            "json",
        ] {
            assert!(!is_json_media_type(refused), "{refused}");
        }
    }
}
