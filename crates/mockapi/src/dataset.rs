//! The records behind every route, rendered straight into response buffers.
//!
//! Benchmarks page through a million generated records, so nothing here builds
//! a `serde_json::Value` per request: generated records are written with
//! `write!` from their index, explicit records are serialized once at start.
//! Generated `last_changed` values grow strictly with the index, so a time
//! window over generated records is an index range computed arithmetically.

use std::fmt::Write as _;
use std::ops::Range;

use jiff::Timestamp;
use serde_json::Value;

use crate::scenario::{DatasetChange, Records};

/// `last_changed` of generated record 0: 2024-01-01T00:00:00Z.
pub const GENERATED_EPOCH_SECS: i64 = 1_704_067_200;
/// Seconds between the `last_changed` of consecutive generated records.
pub const GENERATED_STEP_SECS: i64 = 600;

const FIRST: [&str; 8] = [
    "Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken",
];
const LAST: [&str; 8] = [
    "Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson",
];
const STATUS: [&str; 4] = ["subscribed", "unsubscribed", "cleaned", "pending"];
const TAGS: [&str; 4] = ["vip", "newsletter", "beta", "churn-risk"];
const ACTIONS: [&str; 3] = ["open", "click", "bounce"];
const COUNTRIES: [&str; 4] = ["US", "FR", "DE", "JP"];

/// `last_changed` of the generated record at zero-based `index` (id `index + 1`).
pub fn generated_last_changed(index: usize) -> Timestamp {
    timestamp(GENERATED_EPOCH_SECS + index as i64 * GENERATED_STEP_SECS)
}

/// The generated record at zero-based `index`, as a `Value` (for assertions;
/// the server renders the identical JSON without building one).
pub fn generated_record(index: usize) -> Value {
    let mut out = String::new();
    write_generated(&mut out, index, None);
    serde_json::from_str(&out).expect("generated records are valid JSON")
}

fn timestamp(secs: i64) -> Timestamp {
    // Clamping keeps absurd indexes from panicking; they are never asserted on.
    Timestamp::from_second(secs).unwrap_or(Timestamp::MAX)
}

