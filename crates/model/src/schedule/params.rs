//! Lenient reading of the stored JSON: a flow's `scheduleParams` and an ad hoc run's
//! `{windowStartTime, windowEndTime}`.
//!
//! The wire carries numbers both as numbers and as numeric strings and booleans as
//! `"true"`/`"false"` (a flow's GET returns strings, reference §7.2), so both are accepted;
//! `null` counts as absent. The flow spec's own rules (`interval ≥ 15` for `minute`, `once`
//! forbidding `interval`) are the API's to enforce and are not re-checked: a stored `once`
//! flow that carries an `interval` simply ignores it. What makes a schedule unusable is
//! refused here, and the API parses with this same code, so every flow it accepts is one the
//! planner can run: instants lie between 1970 and the year 9999 (a value that looks like epoch
//! milliseconds gets a hint), and two runs are at most [`MAX_PERIOD_SECONDS`] apart.

use std::num::NonZeroU32;

use jiff::Timestamp;
use serde_json::{Map, Value};

use super::{FieldProblem, Frequency, Recurrence, Schedule, ScheduleError};

impl Schedule {
    /// Parses a flow's `scheduleParams` (`{startTime, frequency, interval, backfill}`),
    /// reporting every malformed field at once.
    pub fn from_params(schedule_params: &Value) -> Result<Schedule, ScheduleError> {
        let Some(object) = schedule_params.as_object() else {
            return Err(ScheduleError::InvalidScheduleParams(vec![
                FieldProblem::new("", "must be an object"),
            ]));
        };
        let mut problems = Vec::new();
        let start_time = required(object, "startTime", &mut problems)
            .and_then(|value| epoch_seconds("/startTime", value, &mut problems));
        let frequency = required(object, "frequency", &mut problems)
            .and_then(|value| frequency("/frequency", value, &mut problems));
        let recurrence = match frequency {
            None => None,
            Some(Frequency::Once) => Some(Recurrence::Once),
            Some(frequency) => optional(object, "interval")
                .or_else(|| {
                    problems.push(FieldProblem::new(
                        "/interval",
                        format!(
                            "interval is required when frequency is {}",
                            frequency.as_str()
                        ),
                    ));
                    None
                })
                .and_then(|value| interval("/interval", value, frequency, &mut problems))
                .map(|interval| Recurrence::Every {
                    frequency,
                    interval,
                }),
        };
        let backfill = match optional(object, "backfill") {
            None => Some(true),
            Some(value) => boolean("/backfill", value, &mut problems),
        };
        match (start_time, recurrence, backfill) {
            (Some(start_time), Some(recurrence), Some(backfill)) if problems.is_empty() => {
                Ok(Schedule::new(start_time, recurrence, backfill))
            }
            _ => Err(ScheduleError::InvalidScheduleParams(problems)),
        }
    }
}

/// The window of an ad hoc run (`POST /runs` with `params {windowStartTime, windowEndTime}`):
/// `(start, end)` of the half-open `[start, end)`, where a missing start means the beginning
/// of time. The end is required and must be after the start.
pub fn adhoc_window(params: &Value) -> Result<(Option<Timestamp>, Timestamp), ScheduleError> {
    let Some(object) = params.as_object() else {
        return Err(ScheduleError::InvalidAdhocWindow(vec![FieldProblem::new(
            "",
            "must be an object",
        )]));
    };
    let mut problems = Vec::new();
    let start = match optional(object, "windowStartTime") {
        None => Some(None),
        Some(value) => window_instant("/windowStartTime", value, &mut problems).map(Some),
    };
    let end = required(object, "windowEndTime", &mut problems)
        .and_then(|value| window_instant("/windowEndTime", value, &mut problems));
    if let (Some(Some(start)), Some(end)) = (start, end)
        && start >= end
    {
        problems.push(FieldProblem::new(
            "/windowEndTime",
            format!(
                "must be after windowStartTime ({} is not after {})",
                end.as_second(),
                start.as_second()
            ),
        ));
    }
    match (start, end) {
        (Some(start), Some(end)) if problems.is_empty() => Ok((start, end)),
        _ => Err(ScheduleError::InvalidAdhocWindow(problems)),
    }
}

/// A window side: an RFC 3339 string or whole epoch seconds (a number or a numeric string),
/// read by the one parser the command line's `--window` uses too
/// ([`crate::time::parse_instant`]).
fn window_instant(
    pointer: &str,
    value: &Value,
    problems: &mut Vec<FieldProblem>,
) -> Option<Timestamp> {
    let parsed = match value {
        Value::String(text) => crate::time::parse_instant(text),
        Value::Number(number) => match integer(value) {
            Some(seconds) => crate::time::instant_from_seconds(seconds),
            None => crate::time::parse_instant(&number.to_string()),
        },
        _ => Err(format!(
            "must be an RFC 3339 instant (a string) or epoch seconds (a number), got {value}"
        )),
    };
    parsed
        .map_err(|message| problems.push(FieldProblem::new(pointer, message)))
        .ok()
}

/// The member `name`, treating `null` as absent.
fn optional<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object.get(name).filter(|value| !value.is_null())
}

