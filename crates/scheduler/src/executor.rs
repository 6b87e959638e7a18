//! Executing one claimed run: resolve the flow's source connection, base
//! connection (credentials opened), connection spec and target dataset; run
//! the spec over the run's window through `flowd-connector`; stream the
//! records into one `flowd-sink` batch named after the run; commit it.
//!
//! A batch is committed only after the last page, and a retried run writes
//! the same batch id again, which replaces the earlier attempt: a window is
//! never ingested twice and a failed run leaves nothing visible. OAuth tokens
//! refreshed on the way are sealed and written back to the connection.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use flowd_connector::{
    AuthSession, HttpClient, RefreshedTokens, RunEvent, RunLimits, RunPlan, TokenCallback, Window,
};
use flowd_secrets::Cipher;
use flowd_secrets::sealed::open_members;

use crate::credentials::{auth_params_place, save_refreshed_tokens};
use flowd_sink::Dataset;
use flowd_store::{ResourceKind, RunRecord, Scope, Store, StoredResource};
use futures::StreamExt;
use jiff::Timestamp;
use serde_json::{Value, json};

/// What a run needs from the process.
#[derive(Clone)]
pub struct RunContext {
    pub store: Arc<dyn Store>,
    pub cipher: Arc<Cipher>,
    pub http: HttpClient,
    /// `<data dir>/datasets`.
    pub datasets_root: PathBuf,
}

/// How a run ended, with the run document to store.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub succeeded: bool,
    /// Worth another attempt (upstream trouble), as opposed to a problem
    /// only a user can fix (a deleted connection, refused credentials).
    pub retryable: bool,
    /// `{"metrics": {...}, "errors": [{code, message}], "activities": [...]}`.
    pub body: Value,
}

/// Why a run failed, with the code shown in `statusSummary.errors`.
struct RunFailure {
    code: &'static str,
    message: String,
    retryable: bool,
}

impl RunFailure {
    fn configuration(message: String) -> RunFailure {
        RunFailure {
            code: "CONFIGURATION",
            message,
            retryable: false,
        }
    }
}

/// Totals gathered while the run streams.
#[derive(Default)]
struct Totals {
    pages: u64,
    input_records: u64,
    input_bytes: u64,
    output_records: u64,
    output_bytes: u64,
    output_files: u64,
}

fn millis_to_timestamp(millis: i64) -> Option<Timestamp> {
    Timestamp::from_millisecond(millis).ok()
}

async fn load(
    context: &RunContext,
    scope: &Scope,
    kind: ResourceKind,
    id: &str,
    what: &str,
) -> Result<StoredResource, RunFailure> {
    context
        .store
        .get_resource(scope, kind, id)
        .await
        .map_err(|error| RunFailure {
            code: "STORE",
            message: format!("the store could not be read: {error}"),
            retryable: true,
        })?
        .ok_or_else(|| RunFailure::configuration(format!("the {what} {id} no longer exists")))
}

