//! .NET custom date/time format strings (`yyyy-MM-ddTHH:mm:ss:fffffffK`), which Adobe's specs
//! use for schedule window parameters; neither jiff nor chrono formats this dialect.
//!
//! Instants are always rendered in UTC (the reference assumes UTC windows), so `K` renders `Z`
//! and `z`/`zz`/`zzz` render `+0`/`+00`/`+00:00`. As in .NET, `:` and `/` are the invariant
//! culture's separators, names are English, and every character that is not a specifier is
//! copied (so `T` and `Z` are literal); any other unquoted letter is refused, since .NET would
//! copy it too and it is always a pattern of another dialect (Java's `SSSXXX`, with a hint).
//! `g` (era) is not supported and is copied literally:
//! no spec uses it and a BC year cannot occur in a schedule window. A `%` is dropped, as .NET
//! does when it marks a lone one-letter specifier (`%d`).

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// The most fraction digits .NET accepts (`fffffff`, 100 ns ticks).
pub const MAXIMUM_FRACTION_DIGITS: usize = 7;

const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAY_NAMES_FROM_MONDAY: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// Why a format string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateFormatError {
    /// The format is the empty string.
    #[error("date format is empty")]
    Empty,
    /// A `'` or `"` literal is never closed.
    #[error("date format has an unterminated {quote} quote starting at byte {byte_offset}")]
    UnterminatedQuote {
        /// The quote character.
        quote: char,
        /// Where the literal starts.
        byte_offset: usize,
    },
    /// The format ends with an escaping backslash.
    #[error("date format ends with a backslash that escapes nothing")]
    TrailingBackslash,
    /// More than seven `f` or `F` in a row.
    #[error("date format asks for {requested} fraction digits, at most 7 are supported")]
    TooManyFractionDigits {
        /// How many `f`/`F` were written.
        requested: usize,
    },
    /// Only literals: rendering it would ignore the instant entirely.
    #[error("date format has no date or time specifier")]
    NoDateOrTimeToken,
    /// An unquoted letter that is no .NET specifier (nor the usual literal `T` or `Z`): .NET
    /// would copy it as it is, which is never what a pattern from another dialect meant.
    #[error("{}", unknown_letters_message(letters, *byte_offset, *java_style))]
    UnknownLetters {
        /// The run of the same letter, as written (`SSS`).
        letters: String,
        /// Where it starts.
        byte_offset: usize,
        /// The format looks like a Java `DateTimeFormatter` pattern (`SSS`, `XXX`, `a`, …).
        java_style: bool,
    },
}

/// Letters .NET does not read as specifiers but a Java `DateTimeFormatter` pattern does.
const JAVA_ONLY_LETTERS: &str = "SXxaEuYDwWQLVOnNAe";

/// The hint written when a format looks like Java's.
pub const JAVA_PATTERN_HINT: &str = "looks like a Java DateTimeFormatter pattern; in .NET write fff for milliseconds and K or zzz for the offset";

fn unknown_letters_message(letters: &str, byte_offset: usize, java_style: bool) -> String {
    let mut message = format!(
        "date format has `{letters}` at byte {byte_offset}, which .NET does not know as a specifier and would send as it is (quote literal text: '{letters}')"
    );
    if java_style {
        message.push_str("; the format ");
        message.push_str(JAVA_PATTERN_HINT);
    }
    message
}

/// One unit of a parsed format.
#[derive(Debug, Clone, PartialEq, Eq)]
enum DateFormatToken {
    Literal(String),
    /// `y` (year mod 100), `yy` (2 digits, mod 100), `yyy`+ (full year padded to the count).
    Year {
        repeat: usize,
    },
    /// `M`, `MM` numeric; `MMM` abbreviated name; `MMMM`+ full name.
    Month {
        repeat: usize,
    },
    /// `d`, `dd` numeric; `ddd` abbreviated weekday; `dddd`+ full weekday.
    Day {
        repeat: usize,
    },
    /// `H`, `HH`+.
    Hour24 {
        repeat: usize,
    },
    /// `h`, `hh`+ (1–12).
    Hour12 {
        repeat: usize,
    },
    /// `m`, `mm`+.
    Minute {
        repeat: usize,
    },
    /// `s`, `ss`+.
    Second {
        repeat: usize,
    },
    /// `f`… (always `digits` digits) or `F`… (trailing zeros trimmed).
    Fraction {
        digits: usize,
        trim_trailing_zeros: bool,
    },
    /// `K`: `Z` in UTC.
    TimeZoneDesignator,
    /// `z`, `zz`, `zzz`+.
    UtcOffset {
        repeat: usize,
    },
    /// `t` (first letter), `tt`+ (`AM`/`PM`).
    AmPmDesignator {
        repeat: usize,
    },
}

