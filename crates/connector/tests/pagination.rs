//! Every pagination type run end to end against the mock API: the exact
//! request sequence, the exact records and why the run stopped; the guards
//! shared by every type (repeated pages, `maximumRequest`,
//! `delayRequestMillis`); and speculative concurrent fetching.

mod common;

use std::time::{Duration, Instant};

use common::*;
use flowd_connector::StopCause;
use flowd_connector::pagination::StopReason;
use flowd_mockapi::{
    CursorEnd, CursorOptions, DatasetChange, Faults, MockApi, PageOptions, PointerOptions,
    PointerStyle, Scenario, TokenLocation,
};
use serde_json::json;

fn offset_pagination(limit: u64) -> serde_json::Value {
    json!({"type": "OFFSET", "limitName": "limit", "limitValue": limit, "offSetName": "offset"})
}

#[tokio::test]
async fn offset_advances_by_returned_count_and_stops_on_a_short_page() {
    let mock = MockApi::start(Scenario::generated(25)).await;
    let spec = connection_spec(attributes(
        &mock.base_url(),
        "/offset",
        "$.items",
        offset_pagination(10),
    ));
    let (pages, summary) = collect(client(), plan(&spec)).await;
    assert_eq!(
        sequence(&mock.requests()),
        [
            get("/offset", &[("limit", "10"), ("offset", "0")]),
            get("/offset", &[("limit", "10"), ("offset", "10")]),
            get("/offset", &[("limit", "10"), ("offset", "20")]),
        ]
    );
    assert_eq!(records(&pages), generated(0..25));
    let item_counts: Vec<usize> = pages.iter().map(|page| page.item_count).collect();
    assert_eq!(item_counts, [10, 10, 5]);
    let numbers: Vec<u64> = pages.iter().map(|page| page.number).collect();
    assert_eq!(numbers, [0, 1, 2]);
    assert_eq!(summary.stop, StopCause::Pagination(StopReason::ShortPage));
    assert_eq!((summary.pages, summary.records), (3, 25));
    assert!(summary.warnings.is_empty(), "{:?}", summary.warnings);
}

#[tokio::test]
async fn offset_without_end_condition_stops_on_the_empty_page_after_an_exact_multiple() {
    let mock = MockApi::start(Scenario::generated(20)).await;
    let spec = connection_spec(attributes(
        &mock.base_url(),
        "/offset",
        "$.items",
        offset_pagination(10),
    ));
    let (pages, summary) = collect(client(), plan(&spec)).await;
    assert_eq!(
        sequence(&mock.requests()),
        [
            get("/offset", &[("limit", "10"), ("offset", "0")]),
            get("/offset", &[("limit", "10"), ("offset", "10")]),
            get("/offset", &[("limit", "10"), ("offset", "20")]),
        ]
    );
    assert_eq!(records(&pages), generated(0..20));
    assert_eq!(summary.stop, StopCause::Pagination(StopReason::EmptyPage));
}

#[tokio::test]
async fn offset_with_end_condition_stops_when_the_api_says_no_more() {
    let mock = MockApi::start(Scenario::generated(20)).await;
    let mut pagination = offset_pagination(10);
    pagination["endConditionName"] = json!("$.has_more");
    pagination["endConditionValue"] = json!("Const:false");
    let spec = connection_spec(attributes(
        &mock.base_url(),
        "/offset",
        "$.items",
        pagination,
    ));
    let (pages, summary) = collect(client(), plan(&spec)).await;
    // The second page is full but says has_more=false: no third request.
    assert_eq!(
        sequence(&mock.requests()),
        [
            get("/offset", &[("limit", "10"), ("offset", "0")]),
            get("/offset", &[("limit", "10"), ("offset", "10")]),
        ]
    );
    assert_eq!(records(&pages), generated(0..20));
    assert_eq!(
        summary.stop,
        StopCause::Pagination(StopReason::EndCondition)
    );
}

