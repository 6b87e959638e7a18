//! One OAuth session per connection, end to end against `flowd serve` and a mock whose token
//! endpoint rotates the refresh token at every refresh (the old one is then refused with
//! `invalid_grant`): concurrent runs of two flows and a preview of their one connection all
//! succeed with a single refresh, and a crash right after a refresh leaves the new tokens in
//! the store, sealed, before any request used them.

mod common;

use std::time::{Duration, Instant};

use common::runs::{members, schedule_params, schedule_with_due_windows};
use common::workflow::{self, Workflow, call, runs_of};
use common::{Credential, Server, data_dir};
use flowd_mockapi::{Auth, DEFAULT_LIST_ID, MockApi, OAuthOptions, Scenario};
use flowd_store::{ResourceStore, Scope, SqliteStore};
use serde_json::{Value, json};

const RECORDS: i64 = 250;

fn rotating_mock_scenario(window_start: i64) -> Scenario {
    Scenario::explicit(members(RECORDS, window_start, 15 * 60))
        .with_auth(Auth::Bearer)
        .with_oauth(OAuthOptions {
            start_expired: true,
            ..OAuthOptions::default()
        })
        .with_latency(Duration::from_millis(40))
}

fn oauth_auth(mock: &MockApi) -> Value {
    json!({"specName": "OAuth2 Refresh Code", "params": {
        "host": mock.base_url(),
        "accessToken": "initial-access-token",
        "refreshToken": "initial-refresh-token",
        "clientId": "client-id",
        "clientSecret": "client-secret",
        "accessTokenUrl": mock.url("/oauth/token")
    }})
}

fn status(run: &Value) -> &str {
    run["metrics"]["statusSummary"]["status"].as_str().unwrap()
}

/// A second flow over `workflow`'s connection: its own source, dataset, target and flow.
async fn second_flow(
    client: &reqwest::Client,
    credential: &Credential,
    server: &Server,
    workflow: &Workflow,
    schedule: Value,
) -> String {
    let post = |path: &'static str, body: Value| async move {
        let (status, created) = call(
            client,
            credential,
            server,
            reqwest::Method::POST,
            path,
            Some(&body),
        )
        .await;
        assert_eq!(status, 201, "{path}: {created}");
        created
    };
    let source = post(
        "/sourceConnections",
        json!({"name": "source 2", "baseConnectionId": workflow.connection_id,
               "connectionSpec": {"id": workflow.spec_id, "version": "1.0"},
               "data": {"format": "json"}, "params": {"listId": DEFAULT_LIST_ID}}),
    )
    .await;
    let dataset = post(
        "/data/foundation/catalog/dataSets",
        json!({"name": "members 2", "schemaRef": {"id": "https://ns.adobe.com/t/schemas/m", "contentType": "application/vnd.adobe.xed-full+json;version=1"}}),
    )
    .await;
    let dataset_id = dataset[0]
        .as_str()
        .unwrap()
        .trim_start_matches("@/dataSets/")
        .to_owned();
    let target = post(
        "/targetConnections",
        json!({"name": "target 2", "connectionSpec": {"id": workflow::DATA_LAKE, "version": "1.0"},
               "data": {"format": "parquet_xdm"}, "params": {"dataSetId": dataset_id}}),
    )
    .await;
    let flow = post(
        "/flows",
        json!({"name": "members 2", "flowSpec": {"id": workflow::REST_STORAGE_TO_AEP, "version": "1.0"},
               "sourceConnectionIds": [source["id"]], "targetConnectionIds": [target["id"]],
               "scheduleParams": schedule}),
    )
    .await;
    flow["id"].as_str().unwrap().to_owned()
}

/// The connection's stored params, opened with the data dir's key.
async fn stored_params(
    data_dir: &std::path::Path,
    connection_id: &str,
) -> serde_json::Map<String, Value> {
    let store = SqliteStore::open_in_data_dir(data_dir).await.unwrap();
    let scope = Scope {
        org_id: "flowd@AdobeOrg".into(),
        sandbox_name: "prod".into(),
    };
    let stored = store
        .get_resource(&scope, flowd_model::ResourceKind::Connection, connection_id)
        .await
        .unwrap()
        .expect("the connection is stored");
    let cipher =
        flowd_secrets::Cipher::new(flowd_secrets::SecretKey::load_or_create(data_dir).unwrap());
    flowd_plan::credentials::open(
        &cipher,
        &scope,
        connection_id,
        &flowd_plan::credentials::stored_params(&stored.body),
    )
    .unwrap()
}

