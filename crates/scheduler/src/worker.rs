//! Workers: claim due runs from the store's queue with a lease, heartbeat
//! while executing, and record the outcome. A failed run that may succeed
//! later is put back as pending with exponential backoff until its attempts
//! are spent, then marked failed. The same loop works unchanged with several
//! flowd processes sharing one store: claims, heartbeats, progress and outcomes all go
//! through the lease.

use std::sync::Arc;
use std::time::Duration;

use flowd_model::RunErrorRecord;
use flowd_store::{BatchCommit, RunCompletion, RunRecord, RunStatus};
use tokio::sync::{Notify, watch};

use crate::executor::{Attempt, RunContext, RunOutcome, execute};
use crate::progress::{RunCounters, report_progress};
use crate::telemetry;

/// How a worker behaves.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Unique per worker (and process): the lease owner.
    pub worker_id: String,
    /// A run whose worker stops heartbeating is claimable again after this.
    pub lease: Duration,
    /// How often a running run's lease is extended.
    pub heartbeat_every: Duration,
    /// How long an idle worker waits before looking for work again.
    pub poll_every: Duration,
    /// Wakes an idle worker before `poll_every` has passed (the API notifies it when a
    /// request makes a run due now).
    pub wake: Arc<Notify>,
    /// Attempts of a run before it is marked failed (`--run-attempts`).
    pub run_attempts: u32,
    /// Delay before the first retry; doubled for each later one.
    pub retry_backoff: Duration,
    /// How often a running run's progress (pages and records so far) is written while it
    /// changes.
    pub progress_every: Duration,
    /// Runs one sandbox may have in progress at once (`--max-runs-per-sandbox`); `None` is no
    /// cap. Claims go to the sandbox with the fewest runs in progress either way.
    pub max_runs_per_sandbox: Option<u32>,
}

impl WorkerOptions {
    pub fn new(worker_id: String) -> WorkerOptions {
        WorkerOptions {
            worker_id,
            lease: Duration::from_secs(60),
            heartbeat_every: Duration::from_secs(15),
            poll_every: Duration::from_secs(1),
            wake: Arc::default(),
            run_attempts: 3,
            retry_backoff: Duration::from_secs(5),
            progress_every: Duration::from_secs(2),
            max_runs_per_sandbox: None,
        }
    }
}

use flowd_model::time::now_millis;

/// Claims and executes runs until `shutdown` turns true; a run in progress
/// finishes first.
pub async fn run_worker(
    context: RunContext,
    options: WorkerOptions,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        if *shutdown.borrow() {
            return;
        }
        let claimed = context
            .store
            .claim_run(
                &options.worker_id,
                now_millis(),
                options.lease.as_millis() as i64,
                options.max_runs_per_sandbox,
            )
            .await;
        match claimed {
            Ok(Some(run)) => process(&context, &options, run).await,
            Ok(None) => {
                tokio::select! {
                    _ = tokio::time::sleep(options.poll_every) => {}
                    _ = options.wake.notified() => {}
                    _ = shutdown.changed() => {}
                }
            }
            Err(error) => {
                tracing::error!(%error, worker = %options.worker_id, "claiming a run failed");
                tokio::time::sleep(options.poll_every).await;
            }
        }
    }
}

/// Executes one claimed run while a side task keeps its lease alive.
pub async fn process(context: &RunContext, options: &WorkerOptions, run: RunRecord) {
    tracing::info!(run_id = %run.id, flow_id = %run.flow_id, attempt = run.attempts, "run started");
    metrics::counter!(telemetry::RUNS_STARTED).increment(1);
    let heartbeat = {
        let store = context.store.clone();
        let run_id = run.id.clone();
        let options = options.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(options.heartbeat_every).await;
                match store
                    .heartbeat_run(
                        &run_id,
                        &options.worker_id,
                        now_millis(),
                        options.lease.as_millis() as i64,
                    )
                    .await
                {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(%run_id, "lost the run's lease; another worker owns it now");
                        return;
                    }
                    Err(error) => tracing::error!(%run_id, %error, "heartbeat failed"),
                }
            }
        })
    };
    // Attempts are counted when a run is claimed, a takeover after a crash included: one past
    // the budget means every allowed attempt was started and none finished.
    let attempt = if run.attempts as u32 > options.run_attempts {
        Attempt::BudgetSpent
    } else {
        Attempt::Fetch
    };
    let counters = Arc::new(RunCounters::default());
    let progress = tokio::spawn(report_progress(
        context.store.clone(),
        run.id.clone(),
        options.worker_id.clone(),
        counters.clone(),
        options.progress_every,
    ));
    let outcome = execute(context, &run, attempt, &counters).await;
    progress.abort();
    heartbeat.abort();
    if outcome.result.is_ok() {
        fail::fail_point!("run-before-record");
    }
    if record(context, options, &run, outcome).await {
        fail::fail_point!("run-after-record");
    }
}

