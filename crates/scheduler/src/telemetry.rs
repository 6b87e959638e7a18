//! The metrics flowd exports on `GET /metrics`: their names, help texts and labels in one
//! place, and [`describe_all`], which the server calls once its recorder is installed so every
//! family has its `# HELP` and `# TYPE` and every series whose labels are known at start-up is
//! there at zero (a scrape right after a restart sees the same series as before it).
//!
//! Labels stay bounded:
//! - `flowd_upstream_requests_total{status}`: the HTTP status code of each answered request,
//!   or `connection_error` for a request that got no answer (refused, DNS, TLS, timeout).
//! - `flowd_flow_runs_total{flow_id, status}` (`status` is `success` or `failed`) and
//!   `flowd_flow_last_success_timestamp_seconds{flow_id}`: per flow, for at most
//!   [`MAX_LABELED_FLOWS`] flows per process (flows are created by people, so a deployment
//!   rarely holds more); the outcomes of further flows count under `flow_id="other"` and set
//!   no last-success gauge (the `other` counters exist at zero from the start, so the family is
//!   listed before any flow exists). At start-up [`seed_flows`] creates both series of every flow
//!   of the store (up to the bound) at zero, and sets the gauge from the flow's latest run
//!   when that run succeeded (0 when no success is known), so a restart loses no series.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

/// Runs a worker started (every attempt counts).
pub const RUNS_STARTED: &str = "flowd_runs_started_total";
/// Runs that ended successfully.
pub const RUNS_SUCCEEDED: &str = "flowd_runs_succeeded_total";
/// Runs that failed with no attempt left.
pub const RUNS_FAILED: &str = "flowd_runs_failed_total";
/// Failed attempts put back in the queue.
pub const RUN_RETRIES: &str = "flowd_run_retries_total";
/// Records committed to datasets.
pub const RECORDS_INGESTED: &str = "flowd_records_ingested_total";
/// Bytes of upstream responses behind committed runs.
pub const BYTES_INGESTED: &str = "flowd_bytes_ingested_total";
/// Wall time of one run attempt.
pub const RUN_DURATION: &str = "flowd_run_duration_seconds";
/// Requests to partners' APIs, by status.
pub const UPSTREAM_REQUESTS: &str = "flowd_upstream_requests_total";
/// Final run outcomes per flow.
pub const FLOW_RUNS: &str = "flowd_flow_runs_total";
/// When a flow's last successful run ended.
pub const FLOW_LAST_SUCCESS: &str = "flowd_flow_last_success_timestamp_seconds";

/// The `status` of an upstream request that got no HTTP answer.
pub const CONNECTION_ERROR: &str = "connection_error";

/// The most flows that get series of their own in one process.
pub const MAX_LABELED_FLOWS: usize = 500;

/// The `flow_id` of flows past [`MAX_LABELED_FLOWS`].
pub const OTHER_FLOWS: &str = "other";

/// Describes every family and creates every series whose labels are known at start-up, at
/// zero. Call once, after the process's recorder is installed.
pub fn describe_all() {
    use metrics::{Unit, counter, describe_counter, describe_gauge, describe_histogram, histogram};
    let counters = [
        (RUNS_STARTED, "Run attempts started by the workers."),
        (RUNS_SUCCEEDED, "Runs that ended successfully."),
        (
            RUNS_FAILED,
            "Runs that failed with no attempt left (each is logged at ERROR).",
        ),
        (
            RUN_RETRIES,
            "Failed run attempts put back in the queue to be tried again.",
        ),
        (RECORDS_INGESTED, "Records committed to datasets by runs."),
    ];
    for (name, help) in counters {
        describe_counter!(name, Unit::Count, help);
        counter!(name).increment(0);
    }
    describe_counter!(
        BYTES_INGESTED,
        Unit::Bytes,
        "Bytes of upstream responses read by successful runs."
    );
    counter!(BYTES_INGESTED).increment(0);
    describe_histogram!(
        RUN_DURATION,
        Unit::Seconds,
        "Wall time of one run attempt, from claim to outcome."
    );
    // Registered, not observed: the histogram shows zero counts until the first run.
    let _ = histogram!(RUN_DURATION);
    describe_counter!(
        UPSTREAM_REQUESTS,
        Unit::Count,
        "Requests runs sent to partners' APIs, by HTTP status code; `connection_error` for a request that got no answer."
    );
    counter!(UPSTREAM_REQUESTS, "status" => CONNECTION_ERROR).increment(0);
    describe_counter!(
        FLOW_RUNS,
        Unit::Count,
        "Final run outcomes per flow (status success or failed), for a bounded number of flows."
    );
    // The overflow bucket exists from the start, so the family is there before any flow.
    for status in ["success", "failed"] {
        counter!(FLOW_RUNS, "flow_id" => OTHER_FLOWS, "status" => status).increment(0);
    }
    describe_gauge!(
        FLOW_LAST_SUCCESS,
        Unit::Seconds,
        "When the flow's last successful run ended, in epoch seconds."
    );
}

