//! `flowd spec test` end to end: the reference's MailChimp Members spec run
//! through the real binary against a mock that behaves like MailChimp's
//! members API (count/offset, `total_items`, `since_last_changed`), and a
//! small OFFSET spec against the mock's `/offset` for each message the
//! command prints about its inputs, its trace and its records.

mod common;

use std::process::Output;
use std::time::Duration;

use common::{fixture, flowd};
use flowd_mockapi::{Auth, DEFAULT_LIST_ID, FailFirst, Faults, MockApi, RetryAfter, Scenario};
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
        stderr.contains("member: struct<"),
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

const OFFSET_PASSWORD: &str = "offset-secret-password";

/// A valid OFFSET spec for the mock's `/offset` (`{"items": [...]}`), `limit` records a page,
/// Basic auth whose params hold the host.
fn offset_spec(limit: u64) -> Value {
    let path = format!(
        "{}/../spec/testdata/connection_specs/valid/pagination_page_defaults.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut spec: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    spec["authSpec"][0]["spec"]["properties"] = json!({
        "host": {"type": "string"},
        "username": {"type": "string"},
        "password": {"type": "string", "format": "password"}
    });
    spec["authSpec"][0]["spec"]["required"] = json!(["host", "username", "password"]);
    let attributes = &mut spec["sourceSpec"]["attributes"];
    attributes["urlParams"] = json!({"host": "${host}", "path": "/offset", "method": "GET"});
    attributes["contentPath"] = json!({"path": "$.items"});
    attributes["paginationParams"] = json!({
        "type": "OFFSET", "limitName": "limit", "limitValue": limit, "offSetName": "offset"
    });
    spec
}

async fn offset_mock(records: Vec<Value>) -> MockApi {
    MockApi::start(Scenario::explicit(records).with_auth(Auth::Basic {
        username: "user".into(),
        password: OFFSET_PASSWORD.into(),
    }))
    .await
}

fn offset_auth(mock: &MockApi) -> String {
    json!({"specName": "Basic Authentication", "params": {
        "host": mock.base_url(), "username": "user", "password": OFFSET_PASSWORD
    }})
    .to_string()
}

fn numbered(count: usize) -> Vec<Value> {
    (1..=count).map(|id| json!({"id": id})).collect()
}

