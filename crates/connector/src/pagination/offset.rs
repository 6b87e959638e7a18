//! `OFFSET` pagination: every page sends `limitName=limitValue` then
//! `offSetName=<offset>`; the offset starts at 0 and advances by the number
//! of items the page actually returned.
//!
//! Advancing by the returned count rather than by `limitValue` matters for
//! APIs that silently cap the page size below what was asked: advancing by
//! `limitValue` would skip records.
//!
//! Stop rules, in this order:
//! 1. with an end condition, its value in the body equals the expected
//!    value ([`StopReason::EndCondition`]);
//! 2. the page held no items ([`StopReason::EmptyPage`]);
//! 3. without an end condition only, the page held fewer items than
//!    `limitValue` after full pages ([`StopReason::ShortPage`]). With an end
//!    condition the API says itself when it is done, and a short page may
//!    only mean the API capped the page size, so a short page does not stop.
//!    Without one, a short *first* page may mean the same: paging goes on,
//!    and from then on only an empty page stops ([`PageSizeCap`]).

use flowd_spec::{EndCondition, OffsetPagination};
use serde_json::Value;

use super::{NextPage, PageRequest, PageResponse, PageSizeCap, Paginator, StopReason};

/// State of one OFFSET run.
#[derive(Debug, Clone)]
pub struct OffsetPaginator {
    config: OffsetPagination,
    /// Offset of the page most recently requested.
    current_offset: u64,
    cap: PageSizeCap,
}

impl OffsetPaginator {
    pub fn new(config: OffsetPagination) -> OffsetPaginator {
        OffsetPaginator {
            config,
            current_offset: 0,
            cap: PageSizeCap::default(),
        }
    }

    fn request_at(&self, offset: u64) -> PageRequest {
        PageRequest::Base {
            query: vec![
                (
                    self.config.page_size.parameter_name.clone(),
                    self.config.page_size.value.to_string(),
                ),
                (
                    self.config.offset_parameter_name.clone(),
                    offset.to_string(),
                ),
            ],
            headers: Vec::new(),
        }
    }
}

impl Paginator for OffsetPaginator {
    fn first_page(&mut self) -> PageRequest {
        self.current_offset = 0;
        self.cap.reset();
        self.request_at(0)
    }

    fn next_page(&mut self, response: &PageResponse<'_>) -> NextPage {
        if let Some(end_condition) = &self.config.end_condition
            && end_condition_met(end_condition, response.body)
        {
            return NextPage::Stop(StopReason::EndCondition);
        }
        if response.item_count == 0 {
            return NextPage::Stop(StopReason::EmptyPage);
        }
        let item_count = response.item_count as u64;
        if self.config.end_condition.is_none()
            && self
                .cap
                .short_page_ends_run(item_count, self.config.page_size.value)
        {
            return NextPage::Stop(StopReason::ShortPage);
        }
        self.current_offset = self.current_offset.saturating_add(item_count);
        NextPage::Request(self.request_at(self.current_offset))
    }

    fn predicted_page(&self, page_number: u64) -> Option<PageRequest> {
        if self.cap.capped() {
            return None;
        }
        let offset = page_number.checked_mul(self.config.page_size.value)?;
        Some(self.request_at(offset))
    }
}

/// Whether the first value at the end condition's path equals the expected
/// value, loosely (see [`loosely_equal`]). A path that matches nothing never
/// ends paging.
fn end_condition_met(end_condition: &EndCondition, body: &Value) -> bool {
    end_condition
        .path
        .query(body)
        .first()
        .is_some_and(|actual| loosely_equal(actual, &end_condition.expected_value))
}

/// JSON equality that forgives the type drift APIs show: `"false"` equals
/// `false`, `"3"` equals `3`, and `1` equals `1.0`.
fn loosely_equal(actual: &Value, expected: &Value) -> bool {
    if actual == expected {
        return true;
    }
    match (actual, expected) {
        (Value::Bool(flag), Value::String(text)) | (Value::String(text), Value::Bool(flag)) => text
            .trim()
            .eq_ignore_ascii_case(if *flag { "true" } else { "false" }),
        (Value::Number(number), Value::String(text))
        | (Value::String(text), Value::Number(number)) => text
            .trim()
            .parse::<serde_json::Number>()
            .is_ok_and(|parsed| numbers_equal(&parsed, number)),
        (Value::Number(left), Value::Number(right)) => numbers_equal(left, right),
        _ => false,
    }
}

fn numbers_equal(left: &serde_json::Number, right: &serde_json::Number) -> bool {
    if left == right {
        return true;
    }
    // Compare integers exactly first, so large ids do not collide through f64.
    match (left.as_i128(), right.as_i128()) {
        (Some(left_integer), Some(right_integer)) => left_integer == right_integer,
        _ => left
            .as_f64()
            .zip(right.as_f64())
            .is_some_and(|(l, r)| l == r),
    }
}