/// A parsed .NET custom date/time format, ready to render many instants cheaply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DotNetDateFormat {
    source_text: String,
    tokens: Vec<DateFormatToken>,
}

impl DotNetDateFormat {
    /// Tokenizes `format`, rejecting what .NET would reject and formats that contain no
    /// specifier at all.
    pub fn parse(format: &str) -> Result<Self, DateFormatError> {
        if format.is_empty() {
            return Err(DateFormatError::Empty);
        }
        let characters: Vec<(usize, char)> = format.char_indices().collect();
        let mut tokens = Vec::new();
        let mut index = 0;
        while index < characters.len() {
            let (byte_offset, character) = characters[index];
            let repeat = characters[index..]
                .iter()
                .take_while(|(_, next)| *next == character)
                .count();
            let token = match character {
                'y' => DateFormatToken::Year { repeat },
                'M' => DateFormatToken::Month { repeat },
                'd' => DateFormatToken::Day { repeat },
                'H' => DateFormatToken::Hour24 { repeat },
                'h' => DateFormatToken::Hour12 { repeat },
                'm' => DateFormatToken::Minute { repeat },
                's' => DateFormatToken::Second { repeat },
                'f' | 'F' if repeat > MAXIMUM_FRACTION_DIGITS => {
                    return Err(DateFormatError::TooManyFractionDigits { requested: repeat });
                }
                'f' | 'F' => DateFormatToken::Fraction {
                    digits: repeat,
                    trim_trailing_zeros: character == 'F',
                },
                'z' => DateFormatToken::UtcOffset { repeat },
                't' => DateFormatToken::AmPmDesignator { repeat },
                'K' => {
                    // .NET reads `K` one character at a time, so `KK` renders two designators.
                    tokens.push(DateFormatToken::TimeZoneDesignator);
                    index += 1;
                    continue;
                }
                '\'' | '"' => {
                    let closing = characters[index + 1..]
                        .iter()
                        .position(|(_, next)| *next == character)
                        .ok_or(DateFormatError::UnterminatedQuote {
                            quote: character,
                            byte_offset,
                        })?;
                    let literal: String = characters[index + 1..index + 1 + closing]
                        .iter()
                        .map(|(_, literal_character)| literal_character)
                        .collect();
                    push_literal(&mut tokens, &literal);
                    index += closing + 2;
                    continue;
                }
                '\\' => {
                    let (_, escaped) = characters
                        .get(index + 1)
                        .ok_or(DateFormatError::TrailingBackslash)?;
                    push_literal(&mut tokens, &escaped.to_string());
                    index += 2;
                    continue;
                }
                '%' => {
                    index += 1;
                    continue;
                }
                letter if letter.is_ascii_alphabetic() && !matches!(letter, 'T' | 'Z' | 'g') => {
                    let java_style = format.chars().any(|any| JAVA_ONLY_LETTERS.contains(any));
                    return Err(DateFormatError::UnknownLetters {
                        letters: letter.to_string().repeat(repeat),
                        byte_offset,
                        java_style,
                    });
                }
                literal_character => {
                    push_literal(&mut tokens, &literal_character.to_string());
                    index += 1;
                    continue;
                }
            };
            tokens.push(token);
            index += repeat;
        }
        if tokens
            .iter()
            .all(|token| matches!(token, DateFormatToken::Literal(_)))
        {
            return Err(DateFormatError::NoDateOrTimeToken);
        }
        Ok(Self {
            source_text: format.to_owned(),
            tokens,
        })
    }

    /// The format exactly as written.
    pub fn as_str(&self) -> &str {
        &self.source_text
    }