fn text_at<'a>(document: &'a Value, pointer: &str) -> &'a str {
    document
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// Executes `run` to the end and says how it went.
pub async fn execute(context: &RunContext, run: &RunRecord) -> RunOutcome {
    let started = Timestamp::now();
    let clock = Instant::now();
    let mut totals = Totals::default();
    let result = ingest(context, run, &mut totals).await;
    let completed = Timestamp::now();
    let mut metrics = json!({
        "durationSummary": {
            "startedAtUTC": started.as_millisecond(),
            "completedAtUTC": completed.as_millisecond(),
        },
        "sizeSummary": {"inputBytes": totals.input_bytes, "outputBytes": totals.output_bytes},
        "recordSummary": {
            "inputRecordCount": totals.input_records,
            "outputRecordCount": totals.output_records,
            "failedRecordCount": 0,
        },
        "fileSummary": {"outputFileCount": totals.output_files},
    });
    let (succeeded, retryable, errors) = match result {
        Ok(()) => (true, false, Vec::new()),
        Err(failure) => {
            metrics["recordSummary"]["outputRecordCount"] = json!(0);
            (
                false,
                failure.retryable,
                vec![json!({"code": failure.code, "message": failure.message})],
            )
        }
    };
    metrics::histogram!("flowd_run_duration_seconds").record(clock.elapsed().as_secs_f64());
    if succeeded {
        metrics::counter!("flowd_records_ingested_total").increment(totals.output_records);
        metrics::counter!("flowd_bytes_ingested_total").increment(totals.input_bytes);
    }
    tracing::info!(
        run_id = %run.id,
        flow_id = %run.flow_id,
        pages = totals.pages,
        records = totals.output_records,
        duration_ms = clock.elapsed().as_millis() as u64,
        succeeded,
        "run finished"
    );
    RunOutcome {
        succeeded,
        retryable,
        body: json!({
            "metrics": metrics,
            "errors": errors,
            "activities": [{
                "name": "Copy Activity",
                "updatedAtUTC": completed.as_millisecond(),
                "recordSummary": {"inputRecordCount": totals.input_records, "outputRecordCount": totals.output_records},
            }],
            "pages": totals.pages,
        }),
    }
}