#[cfg(test)]
mod tests {
    use flowd_spec::Pagination;
    use serde_json::json;

    use super::super::test_support::{
        Case, FakePage, check_cases, json_path, next_query, page_size, query, stop,
    };
    use super::*;

    fn offset(end_condition: Option<(&str, Value)>) -> Pagination {
        Pagination::Offset(OffsetPagination {
            page_size: page_size("count", 2),
            offset_parameter_name: "offset".to_owned(),
            end_condition: end_condition.map(|(path_text, expected_value)| EndCondition {
                path: json_path(path_text),
                path_text: path_text.to_owned(),
                expected_value,
            }),
        })
    }

    fn next_at(offset: &str) -> NextPage {
        next_query(&[("count", "2"), ("offset", offset)])
    }

    fn first() -> PageRequest {
        query(&[("count", "2"), ("offset", "0")])
    }

    #[test]
    fn offset_cases() {
        check_cases(vec![
            Case {
                description: "full pages advance, a short page stops",
                pagination: offset(None),
                pages: vec![
                    FakePage::items(json!({}), 2),
                    FakePage::items(json!({}), 2),
                    FakePage::items(json!({}), 1),
                ],
                expected_first: first(),
                expected_next: vec![next_at("2"), next_at("4"), stop(StopReason::ShortPage)],
                expected_predicted: vec![
                    (0, Some(first())),
                    (3, Some(query(&[("count", "2"), ("offset", "6")]))),
                    (u64::MAX, None),
                ],
            },
            Case {
                description: "an empty page stops",
                pagination: offset(None),
                pages: vec![FakePage::items(json!({}), 2), FakePage::items(json!({}), 0)],
                expected_first: first(),
                expected_next: vec![next_at("2"), stop(StopReason::EmptyPage)],
                expected_predicted: vec![],
            },
            Case {
                description: "the end condition stops even a full page",
                pagination: offset(Some(("$.hasMore", json!(false)))),
                pages: vec![
                    FakePage::items(json!({"hasMore": true}), 2),
                    FakePage::items(json!({"hasMore": false}), 2),
                ],
                expected_first: first(),
                expected_next: vec![next_at("2"), stop(StopReason::EndCondition)],
                expected_predicted: vec![],
            },
            Case {
                description: "with an end condition a short page advances by what it held",
                pagination: offset(Some(("$.hasMore", json!(false)))),
                pages: vec![
                    FakePage::items(json!({"hasMore": true}), 1),
                    FakePage::items(json!({"hasMore": "false"}), 1),
                ],
                expected_first: first(),
                expected_next: vec![next_at("1"), stop(StopReason::EndCondition)],
                expected_predicted: vec![],
            },
            Case {
                description: "with an end condition an empty page still stops",
                pagination: offset(Some(("$.hasMore", json!(false)))),
                pages: vec![FakePage::items(json!({"hasMore": true}), 0)],
                expected_first: first(),
                expected_next: vec![stop(StopReason::EmptyPage)],
                expected_predicted: vec![],
            },
            Case {
                description: "a string expected value matches a boolean in the body",
                pagination: offset(Some(("paging.more", json!("false")))),
                pages: vec![FakePage::items(json!({"paging": {"more": false}}), 2)],
                expected_first: first(),
                expected_next: vec![stop(StopReason::EndCondition)],
                expected_predicted: vec![],
            },
            Case {
                description: "a numeric string in the body matches a number",
                pagination: offset(Some(("$.remaining", json!(0)))),
                pages: vec![
                    FakePage::items(json!({"remaining": "4"}), 2),
                    FakePage::items(json!({"remaining": "0"}), 2),
                ],
                expected_first: first(),
                expected_next: vec![next_at("2"), stop(StopReason::EndCondition)],
                expected_predicted: vec![],
            },
            Case {
                description: "an end condition path missing from the body does not stop",
                pagination: offset(Some(("$.hasMore", json!(false)))),
                pages: vec![FakePage::items(json!({"other": false}), 2)],
                expected_first: first(),
                expected_next: vec![next_at("2")],
                expected_predicted: vec![],
            },
        ]);
    }

    #[test]
    fn loose_equality_table() {
        let cases = [
            (json!(false), json!(false), true),
            (json!("FALSE"), json!(false), true),
            (json!(true), json!("false"), false),
            (json!(1), json!(1.0), true),
            (json!("12"), json!(12), true),
            (json!("12.0"), json!(12), true),
            (json!("twelve"), json!(12), false),
            (json!(null), json!(false), false),
            (
                json!(9007199254740993_u64),
                json!(9007199254740992_u64),
                false,
            ),
        ];
        for (actual, expected, equal) in cases {
            assert_eq!(
                loosely_equal(&actual, &expected),
                equal,
                "{actual} vs {expected}"
            );
        }
    }
}
