//! Why a `scheduleParams` object or an ad hoc run's `params` could not be read.
//!
//! Every problem is collected before failing, each located by a JSON pointer relative to the
//! parsed object (`/interval`, `/windowEndTime`), so a caller can prefix its own location
//! (`/scheduleParams`, `/params`) and report them in its own error shape.

/// One thing wrong with one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    /// RFC 6901 pointer relative to the parsed object; `""` is the object itself.
    pub pointer: String,
    /// Lowercase, no trailing period, phrased to follow the field name.
    pub message: String,
}

impl FieldProblem {
    pub(crate) fn new(pointer: impl Into<String>, message: impl Into<String>) -> FieldProblem {
        FieldProblem {
            pointer: pointer.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for FieldProblem {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown_pointer = if self.pointer.is_empty() {
            "(root)"
        } else {
            &self.pointer
        };
        write!(formatter, "{shown_pointer}: {}", self.message)
    }
}

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