fn pointer_scenario(records: usize, style: PointerStyle) -> Scenario {
    Scenario {
        pointer: PointerOptions {
            style,
            ..PointerOptions::default()
        },
        ..Scenario::generated(records)
    }
}

fn pointer_spec(mock: &MockApi, pointer_path: &str) -> serde_json::Value {
    connection_spec(attributes(
        &mock.base_url(),
        "/pointer",
        "$.data",
        json!({"type": "POINTER", "pointerPath": pointer_path, "limitName": "limit", "limitValue": 10}),
    ))
}

#[tokio::test]
async fn pointer_follows_absolute_next_urls_until_null() {
    let mock = MockApi::start(pointer_scenario(25, PointerStyle::AbsoluteUrl)).await;
    let (pages, summary) = collect(client(), plan(&pointer_spec(&mock, "paging.next"))).await;
    assert_eq!(
        sequence(&mock.requests()),
        [
            get("/pointer", &[("limit", "10")]),
            get("/pointer", &[("limit", "10"), ("cursor", &mock_token(10))]),
            get("/pointer", &[("limit", "10"), ("cursor", &mock_token(20))]),
        ]
    );
    assert_eq!(records(&pages), generated(0..25));
    assert_eq!(
        summary.stop,
        StopCause::Pagination(StopReason::NoNextPointer)
    );
}

#[tokio::test]
async fn pointer_resolves_relative_next_urls_against_the_page_url() {
    let mock = MockApi::start(pointer_scenario(25, PointerStyle::RelativeUrl)).await;
    let (pages, summary) = collect(client(), plan(&pointer_spec(&mock, "$.paging.next"))).await;
    assert_eq!(
        sequence(&mock.requests()),
        [
            get("/pointer", &[("limit", "10")]),
            get("/pointer", &[("limit", "10"), ("cursor", &mock_token(10))]),
            get("/pointer", &[("limit", "10"), ("cursor", &mock_token(20))]),
        ]
    );
    assert_eq!(records(&pages), generated(0..25));
    assert_eq!(
        summary.stop,
        StopCause::Pagination(StopReason::NoNextPointer)
    );
}

#[tokio::test]
async fn pointer_sends_a_bare_token_back_under_the_last_path_name() {
    let style = PointerStyle::Token {
        param: "next".to_owned(),
    };
    let mock = MockApi::start(pointer_scenario(25, style)).await;
    let (pages, summary) = collect(client(), plan(&pointer_spec(&mock, "$.paging.next"))).await;
    assert_eq!(
        sequence(&mock.requests()),
        [
            get("/pointer", &[("limit", "10")]),
            get("/pointer", &[("limit", "10"), ("next", &mock_token(10))]),
            get("/pointer", &[("limit", "10"), ("next", &mock_token(20))]),
        ]
    );
    assert_eq!(records(&pages), generated(0..25));
    assert_eq!(
        summary.stop,
        StopCause::Pagination(StopReason::NoNextPointer)
    );
}

fn cursor_spec(mock: &MockApi, parameter_name: &str, parameter_type: &str) -> serde_json::Value {
    connection_spec(attributes(
        &mock.base_url(),
        "/cursor",
        "$.results",
        json!({
            "type": "CONTINUATION_TOKEN",
            "continuationTokenPath": "$.meta.after_cursor",
            "parameterName": parameter_name,
            "parameterType": parameter_type,
            "limitName": "page[size]",
            "limitValue": 10
        }),
    ))
}

#[tokio::test]
async fn continuation_token_as_query_parameter_stops_on_has_more_false() {
    // Zendesk style: the last page carries a cursor beside has_more=false.
    let mock = MockApi::start(Scenario {
        cursor: CursorOptions {
            end: CursorEnd::HasMoreFalse,
            ..CursorOptions::default()
        },
        ..Scenario::generated(25)
    })
    .await;
    let spec = cursor_spec(&mock, "page[after]", "QUERYPARAM");
    let (pages, summary) = collect(client(), plan(&spec)).await;
    assert_eq!(
        sequence(&mock.requests()),
        [
            get("/cursor", &[("page[size]", "10")]),
            get(
                "/cursor",
                &[("page[size]", "10"), ("page[after]", &mock_token(10))]
            ),
            get(
                "/cursor",
                &[("page[size]", "10"), ("page[after]", &mock_token(20))]
            ),
        ]
    );
    assert_eq!(records(&pages), generated(0..25));
    assert_eq!(
        summary.stop,
        StopCause::Pagination(StopReason::HasMoreFalse)
    );
}

