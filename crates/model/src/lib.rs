//! flowd's resource model: what the API stores and the scheduler runs, as typed values.
//!
//! Every instance resource has a raw → resolved pair, like the spec crate's `FetchConfig`: the
//! raw stage is the JSON document a client posts or the store holds, the resolved stage a type
//! that cannot hold an invalid state. One function per resource
//! ([`Connection::from_document`], [`SourceConnection::from_document`],
//! [`TargetConnection::from_document`], [`Flow::from_document`],
//! [`Dataset::from_document`]) turns the first into the second, reporting every problem at once
//! with its JSON pointer; the API calls it on create and PATCH, the scheduler when it runs a
//! flow, so both read a document the same way.
//!
//! Also here: schedules and their windows ([`schedule`]), the run vocabulary ([`run`]), resource
//! ids ([`ids`]), the one inference lattice for record types ([`record_type`]) shared by explore
//! and datasets, and the one clock ([`time`]).
//!
//! **Architecture invariant:** no IO, no store, no HTTP. Checks that need another resource
//! (does the base connection exist?) belong to the caller; the typed resource only names the
//! resources it refers to ([`ResourceRef`]), so the store can enforce those references.

pub mod diagnostics;
pub mod ids;
pub mod record_type;
pub mod records;
pub mod resource;
pub mod run;
pub mod schedule;
pub mod time;
pub mod xdm;

pub use resource::{
    AuthBinding, Connection, Dataset, Flow, FlowOptions, FlowState, ResourceKind, ResourceRef,
    SchemaRef, SourceConnection, SpecRef, TargetConnection, TargetDataFormat, flow_spec_references,
};
pub use run::{FailureCode, RunErrorRecord, RunFailure, RunMetrics, RunStatus, RunTrigger};
pub use schedule::{
    FieldProblem, Frequency, Recurrence, Schedule, ScheduleError, ScheduledWindow, adhoc_window,
};