async fn record(
    context: &RunContext,
    options: &WorkerOptions,
    run: &RunRecord,
    outcome: RunOutcome,
) -> bool {
    let (status, scheduled_at, error) = match &outcome.result {
        Ok(_) => {
            metrics::counter!(telemetry::RUNS_SUCCEEDED).increment(1);
            telemetry::record_flow_outcome(&run.flow_id, true, outcome.metrics.completed_at);
            metrics::counter!(telemetry::RECORDS_INGESTED)
                .increment(outcome.metrics.output_records);
            metrics::counter!(telemetry::BYTES_INGESTED).increment(outcome.metrics.input_bytes);
            (RunStatus::Success, run.scheduled_at, None)
        }
        Err(failure) if failure.retryable() && (run.attempts as u32) < options.run_attempts => {
            let exponent = (run.attempts.max(1) - 1).min(16) as u32;
            let delay = options
                .retry_backoff
                .saturating_mul(2u32.saturating_pow(exponent));
            tracing::warn!(run_id = %run.id, flow_id = %run.flow_id, attempt = run.attempts, code = failure.code.as_str(), reason = %failure.message, retry_in_ms = delay.as_millis() as u64, "run failed; retrying");
            metrics::counter!(telemetry::RUN_RETRIES).increment(1);
            (
                RunStatus::Pending,
                now_millis() + delay.as_millis() as i64,
                Some(RunErrorRecord::from(failure)),
            )
        }
        Err(failure) => {
            metrics::counter!(telemetry::RUNS_FAILED).increment(1);
            telemetry::record_flow_outcome(&run.flow_id, false, outcome.metrics.completed_at);
            tracing::error!(run_id = %run.id, flow_id = %run.flow_id, attempts = run.attempts, code = failure.code.as_str(), reason = %failure.message, "run failed; no attempt left");
            (
                RunStatus::Failed,
                run.scheduled_at,
                Some(RunErrorRecord::from(failure)),
            )
        }
    };
    let merge_schema = |stored: Option<&str>| -> String {
        let mut merged: flowd_model::record_type::StructType = stored
            .and_then(|text| serde_json::from_str(text).ok())
            .unwrap_or_default();
        if let Ok(batch) = &outcome.result {
            merged.merge(&batch.record_type);
        }
        serde_json::to_string(&merged).expect("a record type serializes")
    };
    // A run that fetched nothing published no batch: nothing to add to the statistics.
    let batch = outcome
        .result
        .as_ref()
        .ok()
        .filter(|batch| batch.file_count > 0)
        .map(|batch| BatchCommit {
            dataset_id: &batch.dataset_id,
            batch_id: &batch.batch_id,
            record_count: batch.record_count,
            bytes: batch.bytes,
            file_count: batch.file_count,
            merge_schema: &merge_schema,
        });
    let completion = RunCompletion {
        status,
        scheduled_at,
        metrics: outcome.metrics,
        error,
        warnings: outcome
            .result
            .as_ref()
            .map(|batch| batch.warnings.clone())
            .unwrap_or_default(),
        batch,
    };
    match context
        .store
        .finish_run(&run.id, &options.worker_id, &completion)
        .await
    {
        Ok(true) => true,
        Ok(false) => {
            tracing::warn!(run_id = %run.id, "the run's lease was lost; its outcome is not recorded");
            false
        }
        Err(error) => {
            tracing::error!(run_id = %run.id, %error, "recording the run's outcome failed");
            false
        }
    }
}
