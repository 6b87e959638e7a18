//! `scheduleParams`: incremental window parameters, in the basic form (two parameter names
//! and their .NET date formats) or the `type: "ADVANCE"` form (an expression that replaces
//! `{SCHEDULE_QUERY}`).
//!
//! Decisions: in the basic form both names are required (the template schema requires them)
//! and the formats default to [`DEFAULT_SCHEDULE_PARAM_FORMAT`]; a `type` other than ADVANCE
//! (any letter case) is rejected rather than silently read as the basic form.

use serde_json::{Map, Value};

use super::lenient::{non_empty_string, required_string};
use super::{DEFAULT_SCHEDULE_PARAM_FORMAT, Schedule};
use crate::date_format::DotNetDateFormat;
use crate::problem::{Problem, child_pointer};

/// Resolves `scheduleParams` found at `pointer`.
pub(super) fn resolve_schedule(
    value: &Value,
    pointer: &str,
    problems: &mut Vec<Problem>,
) -> Option<Schedule> {
    let Some(members) = value.as_object() else {
        problems.push(Problem::new(pointer, "must be an object"));
        return None;
    };
    match members.get("type") {
        None => resolve_basic(members, pointer, problems),
        Some(type_value)
            if type_value
                .as_str()
                .is_some_and(|type_text| type_text.eq_ignore_ascii_case("ADVANCE")) =>
        {
            resolve_advance(members, pointer, problems)
        }
        Some(_) => {
            problems.push(Problem::new(
                child_pointer(pointer, "type"),
                "must be ADVANCE, or absent for the basic form",
            ));
            None
        }
    }
}

fn resolve_basic(
    members: &Map<String, Value>,
    pointer: &str,
    problems: &mut Vec<Problem>,
) -> Option<Schedule> {
    let start_name = required_string(
        members,
        pointer,
        &["scheduleStartParamName"],
        "is required",
        problems,
    );
    let end_name = required_string(
        members,
        pointer,
        &["scheduleEndParamName"],
        "is required",
        problems,
    );
    let start_format = optional_format(members, pointer, "scheduleStartParamFormat", problems);
    let end_format = optional_format(members, pointer, "scheduleEndParamFormat", problems);
    Some(Schedule::Basic {
        start_name: start_name?.1.to_owned(),
        end_name: end_name?.1.to_owned(),
        start_format: start_format?,
        end_format: end_format?,
    })
}

fn resolve_advance(
    members: &Map<String, Value>,
    pointer: &str,
    problems: &mut Vec<Problem>,
) -> Option<Schedule> {
    let format_pointer = child_pointer(pointer, "paramFormat");
    let format = match members.get("paramFormat") {
        Some(format_value) => date_format_at(format_value, &format_pointer, problems),
        None => {
            problems.push(Problem::new(
                format_pointer,
                "is required for ADVANCE scheduling",
            ));
            None
        }
    };
    let incremental = required_string(
        members,
        pointer,
        &["incremental"],
        "is required for ADVANCE scheduling",
        problems,
    );
    let backfill = required_string(
        members,
        pointer,
        &["backfill"],
        "is required for ADVANCE scheduling",
        problems,
    );
    Some(Schedule::Advance {
        format: format?,
        incremental: incremental?.1.to_owned(),
        backfill: backfill?.1.to_owned(),
    })
}

fn optional_format(
    members: &Map<String, Value>,
    pointer: &str,
    key: &str,
    problems: &mut Vec<Problem>,
) -> Option<DotNetDateFormat> {
    match members.get(key) {
        Some(format_value) => date_format_at(format_value, &child_pointer(pointer, key), problems),
        None => DotNetDateFormat::parse(DEFAULT_SCHEDULE_PARAM_FORMAT).ok(),
    }
}

fn date_format_at(
    value: &Value,
    pointer: &str,
    problems: &mut Vec<Problem>,
) -> Option<DotNetDateFormat> {
    let format_text = non_empty_string(value, pointer, problems)?;
    match DotNetDateFormat::parse(format_text) {
        Ok(format) => Some(format),
        Err(format_error) => {
            problems.push(Problem::new(pointer, format_error.to_string()));
            None
        }
    }
}
