//! What comes out of each page: `contentPath` with skip/keep and the
//! wrapper, `explodeEntityPath` (the issue's `email.activity` example), a
//! path matching nothing, and the `max_records`/`max_pages` caps.

mod common;

use common::*;
use flowd_connector::StopCause;
use flowd_mockapi::{MockApi, Scenario};
use serde_json::{Value, json};

fn none_spec(mock: &MockApi, content_path: Value, explode: Option<Value>) -> Value {
    let mut attributes = attributes(&mock.base_url(), "/none", "$.records", Value::Null);
    attributes["contentPath"] = content_path;
    if let Some(explode) = explode {
        attributes["explodeEntityPath"] = explode;
    }
    connection_spec(attributes)
}

fn emails() -> Vec<Value> {
    vec![
        json!({"email_id": 1, "_links": [{"rel": "self"}], "subject": "hello",
               "activity": [{"action": "open", "ip": "10.0.0.1"}, {"action": "click", "ip": "10.0.0.2"}]}),
        json!({"email_id": 2, "_links": [], "subject": "empty", "activity": []}),
        json!({"email_id": 3, "_links": [], "subject": "none"}),
    ]
}

#[tokio::test]
async fn explode_yields_one_record_per_array_element_under_the_wrapper() {
    let mock = MockApi::start(Scenario::explicit(emails())).await;
    let spec = none_spec(
        &mock,
        json!({"path": "$.records", "skipAttributes": ["_links"], "overrideWrapperAttribute": "email"}),
        Some(json!({"path": "$.email.activity"})),
    );
    let (pages, summary) = collect(client(), plan(&spec)).await;
    assert_eq!(pages[0].item_count, 3, "items are counted before explode");
    assert_eq!(
        records(&pages),
        [
            json!({"email": {"email_id": 1, "subject": "hello", "activity": {"action": "open", "ip": "10.0.0.1"}}}),
            json!({"email": {"email_id": 1, "subject": "hello", "activity": {"action": "click", "ip": "10.0.0.2"}}}),
            // An empty or missing array yields the parent alone, without the key.
            json!({"email": {"email_id": 2, "subject": "empty"}}),
            json!({"email": {"email_id": 3, "subject": "none"}}),
        ]
    );
    assert_eq!(summary.records, 4);
}

#[tokio::test]
async fn explode_renames_the_element_key_and_filters_the_element() {
    let mock = MockApi::start(Scenario::explicit(emails())).await;
    let spec = none_spec(
        &mock,
        json!({"path": "$.records", "keepAttributes": ["email_id", "activity"], "overrideWrapperAttribute": "email"}),
        Some(
            json!({"path": "$.email.activity", "keepAttributes": ["action"], "overrideWrapperAttribute": "event"}),
        ),
    );
    let (pages, _) = collect(client(), plan(&spec)).await;
    let emitted = records(&pages);
    assert_eq!(
        emitted,
        [
            json!({"email": {"email_id": 1, "event": {"action": "open"}}}),
            json!({"email": {"email_id": 1, "event": {"action": "click"}}}),
            json!({"email": {"email_id": 2}}),
            json!({"email": {"email_id": 3}}),
        ]
    );
    // The renamed key keeps the array's position among its siblings.
    let keys: Vec<&String> = emitted[0]["email"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["email_id", "event"]);
}

#[tokio::test]
async fn skip_attributes_drop_top_level_attributes_of_each_item() {
    let mock = MockApi::start(Scenario::explicit(emails())).await;
    let spec = none_spec(
        &mock,
        json!({"path": "$.records", "skipAttributes": ["_links", "activity"]}),
        None,
    );
    let (pages, _) = collect(client(), plan(&spec)).await;
    assert_eq!(
        records(&pages),
        [
            json!({"email_id": 1, "subject": "hello"}),
            json!({"email_id": 2, "subject": "empty"}),
            json!({"email_id": 3, "subject": "none"}),
        ]
    );
}

