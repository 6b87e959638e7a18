//! The connector explains itself: records the content path missed (a warning naming the
//! body's shape and the path that holds the array), HTTP failures with their real cause said
//! once, retries as events of the run's stream, and failures no retry can mend failing at once.

mod common;

use std::error::Error as _;
use std::time::{Duration, Instant};

use common::*;
use flowd_connector::http::OutgoingRequest;
use flowd_connector::{
    FetchError, HttpOptions, RetryCause, RunError, RunEvent, RunWarning, TransportCause,
};
use flowd_mockapi::{MockApi, PageOptions, Scenario};
use futures::StreamExt;
use serde_json::Value;

/// The one text every consumer shows for `$.customers` against a bare array of 20 objects.
pub const BARE_ARRAY_WARNING: &str = "contentPath.path \"$.customers\" selected no records, but the response is an array of 20 objects; contentPath.path \"$\" would select 20 records";

#[tokio::test]
async fn a_wrong_content_path_over_a_bare_array_warns_once_with_the_path_that_holds_it() {
    let mock = MockApi::start(Scenario::generated(20)).await;
    let spec = connection_spec(attributes(
        &mock.base_url(),
        "/array",
        "$.customers",
        Value::Null,
    ));
    let (pages, summary) = collect(client(), plan(&spec)).await;
    assert_eq!(records(&pages), Vec::<Value>::new());
    assert_eq!(
        summary.warnings,
        [RunWarning::new(
            RunWarning::EMPTY_EXTRACTION,
            BARE_ARRAY_WARNING
        )]
    );
    // The same spec with the path it suggests reads the records, and warns of nothing.
    let fixed = connection_spec(attributes(&mock.base_url(), "/array", "$", Value::Null));
    let (pages, summary) = collect(client(), plan(&fixed)).await;
    assert_eq!(records(&pages), generated(0..20));
    assert!(summary.warnings.is_empty(), "{:?}", summary.warnings);
}

/// A port nobody listens on, on loopback.
fn refused_address() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{address}")
}

#[tokio::test]
async fn a_refused_connection_says_so_once_and_each_retry_is_an_event_as_it_happens() {
    let host = refused_address();
    let spec = connection_spec(attributes(&host, "/items", "$.items", Value::Null));
    let mut stream = std::pin::pin!(flowd_connector::run(client(), plan(&spec)));
    let mut retries = Vec::new();
    let mut failure = None;
    while let Some(event) = stream.next().await {
        match event {
            Ok(RunEvent::Retry { page, retry }) => retries.push((page, retry)),
            Ok(other) => panic!("unexpected {other:?}"),
            Err(error) => failure = Some(error),
        }
    }
    // fast_options: 3 retries after the first attempt.
    assert_eq!(retries.len(), 3, "{retries:?}");
    for (index, (page, retry)) in retries.iter().enumerate() {
        assert_eq!(*page, 0);
        assert_eq!(retry.attempt, index as u32 + 1);
        assert_eq!(
            retry.cause,
            RetryCause::Transport(TransportCause::ConnectionRefused)
        );
        assert!(
            retry.to_string().starts_with(&format!(
                "attempt {} failed: connection refused; retrying in ",
                index + 1
            )),
            "{retry}"
        );
    }
    let error = failure.expect("the run fails");
    assert_eq!(
        error.to_string(),
        format!("page 1: GET {host}/items failed: connection refused after 4 attempts")
    );
    // Nothing below it to print again (`{:#}` would repeat a source).
    assert!(error.source().is_none());
}

#[tokio::test]
async fn tls_to_a_plain_http_server_fails_at_once_with_a_hint() {
    let mock = MockApi::start(Scenario::generated(5)).await;
    let https = mock.base_url().replacen("http://", "https://", 1);
    let spec = connection_spec(attributes(&https, "/none", "$.records", Value::Null));
    let started = Instant::now();
    let (_, error) = collect_error(client(), plan(&spec)).await;
    assert!(started.elapsed() < Duration::from_secs(2));
    match &error {
        RunError::Fetch {
            page: 0,
            error:
                FetchError::Transport {
                    cause: TransportCause::TlsHandshake { .. },
                    attempts: 1,
                    ..
                },
        } => {}
        other => panic!("expected a TLS failure, got {other:?}"),
    }
    assert!(
        error
            .to_string()
            .contains("if the API speaks plain HTTP, write http:// in the host"),
        "{error}"
    );
}

#[tokio::test]
async fn a_url_without_an_http_scheme_is_refused_before_any_attempt() {
    let client = client_with(HttpOptions {
        retries: 5,
        ..fast_options()
    });
    // `localhost:3000/x` parses as the scheme `localhost`.
    let request = OutgoingRequest {
        method: reqwest::Method::GET,
        url: url::Url::parse("localhost:3000/x").unwrap(),
        headers: Vec::new(),
        body: None,
    };
    let started = Instant::now();
    let error = client.send(&request, None).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_millis(200));
    assert_eq!(
        error.to_string(),
        "GET localhost:3000/x failed: URL localhost:3000/x has no scheme: write http:// or https://"
    );
}

/// A 1-based API (page 0 answers as page 1, as json-server does) paged from 0: the second page
/// repeats the first, and the warning says the likely setting instead of blaming the API.
#[tokio::test]
async fn a_page_run_from_0_over_a_1_based_api_suggests_initial_page_index_1() {
    let mock = MockApi::start(Scenario {
        page: PageOptions {
            first_index: 1,
            ..PageOptions::default()
        },
        ..Scenario::generated(50)
    })
    .await;
    let pagination = serde_json::json!({
        "type": "PAGE", "pageParamName": "page", "initialPageIndex": 0,
        "limitName": "per_page", "limitValue": 10
    });
    let spec = connection_spec(attributes(
        &mock.base_url(),
        "/page",
        "$.records",
        pagination,
    ));
    let (pages, summary) = collect(client(), plan(&spec)).await;
    assert_eq!(records(&pages), generated(0..10));
    assert_eq!(
        summary.warnings,
        [RunWarning::new(
            RunWarning::REPEATED_PAGE,
            "page 2 repeated the records of page 1; stopped to avoid looping (page=0 and page=1 answered the same records: the API may count pages from 1: set paginationParams.initialPageIndex to 1)"
        )]
    );
}
