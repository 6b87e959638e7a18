//! `/connections`: credentials validated, probed, encrypted at rest and
//! masked; PATCH with etags; test and explore against a mock REST API.

mod common;

use axum::http::StatusCode;
use base64::Engine;
use common::{Caller, TestApp, assert_flow_error, fixture};
use flowd_mockapi::{Auth, DEFAULT_LIST_ID, MockApi, Scenario};
use serde_json::{Value, json};

const PASSWORD: &str = "correct-horse-battery-staple";

async fn mock() -> MockApi {
    MockApi::start(Scenario::generated(250).with_auth(Auth::Basic {
        username: "anystring".into(),
        password: PASSWORD.into(),
    }))
    .await
}

fn connection_body(spec_id: &str, mock: &MockApi, password: &str) -> Value {
    json!({
        "name": "Mailchimp base connection with basic authentication",
        "description": "members",
        "connectionSpec": {"id": spec_id, "version": "1.0"},
        "auth": {"specName": "Basic Authentication", "params": {
            "host": mock.base_url(),
            "authorizationTestUrl": mock.url("/auth/test"),
            "username": "anystring",
            "password": password
        }}
    })
}

async fn setup(app: &TestApp, caller: &Caller, mock: &MockApi) -> (String, String, String) {
    let spec_id = app
        .create_connection_spec(caller, &fixture("seed_mailchimp_update.json"))
        .await;
    let created = app
        .post(
            caller,
            "/connections",
            &connection_body(&spec_id, mock, PASSWORD),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let etag = created.body["etag"].as_str().unwrap().to_owned();
    assert_eq!(
        created.body.as_object().unwrap().len(),
        2,
        "{{id, etag}} only"
    );
    assert!(created.headers.get("location").is_some());
    (spec_id, id, etag)
}

fn files_contain(dir: &std::path::Path, needle: &str) -> bool {
    std::fs::read_dir(dir).unwrap().any(|entry| {
        let path = entry.unwrap().path();
        path.is_file()
            && std::fs::read(&path)
                .unwrap()
                .windows(needle.len())
                .any(|window| window == needle.as_bytes())
    })
}

#[tokio::test]
async fn a_connection_is_probed_stored_encrypted_and_shown_masked() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let mock = mock().await;
    let (spec_id, id, etag) = setup(&app, &caller, &mock).await;
    assert!(
        mock.requests()
            .iter()
            .any(|request| request.path == "/auth/test"),
        "the test URL was called"
    );
    let read = app.get(&caller, &format!("/connections/{id}")).await;
    assert_eq!(read.status, StatusCode::OK);
    let item = &read.body["items"][0];
    assert_eq!(item["auth"]["params"]["password"], "********");
    assert_eq!(item["auth"]["params"]["username"], "anystring");
    assert_eq!(item["state"], "enabled");
    assert_eq!(item["etag"], etag.as_str());
    assert_eq!(item["version"], etag.as_str());
    assert_eq!(item["connectionSpec"]["id"], spec_id.as_str());
    let listed = app.get(&caller, "/connections").await;
    assert!(!listed.body.to_string().contains(PASSWORD));
    assert!(
        !files_contain(app.data_dir.path(), PASSWORD),
        "no file of the data dir holds the password"
    );
    let tested = app.get(&caller, &format!("/connections/{id}/test")).await;
    assert_eq!(tested.body, json!({"result": true}));
}

#[tokio::test]
async fn refused_credentials_and_bad_auth_get_clear_errors() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let mock = mock().await;
    let spec_id = app
        .create_connection_spec(&caller, &fixture("seed_mailchimp_update.json"))
        .await;
    let refused = app
        .post(
            &caller,
            "/connections",
            &connection_body(&spec_id, &mock, "wrong-password-123"),
        )
        .await;
    assert_flow_error(&refused, "1100-400");
    let message = refused.body["report"]["detailed-message"].as_str().unwrap();
    assert!(message.contains("401"), "{message}");
    assert!(!refused.body.to_string().contains("wrong-password-123"));

    let mut unknown_auth = connection_body(&spec_id, &mock, PASSWORD);
    unknown_auth["auth"]["specName"] = json!("OAuth 2 Client Credentials");
    assert_flow_error(
        &app.post(&caller, "/connections", &unknown_auth).await,
        "1415-400",
    );

    let mut unknown_spec = connection_body(&spec_id, &mock, PASSWORD);
    unknown_spec["connectionSpec"]["id"] = json!("00000000-0000-4000-8000-000000000000");
    assert_flow_error(
        &app.post(&caller, "/connections", &unknown_spec).await,
        "1413-400",
    );

    let mut missing_password = connection_body(&spec_id, &mock, PASSWORD);
    missing_password["auth"]["params"]
        .as_object_mut()
        .unwrap()
        .remove("password");
    missing_password["auth"]["params"]["username"] = json!(12);
    let invalid = app.post(&caller, "/connections", &missing_password).await;
    assert_flow_error(&invalid, "1100-400");
    let pointers: Vec<&str> = invalid.body["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["pointer"].as_str().unwrap())
        .collect();
    assert!(pointers.contains(&"/auth/params/username"), "{pointers:?}");
    assert!(
        pointers
            .iter()
            .any(|pointer| pointer.starts_with("/auth/params")),
        "{pointers:?}"
    );
}

