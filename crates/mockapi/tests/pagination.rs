//! Each route pages through a 250-record dataset exactly once, in order.

mod common;

use common::{all_ids, get, ids, send};
use flowd_mockapi::{
    CursorEnd, CursorOptions, LastPointer, MockApi, PageOptions, PointerOptions, PointerStyle,
    Scenario, TokenLocation,
};
use serde_json::{Value, json};

#[tokio::test]
async fn offset_pages_and_reports_totals() {
    let api = MockApi::start(Scenario::generated(250)).await;
    let mut seen = Vec::new();
    let mut offset = 0;
    loop {
        let page = get(
            &api.base_url(),
            &format!("/offset?limit=100&offset={offset}"),
        )
        .await
        .json();
        assert_eq!(page["total_items"], 250);
        seen.extend(ids(&page["items"]));
        offset += 100;
        if page["has_more"] == false {
            break;
        }
    }
    assert_eq!(seen, all_ids(250));
    assert_eq!(api.request_count(), 3);
}

async fn walk_pointer(style: PointerStyle, last: LastPointer) -> Vec<u64> {
    let token_param = match &style {
        PointerStyle::Token { param } => Some(param.clone()),
        _ => None,
    };
    let scenario = Scenario {
        pointer: PointerOptions {
            style,
            last,
            ..Default::default()
        },
        ..Scenario::generated(250)
    };
    let api = MockApi::start(scenario).await;
    let mut seen = Vec::new();
    let mut target = "/pointer?limit=100".to_owned();
    for _ in 0..10 {
        let page = get(&api.base_url(), &target).await.json();
        seen.extend(ids(&page["data"]));
        let next = page["paging"].get("next").cloned().unwrap_or(Value::Null);
        match (next.as_str(), last) {
            (Some("") | None, _) => {
                let expected = match last {
                    LastPointer::Null => Some(&Value::Null),
                    LastPointer::Absent => None,
                    LastPointer::EmptyString => Some(&json!("")),
                };
                assert_eq!(page["paging"].get("next"), expected);
                return seen;
            }
            (Some(next), _) => {
                target = match &token_param {
                    Some(param) => format!("/pointer?limit=100&{param}={next}"),
                    None => next.to_owned(),
                };
                if target.starts_with("http") {
                    assert!(target.starts_with(&api.base_url()), "{target}");
                } else {
                    assert!(target.starts_with('/') || token_param.is_some());
                }
            }
        }
    }
    panic!("pointer pagination did not end");
}

#[tokio::test]
async fn pointer_styles_all_terminate() {
    assert_eq!(
        walk_pointer(PointerStyle::AbsoluteUrl, LastPointer::Null).await,
        all_ids(250)
    );
    assert_eq!(
        walk_pointer(PointerStyle::RelativeUrl, LastPointer::Absent).await,
        all_ids(250)
    );
    let token = PointerStyle::Token {
        param: "next".into(),
    };
    assert_eq!(
        walk_pointer(token, LastPointer::EmptyString).await,
        all_ids(250)
    );
}

#[tokio::test]
async fn cursor_in_query_or_header_with_both_end_styles() {
    for (location, end) in [
        (TokenLocation::default(), CursorEnd::HasMoreFalse),
        (
            TokenLocation::Header("x-after".into()),
            CursorEnd::NullCursor,
        ),
    ] {
        let scenario = Scenario {
            cursor: CursorOptions {
                token: location.clone(),
                end,
                ..Default::default()
            },
            ..Scenario::generated(250)
        };
        let api = MockApi::start(scenario).await;
        let mut seen = Vec::new();
        let mut token: Option<String> = None;
        let final_cursor;
        loop {
            let resp = match (&token, &location) {
                (None, _) => get(&api.base_url(), "/cursor?page[size]=100").await,
                (Some(t), TokenLocation::Query(name)) => {
                    get(
                        &api.base_url(),
                        &format!("/cursor?page[size]=100&{name}={t}"),
                    )
                    .await
                }
                (Some(t), TokenLocation::Header(name)) => {
                    send(
                        &api.base_url(),
                        "GET",
                        "/cursor?page[size]=100",
                        &[(name, t)],
                        "",
                    )
                    .await
                }
            };
            let page = resp.json();
            seen.extend(ids(&page["results"]));
            if page["meta"]["has_more"] == false {
                assert_eq!(
                    page["meta"]["after_cursor"].is_null(),
                    end == CursorEnd::NullCursor
                );
                final_cursor = page["meta"]["after_cursor"].as_str().map(str::to_owned);
                break;
            }
            token = page["meta"]["after_cursor"].as_str().map(str::to_owned);
        }
        assert_eq!(seen, all_ids(250));
        assert_eq!(api.request_count(), 3);
        if let Some(t) = final_cursor {
            // Following Zendesk's final cursor yields an empty page, not an error.
            let resp = get(
                &api.base_url(),
                &format!("/cursor?page[size]=100&page[after]={t}"),
            )
            .await
            .json();
            assert_eq!(resp["results"], json!([]));
            assert_eq!(resp["meta"]["has_more"], false);
        }
    }
}

