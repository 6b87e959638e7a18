//! A flow's schedule and the windows its runs cover (reference §7.2 `scheduleSpec` and §5.9
//! windows).
//!
//! Scheduled times are `startTime + k · interval · frequency` for `k = 0, 1, …` (`once`: only
//! `k = 0`). The window of the run scheduled at `t` is `[end of the previous window, t)`; the
//! first window starts at the beginning of time with `backfill`, else one interval before
//! `startTime`. The caller keeps one piece of state per flow, the end of the last window it
//! created a run for, and passes it back in.
//!
//! Pure: no IO, no clock reads (`now` and the end of the flow's last window are always
//! parameters), so every decision is reproducible in a test.
//!
//! **Architecture invariant:** the windows of one flow are contiguous. Run N covers the
//! half-open window `[end of run N−1, scheduled time of run N)`, so consecutive windows share
//! exactly one boundary instant: no record time falls in a gap, none in two windows. The next
//! window always starts at the end the caller passes in (never at a value recomputed from the
//! schedule), so the invariant survives downtime, a changed schedule and clock jumps.
//!
//! # Decisions
//!
//! * **Catch-up runs a few missed windows one run each, and merges a long backlog.** When at
//!   most [`CATCH_UP_WINDOWS`] windows are due after the flow's last one (a short downtime),
//!   each is its own run, so the run history is what it would have been without downtime and a
//!   failed window holds back the later ones without losing them. When more are due (a
//!   `startTime` years in the past, a long outage), [`Schedule::next_run_window`] returns one
//!   window over every due one, `[end of the last window, the latest scheduled time ≤ now)`:
//!   a flow is caught up in at most `1 + CATCH_UP_WINDOWS` runs (the very first window, the
//!   backfill, is always its own run), not one run per missed interval, each calling the
//!   partner API. The windows stay contiguous and never overlap; the cost is one larger
//!   fetch, held to the run bounds like any other.
//! * **Windows are half-open `[start, end)`.**
//! * **The first window** starts at the beginning of time (`start: None`) with `backfill: true`
//!   (the default), else at `startTime − one interval`.
//! * **`once` ignores `backfill`:** its single window has no start bound either way.
//! * **Periods are exact seconds** (`minute` 60 s, `hour` 3600 s, `day` 86 400 s, `week`
//!   604 800 s): `startTime` is epoch seconds, so there is no time zone and no DST.
//! * **Lenient input, strict meaning:** numbers may arrive as numbers or numeric strings and
//!   booleans as `"true"`/`"false"`; every problem is reported at once, each with a JSON
//!   pointer relative to the parsed object.
//! * **Bounded:** instants lie between 1970 and the year 9999 and runs are at most 366 days
//!   apart (see `params`), so the API refuses what the planner could not run.

mod error;
mod params;

#[cfg(test)]
mod tests;

use std::num::NonZeroU32;

use jiff::Timestamp;

pub use error::{FieldProblem, ScheduleError};
pub use params::{EARLIEST_EPOCH_SECOND, MAX_PERIOD_SECONDS, adhoc_window, latest_epoch_second};

const NANOSECONDS_PER_SECOND: i128 = 1_000_000_000;

/// Due windows after a flow's last one that still run one run each; a longer backlog is
/// merged into one catch-up window ([`Schedule::next_run_window`]).
pub const CATCH_UP_WINDOWS: usize = 4;

/// The `frequency` of `scheduleParams`, as the flow spec's `scheduleSpec` enumerates it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Frequency {
    Once,
    Minute,
    Hour,
    Day,
    Week,
}

impl Frequency {
    /// Every frequency, in the order of the `scheduleSpec` enum.
    pub const ALL: [Frequency; 5] = [
        Frequency::Once,
        Frequency::Minute,
        Frequency::Hour,
        Frequency::Day,
        Frequency::Week,
    ];

