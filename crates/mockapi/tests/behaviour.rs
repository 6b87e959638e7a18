//! Recording, fault injection, authentication, OAuth refresh and windows.

mod common;

use std::time::{Duration, Instant};

use base64::Engine as _;
use common::{get, ids, send};
use flowd_mockapi::{
    Auth, BadBody, BadPage, FailFirst, Faults, MockApi, OAuthOptions, RetryAfter, RouteError,
    Scenario, TokenFields, generated_last_changed,
};
use serde_json::json;

#[tokio::test]
async fn records_every_request_in_order() {
    let api = MockApi::start(Scenario::generated(5)).await;
    let base = api.base_url();
    send(
        &base,
        "GET",
        "/offset?limit=2&offset=0&q=a%20b+c&q=2",
        &[("X-Custom", "v")],
        "",
    )
    .await;
    send(
        &base,
        "POST",
        "/search",
        &[("content-type", "application/json")],
        r#"{"query":"x"}"#,
    )
    .await;
    get(&base, "/unknown").await;

    let reqs = api.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(api.request_count(), 3);
    let r = &reqs[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("GET", "/offset"));
    assert_eq!(r.query, "limit=2&offset=0&q=a%20b+c&q=2");
    let pairs: Vec<(&str, &str)> = r
        .query_pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        pairs,
        [("limit", "2"), ("offset", "0"), ("q", "a b c"), ("q", "2")]
    );
    assert_eq!(r.header("x-custom"), Some("v"));
    assert!(
        r.headers.iter().any(|(k, _)| k == "x-custom"),
        "names are lower-cased"
    );
    assert_eq!(reqs[1].json_body(), Some(json!({"query": "x"})));
    assert_eq!(reqs[2].path_and_query(), "/unknown");

    api.clear_requests();
    assert!(api.requests().is_empty());
    assert_eq!(api.request_count(), 0);
}

#[tokio::test]
async fn fail_first_then_recover_with_retry_after() {
    let faults = Faults {
        fail_first: Some(FailFirst {
            count: 2,
            status: 429,
            retry_after: Some(RetryAfter::Seconds(3)),
        }),
        ..Faults::default()
    };
    let api = MockApi::start(Scenario::generated(10).with_faults(faults)).await;
    for _ in 0..2 {
        let resp = get(&api.base_url(), "/offset").await;
        assert_eq!(resp.status, 429);
        assert_eq!(resp.header("retry-after"), Some("3"));
        assert!(resp.json()["error"].is_string());
    }
    assert_eq!(get(&api.base_url(), "/offset").await.status, 200);

    let faults = Faults {
        fail_first: Some(FailFirst {
            count: 1,
            status: 503,
            retry_after: Some(RetryAfter::DateIn(Duration::from_secs(60))),
        }),
        ..Faults::default()
    };
    let api = MockApi::start(Scenario::generated(10).with_faults(faults)).await;
    let resp = get(&api.base_url(), "/none").await;
    assert_eq!(resp.status, 503);
    assert!(resp.header("retry-after").unwrap().ends_with(" GMT"));
}