#[tokio::test]
async fn patch_needs_the_current_etag_and_keeps_masked_secrets() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let mock = mock().await;
    let (_, id, etag) = setup(&app, &caller, &mock).await;
    let path = format!("/connections/{id}");
    let rename = json!([{"op": "replace", "path": "/name", "value": "renamed"}]);
    assert_flow_error(&app.patch(&caller, &path, None, &rename).await, "1403-400");
    assert_flow_error(
        &app.patch(&caller, &path, Some("\"stale\""), &rename).await,
        "1404-412",
    );
    assert_flow_error(
        &app.patch(
            &caller,
            &path,
            Some(&etag),
            &json!([{"op": "move", "from": "/name", "path": "/description"}]),
        )
        .await,
        "1434-400",
    );
    assert_flow_error(
        &app.patch(
            &caller,
            &path,
            Some(&etag),
            &json!([{"op": "replace", "path": "/id", "value": "x"}]),
        )
        .await,
        "1455-400",
    );
    assert_flow_error(
        &app.patch(
            &caller,
            &path,
            Some(&etag),
            &json!([{"op": "replace", "path": "/nope/deeper", "value": 1}]),
        )
        .await,
        "1455-400",
    );
    assert_flow_error(
        &app.patch(
            &caller,
            &path,
            Some(&etag),
            &json!([{"op": "replace", "path": "/connectionSpec/id", "value": "x"}]),
        )
        .await,
        "1414-400",
    );
    // The etag without its quotes, as the query parameter Postman sends.
    let unquoted = etag.trim_matches('"');
    let patched = app
        .patch(
            &caller,
            &format!("{path}/?if-match={unquoted}"),
            None,
            &json!({"op": "replace", "path": "/name", "value": "renamed"}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    let new_etag = patched.body["etag"].as_str().unwrap().to_owned();
    assert_ne!(new_etag, etag);
    // A GET edited and sent back: the masked password keeps the stored one.
    let shown = app.get(&caller, &path).await.body["items"][0]["auth"]["params"].clone();
    let resent = app
        .patch(
            &caller,
            &path,
            Some(&new_etag),
            &json!([{"op": "replace", "path": "/auth/params", "value": shown}]),
        )
        .await;
    assert_eq!(resent.status, StatusCode::OK, "{}", resent.body);
    assert_eq!(
        app.get(&caller, &format!("{path}/test")).await.body,
        json!({"result": true})
    );
    assert_eq!(
        app.get(&caller, &path).await.body["items"][0]["name"],
        "renamed"
    );
}

#[tokio::test]
async fn explore_previews_the_first_page_with_an_inferred_schema() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let mock = mock().await;
    let (_, id, _) = setup(&app, &caller, &mock).await;
    let source_params = base64::engine::general_purpose::STANDARD
        .encode(json!({"listId": DEFAULT_LIST_ID}).to_string());
    let reply = app
        .get(&caller, &format!("/connections/{id}/explore?objectType=rest&object=json&fileType=json&preview=true&sourceParams={source_params}"))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["format"], "hierarchical");
    let data = reply.body["data"].as_array().unwrap();
    assert_eq!(data.len(), 100, "the first page");
    assert!(data[0]["member"]["email_address"].is_string());
    assert_eq!(
        reply.body["schema"]["columns"],
        json!([{"name": "member", "type": "object"}])
    );

    let missing = app
        .get(
            &caller,
            &format!("/connections/{id}/explore?objectType=rest&sourceParams=%%%"),
        )
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    let bad = app
        .get(
            &caller,
            &format!("/connections/{id}/explore?sourceParams=bm90IGpzb24"),
        )
        .await;
    assert_flow_error(&bad, "1100-400");
    let unknown_list =
        base64::engine::general_purpose::STANDARD.encode(json!({"listId": "nope"}).to_string());
    let upstream = app
        .get(
            &caller,
            &format!("/connections/{id}/explore?sourceParams={unknown_list}"),
        )
        .await;
    assert_flow_error(&upstream, "1100-400");
    assert_eq!(upstream.body["report"]["upstreamStatus"], 404);
}

