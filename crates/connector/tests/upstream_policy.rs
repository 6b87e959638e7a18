//! The upstream policy against real sockets. An upstream listens on 127.0.0.2, a network the
//! policy denies; every way of reaching it — the address in each numeric spelling, a hostname
//! resolving to it, a redirect, a token URL, a test URL — is refused before any byte reaches
//! it, with an error naming the rule, and without retries. Credentials never leave for another
//! origin than the one the spec and the base connection name, whichever way the URL was built,
//! and no API-key header or token-refresh body follows a redirect to another origin.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use common::*;
use flowd_connector::request::RequestError;
use flowd_connector::{
    FetchError, HttpOptions, NetRule, RunError, UpstreamPolicy, prepare_auth, probe_credentials,
};
use flowd_mockapi::{Auth, MockApi, Scenario};
use serde_json::{Value, json};

async fn denied_upstream() -> MockApi {
    let address: SocketAddr = "127.0.0.2:0".parse().unwrap();
    MockApi::start_on(Scenario::generated(5), address)
        .await
        .expect("bind 127.0.0.2 (loopback covers 127/8)")
}

fn client_denying(rules: &[&str]) -> flowd_connector::HttpClient {
    let deny: Vec<NetRule> = rules.iter().map(|rule| rule.parse().unwrap()).collect();
    client_with(HttpOptions {
        upstream: Arc::new(UpstreamPolicy::new(deny, Vec::new())),
        ..fast_options()
    })
}

fn spec_on(host: &str, path: &str) -> Value {
    connection_spec(attributes(host, path, "$.records", Value::Null))
}

fn assert_refused(error: &RunError, rule: &str) {
    match error {
        RunError::Fetch {
            error: FetchError::Refused { refused, .. },
            ..
        } => assert!(refused.reason.contains(rule), "{refused}"),
        other => panic!("expected a refusal by the upstream policy, got {other:?}"),
    }
    assert!(error.to_string().contains("upstream policy"), "{error}");
}

#[tokio::test]
async fn every_spelling_of_a_denied_address_is_refused_before_any_byte_is_sent() {
    let denied = denied_upstream().await;
    let port = denied.addr().port();
    let client = client_denying(&["127.0.0.2/32"]);
    for host in [
        format!("http://127.0.0.2:{port}"),
        format!("http://0x7f000002:{port}"),
        format!("http://2130706434:{port}"),
        format!("http://127.0.0.02:{port}"),
        format!("http://[::ffff:127.0.0.2]:{port}"),
    ] {
        let (_, error) = collect_error(client.clone(), plan(&spec_on(&host, "/none"))).await;
        assert_refused(&error, "127.0.0.2/32");
    }
    assert_eq!(
        denied.request_count(),
        0,
        "nothing reached the denied upstream"
    );
}

#[tokio::test]
async fn a_hostname_resolving_to_a_denied_address_is_refused_after_resolution() {
    let denied = denied_upstream().await;
    let allowed_spelling = MockApi::start(Scenario::generated(5)).await;
    let client = client_denying(&["loopback"]);
    let host = format!("http://localhost:{}", allowed_spelling.addr().port());
    let (_, error) = collect_error(client, plan(&spec_on(&host, "/none"))).await;
    assert_refused(&error, "loopback");
    assert_eq!(allowed_spelling.request_count(), 0);
    assert_eq!(denied.request_count(), 0);
}

#[tokio::test]
async fn a_redirect_to_another_origin_is_refused_and_not_followed() {
    let denied = denied_upstream().await;
    let front = MockApi::start(Scenario::generated(5)).await;
    let client = client_denying(&["127.0.0.2/32"]);
    let target = format!("{}/none", denied.base_url());
    let path = format!("/redirect?to={}", urlencoding(&target));
    let (_, error) = collect_error(client, plan(&spec_on(&front.base_url(), &path))).await;
    match &error {
        RunError::Fetch {
            error: FetchError::Refused { refused, .. },
            ..
        } => assert!(refused.reason.contains("leaves the origin"), "{refused}"),
        other => panic!("expected the redirect refused, got {other:?}"),
    }
    assert_eq!(
        front.request_count(),
        1,
        "the redirect itself was fetched once"
    );
    assert_eq!(denied.request_count(), 0, "its target never was");
}

