//! How the request of each page is built: placeholders (percent-encoded in
//! the path, host from the auth params, unresolved ones failing before any
//! request), query and header params, the User-Agent; and the time-window
//! parameters (basic start/end on every page in their .NET formats, the
//! backfill window without a start, ADVANCE `{SCHEDULE_QUERY}`).

mod common;

use common::*;
use flowd_connector::RunError;
use flowd_connector::request::RequestError;
use flowd_mockapi::{MockApi, RecordedRequest, Scenario, generated_last_changed};
use serde_json::{Value, json};

fn mailchimp_spec(host: Option<&str>) -> Value {
    let mut attributes = attributes(
        host.unwrap_or_default(),
        "/3.0/lists/${listId}/members",
        "$.members",
        json!({"type": "OFFSET", "limitName": "count", "limitValue": 10, "offSetName": "offset"}),
    );
    if host.is_none() {
        attributes["urlParams"]
            .as_object_mut()
            .expect("urlParams")
            .remove("host");
    }
    connection_spec(attributes)
}

/// Generated records as the Mailchimp route serves them (with `list_id`
/// and `_links` appended).
fn mailchimp_members(mock: &MockApi, list_id: &str, count: usize) -> Vec<Value> {
    (0..count)
        .map(|index| {
            let mut member = flowd_mockapi::generated_record(index);
            member["list_id"] = json!(list_id);
            member["_links"] = json!([{
                "rel": "self",
                "href": mock.url(&format!("/3.0/lists/{list_id}/members/{}", index + 1)),
                "method": "GET"
            }]);
            member
        })
        .collect()
}

#[tokio::test]
async fn a_path_placeholder_is_percent_encoded_as_one_segment() {
    let list_id = "list one/2?x#y";
    let mock = MockApi::start(Scenario {
        list_ids: vec![list_id.to_owned()],
        ..Scenario::generated(15)
    })
    .await;
    let spec = mailchimp_spec(Some(&mock.base_url()));
    let plan = plan_with_params(&spec, json!({"listId": list_id}));
    let (pages, _) = collect(client(), plan).await;
    let requests = mock.requests();
    let raw: Vec<String> = requests
        .iter()
        .map(RecordedRequest::path_and_query)
        .collect();
    assert_eq!(
        raw,
        [
            "/3.0/lists/list%20one%2F2%3Fx%23y/members?count=10&offset=0",
            "/3.0/lists/list%20one%2F2%3Fx%23y/members?count=10&offset=10",
        ]
    );
    assert_eq!(records(&pages), mailchimp_members(&mock, list_id, 15));
}

#[tokio::test]
async fn the_host_comes_from_the_auth_params_when_the_spec_has_none() {
    let mock = MockApi::start(Scenario::generated(5)).await;
    let spec = mailchimp_spec(None);
    for host_param in ["host", "domain"] {
        mock.clear_requests();
        let mut plan = plan_with_params(&spec, json!({"listId": flowd_mockapi::DEFAULT_LIST_ID}));
        plan.auth = Some(auth_session(
            &spec,
            json!({"specName": "OAuth2 Refresh Code", "params": {
                host_param: mock.base_url(), "accessToken": "token-1234"
            }}),
            None,
        ));
        let (pages, _) = collect(client(), plan).await;
        // The short first page may be an API's cap: one more request finds the end.
        assert_eq!(
            sequence(&mock.requests()),
            [
                get(
                    "/3.0/lists/a1b2c3d4e5/members",
                    &[("count", "10"), ("offset", "0")]
                ),
                get(
                    "/3.0/lists/a1b2c3d4e5/members",
                    &[("count", "10"), ("offset", "5")]
                )
            ],
            "{host_param}"
        );
        assert_eq!(pages[0].records.len(), 5, "{host_param}");
        assert_eq!(
            pages[0].request.url,
            mock.url("/3.0/lists/a1b2c3d4e5/members?count=10&offset=0")
        );
    }
}

