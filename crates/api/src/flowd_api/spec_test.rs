//! `POST /flowd/v1/connectionSpecs/test`: `flowd spec test` on the server. The body
//! `{"spec", "auth"?: {"specName", "params"}, "params"?, "window"?: {"start"?, "end"?},
//! "maxPages"?, "maxRecords"?}` is run with the same plan as the command and every run
//! (`flowd_connector::prepare_run` + `run`), through the API's HTTP client (`AppState::http`:
//! the server's upstream policy, timeouts and page-size limit), and answers each page's request
//! (secrets redacted by the runtime, as the command prints them), status, timing and counts, the
//! first records, the schema inferred from them and why the run stopped
//! (`flowd_connector::trial`, the sentences the command prints).
//!
//! A body that cannot run (the spec, its params or its auth) is a `1100-400` with every problem
//! at its pointer in the request body (`/spec/...`, `/params/...`, `/auth/params/...`). Once it
//! runs, what the upstream does is the answer: a failure is a 200 with `error` and the pages so
//! far. `maxPages` is 10 when absent (at most 50), `maxRecords` 1000 (at most 10000); the whole
//! test is held to twice the upstream timeout. Refreshed OAuth tokens are used and never saved
//! (nothing is stored).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use flowd_connector::trial::{
    LimitNames, SCHEMA_SAMPLE_RECORDS, UNSAVED_TOKENS_NOTE, UnsavedTokens, WindowSide,
    describe_stop, failed_page, parse_window,
};
use flowd_connector::{Credentials, Page, RunError, RunEvent, RunInputs, RunLimits, Window};
use flowd_spec::Problem;
use futures::StreamExt;
use serde_json::{Map, Value, json};

use crate::body::JsonBody;
use crate::error::{ApiError, FlowError, json_response};
use crate::routes::connection_specs::checked;
use crate::routes::explore::inferred_columns;
use crate::state::AppState;
use crate::tenant::Tenant;

const DEFAULT_MAX_PAGES: u64 = 10;
const MAX_PAGES: u64 = 50;
const DEFAULT_MAX_RECORDS: u64 = 1000;
const MAX_RECORDS: u64 = 10_000;
/// Records the answer shows.
const RECORDS_SHOWN: usize = 100;

const LIMIT_NAMES: LimitNames = LimitNames {
    max_pages: "maxPages",
    max_records: "maxRecords",
};

/// A request that can run.
struct TestRequest {
    spec: Value,
    auth: Option<(String, Map<String, Value>)>,
    params: Map<String, Value>,
    window: Option<Window>,
    max_pages: u64,
    max_records: u64,
}

fn object_at(
    body: &Value,
    pointer: &str,
    problems: &mut Vec<Problem>,
) -> Option<Map<String, Value>> {
    match body.pointer(pointer) {
        None | Some(Value::Null) => None,
        Some(Value::Object(members)) => Some(members.clone()),
        Some(_) => {
            problems.push(Problem::new(pointer, "must be a JSON object"));
            None
        }
    }
}

fn limit_at(
    body: &Value,
    pointer: &str,
    default: u64,
    most: u64,
    problems: &mut Vec<Problem>,
) -> u64 {
    match body.pointer(pointer) {
        None | Some(Value::Null) => default,
        Some(value) => match value.as_u64() {
            Some(limit) if (1..=most).contains(&limit) => limit,
            _ => {
                problems.push(Problem::new(
                    pointer,
                    format!("must be a whole number from 1 to {most}"),
                ));
                default
            }
        },
    }
}

/// A side of the window as text (epoch seconds may be a number).
fn window_side(
    window: &Map<String, Value>,
    name: &str,
    problems: &mut Vec<Problem>,
) -> Option<String> {
    match window.get(name) {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(text.clone()),
        Some(Value::Number(number)) => Some(number.to_string()),
        Some(_) => {
            problems.push(Problem::new(
                format!("/window/{name}"),
                "must be an RFC 3339 instant or epoch seconds",
            ));
            None
        }
    }
}