#[tokio::test]
async fn bad_pages_route_errors_and_latency() {
    let faults = Faults {
        bad_page: Some(BadPage {
            page: 1,
            body: BadBody::Html,
            status: 200,
            times: Some(1),
        }),
        route_errors: vec![RouteError {
            path: "/page".into(),
            status: 403,
        }],
        latency: Duration::from_millis(20),
        ..Faults::default()
    };
    let api = MockApi::start(Scenario::generated(250).with_faults(faults)).await;
    let base = api.base_url();
    let started = Instant::now();
    assert_eq!(get(&base, "/offset?limit=100").await.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(20));
    let html = get(&base, "/offset?limit=100&offset=100").await;
    assert!(
        html.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(html.body.contains("<html>"));
    // `times: Some(1)`: the retry succeeds.
    assert_eq!(
        ids(&get(&base, "/offset?limit=100&offset=100").await.json()["items"])[0],
        101
    );
    let forbidden = get(&base, "/page").await;
    assert_eq!(forbidden.status, 403);
    assert_eq!(forbidden.json()["status"], 403);

    let faults = Faults {
        bad_page: Some(BadPage {
            page: 0,
            body: BadBody::TruncatedJson,
            status: 200,
            times: None,
        }),
        ..Faults::default()
    };
    let api = MockApi::start(Scenario::generated(10).with_faults(faults)).await;
    let cut = get(&api.base_url(), "/none").await;
    assert_eq!(cut.header("content-type"), Some("application/json"));
    assert!(serde_json::from_str::<serde_json::Value>(&cut.body).is_err());
}

#[tokio::test]
async fn repeating_last_page_never_ends() {
    let faults = Faults {
        repeat_last_page: true,
        ..Faults::default()
    };
    let api = MockApi::start(Scenario::generated(250).with_faults(faults)).await;
    let base = api.base_url();
    let last = get(&base, "/offset?limit=100&offset=200").await.json();
    assert_eq!(last["has_more"], true);
    let beyond = get(&base, "/offset?limit=100&offset=300").await.json();
    assert_eq!(ids(&beyond["items"]), ids(&last["items"]));

    let mut next = get(&base, "/pointer?limit=100").await.json()["paging"]["next"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut urls = Vec::new();
    for _ in 0..5 {
        urls.push(next.clone());
        next = get(&base, &next).await.json()["paging"]["next"]
            .as_str()
            .unwrap()
            .to_owned();
    }
    assert_eq!(urls[2], urls[4], "the last page points at itself");
}

#[tokio::test]
async fn basic_and_api_key_auth_and_auth_test() {
    let api = MockApi::start(Scenario::generated(3).with_auth(Auth::Basic {
        username: "u".into(),
        password: "p:w".into(),
    }))
    .await;
    let good = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("u:p:w")
    );
    let bad = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("u:x")
    );
    assert_eq!(
        send(
            &api.base_url(),
            "GET",
            "/none",
            &[("authorization", &good)],
            ""
        )
        .await
        .status,
        200
    );
    let denied = send(
        &api.base_url(),
        "GET",
        "/none",
        &[("authorization", &bad)],
        "",
    )
    .await;
    assert_eq!(denied.status, 401);
    assert!(denied.json()["error"].is_string());
    assert_eq!(
        send(
            &api.base_url(),
            "GET",
            "/auth/test",
            &[("authorization", &good)],
            ""
        )
        .await
        .status,
        200
    );
    assert_eq!(get(&api.base_url(), "/auth/test").await.status, 401);

    let keys = Auth::ApiKeys(vec![
        ("X-Auth-Key1".into(), "k1".into()),
        ("x-auth-key2".into(), "k2".into()),
    ]);
    let api = MockApi::start(Scenario::generated(3).with_auth(keys)).await;
    let both = [("x-auth-key1", "k1"), ("X-Auth-Key2", "k2")];
    assert_eq!(
        send(&api.base_url(), "GET", "/offset", &both, "")
            .await
            .status,
        200
    );
    assert_eq!(
        send(&api.base_url(), "GET", "/offset", &both[..1], "")
            .await
            .status,
        401
    );
}

fn refresh_form(refresh: &str) -> String {
    format!(
        "grant_type=refresh_token&refresh_token={refresh}&client_id=client-id&client_secret=client-secret"
    )
}