#[tokio::test]
async fn continuation_token_as_header_stops_on_a_null_token() {
    let mock = MockApi::start(Scenario {
        cursor: CursorOptions {
            token: TokenLocation::Header("x-cursor".to_owned()),
            end: CursorEnd::NullCursor,
            ..CursorOptions::default()
        },
        ..Scenario::generated(25)
    })
    .await;
    let spec = cursor_spec(&mock, "X-Cursor", "HEADERPARAM");
    let (pages, summary) = collect(client(), plan(&spec)).await;
    let requests = mock.requests();
    assert_eq!(
        sequence(&requests),
        [
            get("/cursor", &[("page[size]", "10")]),
            get("/cursor", &[("page[size]", "10")]),
            get("/cursor", &[("page[size]", "10")]),
        ]
    );
    let cursors: Vec<Option<&str>> = requests
        .iter()
        .map(|request| request.header("x-cursor"))
        .collect();
    assert_eq!(
        cursors,
        [
            None,
            Some(mock_token(10).as_str()),
            Some(mock_token(20).as_str())
        ]
    );
    assert_eq!(records(&pages), generated(0..25));
    assert_eq!(
        summary.stop,
        StopCause::Pagination(StopReason::NoContinuationToken)
    );
}

fn page_scenario(records: usize, first_index: usize) -> Scenario {
    Scenario {
        page: PageOptions {
            first_index,
            ..PageOptions::default()
        },
        ..Scenario::generated(records)
    }
}

fn page_spec(mock: &MockApi, initial: u64, end: Option<serde_json::Value>) -> serde_json::Value {
    let mut pagination = json!({
        "type": "PAGE", "pageParamName": "page", "initialPageIndex": initial,
        "limitName": "per_page", "limitValue": 10
    });
    if let Some(end) = end {
        pagination["endPageIndex"] = end;
    }
    connection_spec(attributes(
        &mock.base_url(),
        "/page",
        "$.records",
        pagination,
    ))
}

#[tokio::test]
async fn page_stops_after_a_fixed_end_page_index_inclusive() {
    let mock = MockApi::start(page_scenario(50, 1)).await;
    let (pages, summary) = collect(client(), plan(&page_spec(&mock, 1, Some(json!(2))))).await;
    assert_eq!(
        sequence(&mock.requests()),
        [
            get("/page", &[("page", "1"), ("per_page", "10")]),
            get("/page", &[("page", "2"), ("per_page", "10")]),
        ]
    );
    assert_eq!(records(&pages), generated(0..20));
    assert_eq!(
        summary.stop,
        StopCause::Pagination(StopReason::EndPageIndexReached)
    );
}

#[tokio::test]
async fn page_reads_the_end_page_index_from_the_first_response_header() {
    // 30 records, 10 per page: x-pagecount is 3 and page 3 is full, so only
    // the header stops the run there.
    let mock = MockApi::start(page_scenario(30, 1)).await;
    let spec = page_spec(&mock, 1, Some(json!("headers.x-pagecount")));
    let (pages, summary) = collect(client(), plan(&spec)).await;
    assert_eq!(
        sequence(&mock.requests()),
        [
            get("/page", &[("page", "1"), ("per_page", "10")]),
            get("/page", &[("page", "2"), ("per_page", "10")]),
            get("/page", &[("page", "3"), ("per_page", "10")]),
        ]
    );
    assert_eq!(records(&pages), generated(0..30));
    assert_eq!(
        summary.stop,
        StopCause::Pagination(StopReason::EndPageIndexReached)
    );
}