fn assert_redirect_refused(error: &RunError) {
    let shown = error.to_string();
    assert!(
        shown.contains("leaves the origin") && shown.contains("upstream policy"),
        "{shown}"
    );
}

/// reqwest strips `Authorization` and cookies on a cross-host redirect but keeps other headers,
/// API keys included: flowd follows no redirect out of the request's origin, so an allowed
/// upstream on another port never sees the key.
#[tokio::test]
async fn an_api_key_header_never_follows_a_redirect_to_another_origin() {
    let front = MockApi::start(Scenario::generated(5)).await;
    let elsewhere = MockApi::start(Scenario::generated(5)).await;
    let target = format!("{}/none", elsewhere.base_url());
    for status in ["302", "307", "308"] {
        let path = format!("/redirect?status={status}&to={}", urlencoding(&target));
        let spec = spec_on(&front.base_url(), &path);
        let mut plan = plan(&spec);
        plan.auth = Some(auth_session(
            &spec,
            json!({"specName": "API Key", "params": {"authKey1": "key-never-elsewhere-1111"}}),
            None,
        ));
        let (_, error) = collect_error(client(), plan).await;
        assert_redirect_refused(&error);
        assert!(
            !error.to_string().contains("key-never-elsewhere"),
            "{error}"
        );
    }
    assert_eq!(front.request_count(), 3, "each redirect was fetched once");
    assert_eq!(
        elsewhere.request_count(),
        0,
        "the key never left its origin"
    );
}

/// A token refresh is a POST whose body holds the client secret and the refresh token; a 307
/// or 308 asks the client to send that body again to the new location. To another origin,
/// flowd refuses: nothing reaches it, and the refresh fails naming the refusal.
#[tokio::test]
async fn a_token_refresh_body_never_follows_a_redirect_to_another_origin() {
    let token_front = MockApi::start(Scenario::generated(0)).await;
    let elsewhere = MockApi::start(Scenario::generated(0)).await;
    let api = MockApi::start(Scenario::generated(5).with_auth(Auth::Bearer)).await;
    let target = elsewhere.url("/oauth/token");
    for status in ["307", "308"] {
        let spec = spec_on(&api.base_url(), "/none");
        let mut plan = plan(&spec);
        plan.auth = Some(auth_session(
            &spec,
            json!({"specName": "OAuth2 Refresh Code", "params": {
                "accessToken": "expired", "refreshToken": "refresh-token-never-elsewhere",
                "clientId": "client-id", "clientSecret": "client-secret-never-elsewhere",
                "accessTokenUrl": token_front.url(&format!("/redirect?status={status}&to={}", urlencoding(&target))),
                "expirationDate": "2000-01-01T00:00:00Z"
            }}),
            None,
        ));
        let (_, error) = collect_error(client(), plan).await;
        let shown = error.to_string();
        assert!(shown.contains("leaves the origin"), "{shown}");
        assert!(!shown.contains("never-elsewhere"), "{shown}");
    }
    assert_eq!(token_front.request_count(), 2, "each refresh was sent once");
    assert_eq!(
        elsewhere.request_count(),
        0,
        "no secret followed the redirect"
    );
    assert_eq!(api.request_count(), 0, "no data request without a token");
}

