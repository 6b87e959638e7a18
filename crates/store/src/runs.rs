//! The run queue: dataflow runs waiting, running and done, claimed by
//! workers with leases.
//!
//! A worker claims the oldest due run (pending with `scheduled_at <= now`,
//! or in progress with an expired lease — its worker died) and owns it until
//! its lease expires; it heartbeats to extend the lease and finishes or
//! reschedules the run only while it still holds the lease, so a worker that
//! lost its run to another cannot overwrite the other's outcome. One run per
//! (flow, window end): scheduling the same window twice is refused.

use serde_json::Value;

use crate::model::Scope;

/// Where a run is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    Pending,
    InProgress,
    Success,
    Failed,
}

impl RunStatus {
    /// The stored (and AEP wire) spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Pending => "pending",
            RunStatus::InProgress => "inProgress",
            RunStatus::Success => "success",
            RunStatus::Failed => "failed",
        }
    }

    /// The status stored as `name`.
    pub fn from_stored_name(name: &str) -> Option<RunStatus> {
        [
            RunStatus::Pending,
            RunStatus::InProgress,
            RunStatus::Success,
            RunStatus::Failed,
        ]
        .into_iter()
        .find(|status| status.as_str() == name)
    }
}

/// A run to enqueue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRun {
    pub id: String,
    pub scope: Scope,
    pub flow_id: String,
    /// Epoch milliseconds; `None` for a backfill from the beginning of time.
    pub window_start: Option<i64>,
    /// Epoch milliseconds, exclusive.
    pub window_end: i64,
    /// When the run becomes due, epoch milliseconds.
    pub scheduled_at: i64,
    /// The run document clients see (metrics, status summary, ...).
    pub body: Value,
}

/// A run as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    pub id: String,
    pub scope: Scope,
    pub flow_id: String,
    pub window_start: Option<i64>,
    pub window_end: i64,
    pub scheduled_at: i64,
    pub status: RunStatus,
    /// How many times a worker claimed it.
    pub attempts: i64,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<i64>,
    pub body: Value,
}
