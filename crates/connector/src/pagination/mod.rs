//! Pagination: one module per `paginationParams.type`, each behind the
//! [`Paginator`] trait. A paginator is pure logic: it says which page to
//! request first, and, from what a page returned, which page comes next or
//! why paging stops. It never does IO; the run loop sends the requests and
//! applies the guards shared by every type (repeated pages, `maximumRequest`,
//! `delayRequestMillis`).
//!
//! Every module has the same shape: a `*Paginator` struct built from its
//! resolved config by `new`, the [`Paginator`] impl, private helpers, and a
//! `tests` module holding one table of cases run by
//! `test_support::check_cases`. Paginators never fail: anything unexpected
//! in a response (a missing pointer, a token of the wrong JSON type) is a
//! [`StopReason`], so a run always ends with the records it already has.

mod continuation_token;
mod none;
mod offset;
mod page;
mod pointer;
#[cfg(test)]
mod test_support;

pub use continuation_token::ContinuationTokenPaginator;
pub use none::NonePaginator;
pub use offset::OffsetPaginator;
pub use page::PagePaginator;
pub use pointer::PointerPaginator;

use flowd_spec::{PageSize, Pagination};
use reqwest::header::HeaderMap;
use serde_json::Value;

/// A request for one page, relative to the spec's base request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageRequest {
    /// The base request (URL, query parameters, headers and body from the
    /// spec) plus these query parameters and headers, which replace base
    /// ones of the same name.
    Base {
        query: Vec<(String, String)>,
        headers: Vec<(String, String)>,
    },
    /// The absolute URL the API gave for the next page (POINTER), requested
    /// as is with the base method, headers and body; query parameters of the
    /// base request are not added again.
    Url(String),
}

impl PageRequest {
    /// The base request with nothing added.
    pub fn base() -> PageRequest {
        PageRequest::Base {
            query: Vec::new(),
            headers: Vec::new(),
        }
    }
}

/// What a paginator sees of one page's response.
#[derive(Debug, Clone, Copy)]
pub struct PageResponse<'a> {
    /// The parsed JSON body.
    pub body: &'a Value,
    /// The response headers (`headers.<name>` end page indexes read them).
    pub headers: &'a HeaderMap,
    /// The URL that was requested, to resolve relative next-page URLs.
    pub url: &'a url::Url,
    /// How many items the page held at `contentPath`, before any explode.
    pub item_count: usize,
}

/// Why paging stopped normally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// NONE: the only page was fetched.
    SinglePage,
    /// The page held no items.
    EmptyPage,
    /// The page held fewer items than the page size.
    ShortPage,
    /// OFFSET's `endConditionName` matched `endConditionValue`.
    EndCondition,
    /// POINTER: the next-page pointer is missing, null or empty.
    NoNextPointer,
    /// CONTINUATION_TOKEN: the token is missing, null or empty.
    NoContinuationToken,
    /// CONTINUATION_TOKEN: `has_more`/`hasMore` beside the token is false.
    HasMoreFalse,
    /// PAGE: the page whose index equals `endPageIndex` was fetched.
    EndPageIndexReached,
}

/// The paginator's answer after a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextPage {
    Request(PageRequest),
    Stop(StopReason),
}

/// The strategy of one pagination type for one run.
pub trait Paginator: Send {
    /// The first page's request.
    fn first_page(&mut self) -> PageRequest;

