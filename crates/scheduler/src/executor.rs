//! Executing one claimed run: load the flow's typed resource chain (`flowd_plan::load_flow`),
//! prepare the run plan over the run's window (`flowd_connector::prepare_run`, the same
//! function explore and `flowd spec test` use), stream the records into one dataset batch
//! named after the run, commit it.
//!
//! A batch is committed only after the last page, and a retried run writes the same batch id
//! again, which replaces the earlier attempt: a window is never ingested twice and a failed
//! run leaves nothing visible. A run whose dataset no longer exists fails before anything is
//! written, and is checked again just before the commit. OAuth goes through the process's
//! session of the connection, shared with other runs and previews; tokens it refreshes are
//! sealed into the connection before they are used.
//!
//! A run is recorded after its batch is published, in another transaction: a crash between the
//! two leaves a published batch whose run is still in progress. The attempt that takes the run
//! over finds that batch (named after the run) before fetching anything and records it as the
//! run's outcome, so the window is neither fetched twice nor counted twice, and the store comes
//! to agree with the files.

use std::sync::Arc;
use std::time::{Duration, Instant};

use flowd_connector::{HttpClient, PrepareError, RunInputs, RunLimits, Window};
use flowd_model::record_type::StructType;
use flowd_model::{FailureCode, ResourceKind, RunErrorRecord, RunFailure, RunMetrics};
use flowd_plan::credentials::share_session;
use flowd_plan::{ConnectionTokens, LoadError, load_flow};
use flowd_secrets::Cipher;
use flowd_sink::DatasetStore;
use flowd_store::{RunRecord, Scope, Store};
use jiff::Timestamp;

use crate::batch::{AsyncBatch, BatchColumns, published_batch};
use crate::progress::RunCounters;
use crate::promotion::{DiagnosticsIds, Promotion, Verdict};
use crate::stream::{failure, sink_failure};
use flowd_model::diagnostics::BatchDiagnostics;
use flowd_model::xdm::XdmSchema;
use flowd_store::{ReplaceOutcome, ResourceWrite};

/// Whether a batch published under the run's name is the outcome of the run as it now stands:
/// its own, and not the batch of a success that was re-triggered since (a re-triggered run is
/// due at the re-trigger; that batch was written before, and the new attempt replaces it).
fn is_this_attempts_batch(run: &RunRecord, batch: &flowd_sink::BatchInfo) -> bool {
    batch.run_id == run.id
        && !(run.trigger == flowd_model::RunTrigger::Retrigger
            && batch.ingested_at.as_millisecond() < run.scheduled_at)
}

/// What a run needs from the process.
#[derive(Clone)]
pub struct RunContext {
    pub store: Arc<dyn Store>,
    pub cipher: Arc<Cipher>,
    pub http: HttpClient,
    pub datasets: Arc<dyn DatasetStore>,
    pub bounds: RunBounds,
    /// The process's OAuth sessions, one per connection, shared with the API's previews.
    pub sessions: flowd_connector::AuthSessions,
}

/// Bounds every run is held to, whatever its spec says; a run that reaches one fails with
/// `LIMIT_EXCEEDED` and writes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunBounds {
    /// From the first request to the commit (`--max-run-seconds`).
    pub max_duration: Duration,
    /// Pages one run may fetch (`--max-pages-per-run`).
    pub max_pages: u64,
    /// Pages one run may fetch at once, whatever its source connection asks
    /// (`--max-page-concurrency`).
    pub max_page_concurrency: u64,
}

impl RunBounds {
    /// Six hours.
    pub const DEFAULT_MAX_DURATION: Duration = Duration::from_secs(6 * 60 * 60);
    pub const DEFAULT_MAX_PAGES: u64 = 100_000;
    pub const DEFAULT_MAX_PAGE_CONCURRENCY: u64 = 8;
}

impl Default for RunBounds {
    fn default() -> RunBounds {
        RunBounds {
            max_duration: Self::DEFAULT_MAX_DURATION,
            max_pages: Self::DEFAULT_MAX_PAGES,
            max_page_concurrency: Self::DEFAULT_MAX_PAGE_CONCURRENCY,
        }
    }
}

