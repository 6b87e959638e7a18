//! Failures the runtime must survive or report well: 429/503 with
//! `Retry-After` retried until success, 5xx exhausting the retries, other
//! 4xx failing at once, bodies that are not JSON, secrets kept out of every
//! error and page summary, the client-side rate limit, gzip and chunked
//! bodies, bodies that stall mid-way, and faults in the middle of a run.

mod common;

use std::time::{Duration, Instant};

use common::*;
use flowd_connector::{FetchError, HttpOptions, RunError, TransportCause};
use flowd_mockapi::{
    Auth, BadBody, BadPage, FailFirst, Faults, MockApi, RetryAfter, RouteError, Scenario,
    StalledBody, Transport,
};
use serde_json::{Value, json};

fn offset_spec(mock: &MockApi) -> Value {
    connection_spec(attributes(
        &mock.base_url(),
        "/offset",
        "$.items",
        json!({"type": "OFFSET", "limitName": "limit", "limitValue": 10, "offSetName": "offset"}),
    ))
}

fn failing_first(count: usize, status: u16, retry_after: Option<RetryAfter>) -> Faults {
    Faults {
        fail_first: Some(FailFirst {
            count,
            status,
            retry_after,
        }),
        ..Faults::default()
    }
}

fn retries(retries: u32) -> flowd_connector::HttpClient {
    client_with(HttpOptions {
        retries,
        ..fast_options()
    })
}

#[tokio::test]
async fn a_429_with_retry_after_seconds_is_retried_after_that_delay() {
    let mock = MockApi::start(Scenario::generated(15).with_faults(failing_first(
        1,
        429,
        Some(RetryAfter::Seconds(1)),
    )))
    .await;
    let started = Instant::now();
    let (pages, _) = collect(client(), plan(&offset_spec(&mock))).await;
    let elapsed = started.elapsed();
    assert_eq!(
        sequence(&mock.requests()),
        [
            get("/offset", &[("limit", "10"), ("offset", "0")]),
            get("/offset", &[("limit", "10"), ("offset", "0")]),
            get("/offset", &[("limit", "10"), ("offset", "10")]),
        ]
    );
    let attempts: Vec<u32> = pages.iter().map(|page| page.attempts).collect();
    assert_eq!(attempts, [2, 1]);
    assert_eq!(records(&pages), generated(0..15));
    assert!(elapsed >= Duration::from_millis(950), "{elapsed:?}");
}

#[tokio::test]
async fn a_503_is_retried_until_success_and_the_attempts_are_counted() {
    let mock = MockApi::start(Scenario::generated(15).with_faults(failing_first(
        2,
        503,
        Some(RetryAfter::Seconds(0)),
    )))
    .await;
    let (pages, _) = collect(client(), plan(&offset_spec(&mock))).await;
    assert_eq!(mock.request_count(), 4);
    let attempts: Vec<u32> = pages.iter().map(|page| page.attempts).collect();
    assert_eq!(attempts, [3, 1]);
    assert_eq!(records(&pages), generated(0..15));
}

#[tokio::test]
async fn a_502_html_page_from_a_proxy_is_retried() {
    let mock = MockApi::start(Scenario::generated(15).with_faults(Faults {
        bad_page: Some(BadPage {
            page: 1,
            body: BadBody::Html,
            status: 502,
            times: Some(1),
        }),
        ..Faults::default()
    }))
    .await;
    let (pages, _) = collect(client(), plan(&offset_spec(&mock))).await;
    assert_eq!(mock.request_count(), 3);
    assert_eq!(pages[1].attempts, 2);
    assert_eq!(records(&pages), generated(0..15));
}

#[tokio::test]
async fn a_500_forever_without_retries_fails_fast_with_status_and_url() {
    let mock =
        MockApi::start(Scenario::generated(15).with_faults(failing_first(usize::MAX, 500, None)))
            .await;
    let started = Instant::now();
    let (pages, error) = collect_error(retries(0), plan(&offset_spec(&mock))).await;
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(pages.is_empty());
    assert_eq!(mock.request_count(), 1);
    match &error {
        RunError::Fetch {
            page: 0,
            error:
                FetchError::Status {
                    status: 500,
                    url,
                    attempts: 1,
                    snippet,
                    ..
                },
        } => {
            assert_eq!(url, &mock.url("/offset?limit=10&offset=0"));
            assert!(snippet.contains("injected failure"), "{snippet}");
        }
        other => panic!("expected a 500, got {other:?}"),
    }
    let shown = error.to_string();
    assert!(shown.contains("500"), "{shown}");
    assert!(
        shown.contains(&mock.url("/offset?limit=10&offset=0")),
        "{shown}"
    );
}

