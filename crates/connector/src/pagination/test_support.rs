//! Shared harness of the paginator tests: fake pages, request builders and
//! [`check_cases`], which runs a table of cases through [`paginator_for`]
//! so the dispatch is exercised too.

use flowd_spec::{
    ContinuationTokenPagination, OffsetPagination, PagePagination, PageSize, Pagination,
    PointerPagination, TokenParameterLocation,
};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;
use serde_json_path::JsonPath;

use super::{NextPage, PageRequest, PageResponse, Paginator, StopReason, paginator_for};

/// The URL the harness pretends a base request went to; relative pointers
/// resolve against it (or against the last absolute pointer followed).
pub(super) const BASE_URL: &str = "https://api.example.com/v1/items?list=7";

/// One response as the paginator sees it.
pub(super) struct FakePage {
    pub body: Value,
    pub headers: Vec<(&'static str, &'static str)>,
    pub item_count: usize,
}

impl FakePage {
    /// A page with `item_count` items and no headers.
    pub fn items(body: Value, item_count: usize) -> FakePage {
        FakePage {
            body,
            headers: Vec::new(),
            item_count,
        }
    }

    /// The same page with one more response header.
    pub fn header(mut self, name: &'static str, value: &'static str) -> FakePage {
        self.headers.push((name, value));
        self
    }
}

/// One row of a paginator table.
pub(super) struct Case {
    pub description: &'static str,
    pub pagination: Pagination,
    pub pages: Vec<FakePage>,
    pub expected_first: PageRequest,
    /// One answer per page in `pages`.
    pub expected_next: Vec<NextPage>,
    /// `(page_number, expected predicted_page)` checked before any page is fed.
    pub expected_predicted: Vec<(u64, Option<PageRequest>)>,
}

/// Runs every case, feeding pages in order and tracking which URL each page
/// came from, and reports the first difference with the case's description.
pub(super) fn check_cases(cases: Vec<Case>) {
    for case in cases {
        let description = case.description;
        assert_eq!(
            case.pages.len(),
            case.expected_next.len(),
            "{description}: the table needs one expected answer per page"
        );
        let mut paginator = paginator_for(&case.pagination);
        for (page_number, expected) in &case.expected_predicted {
            assert_eq!(
                &paginator.predicted_page(*page_number),
                expected,
                "{description}: predicted page {page_number}"
            );
        }
        let first = paginator.first_page();
        assert_eq!(first, case.expected_first, "{description}: first page");
        let mut current_url = url_of(&first);
        for (position, (page, expected)) in case.pages.iter().zip(&case.expected_next).enumerate() {
            let answer = feed_from(paginator.as_mut(), page, &current_url);
            assert_eq!(
                &answer, expected,
                "{description}: answer to page {position}"
            );
            if let NextPage::Request(request) = &answer {
                current_url = url_of(request);
            }
        }
    }
}

/// Feeds one page as if it came from [`BASE_URL`].
pub(super) fn feed(paginator: &mut dyn Paginator, page: &FakePage) -> NextPage {
    feed_from(
        paginator,
        page,
        &url::Url::parse(BASE_URL).expect("valid url"),
    )
}

fn feed_from(paginator: &mut dyn Paginator, page: &FakePage, url: &url::Url) -> NextPage {
    let mut headers = HeaderMap::new();
    for (name, value) in &page.headers {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    paginator.next_page(&PageResponse {
        body: &page.body,
        headers: &headers,
        url,
        item_count: page.item_count,
    })
}

fn url_of(request: &PageRequest) -> url::Url {
    match request {
        PageRequest::Base { .. } => url::Url::parse(BASE_URL).expect("valid url"),
        PageRequest::Url(absolute) => url::Url::parse(absolute).expect("absolute url"),
    }
}

/// A base request with these query parameters.
pub(super) fn query(pairs: &[(&str, &str)]) -> PageRequest {
    PageRequest::Base {
        query: owned_pairs(pairs),
        headers: Vec::new(),
    }
}

/// A base request with these query parameters and headers.
pub(super) fn query_and_headers(pairs: &[(&str, &str)], headers: &[(&str, &str)]) -> PageRequest {
    PageRequest::Base {
        query: owned_pairs(pairs),
        headers: owned_pairs(headers),
    }
}

fn owned_pairs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
}

/// `NextPage::Request` of a base request with these query parameters.
pub(super) fn next_query(pairs: &[(&str, &str)]) -> NextPage {
    NextPage::Request(query(pairs))
}

/// `NextPage::Request` of an absolute URL.
pub(super) fn next_url(absolute: &str) -> NextPage {
    NextPage::Request(PageRequest::Url(absolute.to_owned()))
}

pub(super) fn stop(reason: StopReason) -> NextPage {
    NextPage::Stop(reason)
}

/// Compiles a path the way the spec resolver does: `paging.next` means
/// `$.paging.next`.
pub(super) fn json_path(path_text: &str) -> JsonPath {
    let full_text = if path_text.starts_with('$') {
        path_text.to_owned()
    } else {
        format!("$.{path_text}")
    };
    JsonPath::parse(&full_text).expect("test paths are valid")
}

pub(super) fn page_size(parameter_name: &str, value: u64) -> PageSize {
    PageSize {
        parameter_name: parameter_name.to_owned(),
        value,
    }
}

/// One representative config per pagination type, for the conformance tests.
pub(super) fn all_pagination_types() -> Vec<(&'static str, Pagination)> {
    vec![
        (
            "offset",
            Pagination::Offset(OffsetPagination {
                page_size: page_size("limit", 10),
                offset_parameter_name: "offset".to_owned(),
                end_condition: None,
            }),
        ),
        (
            "pointer",
            Pagination::Pointer(PointerPagination {
                pointer_path: json_path("paging.next"),
                pointer_path_text: "paging.next".to_owned(),
                page_size: Some(page_size("count", 10)),
            }),
        ),
        (
            "continuation token",
            Pagination::ContinuationToken(ContinuationTokenPagination {
                token_path: json_path("$.meta.after_cursor"),
                token_path_text: "$.meta.after_cursor".to_owned(),
                parameter_name: "page[after]".to_owned(),
                parameter_location: TokenParameterLocation::QueryParam,
                page_size: None,
            }),
        ),
        (
            "page",
            Pagination::Page(PagePagination {
                page_parameter_name: "page".to_owned(),
                page_size: Some(page_size("per_page", 10)),
                initial_page_index: 1,
                end_page_index: None,
            }),
        ),
        ("none", Pagination::None),
    ]
}