fn required<'a>(
    object: &'a Map<String, Value>,
    name: &str,
    problems: &mut Vec<FieldProblem>,
) -> Option<&'a Value> {
    let value = optional(object, name);
    if value.is_none() {
        problems.push(FieldProblem::new(format!("/{name}"), "is required"));
    }
    value
}

/// An integer given as a JSON number (`1632809759`, `1632809759.0`) or a numeric string
/// (`"1632809759"`); fractions are refused rather than rounded.
fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(number) => number
            .as_i64()
            .or_else(|| number.as_f64().and_then(whole_float_to_i64)),
        Value::String(text) => {
            let text = text.trim();
            text.parse::<i64>()
                .ok()
                .or_else(|| text.parse::<f64>().ok().and_then(whole_float_to_i64))
        }
        _ => None,
    }
}

fn whole_float_to_i64(float: f64) -> Option<i64> {
    // The bounds are exact powers of two, so the comparison is exact; `as` cannot saturate.
    let in_range = (-(2f64.powi(63))..2f64.powi(63)).contains(&float);
    (float.fract() == 0.0 && in_range).then_some(float as i64)
}

/// The earliest instant a schedule or window may name: the Unix epoch.
pub const EARLIEST_EPOCH_SECOND: i64 = 0;

/// The latest instant a schedule or window may name, in epoch seconds: the end of the year
/// 9999 as far as jiff represents it (9999-12-30T22:00:00Z).
pub fn latest_epoch_second() -> i64 {
    Timestamp::MAX.as_second()
}

/// Epoch seconds between 1970 and the year 9999. A value that would be a time in that range
/// if it were milliseconds is refused with a hint, since epoch milliseconds are the most common
/// mistake (JavaScript's `Date.now()`).
fn epoch_seconds(
    pointer: &str,
    value: &Value,
    problems: &mut Vec<FieldProblem>,
) -> Option<Timestamp> {
    let Some(seconds) = integer(value) else {
        problems.push(FieldProblem::new(
            pointer,
            format!("must be whole epoch seconds as a number or a numeric string, got {value}"),
        ));
        return None;
    };
    let latest = latest_epoch_second();
    if seconds < EARLIEST_EPOCH_SECOND {
        problems.push(FieldProblem::new(
            pointer,
            format!("{seconds} is before 1970; send epoch seconds between 0 and {latest}"),
        ));
        return None;
    }
    if seconds > latest {
        let message = match seconds.checked_div(1000) {
            Some(as_seconds) if as_seconds <= latest => format!(
                "{seconds} looks like epoch milliseconds; send epoch seconds ({as_seconds})"
            ),
            _ => format!(
                "{seconds} is after the year 9999; send epoch seconds between 0 and {latest}"
            ),
        };
        problems.push(FieldProblem::new(pointer, message));
        return None;
    }
    match Timestamp::from_second(seconds) {
        Ok(timestamp) => Some(timestamp),
        Err(_) => {
            problems.push(FieldProblem::new(
                pointer,
                format!("{seconds} is outside the supported time range"),
            ));
            None
        }
    }
}

fn frequency(pointer: &str, value: &Value, problems: &mut Vec<FieldProblem>) -> Option<Frequency> {
    let found = value.as_str().and_then(|text| {
        let text = text.trim();
        Frequency::ALL
            .into_iter()
            .find(|frequency| frequency.as_str().eq_ignore_ascii_case(text))
    });
    if found.is_none() {
        problems.push(FieldProblem::new(
            pointer,
            format!("frequency must be one of once, minute, hour, day, week, got {value}"),
        ));
    }
    found
}

/// The longest time between two runs: 366 days, so a yearly flow fits (leap years included)
/// and schedule arithmetic stays far inside the representable range.
pub const MAX_PERIOD_SECONDS: i64 = 366 * 86_400;

fn interval(
    pointer: &str,
    value: &Value,
    frequency: Frequency,
    problems: &mut Vec<FieldProblem>,
) -> Option<NonZeroU32> {
    let Some(interval) = integer(value) else {
        problems.push(FieldProblem::new(
            pointer,
            format!("must be an integer as a number or a numeric string, got {value}"),
        ));
        return None;
    };
    if interval < 1 {
        problems.push(FieldProblem::new(
            pointer,
            format!("must be at least 1, got {interval}"),
        ));
        return None;
    }
    let unit_seconds = frequency.unit_seconds().unwrap_or(1);
    let most = MAX_PERIOD_SECONDS / unit_seconds;
    if interval > most {
        problems.push(FieldProblem::new(
            pointer,
            format!(
                "must be at most {most} for frequency {} (runs at most 366 days apart), got {interval}",
                frequency.as_str()
            ),
        ));
        return None;
    }
    u32::try_from(interval).ok().and_then(NonZeroU32::new)
}

fn boolean(pointer: &str, value: &Value, problems: &mut Vec<FieldProblem>) -> Option<bool> {
    let found = match value {
        Value::Bool(flag) => Some(*flag),
        Value::String(text) if text.trim().eq_ignore_ascii_case("true") => Some(true),
        Value::String(text) if text.trim().eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    };
    if found.is_none() {
        problems.push(FieldProblem::new(
            pointer,
            format!("must be true or false (or the strings \"true\"/\"false\"), got {value}"),
        ));
    }
    found
}
