//! What a run says about itself beyond its records: the warnings of its summary, each with a
//! stable code, and the hints they carry. Every consumer (`flowd spec test`, explore, a
//! scheduled run's `statusSummary.warnings`) shows these same texts.
//!
//! Honesty rule: a hint says only what the responses showed (a body holding an array the
//! content path missed, a page that repeats the one before, a total the API announced), and
//! words a guess as one ("may").

use flowd_spec::{ContentPath, Pagination};
use reqwest::header::HeaderMap;
use serde_json::Value;

/// One warning of a run: a code from a closed set (the constants below) and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunWarning {
    pub code: &'static str,
    pub message: String,
}

impl RunWarning {
    /// A page's body held records the content path did not select.
    pub const EMPTY_EXTRACTION: &'static str = "EMPTY_EXTRACTION";
    /// The spec's own `maximumRequest` was reached.
    pub const MAXIMUM_REQUEST: &'static str = "MAXIMUM_REQUEST";
    /// PAGE's default `maximumRequest` was reached.
    pub const DEFAULT_MAXIMUM_REQUEST: &'static str = "DEFAULT_MAXIMUM_REQUEST";
    /// A page repeated the previous one's records.
    pub const REPEATED_PAGE: &'static str = "REPEATED_PAGE";
    /// A page gave the same next-page token or URL as the one before.
    pub const REPEATED_NEXT_PAGE: &'static str = "REPEATED_NEXT_PAGE";
    /// The run ended with fewer records than the API announced.
    pub const SHORT_OF_TOTAL: &'static str = "SHORT_OF_TOTAL";
    /// The first page of a PAGE run counted from 0 was empty.
    pub const EMPTY_FIRST_PAGE: &'static str = "EMPTY_FIRST_PAGE";

    pub fn new(code: &'static str, message: impl Into<String>) -> RunWarning {
        RunWarning {
            code,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for RunWarning {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.message)
    }
}

/// How deep the search for an array goes into a body.
const SEARCH_DEPTH: usize = 6;
/// Keys named in a body's shape.
const SHOWN_KEYS: usize = 8;

/// The warning for a page whose non-empty, parsed `body` gave no records through
/// `content_path` while it holds a non-empty array: names the body's top-level shape and the
/// path of its largest array. `None` when the content path reaches an array (an empty last
/// page is no mistake) or the body holds no array with elements.
pub fn empty_extraction(body: &Value, content_path: &ContentPath) -> Option<RunWarning> {
    if content_path
        .path
        .query(body)
        .iter()
        .any(|node| node.is_array())
    {
        return None;
    }
    let (path, length) = largest_array(body, "$".to_owned(), 0)?;
    Some(RunWarning::new(
        RunWarning::EMPTY_EXTRACTION,
        format!(
            "contentPath.path \"{}\" selected no records, but {}; contentPath.path \"{path}\" would select {length} record{}",
            content_path.path_text,
            shape(body),
            if length == 1 { "" } else { "s" }
        ),
    ))
}

/// `the response is an array of 20 objects`, `the response is an object with keys data, meta`.
pub fn shape(body: &Value) -> String {
    match body {
        Value::Array(elements) => {
            let kind = element_kind(elements);
            format!(
                "the response is an array of {} {kind}{}",
                elements.len(),
                if elements.len() == 1 { "" } else { "s" }
            )
        }
        Value::Object(members) if members.is_empty() => "the response is an empty object".into(),
        Value::Object(members) => {
            let mut keys: Vec<&str> = members
                .keys()
                .map(String::as_str)
                .take(SHOWN_KEYS)
                .collect();
            if members.len() > SHOWN_KEYS {
                keys.push("…");
            }
            format!("the response is an object with keys {}", keys.join(", "))
        }
        _ => "the response is a JSON scalar".into(),
    }
}

fn element_kind(elements: &[Value]) -> &'static str {
    let kind = |value: &Value| match value {
        Value::Object(_) => "object",
        Value::Array(_) => "array",
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "boolean",
        Value::Null => "null",
    };
    match elements.first().map(kind) {
        Some(first) if elements.iter().all(|element| kind(element) == first) => first,
        _ => "value",
    }
}

