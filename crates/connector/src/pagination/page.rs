//! `PAGE` pagination: every page sends `pageParamName=<index>` then the
//! page-size pair, if any; the index starts at `initialPageIndex` and grows
//! by one.
//!
//! Stop rules, in this order:
//! 1. the page just fetched had the end page index, inclusive
//!    ([`StopReason::EndPageIndexReached`]): a fixed number, or an integer
//!    read from a response header of the FIRST page (`headers.x-pagecount`).
//!    A header that is absent or not an integer leaves the run unbounded
//!    here, since the other rules and `maximumRequest` still end it;
//! 2. the page held no items ([`StopReason::EmptyPage`]);
//! 3. with a page size, the page held fewer items after full pages
//!    ([`StopReason::ShortPage`]); a short *first* page may mean the API caps
//!    its page size, so paging goes on and from then on only an empty page
//!    stops ([`PageSizeCap`]).
//!
//! `maximumRequest` is the run loop's guard, shared with the other types.

use flowd_spec::{EndPageIndex, PagePagination};
use reqwest::header::HeaderMap;

use super::{
    NextPage, PageRequest, PageResponse, PageSizeCap, Paginator, StopReason, page_size_pair,
};

/// State of one PAGE run.
#[derive(Debug, Clone)]
pub struct PagePaginator {
    config: PagePagination,
    /// Index of the page most recently requested.
    current_index: u64,
    /// The last index to fetch, once known: at construction when fixed,
    /// after the first response when read from a header.
    end_index: Option<u64>,
    /// Whether the first response was seen (only it sets a header bound).
    first_response_seen: bool,
    cap: PageSizeCap,
}

impl PagePaginator {
    pub fn new(config: PagePagination) -> PagePaginator {
        let end_index = fixed_end_index(&config);
        PagePaginator {
            current_index: config.initial_page_index,
            end_index,
            first_response_seen: false,
            cap: PageSizeCap::default(),
            config,
        }
    }

    fn request_at(&self, index: u64) -> PageRequest {
        let mut query = vec![(self.config.page_parameter_name.clone(), index.to_string())];
        query.extend(page_size_pair(self.config.page_size.as_ref()));
        PageRequest::Base {
            query,
            headers: Vec::new(),
        }
    }
}

impl Paginator for PagePaginator {
    fn first_page(&mut self) -> PageRequest {
        self.current_index = self.config.initial_page_index;
        self.end_index = fixed_end_index(&self.config);
        self.first_response_seen = false;
        self.cap.reset();
        self.request_at(self.current_index)
    }

    fn next_page(&mut self, response: &PageResponse<'_>) -> NextPage {
        if !self.first_response_seen {
            self.first_response_seen = true;
            if let Some(EndPageIndex::ResponseHeader(header_name)) = &self.config.end_page_index {
                self.end_index = header_integer(response.headers, header_name);
            }
        }
        if self
            .end_index
            .is_some_and(|end_index| self.current_index >= end_index)
        {
            return NextPage::Stop(StopReason::EndPageIndexReached);
        }
        if response.item_count == 0 {
            return NextPage::Stop(StopReason::EmptyPage);
        }
        if let Some(page_size) = &self.config.page_size
            && self
                .cap
                .short_page_ends_run(response.item_count as u64, page_size.value)
        {
            return NextPage::Stop(StopReason::ShortPage);
        }
        // An index past u64::MAX cannot be requested; treat it as the end.
        let Some(next_index) = self.current_index.checked_add(1) else {
            return NextPage::Stop(StopReason::EndPageIndexReached);
        };
        self.current_index = next_index;
        NextPage::Request(self.request_at(next_index))
    }

    fn predicted_page(&self, page_number: u64) -> Option<PageRequest> {
        let index = self.config.initial_page_index.checked_add(page_number)?;
        if self.end_index.is_some_and(|end_index| index > end_index) && page_number > 0 {
            return None;
        }
        Some(self.request_at(index))
    }
}

fn fixed_end_index(config: &PagePagination) -> Option<u64> {
    match config.end_page_index {
        Some(EndPageIndex::Fixed(end_index)) => Some(end_index),
        _ => None,
    }
}

fn header_integer(headers: &HeaderMap, header_name: &str) -> Option<u64> {
    headers.get(header_name)?.to_str().ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use flowd_spec::Pagination;
    use serde_json::json;

    use super::super::test_support::{
        Case, FakePage, check_cases, next_query, page_size, query, stop,
    };
    use super::*;

    fn page(
        initial_page_index: u64,
        with_page_size: bool,
        end_page_index: Option<EndPageIndex>,
    ) -> Pagination {
        Pagination::Page(PagePagination {
            page_parameter_name: "pageNumber".to_owned(),
            page_size: with_page_size.then(|| page_size("pageSize", 2)),
            initial_page_index,
            end_page_index,
        })
    }

    fn at(index: &str) -> PageRequest {
        query(&[("pageNumber", index), ("pageSize", "2")])
    }

    fn next_at(index: &str) -> NextPage {
        NextPage::Request(at(index))
    }

    fn full() -> FakePage {
        FakePage::items(json!({}), 2)
    }

    #[test]
    fn page_cases() {
        check_cases(vec![
            Case {
                description: "indexes grow from the initial index until a short page",
                pagination: page(1, true, None),
                pages: vec![full(), full(), FakePage::items(json!({}), 1)],
                expected_first: at("1"),
                expected_next: vec![next_at("2"), next_at("3"), stop(StopReason::ShortPage)],
                expected_predicted: vec![(0, Some(at("1"))), (4, Some(at("5")))],
            },
            Case {
                description: "a fixed end index is inclusive and bounds predictions",
                pagination: page(0, true, Some(EndPageIndex::Fixed(2))),
                pages: vec![full(), full(), full()],
                expected_first: at("0"),
                expected_next: vec![
                    next_at("1"),
                    next_at("2"),
                    stop(StopReason::EndPageIndexReached),
                ],
                expected_predicted: vec![(2, Some(at("2"))), (3, None)],
            },
            Case {
                description: "the end index is read from the first response's header only",
                pagination: page(
                    1,
                    true,
                    Some(EndPageIndex::ResponseHeader("x-pagecount".to_owned())),
                ),
                pages: vec![
                    full().header("x-pagecount", " 2 "),
                    full().header("x-pagecount", "9"),
                ],
                expected_first: at("1"),
                expected_next: vec![next_at("2"), stop(StopReason::EndPageIndexReached)],
                expected_predicted: vec![],
            },
            Case {
                description: "an unreadable header is ignored; the empty page stops",
                pagination: page(
                    1,
                    false,
                    Some(EndPageIndex::ResponseHeader("x-pagecount".to_owned())),
                ),
                pages: vec![
                    FakePage::items(json!({}), 1).header("x-pagecount", "many"),
                    FakePage::items(json!({}), 1),
                    FakePage::items(json!({}), 0),
                ],
                expected_first: query(&[("pageNumber", "1")]),
                expected_next: vec![
                    next_query(&[("pageNumber", "2")]),
                    next_query(&[("pageNumber", "3")]),
                    stop(StopReason::EmptyPage),
                ],
                expected_predicted: vec![],
            },
            Case {
                description: "an initial index past the fixed end still fetches one page",
                pagination: page(5, true, Some(EndPageIndex::Fixed(3))),
                pages: vec![full()],
                expected_first: at("5"),
                expected_next: vec![stop(StopReason::EndPageIndexReached)],
                expected_predicted: vec![(0, Some(at("5"))), (1, None)],
            },
        ]);
    }
}