#[tokio::test]
async fn page_without_end_index_stops_on_a_short_page() {
    let mock = MockApi::start(page_scenario(25, 0)).await;
    let (pages, summary) = collect(client(), plan(&page_spec(&mock, 0, None))).await;
    assert_eq!(
        sequence(&mock.requests()),
        [
            get("/page", &[("page", "0"), ("per_page", "10")]),
            get("/page", &[("page", "1"), ("per_page", "10")]),
            get("/page", &[("page", "2"), ("per_page", "10")]),
        ]
    );
    assert_eq!(records(&pages), generated(0..25));
    assert_eq!(summary.stop, StopCause::Pagination(StopReason::ShortPage));
}

/// A scenario whose server answers at most `cap` records per page, whatever was asked.
fn capped(scenario: Scenario, cap: usize) -> Scenario {
    Scenario {
        faults: Faults {
            max_page_size: Some(cap),
            ..Faults::default()
        },
        ..scenario
    }
}

/// An API that caps `limit=10` at 4 answers a short page every time: OFFSET without an end
/// condition goes on past the short first page, advancing by what each page held, until the
/// empty page, and every record comes once (it used to stop after the first page).
#[tokio::test]
async fn offset_pages_on_through_an_api_that_caps_the_page_size() {
    let mock = MockApi::start(capped(Scenario::generated(23), 4)).await;
    let spec = connection_spec(attributes(
        &mock.base_url(),
        "/offset",
        "$.items",
        offset_pagination(10),
    ));
    for concurrency in [1, 4] {
        mock.clear_requests();
        let (records, summary) = speculative_run(&spec, concurrency).await;
        assert_eq!(records, generated(0..23), "concurrency {concurrency}");
        assert_eq!(summary.stop, StopCause::Pagination(StopReason::EmptyPage));
        assert_eq!(summary.pages, 7, "six capped pages and the empty one");
        let offsets = requested(&mock, "offset");
        for offset in [0, 4, 8, 12, 16, 20, 23] {
            assert!(offsets.contains(&offset), "{offsets:?}");
        }
    }
}

/// The same for PAGE: the server's page `i` is records `[4i, 4i + 4)`, so the index still
/// steps by one; the run ends on the first empty page.
#[tokio::test]
async fn page_pages_on_through_an_api_that_caps_the_page_size() {
    let mock = MockApi::start(capped(page_scenario(23, 0), 4)).await;
    let spec = page_spec(&mock, 0, None);
    for concurrency in [1, 4] {
        let (records, summary) = speculative_run(&spec, concurrency).await;
        assert_eq!(records, generated(0..23), "concurrency {concurrency}");
        assert_eq!(summary.stop, StopCause::Pagination(StopReason::EmptyPage));
    }
}

/// A short page after full pages still ends the run: that API honours the page size.
#[tokio::test]
async fn a_short_page_after_full_pages_still_ends_the_run() {
    let mock = MockApi::start(Scenario::generated(13)).await;
    let spec = connection_spec(attributes(
        &mock.base_url(),
        "/offset",
        "$.items",
        offset_pagination(10),
    ));
    let (pages, summary) = collect(client(), plan(&spec)).await;
    assert_eq!(records(&pages), generated(0..13));
    assert_eq!(summary.stop, StopCause::Pagination(StopReason::ShortPage));
    assert_eq!(mock.request_count(), 2);
}

#[tokio::test]
async fn none_sends_one_request_for_everything() {
    let mock = MockApi::start(Scenario::generated(12)).await;
    let spec = connection_spec(attributes(
        &mock.base_url(),
        "/none",
        "$.records",
        json!({"type": "NONE"}),
    ));
    let (pages, summary) = collect(client(), plan(&spec)).await;
    assert_eq!(sequence(&mock.requests()), [get("/none", &[])]);
    assert_eq!(records(&pages), generated(0..12));
    assert_eq!(summary.stop, StopCause::Pagination(StopReason::SinglePage));
}