/// splitmix64: cheap, deterministic variety per record without an RNG dependency.
fn mix(index: usize) -> u64 {
    let mut z = (index as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Extra members appended to each record (the Mailchimp route adds
/// `list_id` and `_links`); called with the record's index.
pub(crate) type Extra<'a> = &'a dyn Fn(&mut String, usize);

fn write_generated(out: &mut String, index: usize, extra: Option<Extra<'_>>) {
    let h = mix(index);
    let id = index + 1;
    let first = FIRST[(h & 7) as usize];
    let last = LAST[((h >> 3) & 7) as usize];
    let changed = GENERATED_EPOCH_SECS + index as i64 * GENERATED_STEP_SECS;
    // Writing to a String cannot fail, hence the ignored results.
    let _ = write!(
        out,
        r#"{{"id":{id},"email_address":"user{id}@example.com","full_name":"{first} {last}","status":"{}","last_changed":"{}","merge_fields":{{"FNAME":"{first}","LNAME":"{last}"}},"location":{{"country_code":"{}","latitude":{}.5}},"tags":["#,
        STATUS[((h >> 6) & 3) as usize],
        timestamp(changed),
        COUNTRIES[((h >> 8) & 3) as usize],
        (h >> 10) % 90,
    );
    let tags = ((h >> 16) % 3) as usize;
    for t in 0..tags {
        if t > 0 {
            out.push(',');
        }
        let _ = write!(out, "\"{}\"", TAGS[(((h >> 18) as usize) + t) & 3]);
    }
    out.push_str(r#"],"activity":["#);
    let acts = ((h >> 24) % 4) as usize;
    for a in 0..acts {
        if a > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            r#"{{"action":"{}","timestamp":"{}"}}"#,
            ACTIONS[(((h >> 26) as usize) + a) % 3],
            timestamp(changed - (a as i64 + 1) * 3600),
        );
    }
    out.push(']');
    if let Some(extra) = extra {
        out.push(',');
        extra(out, index);
    }
    out.push('}');
}

fn last_changed(record: &Value) -> Option<Timestamp> {
    record
        .get("last_changed")
        .and_then(Value::as_str)
        .and_then(|s| parse_time(s).ok())
}

fn id_of(record: &Value) -> Option<i64> {
    record.get("id").and_then(Value::as_i64)
}

/// A window's record positions: a range for generated data, a list otherwise.
pub(crate) enum Selection {
    Range(Range<usize>),
    Indices(Vec<usize>),
}

impl Selection {
    pub(crate) fn len(&self) -> usize {
        match self {
            Selection::Range(r) => r.len(),
            Selection::Indices(v) => v.len(),
        }
    }

    /// Dataset index of the `pos`-th selected record.
    pub(crate) fn index(&self, pos: usize) -> usize {
        match self {
            Selection::Range(r) => r.start + pos,
            Selection::Indices(v) => v[pos],
        }
    }
}

/// The server's copy of the records.
pub(crate) enum Dataset {
    Generated(usize),
    Explicit {
        /// Each record serialized once.
        rendered: Vec<String>,
        /// Parsed `last_changed` of each record, if any.
        changed: Vec<Option<Timestamp>>,
        /// Each record's integer `id`, if any (keyset cursors and deletes use it).
        ids: Vec<Option<i64>>,
    },
}

impl Dataset {
    pub(crate) fn new(records: &Records) -> Self {
        match records {
            Records::Generated(n) => Dataset::Generated(*n),
            Records::Explicit(values) => Dataset::Explicit {
                rendered: values.iter().map(Value::to_string).collect(),
                changed: values.iter().map(last_changed).collect(),
                ids: values.iter().map(id_of).collect(),
            },
        }
    }

    /// The `id` of the record at `index` (generated records are numbered from 1).
    pub(crate) fn key(&self, index: usize) -> Option<i64> {
        match self {
            Dataset::Generated(_) => i64::try_from(index + 1).ok(),
            Dataset::Explicit { ids, .. } => ids.get(index).copied().flatten(),
        }
    }

    /// Applies `change` to an explicit dataset: inserted records go before the first record
    /// with a larger `id` (so an id-ordered dataset stays ordered), deleted ids go away.
    pub(crate) fn apply(&mut self, change: &DatasetChange) {
        let Dataset::Explicit {
            rendered,
            changed,
            ids,
        } = self
        else {
            return;
        };
        for id in &change.delete_ids {
            while let Some(index) = ids.iter().position(|present| *present == Some(*id)) {
                rendered.remove(index);
                changed.remove(index);
                ids.remove(index);
            }
        }
        for record in &change.insert {
            let id = id_of(record);
            let index = ids
                .iter()
                .position(|present| matches!((present, id), (Some(p), Some(i)) if *p > i))
                .unwrap_or(ids.len());
            rendered.insert(index, record.to_string());
            changed.insert(index, last_changed(record));
            ids.insert(index, id);
        }
    }

    /// Records with `since <= last_changed < before` (absent bounds are open).
    pub(crate) fn select(&self, since: Option<Timestamp>, before: Option<Timestamp>) -> Selection {
        match self {
            Dataset::Generated(n) => {
                let first_at_or_after = |t: Timestamp| -> usize {
                    let step = i128::from(GENERATED_STEP_SECS) * 1_000_000_000;
                    let delta =
                        t.as_nanosecond() - i128::from(GENERATED_EPOCH_SECS) * 1_000_000_000;
                    if delta <= 0 {
                        0
                    } else {
                        usize::try_from((delta + step - 1) / step)
                            .unwrap_or(usize::MAX)
                            .min(*n)
                    }
                };
                let lo = since.map_or(0, first_at_or_after);
                let hi = before.map_or(*n, first_at_or_after);
                Selection::Range(lo..hi.max(lo))
            }
            Dataset::Explicit { changed, .. } => {
                if since.is_none() && before.is_none() {
                    return Selection::Range(0..changed.len());
                }
                let keep = |c: &Option<Timestamp>| match c {
                    // Undated records cannot be placed in a window, so keep them.
                    None => true,
                    Some(t) => since.is_none_or(|s| *t >= s) && before.is_none_or(|b| *t < b),
                };
                Selection::Indices(
                    changed
                        .iter()
                        .enumerate()
                        .filter(|(_, c)| keep(c))
                        .map(|(i, _)| i)
                        .collect(),
                )
            }
        }
    }

    /// Appends the selected records `range` as comma-separated JSON objects.
    pub(crate) fn write_records(
        &self,
        out: &mut String,
        sel: &Selection,
        range: Range<usize>,
        extra: Option<Extra<'_>>,
    ) {
        for (k, pos) in range.enumerate() {
            if k > 0 {
                out.push(',');
            }
            let index = sel.index(pos);
            match self {
                Dataset::Generated(_) => write_generated(out, index, extra),
                Dataset::Explicit { rendered, .. } => {
                    let json = &rendered[index];
                    match extra {
                        Some(extra) if json.ends_with('}') => {
                            out.push_str(&json[..json.len() - 1]);
                            if json.len() > 2 {
                                out.push(',');
                            }
                            extra(out, index);
                            out.push('}');
                        }
                        _ => out.push_str(json),
                    }
                }
            }
        }
    }
}

/// Parses a window bound as flowd sends it: RFC 3339, or the .NET-style
/// `yyyy-MM-ddTHH:mm:ss:fffffffK` (colon before the fraction, as stored in the
/// Mailchimp example) or `ss.fffffff`; a missing zone means UTC.
pub fn parse_time(raw: &str) -> Result<Timestamp, String> {
    let mut s = raw.trim().to_owned();
    // `2024-01-02T03:04:05:0000000Z`: the 20th byte is the fraction separator.
    if s.len() > 20 && s.as_bytes()[19] == b':' && s.as_bytes()[20].is_ascii_digit() {
        s.replace_range(19..20, ".");
    }
    if let Ok(t) = s.parse::<Timestamp>() {
        return Ok(t);
    }
    s.parse::<jiff::civil::DateTime>()
        .ok()
        .and_then(|dt| dt.to_zoned_datetime(jiff::tz::TimeZone::UTC).ok())
        .map(|z| z.timestamp())
        .ok_or_else(|| format!("unparseable timestamp {raw:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_flowd_schedule_formats() {
        let want: Timestamp = "2024-01-02T03:04:05Z".parse().unwrap();
        for s in [
            "2024-01-02T03:04:05:0000000Z",
            "2024-01-02T03:04:05.0000000Z",
            "2024-01-02T03:04:05Z",
            "2024-01-02T04:04:05+01:00",
            "2024-01-02T03:04:05",
        ] {
            assert_eq!(parse_time(s).unwrap(), want, "{s}");
        }
        assert!(parse_time("2024-01-02T03:04:05 01:00").is_err());
    }

    #[test]
    fn generated_records_are_about_300_bytes_and_valid() {
        let total: usize = (0..1000)
            .map(|i| generated_record(i).to_string().len())
            .sum();
        let avg = total / 1000;
        assert!((250..=350).contains(&avg), "average {avg}");
        let r = generated_record(0);
        assert_eq!(r["id"], 1);
        assert_eq!(r["last_changed"], "2024-01-01T00:00:00Z");
        assert!(r["activity"].as_array().unwrap().len() <= 3);
        let counts: std::collections::BTreeSet<usize> = (0..50)
            .map(|i| generated_record(i)["activity"].as_array().unwrap().len())
            .collect();
        assert_eq!(counts.len(), 4, "activity lengths 0..=3 all occur");
    }

    #[test]
    fn generated_window_is_half_open() {
        let d = Dataset::new(&Records::Generated(250));
        let sel = d.select(
            Some(generated_last_changed(10)),
            Some(generated_last_changed(20)),
        );
        assert!(matches!(sel, Selection::Range(ref r) if *r == (10..20)));
        let sel = d.select(Some(generated_last_changed(300)), None);
        assert_eq!(sel.len(), 0);
    }
}
