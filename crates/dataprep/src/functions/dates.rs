//! Date and time functions (reference §7.5, §8). Dates are zoned date-times
//! ([`Value::Date`]); patterns are Java's (see [`date_pattern`](super::date_pattern)).
//!
//! A date argument may be a date, a string (read as `date(STRING)` reads it) or an integer
//! (epoch milliseconds). Without a format, `date` tries the reference's list (§8.2) in its
//! order, then ISO-8601/RFC 3339/RFC 9557 forms the list lacks but the reference's own examples
//! use (`2019-10-23 11:24`, `2016-11-09T11:44:44.797`, `2019-10-23T11:24:00-08:00`,
//! `…[Europe/Paris]`), then epoch milliseconds. A zone-less input is UTC.
//!
//! Null: a null (or blank) date gives null, or `date`'s DEFAULT_DATE when one is given; an
//! unparseable one is an error. `date_part`/`set_date_part` components are T-SQL's, matched
//! without regard to case (`m` and `mm` are the month, `mi` and `n` the minute, `w` is the
//! weekday, Monday = 1; `ww`/`wk` the ISO week; `hh12` the 12-hour clock hour).
//! `make_date_time` keeps the zone it is given (the reference's example prints `Z`, an
//! artefact); its zone is optional (UTC).

use std::sync::LazyLock;

use jiff::ZonedDateTime;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

use crate::functions::args::{Args, quote};
use crate::functions::date_pattern::{Pattern, zone_named};
use crate::functions::{CallContext, Function, FunctionError};
use crate::value::Value;

pub static DATE_FUNCTIONS: &[Function] = &[
    Function::new("now", 0, Some(0), now),
    Function::new("timestamp", 0, Some(0), timestamp),
    Function::new("format", 2, Some(2), format),
    Function::new("dformat", 2, Some(2), dformat),
    Function::new("date", 1, Some(3), date),
    Function::new("date_part", 2, Some(2), date_part),
    Function::new("set_date_part", 3, Some(3), set_date_part),
    Function::new("make_date_time", 7, Some(8), make_date_time),
    Function::new("make_timestamp", 7, Some(8), make_date_time),
    Function::new("zone_date_to_utc", 1, Some(1), zone_date_to_utc),
    Function::new("zone_date_to_zone", 2, Some(2), zone_date_to_zone),
];

type Outcome = Result<Value, FunctionError>;

/// The reference's list of formats tried, in order, for a string without a format (§8.2).
const AUTO_FORMATS: &[&str] = &[
    "yyyy-MM-dd HH:mm:ssZ",
    "yyyy-MM-dd HH:mm:ss.SSSZ",
    "yyyy-MM-dd HH:mm:ss.SSS",
    "yyyy-MM-dd'T'HH:mm:ss.SSSX",
    "yyyy-MM-dd'T'HH:mm:ss'Z'",
    "yyyy-MM-dd",
    "yyyy/MM/dd",
    "yyyy.MM.dd",
    "yyyy-MMM-dd",
    "yyyyMMdd",
    "MM-dd-yyyy",
    "MMddyyyy",
    "M/dd/yyyy",
    "dd.M.yyyy",
    "M/dd/yyyy hh:mm:ss a",
    "dd.M.yyyy hh:mm:ss a",
    "dd.MMM.yyyy",
    "dd-MMM-yyyy",
];

static AUTO_PATTERNS: LazyLock<Vec<Pattern>> = LazyLock::new(|| {
    AUTO_FORMATS
        .iter()
        .map(|format| Pattern::compile(format).expect("the reference's formats compile"))
        .collect()
});

/// An ISO-8601 form (RFC 3339, RFC 9557, or a zone-less date-time, taken as UTC).
fn parse_iso(text: &str) -> Option<ZonedDateTime> {
    let pieces = jiff::fmt::temporal::Pieces::parse(text).ok()?;
    let zone = match (pieces.to_time_zone().ok()?, pieces.to_numeric_offset()) {
        (Some(zone), _) => zone,
        (None, Some(offset)) => TimeZone::fixed(offset),
        (None, None) => TimeZone::UTC,
    };
    let time = pieces.time().unwrap_or(jiff::civil::Time::midnight());
    zone.to_zoned_datetime(pieces.date().to_datetime(time)).ok()
}

fn from_epoch_millis(milliseconds: i64) -> Option<ZonedDateTime> {
    jiff::Timestamp::from_millisecond(milliseconds)
        .ok()
        .map(|instant| instant.to_zoned_datetime(TimeZone::UTC))
}

/// `date(STRING)` without a format.
pub(crate) fn parse_auto(text: &str) -> Option<ZonedDateTime> {
    let text = text.trim();
    AUTO_PATTERNS
        .iter()
        .find_map(|pattern| pattern.parse(text).ok())
        .or_else(|| parse_iso(text))
        .or_else(|| text.parse::<i64>().ok().and_then(from_epoch_millis))
}

