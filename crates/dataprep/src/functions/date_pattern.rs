//! Java `DateTimeFormatter` patterns (reference §8.3), compiled once into items that format
//! and parse zoned date-times. Written here because no crate speaks them: jiff and chrono
//! format with strftime's `%` directives, and a pattern like `dd.MMM.yyyy hh:mm a` cannot be
//! rewritten into those faithfully (letter counts choose widths and text forms, Java parses
//! fixed widths, `''` escapes quotes).
//!
//! Letters: `G` era, `y` year (`yy` two digits, base 2000), `Y` week-based year, `M`/`L`
//! month (`M` `MM` numbers, `MMM` `Oct`, `MMMM` `October`, `MMMMM` `O`), `d`, `D` day of year,
//! `E` day name, `u` day number (Monday = 1, as the reference's table gives it), `a` AM/PM,
//! `H` `k` `K` `h` hours, `m`, `s`, `S` fraction digits, `n` nanoseconds, `Q`/`q` quarter,
//! `w` week of year (ISO), `W` week of month, `F` day-of-week in month, `z` zone name, `Z`
//! `X` `x` `O` offsets, `V` zone id; `'…'` quotes literal text. Other letters, and optional
//! sections (`[…]`), are refused when the pattern is compiled.
//!
//! Parsing is Java's, slightly relaxed: a count of 2 or more takes exactly that many digits
//! (so `yyyyMMdd` and `MMddyyyy` work), a count of 1 takes one or more; names are matched
//! without regard to case; every offset letter takes `Z`, `±HH`, `±HHMM`, `±HH:MM` (so
//! RFC 3339 offsets parse with `X`). Zone abbreviations (`PST`, `CET`…) are fixed offsets,
//! as the reference's `zone_date_to_utc` example (`11:55:12 PST` → `19:55:12Z` in October)
//! requires. A date without a zone or offset is in UTC.

use jiff::ZonedDateTime;
use jiff::civil::{Date, DateTime, Weekday};
use jiff::tz::{Offset, TimeZone};

const MONTHS: [&str; 12] = [
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

const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// Zone abbreviations: the offset each stands for and its long name (`zzzz`).
const ZONE_NAMES: &[(&str, i32, &str)] = &[
    ("UTC", 0, "Coordinated Universal Time"),
    ("GMT", 0, "Greenwich Mean Time"),
    ("UT", 0, "Universal Time"),
    ("Z", 0, "Coordinated Universal Time"),
    ("PST", -8, "Pacific Standard Time"),
    ("PDT", -7, "Pacific Daylight Time"),
    ("MST", -7, "Mountain Standard Time"),
    ("MDT", -6, "Mountain Daylight Time"),
    ("CST", -6, "Central Standard Time"),
    ("CDT", -5, "Central Daylight Time"),
    ("EST", -5, "Eastern Standard Time"),
    ("EDT", -4, "Eastern Daylight Time"),
    ("AKST", -9, "Alaska Standard Time"),
    ("AKDT", -8, "Alaska Daylight Time"),
    ("HST", -10, "Hawaii Standard Time"),
    ("WET", 0, "Western European Standard Time"),
    ("BST", 1, "British Summer Time"),
    ("CET", 1, "Central European Standard Time"),
    ("CEST", 2, "Central European Summer Time"),
    ("EET", 2, "Eastern European Standard Time"),
    ("EEST", 3, "Eastern European Summer Time"),
    ("JST", 9, "Japan Standard Time"),
    ("AEST", 10, "Australian Eastern Standard Time"),
];

/// The zone a name stands for: an abbreviation of [`ZONE_NAMES`], an offset (`+08:00`,
/// `-0800`, `GMT+8`, `UTC-05:30`) or an IANA id (`America/Los_Angeles`).
pub(crate) fn zone_named(name: &str) -> Option<TimeZone> {
    let name = name.trim();
    if ["UTC", "GMT", "UT", "Z"].contains(&name) {
        return Some(TimeZone::UTC);
    }
    if let Some((_, hours, _)) = ZONE_NAMES
        .iter()
        .find(|(abbreviation, _, _)| abbreviation.eq_ignore_ascii_case(name))
    {
        return Offset::from_hours(*hours as i8).ok().map(TimeZone::fixed);
    }
    let unprefixed = ["GMT", "UTC", "UT"]
        .iter()
        .find_map(|prefix| name.strip_prefix(prefix))
        .unwrap_or(name);
    if unprefixed.starts_with(['+', '-']) {
        let mut cursor = Cursor::new(unprefixed);
        let seconds = cursor.offset(false).ok()?;
        return cursor.rest.is_empty().then(|| fixed(seconds)).flatten();
    }
    TimeZone::get(name).ok()
}

fn fixed(seconds: i32) -> Option<TimeZone> {
    Offset::from_seconds(seconds).ok().map(TimeZone::fixed)
}

/// One piece of a pattern.
#[derive(Debug, Clone, PartialEq)]
enum Item {
    Literal(String),
    /// A pattern letter repeated `count` times.
    Field {
        letter: char,
        count: usize,
    },
}

/// A compiled pattern.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    items: Vec<Item>,
}