#[tokio::test]
async fn absent_pagination_params_mean_one_request() {
    let mock = MockApi::start(Scenario::generated(3)).await;
    let spec = connection_spec(attributes(
        &mock.base_url(),
        "/none",
        "$.records",
        serde_json::Value::Null,
    ));
    let (pages, summary) = collect(client(), plan(&spec)).await;
    assert_eq!(sequence(&mock.requests()), [get("/none", &[])]);
    assert_eq!(records(&pages), generated(0..3));
    assert_eq!(summary.stop, StopCause::Pagination(StopReason::SinglePage));
}

#[tokio::test]
async fn post_sends_body_params_as_json_on_every_page() {
    let mock = MockApi::start(Scenario::generated(25)).await;
    let mut attributes = attributes(
        &mock.base_url(),
        "/search",
        "$.results",
        json!({
            "type": "CONTINUATION_TOKEN",
            "continuationTokenPath": "$.next_cursor",
            "parameterName": "cursor",
            "parameterType": "QUERYPARAM"
        }),
    );
    attributes["urlParams"]["method"] = json!("POST");
    attributes["bodyParams"] = json!({"query": "name:${searchTerm}", "limit": "${pageLimit}"});
    let spec = connection_spec(attributes);
    let plan = plan_with_params(
        &spec,
        json!({"searchTerm": "ada lovelace", "pageLimit": 10}),
    );
    let (pages, summary) = collect(client(), plan).await;
    let requests = mock.requests();
    assert_eq!(
        sequence(&requests),
        [
            request("POST", "/search", &[]),
            request("POST", "/search", &[("cursor", &mock_token(10))]),
            request("POST", "/search", &[("cursor", &mock_token(20))]),
        ]
    );
    for request in &requests {
        // A param that is the whole string keeps its JSON type.
        assert_eq!(
            request.json_body(),
            Some(json!({"query": "name:ada lovelace", "limit": 10}))
        );
        assert_eq!(request.header("content-type"), Some("application/json"));
    }
    assert_eq!(records(&pages), generated(0..25));
    assert_eq!(
        summary.stop,
        StopCause::Pagination(StopReason::NoContinuationToken)
    );
}

#[tokio::test]
async fn a_repeated_next_url_stops_the_run_with_a_warning() {
    // The buggy server points its last page at itself forever.
    let mock = MockApi::start(Scenario {
        faults: Faults {
            repeat_last_page: true,
            ..Faults::default()
        },
        ..pointer_scenario(25, PointerStyle::AbsoluteUrl)
    })
    .await;
    let (pages, summary) = collect(client(), plan(&pointer_spec(&mock, "paging.next"))).await;
    assert_eq!(
        sequence(&mock.requests()),
        [
            get("/pointer", &[("limit", "10")]),
            get("/pointer", &[("limit", "10"), ("cursor", &mock_token(10))]),
            get("/pointer", &[("limit", "10"), ("cursor", &mock_token(20))]),
        ]
    );
    assert_eq!(records(&pages), generated(0..25));
    assert_eq!(summary.stop, StopCause::RepeatedNextPage);
    assert_eq!(summary.warnings.len(), 1, "{:?}", summary.warnings);
    assert!(
        summary.warnings[0].message.contains("page 3"),
        "{:?}",
        summary.warnings
    );
}

#[tokio::test]
async fn a_repeated_continuation_token_stops_the_run_with_a_warning() {
    let mock = MockApi::start(Scenario {
        faults: Faults {
            repeat_last_page: true,
            ..Faults::default()
        },
        ..Scenario::generated(25)
    })
    .await;
    let spec = cursor_spec(&mock, "page[after]", "QUERYPARAM");
    let (pages, summary) = collect(client(), plan(&spec)).await;
    assert_eq!(mock.request_count(), 3);
    assert_eq!(records(&pages), generated(0..25));
    assert_eq!(summary.stop, StopCause::RepeatedNextPage);
    assert_eq!(summary.warnings.len(), 1, "{:?}", summary.warnings);
}