/// Creates the per-flow series of every flow in the store (at most [`MAX_LABELED_FLOWS`]):
/// runs at zero and the last-success gauge from the flow's latest run (0 when that run did not
/// succeed or there is none). A store that cannot be read leaves the series to the first runs.
pub async fn seed_flows(store: &dyn flowd_store::Store) {
    let flows = match store
        .list_all_resources(flowd_model::ResourceKind::Flow)
        .await
    {
        Ok(flows) => flows,
        Err(error) => {
            tracing::warn!(%error, "the flows could not be listed; their metrics appear with their first runs");
            return;
        }
    };
    let mut by_scope: Vec<(flowd_store::Scope, Vec<String>)> = Vec::new();
    for (scope, flow) in flows {
        if !flow_is_labeled(&flow.id) {
            break;
        }
        for status in ["success", "failed"] {
            metrics::counter!(FLOW_RUNS, "flow_id" => flow.id.clone(), "status" => status)
                .increment(0);
        }
        metrics::gauge!(FLOW_LAST_SUCCESS, "flow_id" => flow.id.clone()).set(0.0);
        match by_scope.iter_mut().find(|(known, _)| *known == scope) {
            Some((_, ids)) => ids.push(flow.id),
            None => by_scope.push((scope, vec![flow.id])),
        }
    }
    for (scope, flow_ids) in by_scope {
        let Ok(latest) = store.latest_runs(&scope, &flow_ids).await else {
            continue;
        };
        for run in latest {
            if run.status == flowd_store::RunStatus::Success {
                let ended_at = run
                    .metrics
                    .as_ref()
                    .map_or(run.updated_at, |metrics| metrics.completed_at);
                metrics::gauge!(FLOW_LAST_SUCCESS, "flow_id" => run.flow_id.clone())
                    .set(ended_at as f64 / 1000.0);
            }
        }
    }
}

/// Counts one upstream request: `Some(status)` for an answered one, `None` for one that got
/// no answer.
pub fn count_upstream_request(status: Option<u16>) {
    let status = status.map_or_else(|| CONNECTION_ERROR.to_owned(), |code| code.to_string());
    metrics::counter!(UPSTREAM_REQUESTS, "status" => status).increment(1);
}

/// Records a run's final outcome for its flow (and, on success, the flow's last-success time).
pub fn record_flow_outcome(flow_id: &str, succeeded: bool, ended_at_ms: i64) {
    let labeled = flow_is_labeled(flow_id);
    let flow_label = if labeled { flow_id } else { OTHER_FLOWS };
    let status = if succeeded { "success" } else { "failed" };
    metrics::counter!(FLOW_RUNS, "flow_id" => flow_label.to_owned(), "status" => status)
        .increment(1);
    if labeled {
        // The other status at zero, so both series of a flow exist once it has run.
        let other = if succeeded { "failed" } else { "success" };
        metrics::counter!(FLOW_RUNS, "flow_id" => flow_id.to_owned(), "status" => other)
            .increment(0);
        if succeeded {
            metrics::gauge!(FLOW_LAST_SUCCESS, "flow_id" => flow_id.to_owned())
                .set(ended_at_ms as f64 / 1000.0);
        }
    }
}

/// Whether `flow_id` has (or now gets) series of its own.
fn flow_is_labeled(flow_id: &str) -> bool {
    static LABELED: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    let mut labeled = LABELED
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if labeled.contains(flow_id) {
        return true;
    }
    if labeled.len() >= MAX_LABELED_FLOWS {
        return false;
    }
    labeled.insert(flow_id.to_owned());
    true
}