/// The JSONPath and length of the largest non-empty array in `value` (the shallowest of equal
/// ones, first in document order).
fn largest_array(value: &Value, path: String, depth: usize) -> Option<(String, usize)> {
    let mut best = match value {
        Value::Array(elements) if !elements.is_empty() => Some((path.clone(), elements.len())),
        _ => None,
    };
    if depth >= SEARCH_DEPTH {
        return best;
    }
    if let Value::Object(members) = value {
        for (key, member) in members {
            if let Some(found) = largest_array(member, member_path(&path, key), depth + 1)
                && best.as_ref().is_none_or(|(_, length)| found.1 > *length)
            {
                best = Some(found);
            }
        }
    }
    best
}

fn member_path(parent: &str, key: &str) -> String {
    let plain = key
        .chars()
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && key
            .chars()
            .all(|character| character.is_ascii_alphanumeric() || character == '_');
    if plain {
        format!("{parent}.{key}")
    } else {
        format!(
            "{parent}['{}']",
            key.replace('\\', "\\\\").replace('\'', "\\'")
        )
    }
}

/// Member names that announce a total of records, checked at the top level and one level down
/// (`meta.total`).
const TOTAL_NAMES: &[&str] = &[
    "total",
    "totalCount",
    "total_count",
    "totalItems",
    "total_items",
    "totalRecords",
    "total_records",
    "totalResults",
    "total_results",
    "totalSize",
    "count_total",
];
/// Headers that announce a total.
const TOTAL_HEADERS: &[&str] = &["x-total-count", "x-total", "x-total-results"];

/// The total of records a page announces, with where it was read (`total`, `meta.total`, the
/// `X-Total-Count` header).
pub fn announced_total(body: &Value, headers: &HeaderMap) -> Option<(String, u64)> {
    for name in TOTAL_HEADERS {
        if let Some(total) = headers
            .get(*name)
            .and_then(|value| value.to_str().ok())
            .and_then(|text| text.trim().parse::<u64>().ok())
        {
            return Some((format!("the {name} header"), total));
        }
    }
    let members = body.as_object()?;
    let total_in = |members: &serde_json::Map<String, Value>| {
        TOTAL_NAMES.iter().find_map(|name| {
            let total = members.get(*name)?;
            total
                .as_u64()
                .or_else(|| total.as_str()?.trim().parse().ok())
                .map(|total| (*name, total))
        })
    };
    if let Some((name, total)) = total_in(members) {
        return Some((format!("the response's {name}"), total));
    }
    members.iter().find_map(|(parent, member)| {
        let (name, total) = total_in(member.as_object()?)?;
        Some((format!("the response's {parent}.{name}"), total))
    })
}

/// What the pagination parameters of a run are called, for a hint.
fn parameter_names(pagination: &Pagination) -> Option<String> {
    let quoted = |names: Vec<&str>| {
        names
            .iter()
            .map(|name| format!("`{name}`"))
            .collect::<Vec<_>>()
            .join(" and ")
    };
    match pagination {
        Pagination::Page(page) => {
            let mut names = vec![page.page_parameter_name.as_str()];
            names.extend(
                page.page_size
                    .iter()
                    .map(|size| size.parameter_name.as_str()),
            );
            Some(quoted(names))
        }
        Pagination::Offset(offset) => Some(quoted(vec![
            offset.offset_parameter_name.as_str(),
            offset.page_size.parameter_name.as_str(),
        ])),
        _ => None,
    }
}

/// The warning when page `number` (zero-based) repeats the previous page's records.
pub fn repeated_page(pagination: &Pagination, number: u64) -> RunWarning {
    let mut message = format!(
        "page {} repeated the records of page {}; stopped to avoid looping",
        number + 1,
        number
    );
    match pagination {
        Pagination::Page(page) if page.initial_page_index == 0 && number == 1 => {
            let name = &page.page_parameter_name;
            message.push_str(&format!(
                " ({name}=0 and {name}=1 answered the same records: the API may count pages from 1: set paginationParams.initialPageIndex to 1)"
            ));
        }
        _ => {
            if let Some(names) = parameter_names(pagination) {
                message.push_str(&format!(
                    " (the API may not read the pagination parameters {names}: check their names in paginationParams)"
                ));
            } else {
                message.push_str(" (an API that ignores the pagination parameters?)");
            }
        }
    }
    RunWarning::new(RunWarning::REPEATED_PAGE, message)
}

/// The warning when a PAGE run counted from 0 found its first page empty.
pub fn empty_first_page(pagination: &Pagination, records: u64) -> Option<RunWarning> {
    match pagination {
        Pagination::Page(page) if page.initial_page_index == 0 && records == 0 => {
            Some(RunWarning::new(
                RunWarning::EMPTY_FIRST_PAGE,
                format!(
                    "the first page ({}=0) held no records; the API may count pages from 1: set paginationParams.initialPageIndex to 1",
                    page.page_parameter_name
                ),
            ))
        }
        _ => None,
    }
}