#[tokio::test]
async fn a_page_repeating_the_previous_records_stops_the_run_with_a_warning() {
    // 20 records, 10 per page: offset 20 gets the page of offset 10 again.
    let mock = MockApi::start(Scenario {
        faults: Faults {
            repeat_last_page: true,
            ..Faults::default()
        },
        ..Scenario::generated(20)
    })
    .await;
    let spec = connection_spec(attributes(
        &mock.base_url(),
        "/offset",
        "$.items",
        offset_pagination(10),
    ));
    let (pages, summary) = collect(client(), plan(&spec)).await;
    assert_eq!(
        sequence(&mock.requests()),
        [
            get("/offset", &[("limit", "10"), ("offset", "0")]),
            get("/offset", &[("limit", "10"), ("offset", "10")]),
            get("/offset", &[("limit", "10"), ("offset", "20")]),
        ]
    );
    // The repeated page is not delivered: every record exactly once.
    assert_eq!(records(&pages), generated(0..20));
    assert_eq!(summary.stop, StopCause::RepeatedPage);
    assert_eq!(summary.pages, 2);
    assert_eq!(summary.warnings.len(), 1, "{:?}", summary.warnings);
    assert_eq!(summary.warnings[0].code, "REPEATED_PAGE");
    assert_eq!(
        summary.warnings[0].message,
        "page 3 repeated the records of page 2; stopped to avoid looping (the API may not read the pagination parameters `offset` and `limit`: check their names in paginationParams)"
    );
}

#[tokio::test]
async fn maximum_request_caps_the_requests_with_a_warning() {
    let mock = MockApi::start(Scenario::generated(100)).await;
    let mut pagination = offset_pagination(10);
    pagination["maximumRequest"] = json!(3);
    let spec = connection_spec(attributes(
        &mock.base_url(),
        "/offset",
        "$.items",
        pagination,
    ));
    let (pages, summary) = collect(client(), plan(&spec)).await;
    assert_eq!(
        sequence(&mock.requests()),
        [
            get("/offset", &[("limit", "10"), ("offset", "0")]),
            get("/offset", &[("limit", "10"), ("offset", "10")]),
            get("/offset", &[("limit", "10"), ("offset", "20")]),
        ]
    );
    assert_eq!(records(&pages), generated(0..30));
    assert_eq!(summary.stop, StopCause::MaximumRequest(3));
    assert_eq!(summary.warnings.len(), 1, "{:?}", summary.warnings);
}

#[tokio::test]
async fn delay_request_millis_spaces_the_requests() {
    let mock = MockApi::start(Scenario::generated(25)).await;
    let mut pagination = offset_pagination(10);
    pagination["delayRequestMillis"] = json!(80);
    let spec = connection_spec(attributes(
        &mock.base_url(),
        "/offset",
        "$.items",
        pagination,
    ));
    let mut plan = plan(&spec);
    // A delay makes the run sequential even when concurrency is asked for.
    plan.limits.concurrency = 4;
    let started = Instant::now();
    let (pages, _) = collect(client(), plan).await;
    let elapsed = started.elapsed();
    assert_eq!(mock.request_count(), 3);
    assert_eq!(records(&pages), generated(0..25));
    assert!(
        elapsed >= Duration::from_millis(160),
        "3 requests 80 ms apart took {elapsed:?}"
    );
}

async fn speculative_run(
    spec: &serde_json::Value,
    concurrency: usize,
) -> (Vec<serde_json::Value>, flowd_connector::RunSummary) {
    let mut plan = plan(spec);
    plan.limits.concurrency = concurrency;
    let (pages, summary) = tokio::time::timeout(Duration::from_secs(10), collect(client(), plan))
        .await
        .expect("the speculative run finishes");
    let numbers: Vec<u64> = pages.iter().map(|page| page.number).collect();
    let expected: Vec<u64> = (0..pages.len() as u64).collect();
    assert_eq!(numbers, expected, "pages come in order");
    (records(&pages), summary)
}

