//! `NONE` pagination (also the absence of `paginationParams`): one base
//! request returns everything, so paging always stops after the first page
//! with [`StopReason::SinglePage`].

use super::{NextPage, PageRequest, PageResponse, Paginator, StopReason};

/// The paginator of unpaginated resources; it holds no state.
#[derive(Debug, Clone, Default)]
pub struct NonePaginator;

impl NonePaginator {
    pub fn new() -> NonePaginator {
        NonePaginator
    }
}

impl Paginator for NonePaginator {
    fn first_page(&mut self) -> PageRequest {
        PageRequest::base()
    }

    fn next_page(&mut self, _response: &PageResponse<'_>) -> NextPage {
        NextPage::Stop(StopReason::SinglePage)
    }

    fn predicted_page(&self, page_number: u64) -> Option<PageRequest> {
        (page_number == 0).then(PageRequest::base)
    }
}

#[cfg(test)]
mod tests {
    use flowd_spec::Pagination;
    use serde_json::json;

    use super::super::test_support::{Case, FakePage, check_cases, stop};
    use super::*;

    #[test]
    fn none_cases() {
        check_cases(vec![
            Case {
                description: "the first page is the base request and the only one",
                pagination: Pagination::None,
                pages: vec![FakePage::items(json!({"next": "https://x.example/2"}), 10)],
                expected_first: PageRequest::base(),
                expected_next: vec![stop(StopReason::SinglePage)],
                expected_predicted: vec![(0, Some(PageRequest::base())), (1, None)],
            },
            Case {
                description: "an empty single page stops the same way",
                pagination: Pagination::None,
                pages: vec![FakePage::items(json!([]), 0)],
                expected_first: PageRequest::base(),
                expected_next: vec![stop(StopReason::SinglePage)],
                expected_predicted: vec![],
            },
        ]);
    }
}