/// The warning when an OFFSET or PAGE run stopped with fewer `records` than the first page
/// announced.
pub fn short_of_total(
    pagination: &Pagination,
    records: u64,
    announced: &(String, u64),
) -> Option<RunWarning> {
    let (source, total) = announced;
    if records >= *total || !matches!(pagination, Pagination::Page(_) | Pagination::Offset(_)) {
        return None;
    }
    let mut message = format!(
        "the run stopped after {records} records, but {source} on the first page says {total}"
    );
    if let Pagination::Page(page) = pagination
        && page.initial_page_index == 0
    {
        message.push_str(
            "; the API may count pages from 1: set paginationParams.initialPageIndex to 1",
        );
    } else if let Some(names) = parameter_names(pagination) {
        message.push_str(&format!(
            "; check that the API reads the pagination parameters {names} and that the page size is one it honours"
        ));
    }
    Some(RunWarning::new(RunWarning::SHORT_OF_TOTAL, message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn content_path(text: &str) -> ContentPath {
        ContentPath {
            path: serde_json_path::JsonPath::parse(text).unwrap(),
            path_text: text.to_owned(),
            attribute_filter: flowd_spec::AttributeFilter::KeepAll,
            wrapper: None,
        }
    }

    #[test]
    fn a_bare_array_missed_by_the_path_is_named_with_the_path_that_holds_it() {
        let body = json!([{"id": 1}, {"id": 2}]);
        let warning = empty_extraction(&body, &content_path("$.customers")).unwrap();
        assert_eq!(warning.code, "EMPTY_EXTRACTION");
        assert_eq!(
            warning.message,
            "contentPath.path \"$.customers\" selected no records, but the response is an array of 2 objects; contentPath.path \"$\" would select 2 records"
        );
    }

    #[test]
    fn the_largest_nested_array_is_suggested() {
        let body = json!({"data": {"items": [1, 2, 3], "tags": ["a"]}, "meta": {"total": 3}, "odd key": [1, 2, 3, 4]});
        let warning = empty_extraction(&body, &content_path("$.records")).unwrap();
        assert!(
            warning.message.contains("the response is an object with keys data, meta, odd key; contentPath.path \"$['odd key']\" would select 4 records"),
            "{}",
            warning.message
        );
    }

    #[test]
    fn an_empty_array_at_the_path_or_a_body_without_arrays_is_no_warning() {
        let last_page = json!({"data": [], "links": ["next"]});
        assert_eq!(empty_extraction(&last_page, &content_path("$.data")), None);
        assert_eq!(
            empty_extraction(&json!({"a": 1}), &content_path("$.data")),
            None
        );
        assert_eq!(empty_extraction(&json!([]), &content_path("$.data")), None);
    }

    #[test]
    fn a_page_run_from_0_whose_second_page_repeats_the_first_suggests_counting_from_1() {
        let pagination = Pagination::Page(flowd_spec::PagePagination {
            page_parameter_name: "_page".into(),
            page_size: None,
            initial_page_index: 0,
            end_page_index: None,
        });
        assert_eq!(
            repeated_page(&pagination, 1).message,
            "page 2 repeated the records of page 1; stopped to avoid looping (_page=0 and _page=1 answered the same records: the API may count pages from 1: set paginationParams.initialPageIndex to 1)"
        );
        assert_eq!(
            repeated_page(&pagination, 4).message,
            "page 5 repeated the records of page 4; stopped to avoid looping (the API may not read the pagination parameters `_page`: check their names in paginationParams)"
        );
    }

    #[test]
    fn totals_are_read_from_headers_the_top_level_and_one_level_down() {
        let mut headers = HeaderMap::new();
        assert_eq!(
            announced_total(&json!({"meta": {"totalCount": "20"}}), &headers),
            Some(("the response's meta.totalCount".to_owned(), 20))
        );
        assert_eq!(
            announced_total(&json!({"total": 7, "data": []}), &headers),
            Some(("the response's total".to_owned(), 7))
        );
        headers.insert("x-total-count", "20000".parse().unwrap());
        assert_eq!(
            announced_total(&json!([]), &headers),
            Some(("the x-total-count header".to_owned(), 20000))
        );
    }
}