#[tokio::test]
async fn a_500_forever_fails_after_the_configured_retries() {
    let mock =
        MockApi::start(Scenario::generated(15).with_faults(failing_first(usize::MAX, 500, None)))
            .await;
    let (_, error) = collect_error(retries(2), plan(&offset_spec(&mock))).await;
    assert_eq!(mock.request_count(), 3);
    assert!(
        matches!(
            &error,
            RunError::Fetch {
                error: FetchError::Status {
                    status: 500,
                    attempts: 3,
                    ..
                },
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("after 3 attempts"), "{error}");
}

#[tokio::test]
async fn a_404_fails_at_once_without_retry() {
    let mock = MockApi::start(Scenario::generated(15).with_faults(Faults {
        route_errors: vec![RouteError {
            path: "/offset".to_owned(),
            status: 404,
        }],
        ..Faults::default()
    }))
    .await;
    let (_, error) = collect_error(retries(5), plan(&offset_spec(&mock))).await;
    assert_eq!(mock.request_count(), 1);
    assert_eq!(
        match &error {
            RunError::Fetch { error: source, .. } => source.status(),
            _ => None,
        },
        Some(404),
        "{error:?}"
    );
    let shown = error.to_string();
    assert!(shown.contains("404"), "{shown}");
    assert!(shown.contains("/offset?limit=10&offset=0"), "{shown}");
    assert!(shown.contains("Not Found"), "the body is quoted: {shown}");
}

fn bad_page(page: usize, body: BadBody) -> Faults {
    Faults {
        bad_page: Some(BadPage {
            page,
            body,
            status: 200,
            times: None,
        }),
        ..Faults::default()
    }
}

#[tokio::test]
async fn an_html_body_fails_naming_the_page_and_url_with_a_snippet() {
    let mock =
        MockApi::start(Scenario::generated(25).with_faults(bad_page(1, BadBody::Html))).await;
    let (pages, error) = collect_error(client(), plan(&offset_spec(&mock))).await;
    assert_eq!(records(&pages), generated(0..10), "page 0 was delivered");
    assert_eq!(
        mock.request_count(),
        2,
        "a 200 with a bad body is not retried"
    );
    match &error {
        RunError::InvalidResponse {
            page,
            url,
            reason,
            snippet,
            ..
        } => {
            assert_eq!(*page, 1);
            assert_eq!(url, &mock.url("/offset?limit=10&offset=10"));
            assert!(reason.contains("text/html"), "{reason}");
            assert!(snippet.starts_with("<!DOCTYPE html>"), "{snippet}");
        }
        other => panic!("expected an invalid response, got {other:?}"),
    }
    let shown = error.to_string();
    assert!(shown.starts_with("page 2: GET "), "{shown}");
    assert!(shown.contains("<!DOCTYPE html>"), "{shown}");
}

#[tokio::test]
async fn truncated_json_fails_naming_the_page_and_url_with_a_snippet() {
    let mock =
        MockApi::start(Scenario::generated(25).with_faults(bad_page(0, BadBody::TruncatedJson)))
            .await;
    let (pages, error) = collect_error(client(), plan(&offset_spec(&mock))).await;
    assert!(pages.is_empty());
    match &error {
        RunError::InvalidResponse {
            page,
            url,
            reason,
            snippet,
            ..
        } => {
            assert_eq!(*page, 0);
            assert_eq!(url, &mock.url("/offset?limit=10&offset=0"));
            assert!(reason.contains("not JSON"), "{reason}");
            assert!(snippet.starts_with(r#"{"items":[{"id":1,"#), "{snippet}");
        }
        other => panic!("expected an invalid response, got {other:?}"),
    }
}

const PASSWORD: &str = "s3cret p@ss/word";
const ACCESS_TOKEN: &str = "at-9f8e7d6c5b4a";

fn assert_no_secret(shown: &str) {
    let encoded_forms = [
        PASSWORD.to_owned(),
        url::form_urlencoded::byte_serialize(PASSWORD.as_bytes()).collect::<String>(),
        percent_encoding::utf8_percent_encode(PASSWORD, percent_encoding::NON_ALPHANUMERIC)
            .to_string(),
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("anna:{PASSWORD}"),
        ),
        ACCESS_TOKEN.to_owned(),
    ];
    for form in encoded_forms {
        assert!(!shown.contains(&form), "{form:?} leaked in: {shown}");
    }
}

fn secret_in_query_spec(mock: &MockApi, query: Value) -> Value {
    let mut attributes = attributes(
        &mock.base_url(),
        "/offset",
        "$.items",
        json!({"type": "OFFSET", "limitName": "limit", "limitValue": 10, "offSetName": "offset"}),
    );
    attributes["urlParams"]["queryParams"] = query;
    connection_spec(attributes)
}

#[tokio::test]
async fn secrets_never_appear_in_errors_or_page_summaries() {
    let basic = json!({"specName": "Basic Authentication", "params": {"username": "anna", "password": PASSWORD}});
    let oauth = json!({"specName": "OAuth2 Refresh Code", "params": {"accessToken": ACCESS_TOKEN}});
    let cases = [
        ("basic", basic, json!({"key": "${password}"})),
        ("oauth", oauth, json!({"access_token": "${accessToken}"})),
    ];
    let failures = [
        ("status", failing_first(usize::MAX, 500, None)),
        ("404", {
            Faults {
                route_errors: vec![RouteError {
                    path: "/offset".to_owned(),
                    status: 404,
                }],
                ..Faults::default()
            }
        }),
        ("html", bad_page(0, BadBody::Html)),
        ("truncated", bad_page(0, BadBody::TruncatedJson)),
    ];
    for (auth_name, connection_auth, query) in &cases {
        // Success: the page summary redacts the URL and the headers.
        let mock = MockApi::start(Scenario::generated(5)).await;
        let spec = secret_in_query_spec(&mock, query.clone());
        let mut plan = plan(&spec);
        plan.auth = Some(auth_session(&spec, connection_auth.clone(), None));
        let (pages, summary) = collect(client(), plan.clone()).await;
        let requests = mock.requests();
        assert!(
            requests[0].query.contains("key=s3cret+p%40ss%2Fword")
                || requests[0].query_param("access_token") == Some(ACCESS_TOKEN),
            "{auth_name}: the secret is sent: {}",
            requests[0].query
        );
        assert!(pages[0].request.url.contains("<redacted>"), "{auth_name}");
        assert_no_secret(&format!("{pages:?} {summary:?} {plan:?}", plan = plan.auth));

        for (failure_name, faults) in &failures {
            let mock = MockApi::start(Scenario::generated(5).with_faults(faults.clone())).await;
            let spec = secret_in_query_spec(&mock, query.clone());
            let mut plan = plan_with_params(&spec, json!({}));
            plan.auth = Some(auth_session(&spec, connection_auth.clone(), None));
            let (_, error) = collect_error(retries(0), plan).await;
            let shown = format!("{error}\n{error:?}");
            assert!(
                shown.contains("<redacted>"),
                "{auth_name}/{failure_name}: {shown}"
            );
            assert_no_secret(&shown);
        }
    }
}

#[tokio::test]
async fn the_rate_limit_spaces_requests() {
    let mock = MockApi::start(Scenario::generated(55)).await;
    let client = client_with(HttpOptions {
        requests_per_second: Some(20.0),
        ..fast_options()
    });
    let started = Instant::now();
    let (pages, _) = collect(client, plan(&offset_spec(&mock))).await;
    let elapsed = started.elapsed();
    assert_eq!(mock.request_count(), 6);
    assert_eq!(records(&pages), generated(0..55));
    // 6 requests at 20/s: 5 intervals of 50 ms.
    assert!(elapsed >= Duration::from_millis(200), "{elapsed:?}");
}

#[tokio::test]
async fn the_auth_session_debug_output_holds_no_secret() {
    let mock = MockApi::start(Scenario::generated(1).with_auth(Auth::None)).await;
    let spec = offset_spec(&mock);
    for connection_auth in [
        json!({"specName": "Basic Authentication", "params": {"username": "anna", "password": PASSWORD}}),
        json!({"specName": "OAuth2 Refresh Code", "params": {"accessToken": ACCESS_TOKEN}}),
    ] {
        let session = auth_session(&spec, connection_auth, None);
        assert_no_secret(&format!("{session:?}"));
    }
}

#[tokio::test]
async fn a_bad_page_in_speculative_mode_names_its_own_page_after_the_good_ones() {
    let mock =
        MockApi::start(Scenario::generated(95).with_faults(bad_page(2, BadBody::Html))).await;
    let mut plan = plan(&offset_spec(&mock));
    plan.limits.concurrency = 4;
    let (pages, error) = collect_error(client(), plan).await;
    assert_eq!(records(&pages), generated(0..20));
    match &error {
        RunError::InvalidResponse { page, url, .. } => {
            assert_eq!(*page, 2);
            assert_eq!(url, &mock.url("/offset?limit=10&offset=20"));
        }
        other => panic!("expected an invalid response, got {other:?}"),
    }
}

#[tokio::test]
async fn a_timeout_is_retried_then_reported_as_a_timeout() {
    let mock =
        MockApi::start(Scenario::generated(5).with_latency(Duration::from_millis(400))).await;
    let client = client_with(HttpOptions {
        request_timeout: Duration::from_millis(100),
        retries: 1,
        ..fast_options()
    });
    let (_, error) = collect_error(client, plan(&offset_spec(&mock))).await;
    assert_eq!(mock.request_count(), 2);
    match &error {
        RunError::Fetch {
            page: 0,
            error:
                FetchError::Transport {
                    cause: TransportCause::Timeout { millis: 100 },
                    attempts: 2,
                    url,
                    ..
                },
        } => assert_eq!(url, &mock.url("/offset?limit=10&offset=0")),
        other => panic!("expected a timeout, got {other:?}"),
    }
}

/// Pages that arrive gzip-compressed and chunked in 7-byte pieces (no `Content-Length`), as
/// many real APIs send them, are read whole: every record once.
#[tokio::test]
async fn gzip_compressed_chunked_pages_are_read_whole() {
    let mock = MockApi::start(Scenario::generated(57).with_transport(Transport {
        gzip: true,
        chunk_bytes: Some(7),
        ..Transport::default()
    }))
    .await;
    let (pages, summary) = collect(client(), plan(&offset_spec(&mock))).await;
    assert_eq!(records(&pages), generated(0..57));
    assert_eq!(summary.pages, 6);
    assert!(
        pages.iter().all(|page| page.attempts == 1),
        "no page needed a retry"
    );
}

/// A page whose body stalls in the middle longer than the request timeout is given up and
/// fetched again; the run goes on and every record comes once.
#[tokio::test]
async fn a_body_stalled_past_the_timeout_is_fetched_again_and_the_run_completes() {
    let mock = MockApi::start(Scenario::generated(35).with_transport(Transport {
        chunk_bytes: Some(64),
        stalled_body: Some(StalledBody {
            page: 2,
            after_bytes: 100,
            pause: Duration::from_secs(3),
            times: Some(1),
        }),
        ..Transport::default()
    }))
    .await;
    let client = client_with(HttpOptions {
        request_timeout: Duration::from_millis(300),
        retries: 1,
        ..fast_options()
    });
    let started = Instant::now();
    let (pages, _) = collect(client, plan(&offset_spec(&mock))).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(records(&pages), generated(0..35));
    assert_eq!(pages[2].attempts, 2, "the stalled page was fetched twice");
}

/// A body that stalls on every attempt fails the run as a timeout naming its page, after the
/// retries, rather than hanging.
#[tokio::test]
async fn a_body_that_always_stalls_fails_as_a_timeout_of_its_page() {
    let mock = MockApi::start(Scenario::generated(35).with_transport(Transport {
        stalled_body: Some(StalledBody {
            page: 1,
            after_bytes: 50,
            pause: Duration::from_secs(30),
            times: None,
        }),
        ..Transport::default()
    }))
    .await;
    let client = client_with(HttpOptions {
        request_timeout: Duration::from_millis(200),
        retries: 1,
        ..fast_options()
    });
    let (pages, error) = collect_error(client, plan(&offset_spec(&mock))).await;
    assert_eq!(
        records(&pages),
        generated(0..10),
        "the page before it arrived"
    );
    match &error {
        RunError::Fetch {
            page: 1,
            error: FetchError::Transport {
                cause, attempts: 2, ..
            },
        } => assert!(
            matches!(
                cause,
                TransportCause::Timeout { .. } | TransportCause::BodyRead { .. }
            ),
            "{cause}"
        ),
        other => panic!("expected a timeout of page 1, got {other:?}"),
    }
}

/// A fault in the middle of a run (page 3 answers 503 twice) is retried and the run
/// completes with every record once.
#[tokio::test]
async fn a_fault_in_the_middle_of_a_run_is_retried_and_the_run_completes() {
    let mock = MockApi::start(Scenario {
        faults: Faults {
            bad_page: Some(BadPage {
                page: 3,
                body: BadBody::Html,
                status: 503,
                times: Some(2),
            }),
            ..Faults::default()
        },
        ..Scenario::generated(45)
    })
    .await;
    let (pages, _) = collect(client(), plan(&offset_spec(&mock))).await;
    assert_eq!(records(&pages), generated(0..45));
    assert_eq!(pages[3].attempts, 3);
    assert!(
        pages
            .iter()
            .enumerate()
            .all(|(number, page)| number == 3 || page.attempts == 1)
    );
}