/// A batch a successful run committed.
#[derive(Debug, Clone, PartialEq)]
pub struct CommittedBatch {
    pub dataset_id: String,
    pub batch_id: String,
    pub record_count: u64,
    pub bytes: u64,
    pub file_count: u64,
    /// The batch's record type, merged into the dataset's stored one when it is recorded.
    pub record_type: StructType,
    /// What the run warns about though its source ended (the spec's `maximumRequest`).
    pub warnings: Vec<RunErrorRecord>,
}

/// How one attempt of a run ended.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutcome {
    pub metrics: RunMetrics,
    pub result: Result<CommittedBatch, RunFailure>,
}

fn load_failure(error: LoadError) -> RunFailure {
    match error {
        LoadError::Store(error) => failure(
            FailureCode::Store,
            format!("the store could not be read: {error}"),
        ),
        other => failure(FailureCode::Configuration, other.to_string()),
    }
}

fn prepare_failure(error: PrepareError) -> RunFailure {
    let problems = error.problems();
    let about_credentials = problems
        .iter()
        .all(|problem| problem.pointer.starts_with("/auth"));
    let code = if about_credentials {
        FailureCode::Authentication
    } else {
        FailureCode::Configuration
    };
    failure(code, format!("the run cannot be prepared: {error}"))
}

/// Whether an attempt may fetch: an attempt past the budget only completes what an earlier one
/// published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// Fetch the window unless an earlier attempt already published its batch.
    Fetch,
    /// Every allowed attempt was started and none finished: record a batch an earlier attempt
    /// published, or fail the run as `INTERRUPTED`.
    BudgetSpent,
}

/// Executes `run` to the end and says how it went.
///
/// Pages and records are counted into `counters` as they come (the run's progress).
pub async fn execute(
    context: &RunContext,
    run: &RunRecord,
    attempt: Attempt,
    counters: &RunCounters,
) -> RunOutcome {
    let started = flowd_model::time::now();
    let clock = Instant::now();
    let mut metrics = RunMetrics {
        started_at: started.as_millisecond(),
        ..RunMetrics::default()
    };
    let result = ingest(context, run, attempt, &mut metrics, counters).await;
    metrics.completed_at = flowd_model::time::now_millis();
    if let Ok(batch) = &result {
        metrics.output_records = batch.record_count;
        metrics.output_bytes = batch.bytes;
        metrics.output_files = batch.file_count;
    }
    metrics::histogram!(crate::telemetry::RUN_DURATION).record(clock.elapsed().as_secs_f64());
    tracing::info!(
        run_id = %run.id,
        flow_id = %run.flow_id,
        pages = metrics.pages,
        records = metrics.output_records,
        duration_ms = clock.elapsed().as_millis() as u64,
        succeeded = result.is_ok(),
        "run finished"
    );
    RunOutcome { metrics, result }
}

async fn dataset_exists(
    context: &RunContext,
    scope: &Scope,
    dataset_id: &str,
) -> Result<bool, RunFailure> {
    context
        .store
        .get_resource(scope, ResourceKind::Dataset, dataset_id)
        .await
        .map(|found| found.is_some())
        .map_err(|error| {
            failure(
                FailureCode::Store,
                format!("the store could not be read: {error}"),
            )
        })
}

fn dataset_gone(dataset_id: &str) -> RunFailure {
    failure(
        FailureCode::Configuration,
        format!("the dataset {dataset_id} no longer exists; nothing was written"),
    )
}

/// The dataset's merged record type as stored with its statistics (empty before its first
/// batch).
async fn dataset_seed(
    context: &RunContext,
    scope: &Scope,
    dataset_id: &str,
) -> Result<StructType, RunFailure> {
    let stats = context
        .store
        .dataset_stats(scope, dataset_id)
        .await
        .map_err(|error| {
            failure(
                FailureCode::Store,
                format!("the store could not be read: {error}"),
            )
        })?;
    Ok(stats
        .and_then(|stats| stats.schema)
        .and_then(|schema| match serde_json::from_str(&schema) {
            Ok(record_type) => Some(record_type),
            Err(error) => {
                tracing::warn!(%dataset_id, %error, "the dataset's stored schema cannot be read; the batch starts from no schema");
                None
            }
        })
        .unwrap_or_default())
}

fn committed(dataset_id: String, summary: flowd_sink::BatchSummary) -> CommittedBatch {
    CommittedBatch {
        dataset_id,
        batch_id: summary.batch.batch_id,
        record_count: summary.batch.record_count,
        bytes: summary.batch.bytes,
        file_count: summary.batch.files.len() as u64,
        record_type: summary.record_type,
        warnings: Vec::new(),
    }
}