fn read_request(body: &Value) -> Result<TestRequest, Vec<Problem>> {
    if !body.is_object() {
        return Err(vec![Problem::new("", "must be a JSON object")]);
    }
    let mut problems = Vec::new();
    let spec = match body.get("spec") {
        None | Some(Value::Null) => {
            problems.push(Problem::new(
                "/spec",
                "is required (a connection spec, as POSTed to /connectionSpecs)",
            ));
            Value::Null
        }
        Some(spec) => match checked(spec.clone()) {
            Ok(spec) => spec,
            Err(spec_problems) => {
                problems.extend(spec_problems.into_iter().map(|problem| {
                    Problem::new(format!("/spec{}", problem.pointer), problem.message)
                }));
                Value::Null
            }
        },
    };
    let auth = object_at(body, "/auth", &mut problems).map(|auth| {
        let spec_name = match auth.get("specName") {
            Some(Value::String(name)) => name.clone(),
            _ => {
                problems.push(Problem::new(
                    "/auth/specName",
                    "is required (the name of one of the spec's authSpec entries)",
                ));
                String::new()
            }
        };
        let params = object_at(body, "/auth/params", &mut problems).unwrap_or_default();
        (spec_name, params)
    });
    let params = object_at(body, "/params", &mut problems).unwrap_or_default();
    let window = object_at(body, "/window", &mut problems).and_then(|window| {
        let start = window_side(&window, "start", &mut problems);
        let end = window_side(&window, "end", &mut problems);
        match parse_window(start.as_deref(), end.as_deref(), flowd_model::time::now()) {
            Ok(window) => Some(window),
            Err(error) => {
                let pointer = match error.side {
                    Some(WindowSide::Start) => "/window/start",
                    Some(WindowSide::End) => "/window/end",
                    None => "/window",
                };
                problems.push(Problem::new(pointer, error.message));
                None
            }
        }
    });
    let max_pages = limit_at(
        body,
        "/maxPages",
        DEFAULT_MAX_PAGES,
        MAX_PAGES,
        &mut problems,
    );
    let max_records = limit_at(
        body,
        "/maxRecords",
        DEFAULT_MAX_RECORDS,
        MAX_RECORDS,
        &mut problems,
    );
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(TestRequest {
        spec,
        auth,
        params,
        window,
        max_pages,
        max_records,
    })
}

/// A problem of the run plan at its place in the request body: the spec's own fields are under
/// `/spec`, the params and the auth where the request has them.
fn in_request(problem: Problem) -> Problem {
    if problem.pointer.starts_with("/params") || problem.pointer.starts_with("/auth") {
        problem
    } else {
        Problem::new(format!("/spec{}", problem.pointer), problem.message)
    }
}

fn invalid(problems: Vec<Problem>) -> ApiError {
    FlowError::invalid_body("spec test request", problems).into()
}

/// What the run found so far.
#[derive(Default)]
struct Found {
    pages: Vec<Value>,
    sample: Vec<Value>,
    records: u64,
    bytes: u64,
}

impl Found {
    fn add(&mut self, page: Page) -> Result<(), RunError> {
        self.records += page.records.len() as u64;
        self.bytes += page.body_bytes as u64;
        let headers: Vec<Value> = page
            .request
            .headers
            .iter()
            .map(|(name, value)| json!({"name": name, "value": value}))
            .collect();
        self.pages.push(json!({
            "number": page.number + 1,
            "request": {"method": page.request.method, "url": page.request.url, "headers": headers},
            "status": page.status,
            "elapsedMs": page.elapsed.as_millis() as u64,
            "itemCount": page.item_count,
            "recordCount": page.records.len(),
            "attempts": page.attempts,
        }));
        if self.sample.len() < SCHEMA_SAMPLE_RECORDS {
            let mut page = page;
            page.records
                .truncate(SCHEMA_SAMPLE_RECORDS - self.sample.len());
            self.sample.extend(page.into_values()?);
        }
        Ok(())
    }
}