    /// Renders `instant` in UTC.
    pub fn render(&self, instant: Timestamp) -> String {
        let date_time = TimeZone::UTC.to_datetime(instant);
        let mut rendered = String::with_capacity(self.source_text.len() + 8);
        for token in &self.tokens {
            match token {
                DateFormatToken::Literal(literal) => rendered.push_str(literal),
                DateFormatToken::Year { repeat } => {
                    let year = i32::from(date_time.year());
                    match repeat {
                        1 => rendered.push_str(&(year % 100).to_string()),
                        2 => push_padded(&mut rendered, i64::from(year % 100), 2),
                        _ => push_padded(&mut rendered, i64::from(year), *repeat),
                    }
                }
                DateFormatToken::Month { repeat } => {
                    // jiff guarantees 1..=12 and a Monday-based 0..=6 offset, so indexing holds.
                    let month_index = usize::try_from(date_time.month() - 1).unwrap_or_default();
                    let month_name = MONTH_NAMES[month_index];
                    match repeat {
                        1 | 2 => push_padded(&mut rendered, i64::from(date_time.month()), *repeat),
                        3 => rendered.push_str(&month_name[..3]),
                        _ => rendered.push_str(month_name),
                    }
                }
                DateFormatToken::Day { repeat } => {
                    let weekday_index =
                        usize::try_from(date_time.weekday().to_monday_zero_offset())
                            .unwrap_or_default();
                    let weekday_name = WEEKDAY_NAMES_FROM_MONDAY[weekday_index];
                    match repeat {
                        1 | 2 => push_padded(&mut rendered, i64::from(date_time.day()), *repeat),
                        3 => rendered.push_str(&weekday_name[..3]),
                        _ => rendered.push_str(weekday_name),
                    }
                }
                DateFormatToken::Hour24 { repeat } => {
                    push_padded(&mut rendered, i64::from(date_time.hour()), (*repeat).min(2));
                }
                DateFormatToken::Hour12 { repeat } => {
                    let hour_on_clock_face = match date_time.hour() % 12 {
                        0 => 12,
                        hour => hour,
                    };
                    push_padded(
                        &mut rendered,
                        i64::from(hour_on_clock_face),
                        (*repeat).min(2),
                    );
                }
                DateFormatToken::Minute { repeat } => {
                    push_padded(
                        &mut rendered,
                        i64::from(date_time.minute()),
                        (*repeat).min(2),
                    );
                }
                DateFormatToken::Second { repeat } => {
                    push_padded(
                        &mut rendered,
                        i64::from(date_time.second()),
                        (*repeat).min(2),
                    );
                }
                DateFormatToken::Fraction {
                    digits,
                    trim_trailing_zeros,
                } => {
                    let nine_digits = format!("{:09}", date_time.subsec_nanosecond());
                    let fraction = &nine_digits[..*digits];
                    if *trim_trailing_zeros {
                        let trimmed = fraction.trim_end_matches('0');
                        // .NET drops the separating dot too when an `F` fraction is all zeros.
                        if trimmed.is_empty() && rendered.ends_with('.') {
                            rendered.pop();
                        }
                        rendered.push_str(trimmed);
                    } else {
                        rendered.push_str(fraction);
                    }
                }
                DateFormatToken::TimeZoneDesignator => rendered.push('Z'),
                DateFormatToken::UtcOffset { repeat } => rendered.push_str(match repeat {
                    1 => "+0",
                    2 => "+00",
                    _ => "+00:00",
                }),
                DateFormatToken::AmPmDesignator { repeat } => {
                    let designator = if date_time.hour() < 12 { "AM" } else { "PM" };
                    rendered.push_str(if *repeat == 1 {
                        &designator[..1]
                    } else {
                        designator
                    });
                }
            }
        }
        rendered
    }
}

impl std::fmt::Display for DotNetDateFormat {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.source_text)
    }
}

/// Appends to the previous literal so rendering copies one string per literal run.
fn push_literal(tokens: &mut Vec<DateFormatToken>, literal: &str) {
    if let Some(DateFormatToken::Literal(previous)) = tokens.last_mut() {
        previous.push_str(literal);
    } else {
        tokens.push(DateFormatToken::Literal(literal.to_owned()));
    }
}