const LETTERS: &str = "GyYMLdDEuaHkKhmsSnQqwWFzZXxOV";

impl Pattern {
    /// Compiles `pattern`, refusing unknown letters, optional sections and unclosed quotes.
    pub(crate) fn compile(pattern: &str) -> Result<Pattern, String> {
        let mut items = Vec::new();
        let mut characters = pattern.chars().peekable();
        let mut literal = String::new();
        while let Some(character) = characters.next() {
            if character == '\'' {
                if characters.peek() == Some(&'\'') {
                    characters.next();
                    literal.push('\'');
                    continue;
                }
                loop {
                    match characters.next() {
                        None => return Err("has an unclosed quote".into()),
                        Some('\'') if characters.peek() == Some(&'\'') => {
                            characters.next();
                            literal.push('\'');
                        }
                        Some('\'') => break,
                        Some(quoted) => literal.push(quoted),
                    }
                }
            } else if character.is_ascii_alphabetic() {
                if !LETTERS.contains(character) {
                    return Err(format!("uses the unsupported pattern letter '{character}'"));
                }
                let mut count = 1;
                while characters.peek() == Some(&character) {
                    characters.next();
                    count += 1;
                }
                if !literal.is_empty() {
                    items.push(Item::Literal(std::mem::take(&mut literal)));
                }
                items.push(Item::Field {
                    letter: character,
                    count,
                });
            } else if matches!(character, '[' | ']' | '{' | '}' | '#') {
                return Err(format!(
                    "uses '{character}', which is reserved (optional sections are not supported)"
                ));
            } else {
                literal.push(character);
            }
        }
        if !literal.is_empty() {
            items.push(Item::Literal(literal));
        }
        Ok(Pattern { items })
    }

    /// The date written in this pattern, in the date's own zone.
    pub(crate) fn format(&self, date: &ZonedDateTime) -> String {
        let mut text = String::new();
        for item in &self.items {
            match item {
                Item::Literal(literal) => text.push_str(literal),
                Item::Field { letter, count } => format_field(&mut text, date, *letter, *count),
            }
        }
        text
    }

    /// Parses `text`, which must be consumed whole.
    pub(crate) fn parse(&self, text: &str) -> Result<ZonedDateTime, String> {
        let mut cursor = Cursor::new(text);
        let mut fields = Fields::default();
        for (index, item) in self.items.iter().enumerate() {
            match item {
                Item::Literal(literal) => cursor.literal(literal)?,
                Item::Field { letter, count } => {
                    let next_is_number = matches!(
                        self.items.get(index + 1),
                        Some(Item::Field { letter, count }) if is_numeric(*letter, *count)
                    );
                    parse_field(&mut cursor, &mut fields, *letter, *count, next_is_number)?;
                }
            }
        }
        if !cursor.rest.is_empty() {
            return Err(format!("has unparsed text {:?}", cursor.rest));
        }
        fields.resolve()
    }
}

fn is_numeric(letter: char, count: usize) -> bool {
    match letter {
        'M' | 'L' | 'Q' | 'q' => count <= 2,
        _ => "yYdDuHkKhmsSnwWF".contains(letter),
    }
}

fn pad(text: &mut String, value: i64, width: usize) {
    text.push_str(&format!("{value:0width$}"));
}

/// `±HH[:]MM[[:]ss]` for an offset in seconds; `Z` for zero when `zulu`.
fn offset_text(seconds: i32, colon: bool, with_minutes: bool, zulu: bool) -> String {
    if seconds == 0 && zulu {
        return "Z".into();
    }
    let sign = if seconds < 0 { '-' } else { '+' };
    let magnitude = seconds.unsigned_abs();
    let (hours, minutes, secs) = (magnitude / 3600, magnitude / 60 % 60, magnitude % 60);
    let separator = if colon { ":" } else { "" };
    let mut text = format!("{sign}{hours:02}");
    if with_minutes || minutes != 0 || secs != 0 {
        text.push_str(&format!("{separator}{minutes:02}"));
    }
    if secs != 0 {
        text.push_str(&format!("{separator}{secs:02}"));
    }
    text
}

