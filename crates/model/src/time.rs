//! The one clock of the process. Pure code takes `now` as a parameter; code at the edges
//! (handlers, the planner loop, workers, the store's own timestamps) reads it here, so there is
//! one definition of "now" and one unit for stored instants (epoch milliseconds, UTC).

use jiff::Timestamp;

/// Now.
pub fn now() -> Timestamp {
    Timestamp::now()
}

/// Now in epoch milliseconds, the unit of every stored instant.
pub fn now_millis() -> i64 {
    now().as_millisecond()
}