/// Streams the run into `found` until it ends; its summary, or the error that ended it.
async fn fetch(
    state: &AppState,
    plan: flowd_connector::RunPlan,
    found: &mut Found,
) -> Result<flowd_connector::RunSummary, RunError> {
    let mut stream = std::pin::pin!(flowd_connector::run(state.http.clone(), plan));
    let mut summary = None;
    while let Some(event) = stream.next().await {
        match event? {
            RunEvent::Page(page) => found.add(page)?,
            RunEvent::Retry { .. } => {}
            RunEvent::Finished(finished) => summary = Some(finished),
        }
    }
    Ok(summary.unwrap_or(flowd_connector::RunSummary {
        pages: found.pages.len() as u64,
        records: found.records,
        body_bytes: found.bytes,
        stop: flowd_connector::StopCause::Pagination(
            flowd_connector::pagination::StopReason::SinglePage,
        ),
        warnings: vec![flowd_connector::RunWarning::new(
            "INCOMPLETE",
            "the run ended without a summary",
        )],
    }))
}

pub(super) async fn test(
    State(state): State<AppState>,
    _tenant: Tenant,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let request = read_request(&body).map_err(invalid)?;
    let unsaved_tokens = Arc::new(UnsavedTokens::default());
    let plan = flowd_connector::prepare_run(RunInputs {
        connection_spec: &request.spec,
        credentials: request
            .auth
            .as_ref()
            .map(|(spec_name, params)| Credentials { spec_name, params }),
        source_params: &request.params,
        window: request.window,
        limits: RunLimits {
            max_pages: Some(request.max_pages),
            max_records: Some(request.max_records),
            // The records are shown as values: parse each page once.
            records_as_text: false,
            ..RunLimits::default()
        },
        on_refresh: Some(unsaved_tokens.clone()),
    })
    .map_err(|error| invalid(error.problems().into_iter().map(in_request).collect()))?;
    let started = Instant::now();
    let deadline = state.config.upstream_timeout.saturating_mul(2);
    let mut found = Found::default();
    let outcome = tokio::time::timeout(deadline, fetch(&state, plan, &mut found)).await;
    let (stop_reason, mut warnings, error) = match outcome {
        Ok(Ok(summary)) => (
            describe_stop(&summary.stop, LIMIT_NAMES),
            summary
                .warnings
                .into_iter()
                .map(|warning| warning.message)
                .collect(),
            Value::Null,
        ),
        Ok(Err(error)) => {
            let page = failed_page(&error);
            (
                match page {
                    Some(page) => format!("page {page} failed"),
                    None => "the run failed".to_owned(),
                },
                Vec::new(),
                json!({"message": error.to_string(), "page": page}),
            )
        }
        Err(_) => {
            let message = format!(
                "the test took longer than {} s (twice the server's upstream timeout) and was stopped",
                deadline.as_secs_f64()
            );
            (
                "the time limit was reached".to_owned(),
                Vec::new(),
                json!({"message": message, "page": found.pages.len() + 1}),
            )
        }
    };
    if unsaved_tokens.refreshes() > 0 {
        warnings.push(UNSAVED_TOKENS_NOTE.to_owned());
    }
    let elapsed: Duration = started.elapsed();
    let schema = inferred_columns(&found.sample);
    found.sample.truncate(RECORDS_SHOWN);
    Ok(json_response(
        StatusCode::OK,
        json!({
            "pages": found.pages,
            "records": found.sample,
            "recordCount": found.records,
            "schema": {"columns": schema},
            "summary": {
                "pages": found.pages.len(),
                "records": found.records,
                "bytes": found.bytes,
                "elapsedMs": elapsed.as_millis() as u64,
                "stopReason": stop_reason,
            },
            "warnings": warnings,
            "error": error,
        }),
    ))
}