#[tokio::test]
async fn connections_are_isolated_and_deleted() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let mock = mock().await;
    let (_, id, _) = setup(&app, &caller, &mock).await;
    let mut other_sandbox = caller.clone();
    other_sandbox.sandbox = "dev".into();
    let other_org = app.caller_for_new_org("ORG2@AdobeOrg").await;
    for intruder in [&other_sandbox, &other_org] {
        assert_flow_error(
            &app.get(intruder, &format!("/connections/{id}")).await,
            "1439-404",
        );
        assert_flow_error(
            &app.get(intruder, &format!("/connections/{id}/explore"))
                .await,
            "1439-404",
        );
        assert_flow_error(
            &app.delete(intruder, &format!("/connections/{id}")).await,
            "1439-404",
        );
        assert_eq!(
            app.get(intruder, "/connections").await.body["items"],
            json!([])
        );
    }
    assert_eq!(
        app.delete(&caller, &format!("/connections/{id}/"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_flow_error(
        &app.get(&caller, &format!("/connections/{id}")).await,
        "1439-404",
    );
}

#[tokio::test]
async fn tokens_refreshed_during_explore_are_saved_back_encrypted() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let oauth_mock = MockApi::start(Scenario::generated(20).with_oauth(
        flowd_mockapi::OAuthOptions {
            start_expired: true,
            ..flowd_mockapi::OAuthOptions::default()
        },
    ))
    .await;
    let mut spec = fixture("seed_mailchimp_update.json");
    // The seed's OAuth auth spec, with what a refresh needs.
    spec["authSpec"][0]["spec"]["properties"]["refreshToken"] =
        json!({"type": "string", "format": "password"});
    spec["authSpec"][0]["spec"]["properties"]["clientSecret"] =
        json!({"type": "string", "format": "password"});
    let spec_id = app.create_connection_spec(&caller, &spec).await;
    let created = app
        .post(
            &caller,
            "/connections",
            &json!({"name": "oauth", "connectionSpec": {"id": spec_id, "version": "1.0"},
                    "auth": {"specName": "OAuth2 Refresh Code", "params": {
                        "host": oauth_mock.base_url(),
                        "accessToken": "initial-access-token",
                        "refreshToken": "initial-refresh-token",
                        "accessTokenUrl": oauth_mock.url("/oauth/token"),
                        "clientId": "client-id",
                        "clientSecret": "client-secret"}}}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().unwrap();
    let source_params = base64::engine::general_purpose::STANDARD
        .encode(json!({"listId": DEFAULT_LIST_ID}).to_string());
    let preview = app
        .get(
            &caller,
            &format!("/connections/{id}/explore?sourceParams={source_params}"),
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert_eq!(
        oauth_mock.token_refreshes(),
        1,
        "the expired token was refreshed once"
    );
    let new_access = oauth_mock.access_token().expect("the mock issued a token");
    let new_refresh = oauth_mock.refresh_token();
    assert_ne!(new_access, "initial-access-token");
    // The stored connection now holds the new tokens, sealed: a second
    // preview needs no refresh, and no file holds them in clear.
    let again = app
        .get(
            &caller,
            &format!("/connections/{id}/explore?sourceParams={source_params}"),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(oauth_mock.token_refreshes(), 1, "the saved token was used");
    let shown =
        app.get(&caller, &format!("/connections/{id}")).await.body["items"][0]["auth"]["params"]
            .clone();
    assert_eq!(shown["accessToken"], "********");
    assert_eq!(shown["refreshToken"], "********");
    for secret in [new_access.as_str(), new_refresh.as_str(), "client-secret"] {
        assert!(
            !files_contain(app.data_dir.path(), secret),
            "a file holds {secret}"
        );
    }
}

/// A KeyBased key and a credential-named param, neither declared `format: password`, are
/// sealed at rest and masked on read like a password, and still authenticate explore.
#[tokio::test]
async fn keys_and_credential_named_params_are_secrets_without_format_password() {
    const KEY: &str = "k-41d9-e07c-not-for-display";
    const TOKEN: &str = "t-9a3f-55be-not-for-display";
    let app = TestApp::new().await;
    let caller = app.caller();
    let mock = MockApi::start(Scenario::generated(5).with_auth(Auth::ApiKeys(vec![
        ("X-Tenant-Key".into(), KEY.into()),
        ("apiToken".into(), TOKEN.into()),
    ])))
    .await;
    let mut spec = fixture("seed_mailchimp_update.json");
    spec["authSpec"] = json!([{"name": "API Key", "type": "KeyBased", "spec": {
        "type": "object",
        "properties": {
            "host": {"type": "string"},
            "tenantKey": {"type": "string", "restAttributes": {"headerParamName": "X-Tenant-Key"}},
            "authKey2": {"type": "string", "restAttributes": {"headerParamName": "apiToken"}},
            "apiToken": {"type": "string"}
        },
        "required": ["host", "tenantKey"]
    }}]);
    let spec_id = app.create_connection_spec(&caller, &spec).await;
    let created = app
        .post(
            &caller,
            "/connections",
            &json!({
                "name": "keyed", "connectionSpec": {"id": spec_id, "version": "1.0"},
                "auth": {"specName": "API Key", "params": {
                    "host": mock.base_url(), "tenantKey": KEY, "authKey2": TOKEN
                }}
            }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().unwrap();
    let read = app.get(&caller, &format!("/connections/{id}")).await;
    let params = &read.body["items"][0]["auth"]["params"];
    assert_eq!(params["tenantKey"], "********");
    assert_eq!(params["authKey2"], "********");
    assert_eq!(params["host"], mock.base_url().as_str());
    for secret in [KEY, TOKEN] {
        assert!(!read.body.to_string().contains(secret));
        assert!(!files_contain(app.data_dir.path(), secret), "stored sealed");
    }
    let source_params = base64::engine::general_purpose::STANDARD
        .encode(json!({"listId": DEFAULT_LIST_ID}).to_string());
    let explored = app
        .get(
            &caller,
            &format!("/connections/{id}/explore?objectType=rest&object=json&fileType=json&preview=true&sourceParams={source_params}"),
        )
        .await;
    assert_eq!(explored.status, StatusCode::OK, "{}", explored.body);
    assert_eq!(explored.body["data"].as_array().unwrap().len(), 5);
}

/// A deployment that denies loopback (`--deny-upstream loopback`) refuses a connection whose
/// test URL is on it, before anything is sent there, naming the rule.
#[tokio::test]
async fn the_upstream_policy_holds_for_credential_probes() {
    let app = TestApp::with_config(flowd_api::state::ApiConfig {
        upstream: std::sync::Arc::new(flowd_connector::UpstreamPolicy::new(
            vec![flowd_connector::NetRule::Loopback],
            Vec::new(),
        )),
        ..flowd_api::state::ApiConfig::default()
    })
    .await;
    let caller = app.caller();
    let mock = mock().await;
    let spec_id = app
        .create_connection_spec(&caller, &fixture("seed_mailchimp_update.json"))
        .await;
    let refused = app
        .post(
            &caller,
            "/connections",
            &connection_body(&spec_id, &mock, PASSWORD),
        )
        .await;
    assert_flow_error(&refused, "1100-400");
    let message = refused.body["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
        + refused.body.to_string().as_str();
    assert!(
        message.contains("upstream policy") && message.contains("loopback"),
        "{}",
        refused.body
    );
    assert_eq!(
        mock.request_count(),
        0,
        "nothing was sent to the denied address"
    );
}

/// A content path that misses the array the API answers (`$.customers` over a bare array):
/// explore answers AEP's shape with no records, plus flowd's `warnings` naming the path that
/// would select them, the same text a run records and `flowd spec test` prints.
#[tokio::test]
async fn explore_warns_when_the_content_path_misses_a_bare_array() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let mock = MockApi::start(Scenario::generated(20).with_auth(Auth::Basic {
        username: "anystring".into(),
        password: PASSWORD.into(),
    }))
    .await;
    let mut spec = fixture("seed_mailchimp_update.json");
    let attributes = &mut spec["sourceSpec"]["attributes"];
    attributes["urlParams"]["path"] = json!("/array");
    attributes["contentPath"] = json!({"path": "$.customers"});
    attributes
        .as_object_mut()
        .unwrap()
        .remove("paginationParams");
    let spec_id = app.create_connection_spec(&caller, &spec).await;
    let created = app
        .post(
            &caller,
            "/connections",
            &connection_body(&spec_id, &mock, PASSWORD),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().unwrap();
    let source_params = base64::engine::general_purpose::STANDARD
        .encode(json!({"listId": DEFAULT_LIST_ID}).to_string());
    let reply = app
        .get(
            &caller,
            &format!("/connections/{id}/explore?objectType=rest&object=json&fileType=json&preview=true&sourceParams={source_params}"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["data"], json!([]));
    assert_eq!(
        reply.body["warnings"],
        json!([
            "contentPath.path \"$.customers\" selected no records, but the response is an array of 20 objects; contentPath.path \"$\" would select 20 records"
        ])
    );
}
