//! Lenient readers shared by the fetch-config resolvers: aliased member names, numbers that
//! may be numeric strings, and JSONPaths that may lack their leading `$`.
//!
//! Each reader pushes a [`Problem`] for what it rejects and returns `None`, so callers can keep
//! checking the remaining fields and report everything at once.

use serde_json::{Map, Value};
use serde_json_path::JsonPath;

use crate::problem::{Problem, child_pointer};

/// A member found under one of its accepted names.
pub(super) struct AliasedMember<'v> {
    /// Pointer of the member under the name actually used.
    pub pointer: String,
    /// The member's value.
    pub value: &'v Value,
}

/// Finds a member written under any of `aliases` (first alias is the documented spelling and
/// wins). Two aliases with different values are a problem, since either reading could be
/// what the author meant.
pub(super) fn aliased_member<'v>(
    members: &'v Map<String, Value>,
    parent_pointer: &str,
    aliases: &[&str],
    problems: &mut Vec<Problem>,
) -> Option<AliasedMember<'v>> {
    let mut present = aliases
        .iter()
        .filter_map(|alias| members.get(*alias).map(|value| (*alias, value)));
    let (chosen_alias, chosen_value) = present.next()?;
    for (other_alias, other_value) in present {
        if other_value != chosen_value {
            problems.push(Problem::new(
                child_pointer(parent_pointer, other_alias),
                format!("conflicts with {chosen_alias}; give only one of them"),
            ));
        }
    }
    Some(AliasedMember {
        pointer: child_pointer(parent_pointer, chosen_alias),
        value: chosen_value,
    })
}

/// A required non-empty string under one of `aliases`; the missing-member problem points at the
/// documented spelling and says `why_required`.
pub(super) fn required_string<'v>(
    members: &'v Map<String, Value>,
    parent_pointer: &str,
    aliases: &[&str],
    why_required: &str,
    problems: &mut Vec<Problem>,
) -> Option<(String, &'v str)> {
    match aliased_member(members, parent_pointer, aliases, problems) {
        Some(member) => non_empty_string(member.value, &member.pointer, problems)
            .map(|text| (member.pointer, text)),
        None => {
            problems.push(Problem::new(
                child_pointer(parent_pointer, aliases[0]),
                why_required,
            ));
            None
        }
    }
}

/// `value` as a non-empty string, or a problem at `pointer`.
pub(super) fn non_empty_string<'v>(
    value: &'v Value,
    pointer: &str,
    problems: &mut Vec<Problem>,
) -> Option<&'v str> {
    match value.as_str() {
        Some(text) if !text.is_empty() => Some(text),
        _ => {
            problems.push(Problem::new(pointer, "must be a non-empty string"));
            None
        }
    }
}

/// A whole number written as a JSON number (`100`, `100.0`) or a numeric string (`"100"`).
pub(super) fn lenient_integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(number) => number.as_i64().or_else(|| {
            number
                .as_f64()
                .filter(|float| float.fract() == 0.0 && float.abs() < 9.0e15)
                .map(|float| float as i64)
        }),
        Value::String(text) => text.trim().parse::<i64>().ok(),
        _ => None,
    }
}

/// A positive integer (number or numeric string), or a problem at `pointer`.
pub(super) fn positive_integer(
    value: &Value,
    pointer: &str,
    problems: &mut Vec<Problem>,
) -> Option<u64> {
    match lenient_integer(value) {
        Some(integer) if integer > 0 => u64::try_from(integer).ok(),
        _ => {
            problems.push(Problem::new(
                pointer,
                "must be a positive integer (a number or a numeric string)",
            ));
            None
        }
    }
}

/// A non-negative integer (number or numeric string), or a problem at `pointer`.
pub(super) fn non_negative_integer(
    value: &Value,
    pointer: &str,
    problems: &mut Vec<Problem>,
) -> Option<u64> {
    match lenient_integer(value) {
        Some(integer) if integer >= 0 => u64::try_from(integer).ok(),
        _ => {
            problems.push(Problem::new(
                pointer,
                "must be a non-negative integer (a number or a numeric string)",
            ));
            None
        }
    }
}

/// Compiles an RFC 9535 JSONPath, accepting Adobe's `paging.next` spelling as `$.paging.next`
/// (and `[0]` as `$[0]`).
pub fn parse_lenient_json_path(path_text: &str) -> Result<JsonPath, String> {
    let prefix = if path_text.starts_with('$') {
        ""
    } else if path_text.starts_with('[') {
        "$"
    } else {
        "$."
    };
    let normalized_path = format!("{prefix}{path_text}");
    if ends_inside_unicode_escape(&normalized_path) {
        return Err(format!(
            "is not a valid JSONPath (a \\u escape needs four hex digits at character offset {})",
            path_text.len()
        ));
    }
    // serde_json_path 0.7 panics on a path ending inside a `\u` escape (caught above); any
    // other input it cannot finish is kept from taking a request or a run down with it.
    let parsed = std::panic::catch_unwind(|| JsonPath::parse(&normalized_path))
        .map_err(|_| "is not a valid JSONPath (the parser could not read it)".to_owned())?;
    parsed.map_err(|parse_error| {
        // The parser counts from 0 in the text it saw, which includes any `$.` we added.
        let offset_in_written_text = parse_error.position().saturating_sub(prefix.len());
        format!(
            "is not a valid JSONPath ({} at character offset {offset_in_written_text})",
            parse_error.message()
        )
    })
}

