//! Why a `scheduleParams` object or an ad hoc run's `params` could not be read.
//!
//! Every problem is collected before failing, each located by a JSON pointer relative to the
//! parsed object (`/interval`, `/windowEndTime`), so a caller can prefix its own location
//! (`/scheduleParams`, `/params`) and report them in its own error shape.

/// One thing wrong with one field: the spec crate's [`flowd_spec::Problem`], its pointer
/// relative to the parsed object.
pub type FieldProblem = flowd_spec::Problem;

/// A schedule or an ad hoc window that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// `scheduleParams` is missing fields or has malformed ones; never empty.
    #[error("invalid scheduleParams: {}", join_problems(.0))]
    InvalidScheduleParams(Vec<FieldProblem>),
    /// The ad hoc run's `params` have no usable window; never empty.
    #[error("invalid run window: {}", join_problems(.0))]
    InvalidAdhocWindow(Vec<FieldProblem>),
}

impl ScheduleError {
    /// Every problem found, in field order.
    pub fn problems(&self) -> &[FieldProblem] {
        match self {
            ScheduleError::InvalidScheduleParams(problems)
            | ScheduleError::InvalidAdhocWindow(problems) => problems,
        }
    }
}

fn join_problems(problems: &[FieldProblem]) -> String {
    problems
        .iter()
        .map(FieldProblem::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}
