//! `flowd spec test` end to end: the reference's MailChimp Members spec run
//! through the real binary against a mock that behaves like MailChimp's
//! members API (count/offset, `total_items`, `since_last_changed`).

mod common;

use std::process::Output;

use common::{fixture, flowd};
use flowd_mockapi::{Auth, DEFAULT_LIST_ID, MockApi, Scenario};
use serde_json::{Value, json};

const PASSWORD: &str = "mailchimp-secret-password";

async fn mailchimp_mock() -> MockApi {
    MockApi::start(Scenario::generated(2_000).with_auth(Auth::Basic {
        username: "anystring".into(),
        password: PASSWORD.into(),
    }))
    .await
}

fn write_json(dir: &std::path::Path, name: &str, value: &Value) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, value.to_string()).unwrap();
    path
}

/// Runs `flowd spec test` off the async runtime (the binary blocks).
async fn spec_test(arguments: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        flowd()
            .arg("spec")
            .arg("test")
            .args(arguments)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mailchimp_members_spec_fetches_one_window_of_members_as_json_lines() {
    let mock = mailchimp_mock().await;
    let dir = tempfile::tempdir().unwrap();
    let spec = write_json(
        dir.path(),
        "spec.json",
        &fixture("seed_mailchimp_update.json"),
    );
    let auth = write_json(
        dir.path(),
        "auth.json",
        &json!({"specName": "Basic Authentication", "params": {
            "host": mock.base_url(), "username": "anystring", "password": PASSWORD
        }}),
    );
    let output = spec_test(vec![
        spec.display().to_string(),
        "--auth".into(),
        auth.display().to_string(),
        "--params".into(),
        json!({"listId": DEFAULT_LIST_ID}).to_string(),
        "--window".into(),
        "2024-01-01T00:00:00Z/2024-01-08T00:00:00Z".into(),
        "--format".into(),
        "jsonl".into(),
    ])
    .await;
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let records: Vec<Value> = text(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("stdout holds only JSON lines"))
        .collect();
    // One generated member every ten minutes: a week holds 1008 of them.
    assert_eq!(records.len(), 1008);
    for record in &records {
        let member = record["member"]
            .as_object()
            .expect("wrapped under overrideWrapperAttribute");
        assert!(member.contains_key("email_address"));
        for skipped in ["_links", "list_id"] {
            assert!(!member.contains_key(skipped), "{skipped} is skipped");
        }
        let changed: jiff::Timestamp = member["last_changed"].as_str().unwrap().parse().unwrap();
        assert!(changed >= "2024-01-01T00:00:00Z".parse().unwrap());
        assert!(changed < "2024-01-08T00:00:00Z".parse().unwrap());
    }
    let requests = mock.requests();
    assert_eq!(requests.len(), 11, "ten full pages of 100 and a short one");
    for (page, request) in requests.iter().enumerate() {
        assert_eq!(
            request.path,
            format!("/3.0/lists/{DEFAULT_LIST_ID}/members")
        );
        let offset = (page * 100).to_string();
        assert_eq!(
            request.query_pairs,
            vec![
                (
                    "since_last_changed".to_owned(),
                    "2024-01-01T00:00:00:0000000Z".to_owned()
                ),
                (
                    "before_last_changed".to_owned(),
                    "2024-01-08T00:00:00:0000000Z".to_owned()
                ),
                ("count".to_owned(), "100".to_owned()),
                ("offset".to_owned(), offset),
            ]
        );
        assert!(
            request
                .header("authorization")
                .unwrap()
                .starts_with("Basic ")
        );
        assert!(request.header("user-agent").unwrap().starts_with("flowd/"));
    }
    assert!(stderr.contains("page 1: GET http://127.0.0.1:"), "{stderr}");
    assert!(
        stderr.contains("summary: 11 pages, 1008 records"),
        "{stderr}"
    );
    assert!(
        stderr.contains("member: object"),
        "the schema is shown: {stderr}"
    );
    assert!(!stderr.contains(PASSWORD) && !text(&output.stdout).contains(PASSWORD));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_table_format_shows_records_schema_and_summary() {
    let mock = mailchimp_mock().await;
    let dir = tempfile::tempdir().unwrap();
    let spec = write_json(
        dir.path(),
        "spec.json",
        &fixture("seed_mailchimp_update.json"),
    );
    let auth = write_json(
        dir.path(),
        "auth.json",
        &json!({"specName": "basic authentication", "params": {
            "host": mock.base_url(), "username": "anystring", "password": PASSWORD
        }}),
    );
    let output = spec_test(vec![
        spec.display().to_string(),
        "--auth".into(),
        auth.display().to_string(),
        "--params".into(),
        json!({"listId": DEFAULT_LIST_ID}).to_string(),
        "--max-records".into(),
        "150".into(),
    ])
    .await;
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(stdout.contains("member.email_address"), "{stdout}");
    assert!(stdout.contains("... 100 more records"), "{stdout}");
    assert!(stdout.contains("summary: 2 pages, 150 records"), "{stdout}");
    assert!(stdout.contains("--max-records 150 reached"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_exit_non_zero_with_the_reason_and_no_secret() {
    let mock = mailchimp_mock().await;
    let dir = tempfile::tempdir().unwrap();
    let spec = write_json(
        dir.path(),
        "spec.json",
        &fixture("seed_mailchimp_update.json"),
    );
    let wrong_password = write_json(
        dir.path(),
        "auth.json",
        &json!({"specName": "Basic Authentication", "params": {
            "host": mock.base_url(), "username": "anystring", "password": "not-the-password"
        }}),
    );
    let refused = spec_test(vec![
        spec.display().to_string(),
        "--auth".into(),
        wrong_password.display().to_string(),
        "--params".into(),
        json!({"listId": DEFAULT_LIST_ID}).to_string(),
    ])
    .await;
    assert_eq!(refused.status.code(), Some(1));
    let stderr = text(&refused.stderr);
    assert!(stderr.contains("answered 401"), "{stderr}");
    assert!(!stderr.contains("not-the-password"), "{stderr}");

    let missing_param = spec_test(vec![
        spec.display().to_string(),
        "--auth".into(),
        wrong_password.display().to_string(),
    ])
    .await;
    assert_eq!(missing_param.status.code(), Some(1));
    let stderr = text(&missing_param.stderr);
    assert!(
        stderr.contains("listId"),
        "an unresolved placeholder is named: {stderr}"
    );
    assert_eq!(
        mock.request_count(),
        1,
        "the unresolved placeholder sent no request"
    );
}