/// `flowd spec test` of `spec` (written to a temporary file) with `arguments`.
async fn spec_test_of(spec: &Value, arguments: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let spec = write_json(dir.path(), "spec.json", spec);
    let mut all = vec![spec.display().to_string()];
    all.extend(arguments.iter().map(|argument| (*argument).to_owned()));
    spec_test(all).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_auth_name_lists_the_specs_auth_specs() {
    let mock = offset_mock(numbered(3)).await;
    let auth = json!({"specName": "Basik Authentication", "params": {"host": mock.base_url()}});
    let output = spec_test_of(&offset_spec(2), &["--auth", &auth.to_string()]).await;
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(
            "--auth: the spec has no auth spec named \"Basik Authentication\"; its auth specs are:\n  \"Basic Authentication\" (BasicAuthentication): params host, username, password"
        ),
        "{stderr}"
    );
    assert_eq!(mock.request_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auth_without_a_spec_name_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let auth = write_json(dir.path(), "auth.json", &json!({"params": {"host": "x"}}));
    let output = spec_test_of(
        &offset_spec(2),
        &["--auth", &format!("@{}", auth.display())],
    )
    .await;
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("--auth has no specName: give the name of one of the spec's auth specs:\n  \"Basic Authentication\""),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_auth_is_named_as_such() {
    let output = spec_test_of(&offset_spec(2), &[]).await;
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(
            "flowd: error: this spec needs credentials: pass --auth '{\"specName\": \"Basic Authentication\", \"params\": {...}}'"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("placeholder"), "{stderr}");
    assert_eq!(stderr.matches("flowd: error").count(), 1, "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_takes_inline_json_at_file_and_a_plain_path() {
    let mock = offset_mock(numbered(1)).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("auth.json");
    std::fs::write(&file, offset_auth(&mock)).unwrap();
    for auth in [
        offset_auth(&mock),
        format!("@{}", file.display()),
        file.display().to_string(),
    ] {
        let output = spec_test_of(&offset_spec(2), &["--auth", &auth]).await;
        assert!(output.status.success(), "{}", text(&output.stderr));
        let stdout = text(&output.stdout);
        assert!(stdout.contains(" pages, 1 record, "), "{stdout}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_params_keys_are_warned_about() {
    let mock = mailchimp_mock().await;
    let dir = tempfile::tempdir().unwrap();
    let spec = write_json(
        dir.path(),
        "spec.json",
        &fixture("seed_mailchimp_update.json"),
    );
    let auth = json!({"specName": "Basic Authentication", "params": {
        "host": mock.base_url(), "username": "anystring", "password": PASSWORD
    }});
    let output = spec_test(vec![
        spec.display().to_string(),
        "--auth".into(),
        auth.to_string(),
        "--params".into(),
        json!({"listId": DEFAULT_LIST_ID, "lisId": "typo"}).to_string(),
        "--max-pages".into(),
        "1".into(),
    ])
    .await;
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("warning: --params key `lisId` is not in the spec's sourceSpec.spec properties (it declares: listId)"),
        "{stderr}"
    );
    assert!(!stderr.contains("`listId` is not"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_window_takes_rfc3339_and_epoch_seconds_and_refuses_milliseconds() {
    let mock = mailchimp_mock().await;
    let dir = tempfile::tempdir().unwrap();
    let spec = write_json(
        dir.path(),
        "spec.json",
        &fixture("seed_mailchimp_update.json"),
    );
    let auth = json!({"specName": "Basic Authentication", "params": {
        "host": mock.base_url(), "username": "anystring", "password": PASSWORD
    }})
    .to_string();
    let run = |window: &str| {
        spec_test(vec![
            spec.display().to_string(),
            "--auth".into(),
            auth.clone(),
            "--params".into(),
            json!({"listId": DEFAULT_LIST_ID}).to_string(),
            "--window".into(),
            window.into(),
            "--format".into(),
            "jsonl".into(),
        ])
    };
    // 1704067200 is 2024-01-01T00:00:00Z: both forms, on either side, give the same week.
    for window in [
        "1704067200/2024-01-08T00:00:00Z",
        "2024-01-01T00:00:00Z/1704672000",
    ] {
        let output = run(window).await;
        assert!(output.status.success(), "{}", text(&output.stderr));
        assert_eq!(text(&output.stdout).lines().count(), 1008, "{window}");
    }
    let requests = mock.request_count();
    let output = run("1704067200000/").await;
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("flowd: error: --window start: 1704067200000 looks like milliseconds"),
        "{stderr}"
    );
    assert_eq!(mock.request_count(), requests, "nothing was sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_are_counted_from_one_and_plurals_agree() {
    let mock = offset_mock(numbered(3)).await;
    let auth = offset_auth(&mock);
    let output = spec_test_of(&offset_spec(2), &["--auth", &auth]).await;
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(stdout.contains("page 1: GET http://127.0.0.1:"), "{stdout}");
    assert!(stdout.contains(" 2 items, 2 records"), "{stdout}");
    assert!(stdout.contains("page 2: GET "), "{stdout}");
    assert!(stdout.contains(" 1 item, 1 record"), "{stdout}");
    assert!(!stdout.contains("page 0"), "{stdout}");
    assert!(stdout.contains("summary: 2 pages, 3 records,"), "{stdout}");
    assert!(
        stdout.contains("stopped: the last page held fewer items than the page size"),
        "a readable stop reason: {stdout}"
    );
    let output = spec_test_of(&offset_spec(2), &["--auth", &auth, "--max-pages", "1"]).await;
    let stdout = text(&output.stdout);
    assert!(stdout.contains("summary: 1 page, 2 records,"), "{stdout}");
    assert!(
        stdout.contains("stopped: --max-pages 1 reached"),
        "{stdout}"
    );
    assert!(!stdout.contains("1 pages"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_headers_are_shown_masked_with_the_auth_the_connector_adds() {
    let mock = offset_mock(numbered(1)).await;
    let output = spec_test_of(&offset_spec(2), &["--auth", &offset_auth(&mock)]).await;
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        stdout.contains("\n    Authorization: Basic ********\n"),
        "{stdout}"
    );
    assert!(stdout.contains("\n    User-Agent: flowd/"), "{stdout}");
    assert!(!stdout.contains(OFFSET_PASSWORD), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_types_show_as_structs_and_lists() {
    let mock = offset_mock(vec![json!({
        "id": 1,
        "location": {"country_code": "JP", "latitude": 35.68},
        "tags": ["tower", "view"]
    })])
    .await;
    let output = spec_test_of(&offset_spec(2), &["--auth", &offset_auth(&mock)]).await;
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        stdout.contains(
            "schema (inferred from the first 1 record):\n  id: integer\n  location: struct<country_code: string, latitude: double>\n  tags: list<string>\n"
        ),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cjk_text_keeps_the_table_aligned() {
    let mock = offset_mock(vec![
        json!({"id": 1, "name": "東京タワー", "city": "Tokyo"}),
        json!({"id": 2, "name": "Eiffel", "city": "Paris"}),
    ])
    .await;
    let output = spec_test_of(&offset_spec(5), &["--auth", &offset_auth(&mock)]).await;
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        stdout.contains(
            "records:\nid | name       | city\n1  | 東京タワー | Tokyo\n2  | Eiffel     | Paris\n"
        ),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jsonl_trace_says_what_it_leaves_out() {
    let mock = offset_mock(numbered(5)).await;
    let auth = offset_auth(&mock);
    let output = spec_test_of(
        &offset_spec(1),
        &["--auth", &auth, "--format", "jsonl", "--trace", "first:2"],
    )
    .await;
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(text(&output.stdout).lines().count(), 5);
    assert!(stderr.contains("page 2: GET "), "{stderr}");
    assert!(!stderr.contains("page 3: GET "), "{stderr}");
    let pages = mock.request_count();
    assert!(
        stderr.contains(&format!(
            "… {} more pages not shown (--trace all shows every page)",
            pages - 2
        )),
        "{stderr}"
    );
    let output = spec_test_of(
        &offset_spec(1),
        &["--auth", &auth, "--format", "jsonl", "--trace", "all"],
    )
    .await;
    let stderr = text(&output.stderr);
    assert!(stderr.contains("page 5: GET "), "{stderr}");
    assert!(!stderr.contains("not shown"), "{stderr}");
    let output = spec_test_of(&offset_spec(1), &["--auth", &auth, "--trace", "none"]).await;
    let stdout = text(&output.stdout);
    assert!(!stdout.contains("page 1: GET "), "{stdout}");
    assert!(
        stdout.contains("pages not shown (--trace all shows every page)"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strict_exits_non_zero_when_the_run_warned() {
    let mock = offset_mock(numbered(5)).await;
    let auth = offset_auth(&mock);
    let mut spec = offset_spec(1);
    spec["sourceSpec"]["attributes"]["paginationParams"]["maximumRequest"] = json!(2);
    let output = spec_test_of(&spec, &["--auth", &auth]).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("warning: stopped after maximumRequest (2) requests"));
    let output = spec_test_of(&spec, &["--auth", &auth, "--strict"]).await;
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("flowd: error: --strict: the run gave 1 warning"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_run_prints_progress_with_pages_records_rate_and_time() {
    let mock = MockApi::start(
        Scenario::explicit(numbered(6))
            .with_auth(Auth::Basic {
                username: "user".into(),
                password: OFFSET_PASSWORD.into(),
            })
            .with_latency(Duration::from_millis(1_300)),
    )
    .await;
    let output = spec_test_of(
        &offset_spec(1),
        &["--auth", &offset_auth(&mock), "--max-pages", "5"],
    )
    .await;
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let progress = stderr
        .lines()
        .find(|line| line.starts_with("... "))
        .unwrap_or_else(|| panic!("a plain progress line (stderr is no terminal): {stderr}"));
    assert!(
        progress.starts_with("... 4 pages, 4 records, ")
            && progress.contains(" records/s, ")
            && progress.ends_with(" s left"),
        "{progress}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_is_printed_once_with_its_cause() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = closed.local_addr().unwrap();
    drop(closed);
    let auth = json!({"specName": "Basic Authentication", "params": {
        "host": format!("http://{address}"), "username": "user", "password": OFFSET_PASSWORD
    }});
    let output = spec_test_of(
        &offset_spec(2),
        &["--auth", &auth.to_string(), "--http-retries", "0"],
    )
    .await;
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    let error = stderr
        .lines()
        .find(|line| line.starts_with("flowd: error: "))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert_eq!(stderr.matches("flowd: error").count(), 1, "{stderr}");
    assert!(
        error.contains("page 1: GET "),
        "pages count from 1: {error}"
    );
    let parts: Vec<&str> = error.split(": ").collect();
    for (index, part) in parts.iter().enumerate() {
        assert!(
            !parts[index + 1..].contains(part),
            "`{part}` is said twice: {error}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strict_exits_non_zero_on_the_zero_record_warning() {
    let mock = offset_mock(numbered(3)).await;
    let auth = offset_auth(&mock);
    let mut spec = offset_spec(2);
    // The mock answers `{"items": [...]}`: `$.records` selects nothing.
    spec["sourceSpec"]["attributes"]["contentPath"] = json!({"path": "$.records"});
    let output = spec_test_of(&spec, &["--auth", &auth, "--strict"]).await;
    assert_eq!(output.status.code(), Some(1));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("summary: 1 page, 0 records,"), "{stdout}");
    assert!(stdout.contains("\nrecords: none\n"), "{stdout}");
    assert!(
        stdout.contains("\nwarning: contentPath.path \"$.records\" selected no records"),
        "{stdout}"
    );
    assert!(
        stdout.contains("$.items"),
        "the path that holds the array: {stdout}"
    );
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("flowd: error: --strict: the run gave 1 warning"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_retry_is_shown_as_it_happens() {
    let mock = MockApi::start(
        Scenario::explicit(numbered(1))
            .with_auth(Auth::Basic {
                username: "user".into(),
                password: OFFSET_PASSWORD.into(),
            })
            .with_faults(Faults {
                fail_first: Some(FailFirst {
                    count: 1,
                    status: 503,
                    retry_after: Some(RetryAfter::Seconds(0)),
                }),
                ..Faults::default()
            }),
    )
    .await;
    let output = spec_test_of(&offset_spec(2), &["--auth", &offset_auth(&mock)]).await;
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let retry = stdout
        .find("page 1: attempt 1 failed: answered 503")
        .unwrap_or_else(|| panic!("{stdout}"));
    let page = stdout.find("page 1: GET ").unwrap();
    assert!(retry < page, "the retry is told before the page: {stdout}");
    assert!(stdout.contains("(after 2 attempts)"), "{stdout}");
}

/// `$.customers` against a bare array: spec test prints the connector's one text, the same a
/// scheduled run records and explore answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_content_path_that_misses_a_bare_array_names_the_path_that_holds_it() {
    let mock = offset_mock(numbered(20)).await;
    let auth = offset_auth(&mock);
    let mut spec = offset_spec(50);
    let attributes = &mut spec["sourceSpec"]["attributes"];
    attributes["urlParams"]["path"] = json!("/array");
    attributes["contentPath"] = json!({"path": "$.customers"});
    attributes
        .as_object_mut()
        .unwrap()
        .remove("paginationParams");
    let output = spec_test_of(&spec, &["--auth", &auth]).await;
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("\nwarning: contentPath.path \"$.customers\" selected no records, but the response is an array of 20 objects; contentPath.path \"$\" would select 20 records\n"),
        "{stdout}"
    );
}