#[tokio::test]
async fn page_numbers_from_zero_or_one_with_page_count_header() {
    for first in [0, 1] {
        let scenario = Scenario {
            page: PageOptions {
                first_index: first,
                ..Default::default()
            },
            ..Scenario::generated(250)
        };
        let api = MockApi::start(scenario).await;
        let mut seen = Vec::new();
        for page in first..first + 4 {
            let resp = get(&api.base_url(), &format!("/page?page={page}&per_page=100")).await;
            assert_eq!(resp.header("x-pagecount"), Some("3"));
            seen.extend(ids(&resp.json()["records"]));
        }
        assert_eq!(seen, all_ids(250), "first index {first}");
        if first == 1 {
            // Below the first page: answered as the first, as json-server does.
            let below = get(&api.base_url(), "/page?page=0&per_page=100").await;
            assert_eq!(below.status, 200);
            assert_eq!(ids(&below.json()["records"]), all_ids(250)[..100].to_vec());
        }
    }
}

#[tokio::test]
async fn none_and_search_and_mailchimp() {
    let api = MockApi::start(Scenario::generated(250)).await;
    let base = api.base_url();
    assert_eq!(
        ids(&get(&base, "/none").await.json()["records"]),
        all_ids(250)
    );

    let mut seen = Vec::new();
    let mut cursor = Value::Null;
    loop {
        let body = json!({"query": "status:any", "cursor": cursor, "limit": 100}).to_string();
        let page = send(
            &base,
            "POST",
            "/search",
            &[("content-type", "application/json")],
            &body,
        )
        .await
        .json();
        seen.extend(ids(&page["results"]));
        cursor = page["next_cursor"].clone();
        if cursor.is_null() {
            break;
        }
    }
    assert_eq!(seen, all_ids(250));

    let mut seen = Vec::new();
    for offset in (0..250).step_by(100) {
        let page = get(
            &base,
            &format!("/3.0/lists/a1b2c3d4e5/members?count=100&offset={offset}"),
        )
        .await
        .json();
        assert_eq!(page["total_items"], 250);
        assert_eq!(page["list_id"], "a1b2c3d4e5");
        let first = &page["members"][0];
        assert_eq!(first["list_id"], "a1b2c3d4e5");
        assert_eq!(first["_links"][0]["rel"], "self");
        seen.extend(ids(&page["members"]));
    }
    assert_eq!(seen, all_ids(250));
    let missing = get(&base, "/3.0/lists/nope/members").await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["status"], 404);
}

#[tokio::test]
async fn explicit_records_are_served_verbatim() {
    let records = vec![
        json!({"id": 1, "name": "a"}),
        json!({"id": 2, "nested": {"x": [1, 2]}}),
        json!({}),
    ];
    let api = MockApi::start(Scenario::explicit(records.clone())).await;
    let page = get(&api.base_url(), "/offset?limit=2").await.json();
    assert_eq!(page["items"], json!(records[..2]));
    assert_eq!(page["has_more"], true);
    let members = get(&api.base_url(), "/3.0/lists/a1b2c3d4e5/members?offset=2")
        .await
        .json();
    assert_eq!(members["members"][0]["list_id"], "a1b2c3d4e5");
}