fn format_field(text: &mut String, date: &ZonedDateTime, letter: char, count: usize) {
    let offset = date.offset().seconds();
    let month = date.month() as usize;
    let weekday = date.weekday().to_monday_one_offset() as usize;
    match letter {
        'G' => text.push_str(match count {
            4 => "Anno Domini",
            5 => "A",
            _ => "AD",
        }),
        'y' | 'Y' => {
            let year = if letter == 'y' {
                i64::from(date.year())
            } else {
                i64::from(date.iso_week_date().year())
            };
            if count == 2 {
                pad(text, year.rem_euclid(100), 2);
            } else {
                pad(text, year, count);
            }
        }
        'M' | 'L' => match count {
            1 | 2 => pad(text, month as i64, count),
            3 => text.push_str(&MONTHS[month - 1][..3]),
            4 => text.push_str(MONTHS[month - 1]),
            _ => text.push_str(&MONTHS[month - 1][..1]),
        },
        'd' => pad(text, i64::from(date.day()), count),
        'D' => pad(text, i64::from(date.day_of_year()), count),
        'E' => text.push_str(match count {
            4 => DAYS[weekday - 1],
            5 => &DAYS[weekday - 1][..1],
            _ => &DAYS[weekday - 1][..3],
        }),
        'u' => pad(text, weekday as i64, count),
        'a' => text.push_str(if date.hour() < 12 { "AM" } else { "PM" }),
        'H' => pad(text, i64::from(date.hour()), count),
        'k' => pad(text, i64::from((date.hour() + 23) % 24 + 1), count),
        'K' => pad(text, i64::from(date.hour() % 12), count),
        'h' => pad(text, i64::from((date.hour() + 11) % 12 + 1), count),
        'm' => pad(text, i64::from(date.minute()), count),
        's' => pad(text, i64::from(date.second()), count),
        'S' => {
            let digits = format!("{:09}", date.subsec_nanosecond());
            text.push_str(&digits[..count.min(9)]);
            text.extend(std::iter::repeat_n('0', count.saturating_sub(9)));
        }
        'n' => pad(text, i64::from(date.subsec_nanosecond()), count),
        'Q' | 'q' => {
            let quarter = (month - 1) / 3 + 1;
            match count {
                1 | 2 => pad(text, quarter as i64, count),
                3 => text.push_str(&format!("Q{quarter}")),
                _ => text.push_str(["1st", "2nd", "3rd", "4th"][quarter - 1]),
            }
            if count >= 4 {
                text.push_str(" quarter");
            }
        }
        'w' => pad(text, i64::from(date.iso_week_date().week()), count),
        'W' => {
            let first = date
                .date()
                .first_of_month()
                .weekday()
                .to_monday_zero_offset();
            pad(
                text,
                (i64::from(date.day()) - 1 + i64::from(first)) / 7 + 1,
                count,
            );
        }
        'F' => pad(text, (i64::from(date.day()) - 1) / 7 + 1, count),
        'z' => {
            let info = date.time_zone().to_offset_info(date.timestamp());
            let abbreviation = info.abbreviation();
            let long = ZONE_NAMES
                .iter()
                .find(|(short, seconds, _)| *short == abbreviation && seconds * 3600 == offset)
                .map(|(_, _, long)| *long);
            text.push_str(match (count, long) {
                (4.., Some(long)) => long,
                _ => abbreviation,
            });
        }
        'Z' => text.push_str(&match count {
            1..=3 => offset_text(offset, false, true, false),
            4 if offset == 0 => "GMT".into(),
            4 => format!("GMT{}", offset_text(offset, true, true, false)),
            _ => offset_text(offset, true, true, true),
        }),
        'X' | 'x' => {
            let zulu = letter == 'X';
            text.push_str(&match count {
                1 => offset_text(offset, false, false, zulu),
                2 | 4 => offset_text(offset, false, true, zulu),
                _ => offset_text(offset, true, true, zulu),
            });
        }
        'O' => text.push_str(&match (offset, count) {
            (0, _) => "GMT".into(),
            (_, 4..) => format!("GMT{}", offset_text(offset, true, true, false)),
            _ => {
                let short = offset_text(offset, true, false, false);
                format!("GMT{}{}", &short[..1], short[1..].trim_start_matches('0'))
            }
        }),
        'V' => match date.time_zone().iana_name() {
            Some(name) => text.push_str(name),
            None => text.push_str(&offset_text(offset, true, true, true)),
        },
        _ => unreachable!("letters are checked when compiling"),
    }
}