/// The sorted values of query parameter `name` over the mock's requests.
fn requested(mock: &MockApi, name: &str) -> Vec<u64> {
    let mut values: Vec<u64> = mock
        .requests()
        .iter()
        .map(|request| {
            request
                .query_param(name)
                .expect("every page request names its position")
                .parse()
                .expect("a number")
        })
        .collect();
    values.sort_unstable();
    values
}

#[tokio::test]
async fn speculative_offset_yields_the_sequential_records_in_order() {
    let mock = MockApi::start(Scenario::generated(95).with_latency(Duration::from_millis(5))).await;
    let spec = connection_spec(attributes(
        &mock.base_url(),
        "/offset",
        "$.items",
        offset_pagination(10),
    ));
    let (sequential, sequential_summary) = speculative_run(&spec, 1).await;
    mock.clear_requests();
    let (concurrent, concurrent_summary) = speculative_run(&spec, 4).await;
    assert_eq!(sequential, generated(0..95));
    assert_eq!(concurrent, sequential);
    assert_eq!(
        concurrent_summary.stop,
        StopCause::Pagination(StopReason::ShortPage)
    );
    assert_eq!(concurrent_summary, sequential_summary);
    // Every page up to the short one exactly once; a few guesses past the
    // end are allowed.
    let offsets = requested(&mock, "offset");
    let expected: Vec<u64> = (0..10).map(|page| page * 10).collect();
    assert_eq!(offsets[..10], expected[..], "{offsets:?}");
    assert!(
        offsets[10..].iter().all(|offset| *offset > 90),
        "{offsets:?}"
    );
    assert!(offsets.len() <= 10 + 4, "{offsets:?}");
}

#[tokio::test]
async fn speculative_page_yields_the_sequential_records_in_order() {
    let mock = MockApi::start(page_scenario(95, 0).with_latency(Duration::from_millis(5))).await;
    let spec = page_spec(&mock, 0, None);
    let (sequential, sequential_summary) = speculative_run(&spec, 1).await;
    mock.clear_requests();
    let (concurrent, concurrent_summary) = speculative_run(&spec, 4).await;
    assert_eq!(sequential, generated(0..95));
    assert_eq!(concurrent, sequential);
    assert_eq!(
        concurrent_summary.stop,
        StopCause::Pagination(StopReason::ShortPage)
    );
    assert_eq!(concurrent_summary, sequential_summary);
    let indexes = requested(&mock, "page");
    assert_eq!(
        indexes[..10],
        (0..10).collect::<Vec<u64>>()[..],
        "{indexes:?}"
    );
    assert!(indexes[10..].iter().all(|index| *index > 9), "{indexes:?}");
}

#[tokio::test]
async fn speculative_offset_stops_on_an_empty_page_after_an_exact_multiple() {
    let mock = MockApi::start(Scenario::generated(40)).await;
    let spec = connection_spec(attributes(
        &mock.base_url(),
        "/offset",
        "$.items",
        offset_pagination(10),
    ));
    let (concurrent, summary) = speculative_run(&spec, 4).await;
    assert_eq!(concurrent, generated(0..40));
    assert_eq!(summary.stop, StopCause::Pagination(StopReason::EmptyPage));
    assert_eq!(summary.pages, 5);
}

#[tokio::test]
async fn speculative_mode_respects_maximum_request() {
    let mock = MockApi::start(Scenario::generated(100)).await;
    let mut pagination = offset_pagination(10);
    pagination["maximumRequest"] = json!(3);
    let spec = connection_spec(attributes(
        &mock.base_url(),
        "/offset",
        "$.items",
        pagination,
    ));
    let (concurrent, summary) = speculative_run(&spec, 4).await;
    assert_eq!(mock.request_count(), 3);
    assert_eq!(concurrent, generated(0..30));
    assert_eq!(summary.stop, StopCause::MaximumRequest(3));
    assert_eq!(
        summary
            .warnings
            .iter()
            .map(|warning| warning.message.as_str())
            .collect::<Vec<_>>(),
        ["stopped after maximumRequest (3) requests"],
        "the same warning as a sequential run"
    );
}

