//! The run vocabulary shared by the store (which persists it), the scheduler (which produces
//! it) and the API (which presents it in AEP's run shape): status, trigger, metrics and the
//! closed set of failure codes.

use serde::{Deserialize, Serialize};

/// Where a run is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunStatus {
    Pending,
    InProgress,
    Success,
    Failed,
}

impl RunStatus {
    /// Every status, for lookups by stored name.
    pub const ALL: [RunStatus; 4] = [
        RunStatus::Pending,
        RunStatus::InProgress,
        RunStatus::Success,
        RunStatus::Failed,
    ];

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
        Self::ALL.into_iter().find(|status| status.as_str() == name)
    }
}

/// What put a run in the queue most recently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunTrigger {
    /// The planner, for the next window of the flow's schedule.
    Scheduled,
    /// `POST /runs`, for a window the client chose.
    Adhoc,
    /// `RE_TRIGGER` of a failed run (of either origin).
    Retrigger,
}

impl RunTrigger {
    pub const ALL: [RunTrigger; 3] = [
        RunTrigger::Scheduled,
        RunTrigger::Adhoc,
        RunTrigger::Retrigger,
    ];

    /// The stored spelling; never change a published value.
    pub fn as_str(self) -> &'static str {
        match self {
            RunTrigger::Scheduled => "scheduled",
            RunTrigger::Adhoc => "adhoc",
            RunTrigger::Retrigger => "retrigger",
        }
    }

    pub fn from_stored_name(name: &str) -> Option<RunTrigger> {
        Self::ALL
            .into_iter()
            .find(|trigger| trigger.as_str() == name)
    }
}

/// Why a run failed: the code shown in `statusSummary.errors[].code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureCode {
    /// A resource of the flow is missing or invalid; only a user can fix it.
    Configuration,
    /// The credentials were refused or cannot be used.
    Authentication,
    /// The source API failed (connection errors, 5xx, 429 after retries).
    Upstream,
    /// The source API answered something that is not a page of records.
    InvalidResponse,
    /// Writing the dataset failed.
    Sink,
    /// The store could not be read or written.
    Store,
    /// The fetch ended without saying how (the runtime task stopped early).
    Incomplete,
    /// Every attempt the budget allows was started and none finished: the process running it
    /// stopped (a crash, a kill, a lost lease) each time.
    Interrupted,
    /// The run stopped on a guard rather than on its source's end: the API repeated a page or
    /// its next-page token, or the default `maximumRequest` of PAGE was reached. Records may
    /// be missing, so nothing is written.
    PaginationGuard,
    /// The run reached a bound the deployment sets (`--max-run-seconds`,
    /// `--max-pages-per-run`, `--max-page-bytes`, the extraction bound).
    LimitExceeded,
    /// The promotion rejected records (conversion or schema violations) beyond what the
    /// flow's `partialIngestionPercent` allows; nothing is written.
    RecordsRejected,
}

impl FailureCode {
    pub const ALL: [FailureCode; 11] = [
        FailureCode::Configuration,
        FailureCode::Authentication,
        FailureCode::Upstream,
        FailureCode::InvalidResponse,
        FailureCode::Sink,
        FailureCode::Store,
        FailureCode::Incomplete,
        FailureCode::Interrupted,
        FailureCode::PaginationGuard,
        FailureCode::LimitExceeded,
        FailureCode::RecordsRejected,
    ];

    /// The code as shown and stored.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureCode::Configuration => "CONFIGURATION",
            FailureCode::Authentication => "AUTHENTICATION",
            FailureCode::Upstream => "UPSTREAM",
            FailureCode::InvalidResponse => "INVALID_RESPONSE",
            FailureCode::Sink => "SINK",
            FailureCode::Store => "STORE",
            FailureCode::Incomplete => "INCOMPLETE",
            FailureCode::Interrupted => "INTERRUPTED",
            FailureCode::PaginationGuard => "PAGINATION_GUARD",
            FailureCode::LimitExceeded => "LIMIT_EXCEEDED",
            FailureCode::RecordsRejected => "RECORDS_REJECTED",
        }
    }

    pub fn from_stored_name(name: &str) -> Option<FailureCode> {
        Self::ALL.into_iter().find(|code| code.as_str() == name)
    }

    /// Whether another attempt may succeed without a user changing anything.
    pub fn retryable(self) -> bool {
        matches!(
            self,
            FailureCode::Upstream
                | FailureCode::InvalidResponse
                | FailureCode::Sink
                | FailureCode::Store
                | FailureCode::Incomplete
        )
    }
}

/// Why one attempt of a run failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunFailure {
    pub code: FailureCode,
    /// Lowercase, no trailing period; never holds a secret (the runtime redacts them).
    pub message: String,
}

impl RunFailure {
    pub fn new(code: FailureCode, message: impl Into<String>) -> RunFailure {
        RunFailure {
            code,
            message: message.into(),
        }
    }

    /// Whether another attempt may succeed.
    pub fn retryable(&self) -> bool {
        self.code.retryable()
    }
}

/// An error as stored with a run (the code as text, so a code this build does not know
/// still reads back).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunErrorRecord {
    pub code: String,
    pub message: String,
}

impl From<&RunFailure> for RunErrorRecord {
    fn from(failure: &RunFailure) -> RunErrorRecord {
        RunErrorRecord {
            code: failure.code.as_str().to_owned(),
            message: failure.message.clone(),
        }
    }
}

/// What one attempt of a run measured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunMetrics {
    /// Epoch milliseconds.
    pub started_at: i64,
    /// Epoch milliseconds.
    pub completed_at: i64,
    /// Pages fetched.
    pub pages: u64,
    /// Records extracted from the pages.
    pub input_records: u64,
    /// Bytes of the response bodies.
    pub input_bytes: u64,
    /// Records committed to the dataset (0 unless the attempt succeeded).
    pub output_records: u64,
    /// Bytes of the committed Parquet files.
    pub output_bytes: u64,
    /// Parquet files committed.
    pub output_files: u64,
    /// Records the promotion rejected (conversion or schema violations; `recordSummary.failedRecordCount`).
    pub failed_records: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_read_back() {
        for status in RunStatus::ALL {
            assert_eq!(RunStatus::from_stored_name(status.as_str()), Some(status));
        }
        for trigger in RunTrigger::ALL {
            assert_eq!(
                RunTrigger::from_stored_name(trigger.as_str()),
                Some(trigger)
            );
        }
        for code in FailureCode::ALL {
            assert_eq!(FailureCode::from_stored_name(code.as_str()), Some(code));
        }
        assert!(!FailureCode::Configuration.retryable());
        assert!(!FailureCode::Authentication.retryable());
        assert!(FailureCode::Upstream.retryable());
    }
}
