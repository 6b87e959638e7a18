//! The run queue: dataflow runs waiting, running and done, claimed by workers with leases,
//! and the flow schedules the planner advances.
//!
//! A worker claims the oldest due run (pending with `scheduled_at <= now`, or in progress with
//! an expired lease — its worker died) and owns it until its lease expires; it heartbeats to
//! extend the lease and finishes or reschedules the run only while it still holds the lease,
//! so a worker that lost its run to another cannot overwrite the other's outcome. One run per
//! (flow, window end): scheduling the same window twice is refused.
//!
//! A flow's schedule row says when it may next be due and which run, if any, it waits for:
//! the planner asks only for due flows, and a scheduled run's success releases its flow in the
//! same transaction that records it.

use flowd_model::{RunErrorRecord, RunMetrics, RunStatus, RunTrigger};

use crate::model::Scope;

/// A run to enqueue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRun {
    pub id: String,
    pub scope: Scope,
    pub flow_id: String,
    pub trigger: RunTrigger,
    /// Epoch milliseconds; `None` for a backfill from the beginning of time.
    pub window_start: Option<i64>,
    /// Epoch milliseconds, exclusive.
    pub window_end: i64,
    /// When the run becomes due, epoch milliseconds.
    pub scheduled_at: i64,
    /// Epoch milliseconds.
    pub created_at: i64,
    /// The principal and client that asked for it (`None`: flowd's planner).
    pub created_by: Option<String>,
    pub created_client: Option<String>,
}

/// A run as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    pub id: String,
    /// Insertion order: larger is newer, never reused.
    pub position: i64,
    pub scope: Scope,
    pub flow_id: String,
    pub trigger: RunTrigger,
    pub window_start: Option<i64>,
    pub window_end: i64,
    pub scheduled_at: i64,
    pub status: RunStatus,
    /// How many times a worker claimed it.
    pub attempts: i64,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<i64>,
    pub created_at: i64,
    pub created_by: Option<String>,
    pub created_client: Option<String>,
    /// When the run last changed (enqueued, claimed, finished, re-triggered).
    pub updated_at: i64,
    /// What the last finished attempt measured; `None` before the first one.
    pub metrics: Option<RunMetrics>,
    /// Why the last finished attempt failed.
    pub error: Option<RunErrorRecord>,
    /// What the last finished attempt warns about (it succeeded, but not everything may be
    /// in).
    pub warnings: Vec<RunErrorRecord>,
    /// How far the attempt in progress got, as its worker last wrote it (zeros when it is
    /// claimed); the last attempt's final figures once it ended; `None` before the first claim.
    pub progress: Option<RunProgress>,
}

/// How far a run got: pages fetched and records read so far, and when that was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RunProgress {
    pub pages: u64,
    pub records: u64,
    /// Epoch milliseconds.
    pub updated_at: i64,
}

/// A batch a successful run committed, for the dataset's statistics.
pub struct BatchCommit<'a> {
    pub dataset_id: &'a str,
    pub batch_id: &'a str,
    pub record_count: u64,
    pub bytes: u64,
    pub file_count: u64,
    /// Given the dataset's stored schema (opaque text, `None` before the first batch), the
    /// merged one to store; called inside the transaction, so concurrent commits to one
    /// dataset never lose a column.
    pub merge_schema: &'a (dyn Fn(Option<&str>) -> String + Send + Sync),
}

/// The outcome of one attempt, recorded by the lease holder.
pub struct RunCompletion<'a> {
    /// `Success`, `Failed`, or `Pending` again (a retry) with a later `scheduled_at`.
    pub status: RunStatus,
    pub scheduled_at: i64,
    pub metrics: RunMetrics,
    pub error: Option<RunErrorRecord>,
    pub warnings: Vec<RunErrorRecord>,
    /// The committed batch of a successful attempt.
    pub batch: Option<BatchCommit<'a>>,
}

/// Which runs a list asks for, beyond its [`crate::ListQuery`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunFilter {
    /// Only these flows' runs (`property=flowId==a,b`).
    pub flow_ids: Option<Vec<String>>,
}

/// A flow whose next run may be due.
#[derive(Debug, Clone, PartialEq)]
pub struct DueFlow {
    pub scope: Scope,
    pub flow_id: String,
    /// The flow's document (read in the same query, so a tick costs one read).
    pub document: serde_json::Value,
    /// End of the flow's last scheduled window, epoch milliseconds.
    pub last_window_end: Option<i64>,
    /// Changes whenever the flow's schedule is written; the planner's advance is refused when
    /// it no longer matches.
    pub revision: i64,
}

/// What the planner decided for a due flow.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleAdvance {
    pub flow: DueFlow,
    /// The run for the next window; the flow then waits for its success.
    pub run: Option<NewRun>,
    /// When the flow may be due next (epoch milliseconds); `None`: never (its schedule ended
    /// or cannot be read).
    pub next_due_at: Option<i64>,
}

/// A flow's schedule row, as the planner keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowScheduleState {
    pub enabled: bool,
    /// Epoch milliseconds; never later than the flow's next due run (see
    /// [`crate::ScheduleWrite`]); `None`: never due.
    pub next_due_at: Option<i64>,
    /// End of the flow's last scheduled window, epoch milliseconds.
    pub last_window_end: Option<i64>,
    /// The scheduled run the flow waits for (pending, retried or failed).
    pub waiting_for_run: Option<String>,
    pub revision: i64,
}

/// A run of the past with its outcome, for importing history (see
/// [`crate::SqliteStore::import_runs`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedRun {
    pub run: NewRun,
    pub status: flowd_model::RunStatus,
    pub attempts: i64,
    pub metrics: Option<RunMetrics>,
    pub error: Option<RunErrorRecord>,
}

/// Whether `run`'s window starts before `instant` (a window from the beginning of time always
/// does): with a window end after the start of another window, the two overlap.
pub(crate) fn starts_before(run: &RunRecord, instant: i64) -> bool {
    run.window_start.is_none_or(|start| start < instant)
}