/// Compiled patterns kept per thread: a mapping's format is usually a literal, the same for
/// every record, so a run compiles each once per thread rather than once per record.
const PATTERN_CACHE_CAPACITY: usize = 64;

thread_local! {
    static PATTERNS: std::cell::RefCell<std::collections::HashMap<String, std::rc::Rc<Pattern>>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// The pattern argument at `index`, compiled (or taken from the thread's cache).
fn pattern(args: &Args<'_>, index: usize) -> Result<std::rc::Rc<Pattern>, FunctionError> {
    let format = args.text(index, "FORMAT")?;
    if let Some(pattern) = PATTERNS.with(|cache| cache.borrow().get(&format).cloned()) {
        return Ok(pattern);
    }
    let pattern = std::rc::Rc::new(Pattern::compile(&format).map_err(|problem| {
        args.invalid(index, "FORMAT", &format!("{} {problem}", quote(&format)))
    })?);
    PATTERNS.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.len() >= PATTERN_CACHE_CAPACITY {
            cache.clear();
        }
        cache.insert(format, std::rc::Rc::clone(&pattern));
    });
    Ok(pattern)
}

/// The date argument at `index`; `None` for null or a blank string.
fn date_arg(
    args: &Args<'_>,
    index: usize,
    name: &str,
) -> Result<Option<ZonedDateTime>, FunctionError> {
    match args.get(index) {
        Value::Null => Ok(None),
        Value::Date(date) => Ok(Some(date.clone())),
        Value::Str(text) if text.trim().is_empty() => Ok(None),
        Value::Str(text) => parse_auto(text).map(Some).ok_or_else(|| {
            args.invalid(
                index,
                name,
                &format!("is not a date in a known format: {}", quote(text)),
            )
        }),
        Value::Int(milliseconds) => from_epoch_millis(*milliseconds)
            .map(Some)
            .ok_or_else(|| args.invalid(index, name, "is out of the date range")),
        _ => Err(args.expected(index, name, "a date, a date string or epoch milliseconds")),
    }
}

/// The zone argument at `index`.
fn zone_arg(args: &Args<'_>, index: usize) -> Result<TimeZone, FunctionError> {
    let name = args.text(index, "ZONE")?;
    zone_named(&name).ok_or_else(|| {
        args.invalid(
            index,
            "ZONE",
            &format!("names no known time zone: {}", quote(&name)),
        )
    })
}

fn now(_: &[Value], context: &CallContext<'_>) -> Outcome {
    Ok(Value::Date(context.now.with_time_zone(TimeZone::UTC)))
}

fn timestamp(_: &[Value], context: &CallContext<'_>) -> Outcome {
    Ok(Value::Int(context.now.timestamp().as_millisecond()))
}

fn format(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let args = Args::new("format", values);
    let pattern = pattern(&args, 1)?;
    Ok(date_arg(&args, 0, "DATE")?.map_or(Value::Null, |date| Value::Str(pattern.format(&date))))
}

fn dformat(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let args = Args::new("dformat", values);
    let pattern = pattern(&args, 1)?;
    if args.get(0).is_null() {
        return Ok(Value::Null);
    }
    let milliseconds = args.integer(0, "TIMESTAMP")?;
    let date = from_epoch_millis(milliseconds)
        .ok_or_else(|| args.invalid(0, "TIMESTAMP", "is out of the date range"))?;
    Ok(Value::Str(pattern.format(&date)))
}

fn date(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let args = Args::new("date", values);
    let blank = match args.get(0) {
        Value::Null => true,
        Value::Str(text) => text.trim().is_empty(),
        _ => false,
    };
    if blank {
        return Ok(match date_arg(&args, 2, "DEFAULT_DATE")? {
            Some(default) => Value::Date(default),
            None => Value::Null,
        });
    }
    let (Value::Str(text), false) = (args.get(0), args.get(1).is_null()) else {
        return Ok(date_arg(&args, 0, "DATE")?.map_or(Value::Null, Value::Date));
    };
    let format = args.text(1, "FORMAT")?;
    let parsed = pattern(&args, 1)?.parse(text.trim()).map_err(|problem| {
        args.invalid(
            0,
            "DATE",
            &format!(
                "{} does not match the format {}: {problem}",
                quote(text),
                quote(&format)
            ),
        )
    })?;
    Ok(Value::Date(parsed))
}

/// A component of `date_part` and `set_date_part`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Component {
    Year,
    Quarter,
    Month,
    DayOfYear,
    Day,
    Week,
    Weekday,
    Hour,
    Hour12,
    Minute,
    Second,
    Millisecond,
}