#[tokio::test]
async fn a_host_placeholder_takes_the_auth_domain_as_is() {
    let mock = MockApi::start(Scenario::generated(5)).await;
    let spec = mailchimp_spec(Some("http://${domain}"));
    let mut plan = plan_with_params(&spec, json!({"listId": flowd_mockapi::DEFAULT_LIST_ID}));
    plan.auth = Some(auth_session(
        &spec,
        json!({"specName": "OAuth2 Refresh Code", "params": {
            "domain": mock.addr().to_string(), "accessToken": "token-1234"
        }}),
        None,
    ));
    let (pages, _) = collect(client(), plan).await;
    assert_eq!(
        mock.request_count(),
        2,
        "the short first page, then the empty one"
    );
    assert_eq!(pages[0].records.len(), 5);
}

#[tokio::test]
async fn an_unresolved_placeholder_fails_before_any_request() {
    let mock = MockApi::start(Scenario::generated(5)).await;
    let cases = [
        ("path", mailchimp_spec(Some(&mock.base_url()))),
        ("query", {
            let mut attributes = attributes(&mock.base_url(), "/none", "$.records", Value::Null);
            attributes["urlParams"]["queryParams"] = json!({"region": "${region}"});
            connection_spec(attributes)
        }),
        ("header", {
            let mut attributes = attributes(&mock.base_url(), "/none", "$.records", Value::Null);
            attributes["headerParams"] = json!({"X-Api-Version": "${apiVersion}"});
            connection_spec(attributes)
        }),
    ];
    for (location, spec) in cases {
        let (pages, error) = collect_error(client(), plan(&spec)).await;
        assert!(pages.is_empty());
        assert!(
            matches!(
                &error,
                RunError::Request(RequestError::UnresolvedPlaceholder { .. })
            ),
            "{location}: {error:?}"
        );
        assert_eq!(mock.request_count(), 0, "{location}: no request may leave");
    }
}

/// A header value that cannot be sent (validation refuses it; a plan built around validation
/// still must not send it) fails the run once, before any request, instead of being retried
/// as a transport error.
#[tokio::test]
async fn a_header_value_with_cr_lf_fails_before_any_request_without_retries() {
    let mock = MockApi::start(Scenario::generated(5)).await;
    let mut attributes = attributes(&mock.base_url(), "/none", "$.records", Value::Null);
    attributes["headerParams"] = json!({"X-Api-Version": "${apiVersion}"});
    let spec = connection_spec(attributes);
    let plan = plan_with_params(&spec, json!({"apiVersion": "2\r\nX-Injected: 1"}));
    let (pages, error) = collect_error(client(), plan).await;
    assert!(pages.is_empty());
    assert!(
        matches!(
            &error,
            RunError::Request(RequestError::InvalidHeader { name, .. }) if name == "X-Api-Version"
        ),
        "{error:?}"
    );
    assert_eq!(mock.request_count(), 0, "no request may leave");
}

#[tokio::test]
async fn query_and_header_params_are_rendered_on_every_page() {
    let mock = MockApi::start(Scenario::generated(15)).await;
    let mut attributes = attributes(
        &mock.base_url(),
        "/offset",
        "$.items",
        json!({"type": "OFFSET", "limitName": "limit", "limitValue": 10, "offSetName": "offset"}),
    );
    attributes["urlParams"]["queryParams"] = json!({"fields": "id,${region}", "filter": "a&b=c d"});
    attributes["headerParams"] = json!({"X-Region": "${region}", "Accept": "application/json"});
    let spec = connection_spec(attributes);
    let plan = plan_with_params(&spec, json!({"region": "eu west"}));
    let (pages, _) = collect(client(), plan).await;
    let requests = mock.requests();
    assert_eq!(
        sequence(&requests),
        [
            get(
                "/offset",
                &[
                    ("fields", "id,eu west"),
                    ("filter", "a&b=c d"),
                    ("limit", "10"),
                    ("offset", "0")
                ]
            ),
            get(
                "/offset",
                &[
                    ("fields", "id,eu west"),
                    ("filter", "a&b=c d"),
                    ("limit", "10"),
                    ("offset", "10")
                ]
            ),
        ]
    );
    for request in &requests {
        assert_eq!(request.header("x-region"), Some("eu west"));
        assert_eq!(request.header("accept"), Some("application/json"));
        let accepted = request.header("accept-encoding").unwrap_or_default();
        assert!(
            accepted.contains("gzip") && accepted.contains("deflate"),
            "{accepted}"
        );
        let user_agent = request.header("user-agent").expect("a user agent");
        assert!(
            user_agent.starts_with(&format!("flowd/{}", env!("CARGO_PKG_VERSION"))),
            "{user_agent}"
        );
    }
    assert_eq!(records(&pages), generated(0..15));
}

