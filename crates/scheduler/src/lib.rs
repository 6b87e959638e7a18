//! flowd's scheduler: turns a flow's `scheduleParams` into the time windows its runs cover
//! ([`schedule`], pure), enqueues due windows as runs ([`planner`]), and executes claimed runs
//! into datasets ([`worker`], [`executor`]) through `flowd-connector` and `flowd-sink`.
//!
//! Schedules themselves (the windows of a flow) are pure and live in `flowd_model::schedule`.

pub mod credentials;
pub mod executor;
pub mod planner;
pub mod worker;

pub use flowd_model::schedule::{
    FieldProblem, Frequency, Recurrence, Schedule, ScheduleError, ScheduledWindow, adhoc_window,
};
