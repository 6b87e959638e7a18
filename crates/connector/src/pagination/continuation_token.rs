//! `CONTINUATION_TOKEN` pagination: a token read from the response at
//! `continuationTokenPath` (first match) is sent back on the next request as
//! the query parameter or header `parameterName`.
//!
//! The first page sends only the page-size pair, if any. Stop rules, in
//! this order:
//! 1. the token is missing, null, empty, or not a string or number
//!    ([`StopReason::NoContinuationToken`]);
//! 2. `has_more` or `hasMore` is `false` (or the string `"false"`) in the
//!    object holding the token or at the body root
//!    ([`StopReason::HasMoreFalse`]). Zendesk's cursor pagination returns a
//!    non-null `after_cursor` beside `has_more: false` on the last page, so
//!    the token alone would loop once more for nothing.

use flowd_spec::{ContinuationTokenPagination, TokenParameterLocation};
use serde_json::Value;
use serde_json_path::PathElement;

use super::{
    NextPage, PageRequest, PageResponse, Paginator, StopReason, page_size_pair,
    scalar_as_parameter_text,
};

/// Names of the flag that says whether more pages follow.
const HAS_MORE_NAMES: [&str; 2] = ["has_more", "hasMore"];

/// State of one CONTINUATION_TOKEN run (none beyond the config: each page
/// carries the next token).
#[derive(Debug, Clone)]
pub struct ContinuationTokenPaginator {
    config: ContinuationTokenPagination,
}

impl ContinuationTokenPaginator {
    pub fn new(config: ContinuationTokenPagination) -> ContinuationTokenPaginator {
        ContinuationTokenPaginator { config }
    }

    fn page_size_query(&self) -> Vec<(String, String)> {
        page_size_pair(self.config.page_size.as_ref())
            .into_iter()
            .collect()
    }
}

impl Paginator for ContinuationTokenPaginator {
    fn first_page(&mut self) -> PageRequest {
        PageRequest::Base {
            query: self.page_size_query(),
            headers: Vec::new(),
        }
    }

    fn next_page(&mut self, response: &PageResponse<'_>) -> NextPage {
        let located_nodes = self.config.token_path.query_located(response.body);
        let Some(located_token) = located_nodes.first() else {
            return NextPage::Stop(StopReason::NoContinuationToken);
        };
        let Some(token) = scalar_as_parameter_text(located_token.node()) else {
            return NextPage::Stop(StopReason::NoContinuationToken);
        };
        let token_parent = parent_of(response.body, located_token.location().iter());
        if token_parent.is_some_and(says_no_more) || says_no_more(response.body) {
            return NextPage::Stop(StopReason::HasMoreFalse);
        }
        let parameter = (self.config.parameter_name.clone(), token);
        let mut query = self.page_size_query();
        let mut headers = Vec::new();
        match self.config.parameter_location {
            TokenParameterLocation::QueryParam => query.push(parameter),
            TokenParameterLocation::HeaderParam => headers.push(parameter),
        }
        NextPage::Request(PageRequest::Base { query, headers })
    }

    fn predicted_page(&self, _page_number: u64) -> Option<PageRequest> {
        None
    }
}

/// The value holding the node at `location` (all elements but the last),
/// or `None` for the root itself.
fn parent_of<'v, 'p>(
    root: &'v Value,
    location: impl ExactSizeIterator<Item = &'p PathElement<'p>>,
) -> Option<&'v Value> {
    let parent_depth = location.len().checked_sub(1)?;
    let mut current = root;
    for element in location.take(parent_depth) {
        current = match element {
            PathElement::Name(name) => current.get(*name)?,
            PathElement::Index(index) => current.get(*index)?,
        };
    }
    Some(current)
}

/// Whether `value` is an object whose `has_more`/`hasMore` is false.
fn says_no_more(value: &Value) -> bool {
    HAS_MORE_NAMES
        .iter()
        .filter_map(|name| value.get(*name))
        .any(|flag| match flag {
            Value::Bool(more) => !more,
            Value::String(text) => text.trim().eq_ignore_ascii_case("false"),
            _ => false,
        })
}