#[tokio::test]
async fn speculative_page_stops_at_the_header_end_index() {
    let mock = MockApi::start(page_scenario(30, 1)).await;
    let spec = page_spec(&mock, 1, Some(json!("headers.x-pagecount")));
    let (concurrent, summary) = speculative_run(&spec, 4).await;
    assert_eq!(concurrent, generated(0..30));
    assert_eq!(
        summary.stop,
        StopCause::Pagination(StopReason::EndPageIndexReached)
    );
    let indexes = requested(&mock, "page");
    assert_eq!(indexes[..3], [1, 2, 3], "{indexes:?}");
}

/// Records with ids `0, 10, 20, …` (`count` of them).
fn spaced_records(count: i64) -> Vec<serde_json::Value> {
    (0..count)
        .map(|n| json!({"id": n * 10, "name": format!("r{n}")}))
        .collect()
}

fn ids_of(pages: &[flowd_connector::Page]) -> Vec<i64> {
    records(pages)
        .iter()
        .map(|record| record["id"].as_i64().unwrap())
        .collect()
}

/// Records created and deleted upstream while the run pages, before and after its cursor:
/// through a keyset cursor, no record comes twice, every record that existed throughout comes
/// once, and one created ahead of the cursor comes too.
#[tokio::test]
async fn continuation_paging_through_a_keyset_cursor_is_exact_while_records_come_and_go() {
    let changes = vec![
        DatasetChange {
            before_request: 1,
            insert: vec![
                json!({"id": 5, "name": "behind"}),
                json!({"id": 255, "name": "ahead"}),
            ],
            delete_ids: vec![30, 300],
        },
        DatasetChange {
            before_request: 3,
            insert: vec![
                json!({"id": 15, "name": "behind"}),
                json!({"id": 455, "name": "ahead"}),
            ],
            delete_ids: vec![0, 410],
        },
    ];
    let mock = MockApi::start(Scenario {
        cursor: CursorOptions {
            keyset: true,
            end: CursorEnd::NullCursor,
            ..CursorOptions::default()
        },
        faults: Faults {
            changes,
            ..Faults::default()
        },
        ..Scenario::explicit(spaced_records(50))
    })
    .await;
    let spec = cursor_spec(&mock, "page[after]", "QUERYPARAM");
    let (pages, _) = collect(client(), plan(&spec)).await;
    let seen = ids_of(&pages);
    let mut distinct = seen.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), seen.len(), "nothing twice: {seen:?}");
    let throughout: Vec<i64> = (0..50)
        .map(|n| n * 10)
        .filter(|id| ![300, 410].contains(id))
        .collect();
    for id in throughout {
        assert!(
            seen.contains(&id),
            "{id} existed throughout and was skipped: {seen:?}"
        );
    }
    assert!(
        seen.contains(&255) && seen.contains(&455),
        "created ahead of the cursor: {seen:?}"
    );
}

/// The same changes under OFFSET paging shift every later record: a record deleted behind
/// the offset makes the next page skip one that existed throughout. No client can see this
/// from the pages; the documentation recommends cursor pagination for collections that change
/// during a run, and this test pins the behaviour so a change to it is noticed.
#[tokio::test]
async fn offset_paging_skips_a_record_when_one_behind_the_offset_is_deleted() {
    let mock = MockApi::start(Scenario {
        faults: Faults {
            changes: vec![DatasetChange {
                before_request: 1,
                insert: Vec::new(),
                delete_ids: vec![30],
            }],
            ..Faults::default()
        },
        ..Scenario::explicit(spaced_records(25))
    })
    .await;
    let spec = connection_spec(attributes(
        &mock.base_url(),
        "/offset",
        "$.items",
        offset_pagination(10),
    ));
    let (pages, _) = collect(client(), plan(&spec)).await;
    let seen = ids_of(&pages);
    assert!(
        !seen.contains(&100),
        "the record shifted behind the offset: {seen:?}"
    );
    assert_eq!(
        seen.len(),
        24,
        "25 records, the deleted one read before it went, one skipped: {seen:?}"
    );
}