#[tokio::test]
async fn oauth_refresh_rotates_tokens() {
    let oauth = OAuthOptions {
        start_expired: true,
        ..OAuthOptions::default()
    };
    let api = MockApi::start(Scenario::generated(3).with_oauth(oauth)).await;
    let base = api.base_url();
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let bearer = |t: &str| format!("Bearer {t}");

    let initial = bearer("initial-access-token");
    assert_eq!(
        send(&base, "GET", "/none", &[("authorization", &initial)], "")
            .await
            .status,
        401
    );

    let wrong = send(&base, "POST", "/oauth/token", &form, &refresh_form("nope")).await;
    assert_eq!(wrong.status, 400);
    assert_eq!(wrong.json()["error"], "invalid_grant");

    let first = send(
        &base,
        "POST",
        "/oauth/token",
        &form,
        &refresh_form("initial-refresh-token"),
    )
    .await
    .json();
    assert_eq!(
        first,
        json!({"access_token": "access-1", "refresh_token": "refresh-1", "expires_in": 3600, "token_type": "Bearer"})
    );
    assert_eq!(
        send(
            &base,
            "GET",
            "/none",
            &[("authorization", &bearer("access-1"))],
            ""
        )
        .await
        .status,
        200
    );

    // The old refresh token was rotated away.
    let reused = send(
        &base,
        "POST",
        "/oauth/token",
        &form,
        &refresh_form("initial-refresh-token"),
    )
    .await;
    assert_eq!(reused.status, 400);
    let second = send(
        &base,
        "POST",
        "/oauth/token",
        &form,
        &refresh_form("refresh-1"),
    )
    .await
    .json();
    assert_eq!(second["access_token"], "access-2");
    assert_eq!(
        send(
            &base,
            "GET",
            "/none",
            &[("authorization", &bearer("access-1"))],
            ""
        )
        .await
        .status,
        401
    );
    assert_eq!(api.token_refreshes(), 2);

    api.expire_access_token();
    assert_eq!(
        send(
            &base,
            "GET",
            "/none",
            &[("authorization", &bearer("access-2"))],
            ""
        )
        .await
        .status,
        401
    );
}

#[tokio::test]
async fn oauth_field_overrides_get_method_and_no_rotation() {
    let oauth = OAuthOptions {
        rotate_refresh_token: false,
        client_id_param: "appId".into(),
        fields: TokenFields {
            access_token: "token".into(),
            refresh_token: "rt".into(),
            expires_in: "ttl".into(),
        },
        ..OAuthOptions::default()
    };
    let api = MockApi::start(Scenario::generated(3).with_oauth(oauth)).await;
    let query = "/oauth/token?grant_type=refresh_token&refresh_token=initial-refresh-token&appId=client-id&client_secret=client-secret";
    let resp = get(&api.base_url(), query).await.json();
    assert_eq!(
        resp,
        json!({"token": "access-1", "ttl": 3600, "token_type": "Bearer"})
    );
    assert_eq!(
        get(&api.base_url(), query).await.json()["token"],
        "access-2",
        "refresh token still valid"
    );
    let bad_client = query.replace("appId=client-id", "appId=other");
    assert_eq!(get(&api.base_url(), &bad_client).await.status, 401);
}

#[tokio::test]
async fn windows_filter_last_changed() {
    let api = MockApi::start(Scenario::generated(250)).await;
    let base = api.base_url();
    // Records 11..=20 (indexes 10..20) changed in [since, before).
    let since = generated_last_changed(10)
        .strftime("%Y-%m-%dT%H:%M:%S:0000000Z")
        .to_string();
    let before = generated_last_changed(20)
        .strftime("%Y-%m-%dT%H:%M:%S.0000000Z")
        .to_string();
    let page = get(
        &base,
        &format!("/3.0/lists/a1b2c3d4e5/members?count=100&since_last_changed={since}&before_last_changed={before}"),
    )
    .await
    .json();
    assert_eq!(page["total_items"], 10);
    assert_eq!(ids(&page["members"]), (11..=20).collect::<Vec<_>>());

    let open_start = get(
        &base,
        &format!(
            "/offset?limit=1000&before_last_changed={}",
            generated_last_changed(5)
        ),
    )
    .await;
    assert_eq!(ids(&open_start.json()["items"]), vec![1, 2, 3, 4, 5]);

    let explicit = Scenario::explicit(vec![
        json!({"id": 1, "last_changed": "2024-01-01T00:00:00+00:00"}),
        json!({"id": 2, "last_changed": "2024-06-01T00:00:00Z"}),
        json!({"id": 3}),
    ]);
    let api = MockApi::start(explicit).await;
    let page = get(
        &api.base_url(),
        "/none?since_last_changed=2024-03-01T00:00:00Z",
    )
    .await
    .json();
    assert_eq!(
        ids(&page["records"]),
        vec![2, 3],
        "undated records are never filtered out"
    );
    assert_eq!(
        get(&api.base_url(), "/none?since_last_changed=yesterday")
            .await
            .status,
        400
    );
}