#[cfg(test)]
mod tests {
    use flowd_spec::Pagination;
    use serde_json::json;

    use super::super::test_support::{
        Case, FakePage, check_cases, json_path, next_query, page_size, query, query_and_headers,
        stop,
    };
    use super::*;

    fn continuation_token(
        path_text: &str,
        parameter_location: TokenParameterLocation,
        with_page_size: bool,
    ) -> Pagination {
        Pagination::ContinuationToken(ContinuationTokenPagination {
            token_path: json_path(path_text),
            token_path_text: path_text.to_owned(),
            parameter_name: "page[after]".to_owned(),
            parameter_location,
            page_size: with_page_size.then(|| page_size("page[size]", 100)),
        })
    }

    #[test]
    fn continuation_token_cases() {
        check_cases(vec![
            Case {
                description: "zendesk: token as query parameter, has_more false beside it stops",
                pagination: continuation_token(
                    "$.meta.after_cursor",
                    TokenParameterLocation::QueryParam,
                    true,
                ),
                pages: vec![
                    FakePage::items(
                        json!({"meta": {"after_cursor": "xyz", "has_more": true}}),
                        100,
                    ),
                    FakePage::items(
                        json!({"meta": {"after_cursor": "abc", "has_more": false}}),
                        7,
                    ),
                ],
                expected_first: query(&[("page[size]", "100")]),
                expected_next: vec![
                    next_query(&[("page[size]", "100"), ("page[after]", "xyz")]),
                    stop(StopReason::HasMoreFalse),
                ],
                expected_predicted: vec![(0, None), (2, None)],
            },
            Case {
                description: "token as header; hasMore \"false\" at the root stops",
                pagination: continuation_token(
                    "cursor.next",
                    TokenParameterLocation::HeaderParam,
                    false,
                ),
                pages: vec![
                    FakePage::items(json!({"cursor": {"next": 42}}), 5),
                    FakePage::items(json!({"cursor": {"next": "q"}, "hasMore": "false"}), 5),
                ],
                expected_first: query(&[]),
                expected_next: vec![
                    NextPage::Request(query_and_headers(&[], &[("page[after]", "42")])),
                    stop(StopReason::HasMoreFalse),
                ],
                expected_predicted: vec![],
            },
            Case {
                description: "missing, null and empty tokens stop",
                pagination: continuation_token(
                    "$.meta.after_cursor",
                    TokenParameterLocation::QueryParam,
                    false,
                ),
                pages: vec![FakePage::items(json!({"meta": {"after_cursor": null}}), 3)],
                expected_first: query(&[]),
                expected_next: vec![stop(StopReason::NoContinuationToken)],
                expected_predicted: vec![],
            },
            Case {
                description: "an empty token stops before has_more is looked at",
                pagination: continuation_token(
                    "$.meta.after_cursor",
                    TokenParameterLocation::QueryParam,
                    false,
                ),
                pages: vec![
                    FakePage::items(json!({"meta": {"after_cursor": "a"}}), 3),
                    FakePage::items(json!({"meta": {"after_cursor": "", "has_more": false}}), 3),
                ],
                expected_first: query(&[]),
                expected_next: vec![
                    next_query(&[("page[after]", "a")]),
                    stop(StopReason::NoContinuationToken),
                ],
                expected_predicted: vec![],
            },
            Case {
                description: "has_more true or absent keeps paging; a token in an array works",
                pagination: continuation_token(
                    "$.pages[0].token",
                    TokenParameterLocation::QueryParam,
                    false,
                ),
                pages: vec![
                    FakePage::items(json!({"pages": [{"token": "t1", "hasMore": true}]}), 1),
                    FakePage::items(json!({"pages": [{"token": "t2"}], "has_more": 0}), 1),
                    FakePage::items(json!({"pages": [{"token": "t3", "hasMore": false}]}), 1),
                ],
                expected_first: query(&[]),
                expected_next: vec![
                    next_query(&[("page[after]", "t1")]),
                    next_query(&[("page[after]", "t2")]),
                    stop(StopReason::HasMoreFalse),
                ],
                expected_predicted: vec![],
            },
        ]);
    }
}