/// Whether `text` ends inside a `\u` escape: an odd run of backslashes, `u`, then fewer than
/// four hex digits — the input serde_json_path 0.7 panics on instead of reporting.
fn ends_inside_unicode_escape(text: &str) -> bool {
    let digits = text
        .bytes()
        .rev()
        .take(4)
        .take_while(u8::is_ascii_hexdigit)
        .count();
    if digits == 4 {
        return false;
    }
    let Some(before_u) = text[..text.len() - digits].strip_suffix('u') else {
        return false;
    };
    let backslashes = before_u.len() - before_u.trim_end_matches('\\').len();
    backslashes % 2 == 1
}

/// A required JSONPath string at `pointer`, compiled; problems for a non-string or bad path,
/// or one whose evaluation could outgrow the page it runs on (see `path_cost`).
pub(super) fn json_path_at(
    value: &Value,
    pointer: &str,
    problems: &mut Vec<Problem>,
) -> Option<(JsonPath, String)> {
    let path_text = non_empty_string(value, pointer, problems)?;
    match parse_lenient_json_path(path_text) {
        Ok(path) => {
            if let Some(problem) = super::path_cost::evaluation_cost_problem(path_text) {
                problems.push(Problem::new(pointer, problem));
                return None;
            }
            Some((path, path_text.to_owned()))
        }
        Err(message) => {
            problems.push(Problem::new(pointer, message));
            None
        }
    }
}

/// Reports a member that must come with a partner (`limitName` with `limitValue`, …).
pub(super) fn require_pair(
    members: &Map<String, Value>,
    parent_pointer: &str,
    (first, second): (&str, &str),
    problems: &mut Vec<Problem>,
) {
    match (members.contains_key(first), members.contains_key(second)) {
        (true, false) => problems.push(Problem::new(
            child_pointer(parent_pointer, second),
            format!("is required when {first} is given"),
        )),
        (false, true) => problems.push(Problem::new(
            child_pointer(parent_pointer, first),
            format!("is required when {second} is given"),
        )),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integers_may_be_numbers_or_numeric_strings() {
        for (value, expected) in [
            (json!(100), Some(100)),
            (json!("850"), Some(850)),
            (json!(" 7 "), Some(7)),
            (json!(100.0), Some(100)),
            (json!(1.5), None),
            (json!("ten"), None),
            (json!(true), None),
        ] {
            assert_eq!(lenient_integer(&value), expected, "{value}");
        }
    }

    #[test]
    fn a_path_ending_inside_a_unicode_escape_is_an_error_not_a_panic() {
        // Found by the json_path fuzz target (`\u` at the end, then `\uD` in a second run):
        // the parser panics on these.
        for path in [
            "$[\"\\u",
            "$['\\u",
            "$[\"\\uD800\\u",
            "$[?@.a==\"\\u",
            "[\"\\u",
            "$[\"\\uD",
            "$['\\uD8",
            "$[\"\\ud83",
            "$[\"\\uD83D\\uDD1",
        ] {
            let refused = parse_lenient_json_path(path).unwrap_err();
            assert!(refused.contains("four hex digits"), "{path}: {refused}");
        }
        assert!(!ends_inside_unicode_escape("$['\\\\u']"));
        assert!(
            !ends_inside_unicode_escape("$['\\\\uD8"),
            "an escaped backslash"
        );
        assert!(
            !ends_inside_unicode_escape("$.abc"),
            "hex letters without an escape"
        );
        assert!(
            parse_lenient_json_path("$['\\\\u']").is_ok(),
            "an escaped backslash, then u"
        );
    }

    #[test]
    fn json_paths_may_omit_the_leading_dollar() {
        let document = json!({"paging": {"next": "u"}, "a": [1, 2]});
        for path_text in ["$.paging.next", "paging.next", "$['paging'].next"] {
            let path = parse_lenient_json_path(path_text).expect(path_text);
            assert_eq!(path.query(&document).all(), [&json!("u")], "{path_text}");
        }
        assert!(parse_lenient_json_path("[0]").is_ok());
        let message = parse_lenient_json_path("$.members[").unwrap_err();
        assert!(message.starts_with("is not a valid JSONPath"), "{message}");
    }
}