fn component(args: &Args<'_>) -> Result<Component, FunctionError> {
    let name = args.text(0, "COMPONENT")?;
    Ok(match name.to_ascii_lowercase().as_str() {
        "year" | "yyyy" | "yy" => Component::Year,
        "quarter" | "qq" | "q" => Component::Quarter,
        "month" | "mm" | "m" => Component::Month,
        "dayofyear" | "dy" | "y" => Component::DayOfYear,
        "day" | "dd" | "d" => Component::Day,
        "week" | "ww" | "wk" => Component::Week,
        "weekday" | "dw" | "w" => Component::Weekday,
        "hour" | "hh" | "hh24" => Component::Hour,
        "hh12" => Component::Hour12,
        "minute" | "mi" | "n" => Component::Minute,
        "second" | "ss" | "s" => Component::Second,
        "millisecond" | "sss" | "ms" => Component::Millisecond,
        _ => {
            return Err(args.invalid(
                0,
                "COMPONENT",
                &format!("names no date component: {}", quote(&name)),
            ));
        }
    })
}

fn date_part(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let args = Args::new("date_part", values);
    let component = component(&args)?;
    let Some(date) = date_arg(&args, 1, "DATE")? else {
        return Ok(Value::Null);
    };
    let part = match component {
        Component::Year => i64::from(date.year()),
        Component::Quarter => i64::from((date.month() - 1) / 3 + 1),
        Component::Month => i64::from(date.month()),
        Component::DayOfYear => i64::from(date.day_of_year()),
        Component::Day => i64::from(date.day()),
        Component::Week => i64::from(date.iso_week_date().week()),
        Component::Weekday => i64::from(date.weekday().to_monday_one_offset()),
        Component::Hour => i64::from(date.hour()),
        Component::Hour12 => i64::from((date.hour() + 11) % 12 + 1),
        Component::Minute => i64::from(date.minute()),
        Component::Second => i64::from(date.second()),
        Component::Millisecond => i64::from(date.millisecond()),
    };
    Ok(Value::Int(part))
}

fn set_date_part(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let args = Args::new("set_date_part", values);
    let component = component(&args)?;
    let Some(date) = date_arg(&args, 2, "DATE")? else {
        return Ok(Value::Null);
    };
    let range = match component {
        Component::Year => 1..=9999,
        Component::Month => 1..=12,
        Component::Day => 1..=31,
        Component::Hour => 0..=23,
        Component::Minute | Component::Second => 0..=59,
        _ => {
            return Err(args.invalid(
                0,
                "COMPONENT",
                "must be year, month, day, hour, minute or second",
            ));
        }
    };
    let part = args.integer_in(1, "VALUE", range)?;
    let with = date.with();
    let changed = match component {
        Component::Year => with.year(part as i16),
        Component::Month => with.month(part as i8),
        Component::Day => with.day(part as i8),
        Component::Hour => with.hour(part as i8),
        Component::Minute => with.minute(part as i8),
        _ => with.second(part as i8),
    };
    changed
        .build()
        .map(Value::Date)
        .map_err(|error| args.invalid(1, "VALUE", &format!("gives no such date: {error}")))
}

fn make_date_time(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let args = Args::new("make_date_time", values);
    let year = args.integer_in(0, "YEAR", -9999..=9999)?;
    let month = args.integer_in(1, "MONTH", 1..=12)?;
    let day = args.integer_in(2, "DAY", 1..=31)?;
    let hour = args.integer_in(3, "HOUR", 0..=23)?;
    let minute = args.integer_in(4, "MINUTE", 0..=59)?;
    let second = args.integer_in(5, "SECOND", 0..=59)?;
    let nanosecond = args.integer_in(6, "NANOSECOND", 0..=999_999_999)?;
    let zone = if args.get(7).is_null() {
        TimeZone::UTC
    } else {
        zone_arg(&args, 7)?
    };
    let civil = DateTime::new(
        year as i16,
        month as i8,
        day as i8,
        hour as i8,
        minute as i8,
        second as i8,
        nanosecond as i32,
    )
    .map_err(|error| args.invalid(2, "DAY", &format!("gives no such date: {error}")))?;
    zone.to_zoned_datetime(civil)
        .map(Value::Date)
        .map_err(|error| args.error(error.to_string()))
}

fn zone_date_to_utc(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let args = Args::new("zone_date_to_utc", values);
    Ok(date_arg(&args, 0, "DATE")?.map_or(Value::Null, |date| {
        Value::Date(date.with_time_zone(TimeZone::UTC))
    }))
}

fn zone_date_to_zone(values: &[Value], _: &CallContext<'_>) -> Outcome {
    let args = Args::new("zone_date_to_zone", values);
    let zone = zone_arg(&args, 1)?;
    Ok(date_arg(&args, 0, "DATE")?
        .map_or(Value::Null, |date| Value::Date(date.with_time_zone(zone))))
}