#[tokio::test]
async fn legacy_query_param_strings_are_split_into_pairs() {
    let mock = MockApi::start(Scenario::generated(2)).await;
    let mut attributes = attributes(&mock.base_url(), "/none", "$.records", Value::Null);
    attributes["urlParams"]["queryParams"] = json!("status=subscribed,region=${region}");
    let spec = connection_spec(attributes);
    let (_, _) = collect(client(), plan_with_params(&spec, json!({"region": "us"}))).await;
    assert_eq!(
        sequence(&mock.requests()),
        [get("/none", &[("status", "subscribed"), ("region", "us")])]
    );
}

fn windowed_offset_spec(mock: &MockApi) -> Value {
    let mut attributes = attributes(
        &mock.base_url(),
        "/offset",
        "$.items",
        json!({"type": "OFFSET", "limitName": "limit", "limitValue": 5, "offSetName": "offset"}),
    );
    // MailChimp's formats from the reference: a colon before seven fraction
    // digits for the start, plain seconds for the end.
    attributes["scheduleParams"] = json!({
        "scheduleStartParamName": "since_last_changed",
        "scheduleEndParamName": "before_last_changed",
        "scheduleStartParamFormat": "yyyy-MM-ddTHH:mm:ss:fffffffK",
        "scheduleEndParamFormat": "yyyy-MM-ddTHH:mm:ssZ"
    });
    connection_spec(attributes)
}

#[tokio::test]
async fn window_bounds_go_on_every_page_in_their_formats() {
    let mock = MockApi::start(Scenario::generated(40)).await;
    let spec = windowed_offset_spec(&mock);
    let mut plan = plan(&spec);
    // Records 5..17 lie in [00:50, 02:50).
    plan.window = Some(window(
        Some(generated_last_changed(5)),
        generated_last_changed(17),
    ));
    let (pages, _) = collect(client(), plan).await;
    let bounds = [
        ("since_last_changed", "2024-01-01T00:50:00:0000000Z"),
        ("before_last_changed", "2024-01-01T02:50:00Z"),
    ];
    // Spec params, then the window, then the page's own params.
    let page = |offset: &'static str| {
        let mut pairs = bounds.to_vec();
        pairs.extend([("limit", "5"), ("offset", offset)]);
        get("/offset", &pairs)
    };
    assert_eq!(
        sequence(&mock.requests()),
        [page("0"), page("5"), page("10")]
    );
    assert_eq!(records(&pages), generated(5..17));
}

#[tokio::test]
async fn a_backfill_window_omits_the_start_parameter() {
    let mock = MockApi::start(Scenario::generated(40)).await;
    let spec = windowed_offset_spec(&mock);
    let mut plan = plan(&spec);
    plan.window = Some(window(None, generated_last_changed(7)));
    let (pages, _) = collect(client(), plan).await;
    assert_eq!(
        sequence(&mock.requests()),
        [
            get(
                "/offset",
                &[
                    ("before_last_changed", "2024-01-01T01:10:00Z"),
                    ("limit", "5"),
                    ("offset", "0")
                ]
            ),
            get(
                "/offset",
                &[
                    ("before_last_changed", "2024-01-01T01:10:00Z"),
                    ("limit", "5"),
                    ("offset", "5")
                ]
            ),
        ]
    );
    assert_eq!(records(&pages), generated(0..7));
}