#[tokio::test]
async fn a_token_url_on_a_denied_address_is_refused_and_nothing_is_sent_there() {
    let denied = denied_upstream().await;
    let api = MockApi::start(Scenario::generated(5).with_auth(Auth::Bearer)).await;
    let spec = spec_on(&api.base_url(), "/none");
    let mut plan = plan(&spec);
    plan.auth = Some(auth_session(
        &spec,
        json!({"specName": "OAuth2 Refresh Code", "params": {
            "accessToken": "expired", "refreshToken": "refresh-me",
            "accessTokenUrl": denied.url("/oauth/token"),
            "expirationDate": "2000-01-01T00:00:00Z"
        }}),
        None,
    ));
    let (_, error) = collect_error(client_denying(&["127.0.0.2/32"]), plan).await;
    let shown = error.to_string();
    assert!(
        shown.contains("upstream policy") && shown.contains("127.0.0.2/32"),
        "{shown}"
    );
    assert_eq!(denied.request_count(), 0);
    assert_eq!(
        api.request_count(),
        0,
        "no data request without a valid token"
    );
}

#[tokio::test]
async fn a_test_url_is_held_to_the_policy_and_to_the_credentials_origin() {
    let denied = denied_upstream().await;
    let api = MockApi::start(Scenario::generated(5)).await;
    let spec = connection_spec(attributes("${host}", "/none", "$.records", Value::Null));
    let prepare = |host: String| {
        let params = json!({"host": host, "username": "anna", "password": "s3cret-pass"});
        let params = params.as_object().unwrap().clone();
        prepare_auth(
            &spec,
            flowd_connector::Credentials {
                spec_name: "Basic Authentication",
                params: &params,
            },
            None,
        )
        .unwrap()
    };
    let client = client_denying(&["127.0.0.2/32"]);
    // On the credentials' own host, but that host is denied.
    let on_denied = prepare(denied.base_url());
    let refused = probe_credentials(&client, &on_denied, &denied.url("/auth/test"))
        .await
        .unwrap_err();
    assert!(refused.contains("upstream policy"), "{refused}");
    // On another origin than the credentials' host.
    let on_api = prepare(api.base_url());
    let refused = probe_credentials(&client, &on_api, &denied.url("/auth/test"))
        .await
        .unwrap_err();
    assert!(
        refused.contains("credentials are sent only to"),
        "{refused}"
    );
    assert_eq!(denied.request_count(), 0);
}

#[tokio::test]
async fn credentials_stay_on_the_connections_origin_whichever_way_the_url_is_built() {
    let api = MockApi::start(Scenario::generated(5)).await;
    let elsewhere = MockApi::start(Scenario::generated(5)).await;
    let basic = json!({"specName": "Basic Authentication",
        "params": {"host": api.base_url(), "username": "anna", "password": "s3cret-pass"}});
    // An absolute urlParams.path, and a ${host} that a source param fills.
    let absolute = spec_on("${host}", &format!("{}/none", elsewhere.base_url()));
    let mut from_source = connection_spec(attributes(
        "${apiVersion}",
        "/none",
        "$.records",
        Value::Null,
    ));
    from_source["authSpec"][0]["spec"]["properties"]["apiVersion"] = json!({"type": "string"});
    for (spec, source_params, expected) in [
        (absolute, json!({}), "credentials are sent only to"),
        (
            from_source,
            json!({"apiVersion": elsewhere.base_url()}),
            "needs ${apiVersion}",
        ),
    ] {
        let mut plan = plan_with_params(&spec, source_params);
        plan.auth = Some(auth_session(&spec, basic.clone(), None));
        let (_, error) = collect_error(client(), plan).await;
        assert!(
            matches!(
                error,
                RunError::Request(
                    RequestError::ForeignOrigin { .. } | RequestError::HostFromSourceParams { .. }
                )
            ),
            "{error:?}"
        );
        assert!(error.to_string().contains(expected), "{error}");
    }
    assert_eq!(
        elsewhere.request_count(),
        0,
        "no credential left for another host"
    );
    assert_eq!(api.request_count(), 0);
}

/// Percent-encodes a query value.
fn urlencoding(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