/// The rest of the text being parsed.
struct Cursor<'t> {
    rest: &'t str,
}

impl<'t> Cursor<'t> {
    fn new(text: &'t str) -> Cursor<'t> {
        Cursor { rest: text }
    }

    fn literal(&mut self, literal: &str) -> Result<(), String> {
        match self.rest.strip_prefix(literal) {
            Some(rest) => {
                self.rest = rest;
                Ok(())
            }
            None => Err(format!("expected {literal:?} at {:?}", self.rest)),
        }
    }

    /// Between `min` and `max` ASCII digits.
    fn digits(&mut self, min: usize, max: usize) -> Result<i64, String> {
        let available = self.rest.bytes().take_while(u8::is_ascii_digit).count();
        let taken = available.min(max);
        if taken < min {
            return Err(format!("expected {min} digits at {:?}", self.rest));
        }
        let (digits, rest) = self.rest.split_at(taken);
        self.rest = rest;
        digits
            .parse()
            .map_err(|_| format!("number {digits} is too large"))
    }

    /// The index of the first of `names` the text starts with (any case).
    fn name(&mut self, names: &[&str]) -> Result<usize, String> {
        for (index, name) in names.iter().enumerate() {
            let length = name.len();
            if self.rest.len() >= length
                && self.rest.is_char_boundary(length)
                && self.rest[..length].eq_ignore_ascii_case(name)
            {
                self.rest = &self.rest[length..];
                return Ok(index);
            }
        }
        Err(format!("expected one of {names:?} at {:?}", self.rest))
    }

    /// An offset: `Z` (when `zulu`), `±HH`, `±HHMM`, `±HH:MM`, optionally with seconds.
    fn offset(&mut self, zulu: bool) -> Result<i32, String> {
        if zulu && self.rest.starts_with(['Z', 'z']) {
            self.rest = &self.rest[1..];
            return Ok(0);
        }
        let sign = match self.rest.chars().next() {
            Some('+') => 1,
            Some('-') => -1,
            _ => return Err(format!("expected an offset at {:?}", self.rest)),
        };
        self.rest = &self.rest[1..];
        let hours = self.digits(1, 2)?;
        let mut seconds = hours * 3600;
        for unit in [60, 1] {
            let colon = self.rest.starts_with(':');
            let after = if colon { &self.rest[1..] } else { self.rest };
            if after.bytes().take_while(u8::is_ascii_digit).count() < 2 {
                break;
            }
            self.rest = after;
            seconds += self.digits(2, 2)? * unit;
        }
        if hours > 18 || seconds > 18 * 3600 {
            return Err(format!("offset of {hours} hours is out of range"));
        }
        Ok(sign * seconds as i32)
    }

    /// A zone name or id: the longest run of name characters.
    fn zone(&mut self) -> Result<TimeZone, String> {
        let length = self
            .rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || "_/+-:".contains(c)))
            .unwrap_or(self.rest.len());
        let (name, rest) = self.rest.split_at(length);
        let zone = zone_named(name).ok_or_else(|| format!("unknown time zone {name:?}"))?;
        self.rest = rest;
        Ok(zone)
    }
}

/// What a parse found, resolved into a date-time at the end.
#[derive(Default)]
struct Fields {
    year: Option<i64>,
    month: Option<i64>,
    day: Option<i64>,
    day_of_year: Option<i64>,
    weekday: Option<i64>,
    hour: Option<i64>,
    hour_of_half_day: Option<i64>,
    afternoon: Option<bool>,
    minute: Option<i64>,
    second: Option<i64>,
    nanosecond: Option<i64>,
    offset: Option<i32>,
    zone: Option<TimeZone>,
}

