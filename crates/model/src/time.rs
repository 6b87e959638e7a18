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

/// The smallest number read as epoch milliseconds rather than seconds: 1e11 seconds is the
/// year 5138, while 1e11 milliseconds is March 1973, so anything this large was meant as
/// milliseconds (JavaScript's `Date.now()`).
pub const MILLISECONDS_THRESHOLD: i64 = 100_000_000_000;

/// The hint given for a number that looks like epoch milliseconds.
pub fn milliseconds_hint(number: impl std::fmt::Display) -> String {
    format!(
        "{number} looks like milliseconds: give seconds (divide by 1000) or an RFC 3339 instant"
    )
}

/// An instant as given on the command line or the API: an RFC 3339 date-time
/// (`2024-01-01T00:00:00Z`, any offset) or whole epoch seconds (`1704067200`). A number of
/// [`MILLISECONDS_THRESHOLD`] or more is refused with [`milliseconds_hint`]; the error is a
/// sentence naming the value.
pub fn parse_instant(text: &str) -> Result<Timestamp, String> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<i64>() {
        return instant_from_seconds(seconds);
    }
    if let Ok(number) = text.parse::<f64>()
        && number.is_finite()
    {
        if number.abs() >= MILLISECONDS_THRESHOLD as f64 {
            return Err(milliseconds_hint(text));
        }
        return Err(format!(
            "{text} is not whole epoch seconds; give whole seconds or an RFC 3339 instant"
        ));
    }
    text.parse().map_err(|_| {
        format!(
            "'{text}' is neither an RFC 3339 instant (like 2024-01-01T00:00:00Z) nor epoch seconds"
        )
    })
}

/// Whole epoch seconds as an instant, refusing what looks like milliseconds and what lies
/// before 1970 or after the year 9999.
pub fn instant_from_seconds(seconds: i64) -> Result<Timestamp, String> {
    if seconds
        .checked_abs()
        .is_none_or(|size| size >= MILLISECONDS_THRESHOLD)
    {
        return Err(milliseconds_hint(seconds));
    }
    if seconds < 0 {
        return Err(format!(
            "{seconds} is before 1970; give epoch seconds from 0 or an RFC 3339 instant"
        ));
    }
    Timestamp::from_second(seconds)
        .map_err(|_| format!("{seconds} is out of the range of epoch seconds"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_instant_is_rfc_3339_or_epoch_seconds_and_milliseconds_get_a_hint() {
        let expected: Timestamp = "2024-01-01T00:00:00Z".parse().unwrap();
        assert_eq!(parse_instant("2024-01-01T00:00:00Z"), Ok(expected));
        assert_eq!(parse_instant("2024-01-01T01:00:00+01:00"), Ok(expected));
        assert_eq!(parse_instant(" 1704067200 "), Ok(expected));
        assert_eq!(
            parse_instant("1704067200000").unwrap_err(),
            "1704067200000 looks like milliseconds: give seconds (divide by 1000) or an RFC 3339 instant"
        );
        assert!(
            parse_instant("1e12")
                .unwrap_err()
                .contains("looks like milliseconds")
        );
        assert!(parse_instant("-5").unwrap_err().contains("before 1970"));
        assert_eq!(
            parse_instant("yesterday").unwrap_err(),
            "'yesterday' is neither an RFC 3339 instant (like 2024-01-01T00:00:00Z) nor epoch seconds"
        );
    }
}