/// Two flows of one connection run at once while the connection is previewed; its access
/// token has expired and every refresh rotates the refresh token. All three share the
/// connection's session: one refresh, every run succeeds, the preview answers, and the store
/// holds the refresh token the endpoint accepts now. With a session per run, the second
/// refresh would send the rotated-away token, get `invalid_grant`, and fail its run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_runs_and_previews_of_one_rotating_connection_refresh_once_per_expiry() {
    let (start_time, window_start) = schedule_with_due_windows(1);
    let mock = MockApi::start(rotating_mock_scenario(window_start)).await;
    let (_dir, data_dir) = data_dir();
    let server = Server::start_with_args(
        &data_dir,
        &[
            "--workers",
            "3",
            "--max-runs-per-sandbox",
            "3",
            "--planner-tick-ms",
            "100",
            "--http-retries",
            "0",
            "--run-attempts",
            "1",
        ],
    );
    let client = reqwest::Client::new();
    let credential = Credential::from_json(server.printed_credential.as_ref().unwrap());
    // The flows are created disabled-free but the planner only sees them on its next tick;
    // the preview is sent as soon as both exist.
    let workflow = workflow::create_with_auth(
        &client,
        &credential,
        &server,
        oauth_auth(&mock),
        DEFAULT_LIST_ID,
        schedule_params(start_time),
    )
    .await;
    let second = second_flow(
        &client,
        &credential,
        &server,
        &workflow,
        schedule_params(start_time),
    )
    .await;
    use base64::Engine;
    let source_params = base64::engine::general_purpose::STANDARD
        .encode(json!({"listId": DEFAULT_LIST_ID}).to_string());
    let preview_path = format!(
        "/connections/{}/explore?objectType=rest&object=json&fileType=json&preview=true&sourceParams={source_params}",
        workflow.connection_id
    );
    let (preview_status, preview) = call(
        &client,
        &credential,
        &server,
        reqwest::Method::GET,
        &preview_path,
        None,
    )
    .await;
    assert_eq!(preview_status, 200, "{preview}");

    let deadline = Instant::now() + Duration::from_secs(30);
    for flow_id in [&workflow.flow_id, &second] {
        loop {
            let runs = runs_of(&client, &credential, &server, flow_id).await;
            if runs.first().is_some_and(|run| status(run) == "success") {
                break;
            }
            assert!(
                runs.iter().all(|run| status(run) != "failed"),
                "a run failed: {runs:#?}\n{}",
                server.logs()
            );
            assert!(Instant::now() < deadline, "{runs:#?}\n{}", server.logs());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let token_requests = mock
        .requests()
        .iter()
        .filter(|request| request.path == "/oauth/token")
        .count();
    assert_eq!(
        (token_requests, mock.token_refreshes()),
        (1, 1),
        "one refresh request, and it succeeded, for the one expiry"
    );
    // The next expiry: three previews at once refresh once more, together.
    mock.expire_access_token();
    let preview = || {
        call(
            &client,
            &credential,
            &server,
            reqwest::Method::GET,
            &preview_path,
            None,
        )
    };
    let (first, second, third) = tokio::join!(preview(), preview(), preview());
    for (status, body) in [first, second, third] {
        assert_eq!(status, 200, "{body}");
    }
    let token_requests = mock
        .requests()
        .iter()
        .filter(|request| request.path == "/oauth/token")
        .count();
    assert_eq!(
        (token_requests, mock.token_refreshes()),
        (2, 2),
        "one refresh per expiry"
    );
    let stored = stored_params(&data_dir, &workflow.connection_id).await;
    assert_eq!(stored["refreshToken"], mock.refresh_token().as_str());
    assert_eq!(stored["accessToken"], mock.access_token().unwrap().as_str());
    assert!(server.terminate().success());
}

/// The process is killed right after a refresh (a test-build failpoint, after the tokens are
/// saved and before any request uses them): the store holds the rotated refresh token, so
/// nothing is lost, and no request ever carried the new access token before it was saved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_right_after_a_refresh_leaves_the_new_refresh_token_in_the_store() {
    let (start_time, window_start) = schedule_with_due_windows(1);
    let mock = MockApi::start(rotating_mock_scenario(window_start)).await;
    let (_dir, data_dir) = data_dir();
    let server = Server::start_with_env(
        &data_dir,
        &["--planner-tick-ms", "100"],
        &[("FLOWD_FAILPOINTS", "oauth-tokens-saved=crash")],
    );
    let client = reqwest::Client::new();
    let credential = Credential::from_json(server.printed_credential.as_ref().unwrap());
    let workflow = workflow::create_with_auth(
        &client,
        &credential,
        &server,
        oauth_auth(&mock),
        DEFAULT_LIST_ID,
        schedule_params(start_time),
    )
    .await;
    let exit = server.wait_for_exit(Duration::from_secs(30));
    assert!(!exit.success(), "the server stopped after the refresh");
    assert_eq!(mock.token_refreshes(), 1);
    let new_access = mock.access_token().expect("the refresh minted a token");
    let stored = stored_params(&data_dir, &workflow.connection_id).await;
    assert_eq!(
        stored["refreshToken"],
        mock.refresh_token().as_str(),
        "the rotated refresh token is in the store"
    );
    assert_ne!(mock.refresh_token(), "initial-refresh-token");
    assert_eq!(stored["accessToken"], new_access.as_str());
    assert!(
        mock.requests()
            .iter()
            .all(|request| request.header("authorization") != Some(&format!("Bearer {new_access}"))),
        "no request used the new access token before it was saved"
    );
}