async fn ingest(
    context: &RunContext,
    run: &RunRecord,
    attempt: Attempt,
    metrics: &mut RunMetrics,
    counters: &RunCounters,
) -> Result<CommittedBatch, RunFailure> {
    let scope = &run.scope;
    let chain = load_flow(context.store.as_ref(), &context.cipher, scope, &run.flow_id)
        .await
        .map_err(load_failure)?;
    let dataset_id = chain.target.dataset_id.clone();
    if !dataset_exists(context, scope, &dataset_id).await? {
        return Err(dataset_gone(&dataset_id));
    }
    let published = published_batch(context.datasets.clone(), dataset_id.clone(), run.id.clone())
        .await
        .map_err(sink_failure)?;
    if let Some(summary) = published.filter(|summary| is_this_attempts_batch(run, &summary.batch)) {
        tracing::warn!(run_id = %run.id, %dataset_id, records = summary.batch.record_count, "an earlier attempt published this run's batch and stopped before recording it; recording that batch");
        if let Some(diagnostics) = stored_diagnostics(context, scope, &run.id).await? {
            metrics.input_records = diagnostics.input_record_count;
            metrics.failed_records = diagnostics.failed_record_count;
        }
        return Ok(committed(dataset_id, summary));
    }
    if attempt == Attempt::BudgetSpent {
        return Err(failure(
            FailureCode::Interrupted,
            format!(
                "the run was started {} times and never finished (the process running it stopped each time); it is not tried again",
                run.attempts - 1
            ),
        ));
    }
    let tokens = ConnectionTokens::new(
        context.store.clone(),
        context.cipher.clone(),
        scope.clone(),
        &chain.connection.connection_id,
    );
    let window = Window {
        start: run
            .window_start
            .and_then(|millis| Timestamp::from_millisecond(millis).ok()),
        end: Timestamp::from_millisecond(run.window_end)
            .unwrap_or_else(|_| flowd_model::time::now()),
    };
    let plan = flowd_connector::prepare_run(RunInputs {
        connection_spec: &chain.connection.connection_spec,
        credentials: Some(chain.connection.credentials()),
        source_params: &chain.source.params,
        window: Some(window),
        limits: RunLimits {
            max_pages: Some(context.bounds.max_pages),
            // Speculative fetching (OFFSET and PAGE only; a spec with delayRequestMillis stays
            // sequential), within the server's bound; the source's own rate limit holds for
            // every request either way.
            concurrency: chain
                .source
                .page_concurrency
                .unwrap_or(1)
                .clamp(1, context.bounds.max_page_concurrency.max(1))
                as usize,
            requests_per_second: chain.source.requests_per_second,
            ..RunLimits::default()
        },
        on_refresh: Some(tokens.clone()),
    })
    .map_err(prepare_failure)?;
    let mut plan = plan;
    share_session(&context.sessions, &tokens, &mut plan).await;
    let mappings = crate::mapping::load(context.store.as_ref(), scope, &chain.flow).await?;
    let schema = dataset_schema(context, scope, &dataset_id).await?;
    let mut promotion = Promotion::new(mappings, schema, chain.flow.options);
    let columns = match promotion.schema() {
        Some(schema) => BatchColumns::Typed(schema.clone()),
        None => BatchColumns::Inferred(dataset_seed(context, scope, &dataset_id).await?),
    };
    let mut batch = AsyncBatch::begin(
        context.datasets.clone(),
        dataset_id.clone(),
        run.id.clone(),
        flowd_model::time::now(),
        columns,
    )
    .await
    .map_err(sink_failure)?;
    let max_duration = context.bounds.max_duration;
    let streamed = tokio::time::timeout(
        max_duration,
        crate::stream::stream_pages(
            &context.http,
            run,
            plan,
            &mut batch,
            metrics,
            &mut promotion,
            counters,
        ),
    )
    .await
    .unwrap_or_else(|_| {
        Err(failure(
            FailureCode::LimitExceeded,
            format!(
                "the run took longer than {} s, the limit per run (--max-run-seconds); nothing was written",
                max_duration.as_secs_f64()
            ),
        ))
    });
    metrics.failed_records = promotion.failed();
    let mut warnings = match streamed {
        Ok(mut warnings) => {
            warnings.extend(promotion.mapping_warning());
            warnings
        }
        Err(failure) => {
            batch.abort().await;
            return Err(failure);
        }
    };
    let ids = DiagnosticsIds {
        run_id: &run.id,
        flow_id: &run.flow_id,
        dataset_id: &dataset_id,
    };
    let input = metrics.input_records;
    match promotion.verdict(input) {
        // An earlier attempt (or the run before a re-trigger) may have stored rejections
        // that no longer hold.
        Verdict::Clean if run.attempts > 1 || run.trigger == flowd_model::RunTrigger::Retrigger => {
            context
                .store
                .delete_resource(scope, ResourceKind::BatchDiagnostics, &run.id)
                .await
                .map_err(store_failure)?;
        }
        Verdict::Clean => {}
        Verdict::Tolerated(warning) => warnings.push(warning),
        Verdict::Refused(failure) => {
            batch.abort().await;
            if let Some(diagnostics) = promotion.diagnostics(ids, input, 0, false) {
                save_diagnostics(context, scope, &diagnostics).await?;
            }
            return Err(failure);
        }
    }
    // The flow, and with it the target and the dataset, may have been deleted meanwhile.
    if !dataset_exists(context, scope, &dataset_id).await? {
        batch.abort().await;
        return Err(dataset_gone(&dataset_id));
    }
    // Saved before the commit, so that a crash right after it still finds them; a failed
    // commit says so in them.
    let output = input - promotion.failed();
    if let Some(diagnostics) = promotion.diagnostics(ids, input, output, true) {
        save_diagnostics(context, scope, &diagnostics).await?;
    }
    let summary = match batch.commit().await {
        Ok(summary) => summary,
        Err(error) => {
            if let Some(diagnostics) = promotion.diagnostics(ids, input, 0, false) {
                save_diagnostics(context, scope, &diagnostics).await?;
            }
            return Err(sink_failure(error));
        }
    };
    Ok(CommittedBatch {
        warnings,
        ..committed(dataset_id, summary)
    })
}