fn parse_field(
    cursor: &mut Cursor<'_>,
    fields: &mut Fields,
    letter: char,
    count: usize,
    next_is_number: bool,
) -> Result<(), String> {
    // A count of 1 takes up to `wide` digits unless a number follows at once.
    let number = |cursor: &mut Cursor<'_>, wide: usize| {
        if count >= 2 || next_is_number {
            cursor.digits(count, count)
        } else {
            cursor.digits(1, wide)
        }
    };
    match letter {
        'G' => {
            cursor.name(&["AD", "Anno Domini", "CE"])?;
        }
        'y' | 'Y' if count == 2 => fields.year = Some(2000 + cursor.digits(2, 2)?),
        'y' | 'Y' if next_is_number => fields.year = Some(cursor.digits(count, count)?),
        'y' | 'Y' => fields.year = Some(cursor.digits(count, 9.max(count))?),
        'M' | 'L' => {
            fields.month = Some(match count {
                1 | 2 => number(cursor, 2)?,
                3 => {
                    let short: Vec<&str> = MONTHS.iter().map(|month| &month[..3]).collect();
                    cursor.name(&short)? as i64 + 1
                }
                _ => cursor.name(&MONTHS)? as i64 + 1,
            });
        }
        'd' => fields.day = Some(number(cursor, 2)?),
        'D' => fields.day_of_year = Some(number(cursor, 3)?),
        'E' => {
            let index = if count >= 4 {
                cursor.name(&DAYS)?
            } else {
                let short: Vec<&str> = DAYS.iter().map(|day| &day[..3]).collect();
                cursor.name(&short)?
            };
            fields.weekday = Some(index as i64 + 1);
        }
        'u' => fields.weekday = Some(number(cursor, 1)?),
        'a' => fields.afternoon = Some(cursor.name(&["AM", "PM"])? == 1),
        'H' => fields.hour = Some(number(cursor, 2)?),
        'k' => fields.hour = Some(number(cursor, 2)? % 24),
        'K' => fields.hour_of_half_day = Some(number(cursor, 2)?),
        'h' => fields.hour_of_half_day = Some(number(cursor, 2)? % 12),
        'm' => fields.minute = Some(number(cursor, 2)?),
        's' => fields.second = Some(number(cursor, 2)?),
        'S' => {
            let digits = cursor.digits(count, count)?;
            let scale = 10_i64.pow(9_u32.saturating_sub(count as u32));
            fields.nanosecond = Some(if count > 9 {
                digits / 10_i64.pow(count as u32 - 9)
            } else {
                digits * scale
            });
        }
        'n' => fields.nanosecond = Some(number(cursor, 9)?),
        'Z' | 'X' | 'x' => fields.offset = Some(cursor.offset(letter != 'x')?),
        'O' => {
            cursor.name(&["GMT", "UTC", "UT"])?;
            let signed = cursor.rest.starts_with(['+', '-']);
            fields.offset = Some(if signed { cursor.offset(false)? } else { 0 });
        }
        'z' | 'V' => fields.zone = Some(cursor.zone()?),
        // Quarters, weeks and eras are read and checked only as text.
        _ => {
            number(cursor, 2)?;
        }
    }
    Ok(())
}

impl Fields {
    fn resolve(self) -> Result<ZonedDateTime, String> {
        let narrow = |value: i64, what: &str| {
            i8::try_from(value).map_err(|_| format!("{what} {value} is out of range"))
        };
        let year = self.year.ok_or("the pattern has no year")?;
        let year = i16::try_from(year).map_err(|_| format!("year {year} is out of range"))?;
        let date = match (self.day_of_year, self.month, self.day) {
            (Some(day_of_year), None, None) => Date::new(year, 1, 1)
                .and_then(|first| first.with().day_of_year(day_of_year as i16).build()),
            (_, month, day) => Date::new(
                year,
                narrow(month.unwrap_or(1), "month")?,
                narrow(day.unwrap_or(1), "day")?,
            ),
        }
        .map_err(|error| format!("no such date: {error}"))?;
        if let Some(weekday) = self.weekday {
            let weekday = Weekday::from_monday_one_offset(narrow(weekday, "day of week")?)
                .map_err(|error| error.to_string())?;
            if date.weekday() != weekday {
                return Err(format!("{date} is not a {weekday:?}"));
            }
        }
        let hour = match (self.hour, self.hour_of_half_day) {
            (Some(hour), _) => hour,
            (None, Some(hour)) => hour + if self.afternoon == Some(true) { 12 } else { 0 },
            (None, None) => 0,
        };
        let nanosecond = i32::try_from(self.nanosecond.unwrap_or(0))
            .map_err(|_| "fraction out of range".to_owned())?;
        let time = jiff::civil::Time::new(
            narrow(hour, "hour")?,
            narrow(self.minute.unwrap_or(0), "minute")?,
            narrow(self.second.unwrap_or(0), "second")?,
            nanosecond,
        )
        .map_err(|error| format!("no such time: {error}"))?;
        let zone = match (self.zone, self.offset) {
            (Some(zone), _) => zone,
            (None, Some(seconds)) => fixed(seconds).ok_or("offset out of range")?,
            (None, None) => TimeZone::UTC,
        };
        zone.to_zoned_datetime(DateTime::from_parts(date, time))
            .map_err(|error| error.to_string())
    }
}