#[tokio::test]
async fn window_bounds_are_not_repeated_on_a_next_url_that_carries_them() {
    let mock = MockApi::start(Scenario::generated(40)).await;
    let mut attributes = attributes(
        &mock.base_url(),
        "/pointer",
        "$.data",
        json!({"type": "POINTER", "pointerPath": "paging.next", "limitName": "limit", "limitValue": 5}),
    );
    attributes["scheduleParams"] = json!({
        "scheduleStartParamName": "since_last_changed",
        "scheduleEndParamName": "before_last_changed"
    });
    let spec = connection_spec(attributes);
    let mut plan = plan(&spec);
    plan.window = Some(window(
        Some(generated_last_changed(3)),
        generated_last_changed(14),
    ));
    let (pages, _) = collect(client(), plan).await;
    let requests = mock.requests();
    assert_eq!(requests.len(), 3);
    for request in &requests {
        let names: Vec<&str> = request
            .query_pairs
            .iter()
            .map(|(name, _)| name.as_str())
            .filter(|name| name.ends_with("_last_changed"))
            .collect();
        assert_eq!(names, ["since_last_changed", "before_last_changed"]);
        assert_eq!(
            request.query_param("since_last_changed"),
            Some("2024-01-01T00:30:00Z")
        );
        assert_eq!(
            request.query_param("before_last_changed"),
            Some("2024-01-01T02:20:00Z")
        );
    }
    assert_eq!(records(&pages), generated(3..14));
}

fn advance_spec(mock: &MockApi) -> Value {
    let mut attributes = attributes(&mock.base_url(), "/none", "$.records", Value::Null);
    attributes["urlParams"]["queryParams"] = json!({"query": "{SCHEDULE_QUERY}"});
    attributes["scheduleParams"] = json!({
        "type": "ADVANCE",
        "paramFormat": "yyyy-MM-ddTHH:mm:ssK",
        "incremental": "type:ticket updated>{START_TIME} updated<{END_TIME}",
        "backfill": "type:ticket updated<{END_TIME}"
    });
    connection_spec(attributes)
}

#[tokio::test]
async fn advance_schedule_fills_schedule_query_with_the_window() {
    let mock = MockApi::start(Scenario::generated(3)).await;
    let spec = advance_spec(&mock);
    let start: jiff::Timestamp = "2024-03-01T10:00:00Z".parse().unwrap();
    let end: jiff::Timestamp = "2024-03-02T10:00:00.5Z".parse().unwrap();
    for (window, expected) in [
        (
            Some(window(Some(start), end)),
            "type:ticket updated>2024-03-01T10:00:00Z updated<2024-03-02T10:00:00Z".to_owned(),
        ),
        (
            Some(window(None, end)),
            "type:ticket updated<2024-03-02T10:00:00Z".to_owned(),
        ),
    ] {
        mock.clear_requests();
        let mut plan = plan(&spec);
        plan.window = window;
        collect(client(), plan).await;
        assert_eq!(
            sequence(&mock.requests()),
            [get("/none", &[("query", &expected)])]
        );
    }
}

#[tokio::test]
async fn advance_schedule_without_a_window_backfills_until_now() {
    let mock = MockApi::start(Scenario::generated(3)).await;
    let spec = advance_spec(&mock);
    let before = jiff::Timestamp::now();
    collect(client(), plan(&spec)).await;
    let after = jiff::Timestamp::now();
    let requests = mock.requests();
    let query = requests[0].query_param("query").expect("the query param");
    let end_text = query
        .strip_prefix("type:ticket updated<")
        .unwrap_or_else(|| panic!("backfill expression expected, got {query}"));
    let end: jiff::Timestamp = end_text.parse().expect("an RFC 3339 instant");
    assert!(
        end.as_second() >= before.as_second() && end.as_second() <= after.as_second(),
        "{end} not within [{before}, {after}]"
    );
}

#[tokio::test]
async fn legacy_double_brace_placeholders_are_filled_too() {
    let mock = MockApi::start(Scenario::generated(3)).await;
    let mut attributes = attributes(
        &mock.base_url(),
        "/3.0/lists/{{listId}}/members",
        "$.members",
        Value::Null,
    );
    attributes["headerParams"] = json!({"X-Region": "{{region}}"});
    let spec = connection_spec(attributes);
    let plan = plan_with_params(
        &spec,
        json!({"listId": flowd_mockapi::DEFAULT_LIST_ID, "region": "eu"}),
    );
    let (pages, _) = collect(client(), plan).await;
    let requests = mock.requests();
    assert_eq!(
        sequence(&requests),
        [get("/3.0/lists/a1b2c3d4e5/members", &[])]
    );
    assert_eq!(requests[0].header("x-region"), Some("eu"));
    assert_eq!(pages[0].records.len(), 3);
}