    /// The wire spelling (`"once"`, `"minute"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Once => "once",
            Frequency::Minute => "minute",
            Frequency::Hour => "hour",
            Frequency::Day => "day",
            Frequency::Week => "week",
        }
    }

    /// The length of one unit in seconds; `None` for `once`, which does not repeat.
    pub fn unit_seconds(self) -> Option<i64> {
        match self {
            Frequency::Once => None,
            Frequency::Minute => Some(60),
            Frequency::Hour => Some(3_600),
            Frequency::Day => Some(86_400),
            Frequency::Week => Some(7 * 86_400),
        }
    }
}

/// How often a flow runs; an interval exists exactly when the flow repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Recurrence {
    /// One run, at `startTime`.
    Once,
    /// A run every `interval` units of `frequency`, starting at `startTime`.
    Every {
        /// Never [`Frequency::Once`] (a [`Schedule`] is only built by parsing).
        frequency: Frequency,
        /// Units of `frequency` between two runs.
        interval: NonZeroU32,
    },
}

impl Recurrence {
    /// The time between two runs in seconds (`interval · frequency`, at least 60); `None`
    /// for `once`. A `u32` interval of weeks still fits an `i64` of seconds.
    pub fn period_seconds(&self) -> Option<i64> {
        match *self {
            Recurrence::Once => None,
            Recurrence::Every {
                frequency,
                interval,
            } => frequency
                .unit_seconds()
                .map(|unit_seconds| unit_seconds * i64::from(interval.get())),
        }
    }
}

/// A validated `scheduleParams`: build it with [`Schedule::from_params`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Schedule {
    start_time: Timestamp,
    recurrence: Recurrence,
    backfill: bool,
    /// The start of the first window, decided once from `backfill` and the period.
    first_window_start: Option<Timestamp>,
}

/// One run's window: the half-open interval `[start, end)` of record times it fetches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ScheduledWindow {
    /// When the run is due; equal to `end` (a run fetches what changed before it was due).
    pub scheduled_at: Timestamp,
    /// Inclusive start; `None` for a backfill from the beginning of time.
    pub start: Option<Timestamp>,
    /// Exclusive end.
    pub end: Timestamp,
}

impl Schedule {
    /// Builds a schedule from validated parts; [`Schedule::from_params`] is the usual entry.
    fn new(start_time: Timestamp, recurrence: Recurrence, backfill: bool) -> Schedule {
        // Without backfill the first window is one period long; before jiff's earliest
        // instant it is simply unbounded, which is the same thing in practice.
        let first_window_start = match recurrence.period_seconds() {
            Some(period_seconds) if !backfill => Timestamp::from_nanosecond(
                start_time.as_nanosecond() - i128::from(period_seconds) * NANOSECONDS_PER_SECOND,
            )
            .ok(),
            _ => None,
        };
        Schedule {
            start_time,
            recurrence,
            backfill,
            first_window_start,
        }
    }

    /// The time of the first run.
    pub fn start_time(&self) -> Timestamp {
        self.start_time
    }

    /// Whether the flow repeats, and how often.
    pub fn recurrence(&self) -> Recurrence {
        self.recurrence
    }

    /// The frequency as stored (`once` included).
    pub fn frequency(&self) -> Frequency {
        match self.recurrence {
            Recurrence::Once => Frequency::Once,
            Recurrence::Every { frequency, .. } => frequency,
        }
    }

    /// The `backfill` flag as parsed (default `true`); it has no effect on `once`.
    pub fn backfill(&self) -> bool {
        self.backfill
    }

    /// The start of the very first window: `None` (beginning of time) with backfill or for
    /// `once`, else `startTime − one interval`.
    pub fn first_window_start(&self) -> Option<Timestamp> {
        self.first_window_start
    }