    /// The next page's request, or why paging stops, given the page just
    /// fetched (pages are fed in order).
    fn next_page(&mut self, response: &PageResponse<'_>) -> NextPage;

    /// For speculative concurrent fetching: the request of the page with
    /// zero-based position `page_number`, assuming every earlier page was
    /// full. `None` for types whose next page depends on the response
    /// (POINTER, CONTINUATION_TOKEN, NONE).
    fn predicted_page(&self, page_number: u64) -> Option<PageRequest>;
}

/// Whether a short page ends the run, from what the run's pages showed of the API's page
/// size (OFFSET without an end condition, PAGE with a page size).
///
/// Many APIs cap the page size below what was asked (`limit=1000` answered with 100 records):
/// every page is then short, and stopping on the first one would end the run after one page.
/// So a short *first* page does not stop: the API may cap. From then on, only an empty page
/// ends the run (pages of a capped API need not all hold the cap). A short page after full
/// pages still ends it: that API honours the page size. The price is one request more for a
/// window smaller than one page; an end condition (OFFSET) or `endPageIndex` (PAGE) avoids it.
#[derive(Debug, Clone, Default)]
pub(crate) struct PageSizeCap {
    pages_seen: u64,
    /// Whether the first page held fewer items than asked.
    capped: bool,
}

impl PageSizeCap {
    pub(crate) fn reset(&mut self) {
        *self = PageSizeCap::default();
    }

    /// For a non-empty page of `item_count` items asked with `page_size`: whether it ends the
    /// run.
    pub(crate) fn short_page_ends_run(&mut self, item_count: u64, page_size: u64) -> bool {
        let first = self.pages_seen == 0;
        self.pages_seen += 1;
        if item_count >= page_size {
            return false;
        }
        if first {
            self.capped = true;
            tracing::debug!(
                asked = page_size,
                answered = item_count,
                "the first page is short: paging on in case the API caps its page size"
            );
            return false;
        }
        !self.capped
    }

    /// Whether the API answered fewer items than asked from the first page on.
    pub(crate) fn capped(&self) -> bool {
        self.capped
    }
}

/// The paginator for a resolved `paginationParams`.
pub fn paginator_for(pagination: &Pagination) -> Box<dyn Paginator> {
    match pagination {
        Pagination::Offset(offset) => Box::new(OffsetPaginator::new(offset.clone())),
        Pagination::Pointer(pointer) => Box::new(PointerPaginator::new(pointer.clone())),
        Pagination::ContinuationToken(continuation_token) => {
            Box::new(ContinuationTokenPaginator::new(continuation_token.clone()))
        }
        Pagination::Page(page) => Box::new(PagePaginator::new(page.clone())),
        Pagination::None => Box::new(NonePaginator::new()),
    }
}

/// The `limitName=limitValue` query pair, when a page size is configured.
fn page_size_pair(page_size: Option<&PageSize>) -> Option<(String, String)> {
    page_size.map(|page_size| {
        (
            page_size.parameter_name.clone(),
            page_size.value.to_string(),
        )
    })
}

/// A scalar read from a response as the text to send back: strings as is,
/// numbers in their JSON form. `None` for null, empty strings and
/// non-scalars, which no API means as "here is the next page".
fn scalar_as_parameter_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) if !text.is_empty() => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// Conformance: properties every paginator must have, checked against one
/// config of each type.
#[cfg(test)]
mod conformance_tests {
    use serde_json::json;

    use super::test_support::{FakePage, all_pagination_types, feed};
    use super::*;

    #[test]
    fn every_type_stops_on_an_empty_page_without_paging_data() {
        for (type_name, pagination) in all_pagination_types() {
            let mut paginator = paginator_for(&pagination);
            paginator.first_page();
            let answer = feed(paginator.as_mut(), &FakePage::items(json!({}), 0));
            assert!(
                matches!(answer, NextPage::Stop(_)),
                "{type_name}: expected a stop, got {answer:?}"
            );
        }
    }

    #[test]
    fn every_predicted_first_page_is_the_first_page() {
        for (type_name, pagination) in all_pagination_types() {
            let mut paginator = paginator_for(&pagination);
            let predicted = paginator.predicted_page(0);
            let first = paginator.first_page();
            if let Some(predicted) = predicted {
                assert_eq!(predicted, first, "{type_name}");
            }
        }
    }

    #[test]
    fn first_page_is_repeatable() {
        for (type_name, pagination) in all_pagination_types() {
            let mut paginator = paginator_for(&pagination);
            assert_eq!(
                paginator.first_page(),
                paginator.first_page(),
                "{type_name}"
            );
        }
    }
}