#[tokio::test]
async fn keep_attributes_keep_only_those_listed_before_wrapping() {
    let mock = MockApi::start(Scenario::explicit(emails())).await;
    let spec = none_spec(
        &mock,
        json!({"path": "$.records", "keepAttributes": ["subject", "email_id"], "overrideWrapperAttribute": "member"}),
        None,
    );
    let (pages, _) = collect(client(), plan(&spec)).await;
    let emitted = records(&pages);
    assert_eq!(
        emitted,
        [
            json!({"member": {"email_id": 1, "subject": "hello"}}),
            json!({"member": {"email_id": 2, "subject": "empty"}}),
            json!({"member": {"email_id": 3, "subject": "none"}}),
        ]
    );
    // The item's own attribute order survives filtering.
    let keys: Vec<&String> = emitted[0]["member"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["email_id", "subject"]);
}

#[tokio::test]
async fn a_plain_string_content_path_emits_items_as_they_are() {
    let mock = MockApi::start(Scenario::explicit(emails())).await;
    let spec = none_spec(&mock, json!("records"), None);
    let (pages, _) = collect(client(), plan(&spec)).await;
    assert_eq!(records(&pages), emails());
}

#[tokio::test]
async fn a_content_path_matching_nothing_is_zero_records_not_an_error() {
    let mock = MockApi::start(Scenario::explicit(emails())).await;
    let spec = none_spec(&mock, json!({"path": "$.nothing.here"}), None);
    let (pages, summary) = collect(client(), plan(&spec)).await;
    assert_eq!(pages.len(), 1);
    assert_eq!(pages[0].item_count, 0);
    assert!(pages[0].records.is_empty());
    assert_eq!(summary.records, 0);
}

#[tokio::test]
async fn a_filter_content_path_selects_matching_items() {
    let mock = MockApi::start(Scenario::explicit(emails())).await;
    let spec = none_spec(
        &mock,
        json!({"path": "$.records[?@.email_id > 1]", "keepAttributes": ["email_id"]}),
        None,
    );
    let (pages, _) = collect(client(), plan(&spec)).await;
    assert_eq!(
        records(&pages),
        [json!({"email_id": 2}), json!({"email_id": 3})]
    );
    assert_eq!(pages[0].item_count, 2);
}

fn offset_spec(mock: &MockApi) -> Value {
    connection_spec(attributes(
        &mock.base_url(),
        "/offset",
        "$.items",
        json!({"type": "OFFSET", "limitName": "limit", "limitValue": 10, "offSetName": "offset"}),
    ))
}

#[tokio::test]
async fn max_records_truncates_the_last_page_and_stops() {
    let mock = MockApi::start(Scenario::generated(100)).await;
    for concurrency in [1, 4] {
        mock.clear_requests();
        let mut plan = plan(&offset_spec(&mock));
        plan.limits.max_records = Some(15);
        plan.limits.concurrency = concurrency;
        let (pages, summary) = collect(client(), plan).await;
        assert_eq!(
            records(&pages),
            generated(0..15),
            "concurrency {concurrency}"
        );
        assert_eq!(summary.stop, StopCause::MaxRecords(15));
        assert_eq!((summary.pages, summary.records), (2, 15));
        if concurrency == 1 {
            assert_eq!(
                sequence(&mock.requests()),
                [
                    get("/offset", &[("limit", "10"), ("offset", "0")]),
                    get("/offset", &[("limit", "10"), ("offset", "10")]),
                ]
            );
        }
    }
}

#[tokio::test]
async fn max_records_on_a_page_boundary_sends_no_further_request() {
    let mock = MockApi::start(Scenario::generated(100)).await;
    let mut plan = plan(&offset_spec(&mock));
    plan.limits.max_records = Some(20);
    let (pages, summary) = collect(client(), plan).await;
    assert_eq!(records(&pages), generated(0..20));
    assert_eq!(summary.stop, StopCause::MaxRecords(20));
    assert_eq!(mock.request_count(), 2);
}

#[tokio::test]
async fn max_pages_caps_the_pages() {
    let mock = MockApi::start(Scenario::generated(100)).await;
    for concurrency in [1, 4] {
        mock.clear_requests();
        let mut plan = plan(&offset_spec(&mock));
        plan.limits.max_pages = Some(2);
        plan.limits.concurrency = concurrency;
        let (pages, summary) = collect(client(), plan).await;
        assert_eq!(mock.request_count(), 2, "concurrency {concurrency}");
        assert_eq!(records(&pages), generated(0..20));
        assert_eq!(summary.stop, StopCause::MaxPages(2));
        assert!(summary.warnings.is_empty(), "{:?}", summary.warnings);
    }
}