    /// The scheduled time of the next run after the window that ended at `last_window_end`
    /// (`None`: no window yet, so the first run at `startTime`). This is the earliest scheduled
    /// time strictly after `last_window_end`, whether or not it is already past. `None` when
    /// the schedule has no more runs (`once` done, or past the end of representable time).
    ///
    /// The scheduler loop sleeps until this instant (or runs [`Schedule::due_windows`] at
    /// once when it is not in the future).
    pub fn next_scheduled_after(&self, last_window_end: Option<Timestamp>) -> Option<Timestamp> {
        match self.recurrence.period_seconds() {
            None => match last_window_end {
                Some(last_end) if last_end >= self.start_time => None,
                _ => Some(self.start_time),
            },
            Some(period_seconds) => {
                let period_nanoseconds = i128::from(period_seconds) * NANOSECONDS_PER_SECOND;
                let start_nanoseconds = self.start_time.as_nanosecond();
                let index = match last_window_end {
                    None => 0,
                    Some(last_end) => {
                        let elapsed = last_end.as_nanosecond() - start_nanoseconds;
                        // The smallest k with start + k·period > last_end.
                        if elapsed < 0 {
                            0
                        } else {
                            elapsed / period_nanoseconds + 1
                        }
                    }
                };
                let scheduled_nanoseconds = index
                    .checked_mul(period_nanoseconds)?
                    .checked_add(start_nanoseconds)?;
                Timestamp::from_nanosecond(scheduled_nanoseconds).ok()
            }
        }
    }

    /// The latest scheduled time at or before `now`, `None` when none has come yet.
    pub fn latest_scheduled_at_or_before(&self, now: Timestamp) -> Option<Timestamp> {
        if now < self.start_time {
            return None;
        }
        let Some(period_seconds) = self.recurrence.period_seconds() else {
            return Some(self.start_time);
        };
        let period_nanoseconds = i128::from(period_seconds) * NANOSECONDS_PER_SECOND;
        let start_nanoseconds = self.start_time.as_nanosecond();
        let index = (now.as_nanosecond() - start_nanoseconds) / period_nanoseconds;
        Timestamp::from_nanosecond(start_nanoseconds + index * period_nanoseconds).ok()
    }

    /// The window of the flow's next run at `now`, after the window that ended at
    /// `last_window_end` (`None`: no window yet): the oldest due window when at most
    /// [`CATCH_UP_WINDOWS`] are due or the flow has had no window yet, else one window over
    /// every due one, from `last_window_end` to the latest scheduled time `≤ now`. `None` when
    /// nothing is due.
    pub fn next_run_window(
        &self,
        last_window_end: Option<Timestamp>,
        now: Timestamp,
    ) -> Option<ScheduledWindow> {
        let due = self.due_windows(last_window_end, now, CATCH_UP_WINDOWS + 1);
        let first = *due.first()?;
        if last_window_end.is_none() || due.len() <= CATCH_UP_WINDOWS {
            return Some(first);
        }
        let latest = self.latest_scheduled_at_or_before(now)?;
        Some(ScheduledWindow {
            scheduled_at: latest,
            start: first.start,
            end: latest,
        })
    }

    /// The windows due at `now` after the window that ended at `last_window_end` (`None`: the
    /// flow has had no scheduled window yet), oldest first, at most `max` of them.
    ///
    /// A window is due when its scheduled time is `≤ now`. The first returned window starts
    /// exactly at `last_window_end` (or at [`Schedule::first_window_start`]), and each next
    /// one starts where the previous ended, so the caller keeps the windows of a flow
    /// contiguous by passing back the `end` of the last window it created a run for. Missed
    /// windows (downtime, a disabled flow) come back one per scheduled time, never merged (the
    /// planner merges a long backlog with [`Schedule::next_run_window`]).
    pub fn due_windows(
        &self,
        last_window_end: Option<Timestamp>,
        now: Timestamp,
        max: usize,
    ) -> Vec<ScheduledWindow> {
        let mut windows = Vec::new();
        let mut window_start = match last_window_end {
            None => self.first_window_start,
            Some(last_end) => Some(last_end),
        };
        let mut cursor = last_window_end;
        while windows.len() < max {
            let Some(scheduled_at) = self.next_scheduled_after(cursor) else {
                break;
            };
            if scheduled_at > now {
                break;
            }
            windows.push(ScheduledWindow {
                scheduled_at,
                start: window_start,
                end: scheduled_at,
            });
            window_start = Some(scheduled_at);
            cursor = Some(scheduled_at);
        }
        windows
    }
}