fn push_padded(rendered: &mut String, number: i64, minimum_digits: usize) {
    if number < 0 {
        rendered.push('-');
    }
    rendered.push_str(&format!(
        "{:0minimum_digits$}",
        number.unsigned_abs(),
        minimum_digits = minimum_digits
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instant(rfc3339: &str) -> Timestamp {
        rfc3339.parse().expect("test instant parses")
    }

    #[test]
    fn renders_the_formats_specs_use() {
        let cases = [
            ("yyyy-MM-ddTHH:mm:ssZ", "2021-10-05T07:04:09Z"),
            (
                "yyyy-MM-ddTHH:mm:ss:fffffffK",
                "2021-10-05T07:04:09:1234567Z",
            ),
            ("yyyy-MM-ddTHH:mm:ssK", "2021-10-05T07:04:09Z"),
            (
                "yyyy-MM-ddTHH:mm:ss.fffffffzzz",
                "2021-10-05T07:04:09.1234567+00:00",
            ),
        ];
        for (format, expected) in cases {
            let parsed = DotNetDateFormat::parse(format).expect(format);
            assert_eq!(
                parsed.render(instant("2021-10-05T07:04:09.123456789Z")),
                expected,
                "{format}"
            );
        }
    }

    #[test]
    fn renders_every_specifier() {
        let afternoon = instant("2009-06-15T13:45:30.0500000Z");
        let morning = instant("2024-01-07T00:05:03Z");
        let cases = [
            ("y yy yyy yyyy yyyyy", afternoon, "9 09 2009 2009 02009"),
            ("M MM MMM MMMM", afternoon, "6 06 Jun June"),
            ("d dd ddd dddd", afternoon, "15 15 Mon Monday"),
            ("H HH h hh t tt", afternoon, "13 13 1 01 P PM"),
            ("H HH h hh tt", morning, "0 00 12 12 AM"),
            ("m mm s ss", morning, "5 05 3 03"),
            (
                "ss.f ss.ff ss.FFF ss.FFFF",
                afternoon,
                "30.0 30.05 30.05 30.05",
            ),
            ("ss.FFFFFFF|", morning, "03|"),
            ("z zz zzz K", morning, "+0 +00 +00:00 Z"),
            ("yyyy/MM/dd HH:mm", morning, "2024/01/07 00:05"),
            ("'yyyy' \"MM\" \\d dd", morning, "yyyy MM d 07"),
            ("%d", morning, "7"),
            ("dd TZ 'Q'!", morning, "07 TZ Q!"),
        ];
        for (format, when, expected) in cases {
            let parsed = DotNetDateFormat::parse(format).expect(format);
            assert_eq!(parsed.render(when), expected, "{format}");
        }
    }

    #[test]
    fn rejects_what_dot_net_rejects() {
        let cases = [
            ("", DateFormatError::Empty),
            (
                "yyyy 'open",
                DateFormatError::UnterminatedQuote {
                    quote: '\'',
                    byte_offset: 5,
                },
            ),
            (
                "\"x",
                DateFormatError::UnterminatedQuote {
                    quote: '"',
                    byte_offset: 0,
                },
            ),
            ("yyyy\\", DateFormatError::TrailingBackslash),
            (
                "ss.ffffffff",
                DateFormatError::TooManyFractionDigits { requested: 8 },
            ),
            (
                "ss.FFFFFFFF",
                DateFormatError::TooManyFractionDigits { requested: 8 },
            ),
            ("TZ-:/", DateFormatError::NoDateOrTimeToken),
            ("'yyyy'", DateFormatError::NoDateOrTimeToken),
            (
                "yyyy-MM-dd'T'HH:mm:ss.SSSXXX",
                DateFormatError::UnknownLetters {
                    letters: "SSS".to_owned(),
                    byte_offset: 22,
                    java_style: true,
                },
            ),
            (
                "yyyy-MM-dd HH:mm:ss UTC",
                DateFormatError::UnknownLetters {
                    letters: "U".to_owned(),
                    byte_offset: 20,
                    java_style: false,
                },
            ),
        ];
        for (format, expected) in cases {
            assert_eq!(DotNetDateFormat::parse(format), Err(expected), "{format:?}");
        }
    }

    #[test]
    fn keeps_the_source_text() {
        let format = "yyyy-MM-ddTHH:mm:ss:fffffffK";
        assert_eq!(DotNetDateFormat::parse(format).unwrap().as_str(), format);
    }
}