fn store_failure(error: flowd_store::StoreError) -> RunFailure {
    failure(
        FailureCode::Store,
        format!("the store could not be read or written: {error}"),
    )
}

/// Stores a batch's diagnostics (replacing those an earlier attempt of the run stored).
async fn save_diagnostics(
    context: &RunContext,
    scope: &Scope,
    diagnostics: &BatchDiagnostics,
) -> Result<(), RunFailure> {
    let body = diagnostics.to_document();
    let kind = ResourceKind::BatchDiagnostics;
    let id = diagnostics.batch_id.as_str();
    let replaced = context
        .store
        .replace_resource(scope, kind, id, ResourceWrite::document(&body), None)
        .await
        .map_err(store_failure)?;
    if matches!(replaced, ReplaceOutcome::NotFound) {
        context
            .store
            .insert_resource(scope, kind, id, ResourceWrite::document(&body))
            .await
            .map_err(store_failure)?;
    }
    Ok(())
}

/// The diagnostics an earlier attempt of the run stored, if any.
async fn stored_diagnostics(
    context: &RunContext,
    scope: &Scope,
    run_id: &str,
) -> Result<Option<BatchDiagnostics>, RunFailure> {
    let stored = context
        .store
        .get_resource(scope, ResourceKind::BatchDiagnostics, run_id)
        .await
        .map_err(store_failure)?;
    Ok(stored.and_then(|stored| BatchDiagnostics::from_document(&stored.body).ok()))
}

/// The XDM schema the dataset's `schemaRef` names in the sandbox's schema registry; `None`
/// for a dataset whose schema the registry does not have (its columns are inferred).
async fn dataset_schema(
    context: &RunContext,
    scope: &Scope,
    dataset_id: &str,
) -> Result<Option<Arc<XdmSchema>>, RunFailure> {
    let Some(stored) = context
        .store
        .get_resource(scope, ResourceKind::Dataset, dataset_id)
        .await
        .map_err(store_failure)?
    else {
        return Ok(None);
    };
    let Some(schema_id) = stored
        .body
        .pointer("/schemaRef/id")
        .and_then(serde_json::Value::as_str)
    else {
        return Ok(None);
    };
    let schema = flowd_plan::dataset_schema(context.store.as_ref(), scope, schema_id)
        .await
        .map_err(load_failure)?;
    Ok(schema.map(Arc::new))
}