async fn ingest(
    context: &RunContext,
    run: &RunRecord,
    totals: &mut Totals,
) -> Result<(), RunFailure> {
    let scope = &run.scope;
    let flow = load(context, scope, ResourceKind::Flow, &run.flow_id, "flow")
        .await?
        .body;
    let source_id = text_at(&flow, "/sourceConnectionIds/0").to_owned();
    let target_id = text_at(&flow, "/targetConnectionIds/0").to_owned();
    let source = load(
        context,
        scope,
        ResourceKind::SourceConnection,
        &source_id,
        "source connection",
    )
    .await?
    .body;
    let target = load(
        context,
        scope,
        ResourceKind::TargetConnection,
        &target_id,
        "target connection",
    )
    .await?
    .body;
    let base_id = text_at(&source, "/baseConnectionId").to_owned();
    let base = load(
        context,
        scope,
        ResourceKind::Connection,
        &base_id,
        "base connection",
    )
    .await?;
    let spec_id = text_at(&base.body, "/connectionSpec/id").to_owned();
    let spec = load(
        context,
        scope,
        ResourceKind::ConnectionSpec,
        &spec_id,
        "connection spec",
    )
    .await?
    .body;
    let dataset_id = text_at(&target, "/params/dataSetId").to_owned();

    let source_params = source.get("params").cloned().unwrap_or_else(|| json!({}));
    let fetch =
        flowd_spec::resolve_source_fetch_config(&spec, &source_params).map_err(|problems| {
            let listing: Vec<String> = problems
                .iter()
                .map(|problem| format!("{}: {}", problem.pointer, problem.message))
                .collect();
            RunFailure::configuration(format!(
                "the fetch configuration is invalid: {}",
                listing.join("; ")
            ))
        })?;
    let place = auth_params_place(scope, &base_id);
    let stored_params = base
        .body
        .pointer("/auth/params")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let plain = open_members(&context.cipher, &place, &stored_params).map_err(|error| {
        RunFailure::configuration(format!(
            "the connection's credentials cannot be opened: {error}"
        ))
    })?;
    let auth = flowd_connector::resolve_connection_auth(
        spec.get("authSpec").unwrap_or(&Value::Null),
        &json!({"specName": text_at(&base.body, "/auth/specName"), "params": plain}),
    )
    .map_err(|error| RunFailure {
        code: "AUTHENTICATION",
        message: error.to_string(),
        retryable: false,
    })?;
    let refreshed: Arc<Mutex<Option<RefreshedTokens>>> = Arc::default();
    let on_refresh: TokenCallback = {
        let refreshed = refreshed.clone();
        Arc::new(move |tokens: &RefreshedTokens| {
            *refreshed.lock().expect("token slot lock") = Some(tokens.clone());
        })
    };
    let plan = RunPlan {
        fetch: Arc::new(fetch),
        auth: Some(Arc::new(AuthSession::new(auth, Some(on_refresh)))),
        source_params: source_params.as_object().cloned().unwrap_or_default(),
        window: Some(Window {
            start: run.window_start.and_then(millis_to_timestamp),
            end: millis_to_timestamp(run.window_end).unwrap_or_else(Timestamp::now),
        }),
        limits: RunLimits::default(),
    };
    let dataset = Dataset::open(&context.datasets_root, &dataset_id).map_err(|error| {
        RunFailure::configuration(format!(
            "the dataset {dataset_id} cannot be opened: {error}"
        ))
    })?;
    let sink_failed = |error: flowd_sink::SinkError| RunFailure {
        code: "SINK",
        message: format!("writing the dataset failed: {error}"),
        retryable: true,
    };
    let mut batch = dataset
        .begin_batch(&run.id, &run.id, Timestamp::now())
        .map_err(sink_failed)?;
    let mut stream = std::pin::pin!(flowd_connector::run(context.http.clone(), plan));
    let mut failure = None;
    while let Some(event) = stream.next().await {
        match event {
            Ok(RunEvent::Page(page)) => {
                totals.pages += 1;
                count_upstream_request(page.status);
                totals.input_bytes += page.body_bytes as u64;
                totals.input_records += page.records.len() as u64;
                if let Err(error) = batch.write(page.records) {
                    failure = Some(sink_failed(error));
                    break;
                }
            }
            Ok(RunEvent::Finished(summary)) => {
                for warning in summary.warnings {
                    tracing::warn!(run_id = %run.id, %warning, "run warning");
                }
            }
            Err(error) => {
                if let flowd_connector::RunError::Fetch { source, .. } = &error
                    && let Some(status) = source.status()
                {
                    count_upstream_request(status);
                }
                failure = Some(upstream_failure(&error));
                break;
            }
        }
    }
    let tokens = refreshed.lock().expect("token slot lock").take();
    if let Some(tokens) = tokens {
        save_refreshed_tokens(
            context.store.as_ref(),
            &context.cipher,
            scope,
            &base_id,
            &tokens,
        )
        .await;
    }
    if let Some(failure) = failure {
        let _ = batch.abort();
        return Err(failure);
    }
    let summary = batch.commit().map_err(sink_failed)?;
    totals.output_records = summary.batch.record_count;
    totals.output_bytes = summary.batch.bytes;
    totals.output_files = summary.batch.files.len() as u64;
    Ok(())
}

/// Counts one upstream request by its final HTTP status; the label is the
/// status code only, so its cardinality stays bounded.
fn count_upstream_request(status: u16) {
    metrics::counter!("flowd_upstream_requests_total", "status" => status.to_string()).increment(1);
}

fn upstream_failure(error: &flowd_connector::RunError) -> RunFailure {
    use flowd_connector::{FetchError, RunError};
    match error {
        RunError::Fetch {
            source: FetchError::Auth(_),
            ..
        } => RunFailure {
            code: "AUTHENTICATION",
            message: error.to_string(),
            retryable: false,
        },
        RunError::Fetch {
            source: FetchError::Status {
                status: 401 | 403, ..
            },
            ..
        } => RunFailure {
            code: "AUTHENTICATION",
            message: error.to_string(),
            retryable: false,
        },
        RunError::Request(_) => RunFailure::configuration(error.to_string()),
        RunError::InvalidResponse { .. } => RunFailure {
            code: "INVALID_RESPONSE",
            message: error.to_string(),
            retryable: true,
        },
        _ => RunFailure {
            code: "UPSTREAM",
            message: error.to_string(),
            retryable: true,
        },
    }
}
