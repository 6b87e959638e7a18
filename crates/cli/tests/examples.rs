//! `examples/` and `flowd spec init`: every example spec passes `flowd spec validate` (the
//! server's rules) and, run with `flowd spec test` against the demo API in-process (its URL put
//! in place of the one the example's auth file names), fetches the records it should; every
//! starter `flowd spec init` prints validates; `flowd demo-api` prints its URL and credentials.

mod common;

use std::io::{BufRead, BufReader, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use common::flowd;
use flowd_mockapi::{DemoApi, DemoOptions};
use serde_json::Value;

/// The demo API's URL as the examples name it (`flowd demo-api`'s default address).
const EXAMPLES_URL: &str = "http://127.0.0.1:8081";

/// Each example: its directory, extra `flowd spec test` arguments and the records it fetches
/// from the demo API's default 1000.
const EXAMPLES: &[(&str, &[&str], usize)] = &[
    ("offset", &[], 1000),
    ("page", &[], 1000),
    ("pointer", &[], 1000),
    ("continuation-token", &[], 1000),
    (
        "incremental",
        // One day of records, one every 10 minutes.
        &["--window", "2024-01-01T00:00:00Z/2024-01-02T00:00:00Z"],
        144,
    ),
];

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `value` with every string's `from` replaced by `to`.
fn substitute(value: &Value, from: &str, to: &str) -> Value {
    match value {
        Value::String(s) => Value::String(s.replace(from, to)),
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| substitute(v, from, to)).collect())
        }
        Value::Object(members) => Value::Object(
            members
                .iter()
                .map(|(k, v)| (k.clone(), substitute(v, from, to)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn validate(path: &Path) -> Output {
    flowd()
        .args(["spec", "validate"])
        .arg(path)
        .output()
        .unwrap()
}

#[test]
fn every_example_directory_is_listed_here_and_in_the_examples_readme() {
    let readme = std::fs::read_to_string(examples_dir().join("README.md")).unwrap();
    let mut on_disk: Vec<String> = std::fs::read_dir(examples_dir())
        .unwrap()
        .map(|entry| entry.unwrap())
        .filter(|entry| entry.path().is_dir())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = EXAMPLES
        .iter()
        .map(|(name, _, _)| name.to_string())
        .collect();
    listed.sort();
    assert_eq!(on_disk, listed);
    for name in listed {
        assert!(
            readme.contains(&format!("examples/{name}/spec.json")),
            "{name}"
        );
    }
}

#[test]
fn every_example_spec_validates() {
    for (name, _, _) in EXAMPLES {
        let output = validate(&examples_dir().join(name).join("spec.json"));
        assert_eq!(
            output.status.code(),
            Some(0),
            "{name}: {}",
            text(&output.stdout)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_example_fetches_its_records_from_the_demo_api() {
    let api = DemoApi::start(DemoOptions::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (name, extra, expected) in EXAMPLES {
        let example = examples_dir().join(name);
        let auth: Value =
            serde_json::from_str(&std::fs::read_to_string(example.join("auth.json")).unwrap())
                .unwrap();
        let auth_path = dir.path().join(format!("{name}-auth.json"));
        std::fs::write(
            &auth_path,
            substitute(&auth, EXAMPLES_URL, &api.base_url()).to_string(),
        )
        .unwrap();
        let mut command = flowd();
        command
            .args(["spec", "test"])
            .arg(example.join("spec.json"))
            .arg("--auth")
            .arg(&auth_path)
            .arg("--params")
            .arg(format!("@{}", example.join("params.json").display()))
            .args(*extra)
            .args(["--format", "jsonl"]);
        let output = tokio::task::spawn_blocking(move || command.output().unwrap())
            .await
            .unwrap();
        assert!(output.status.success(), "{name}: {}", text(&output.stderr));
        let records: Vec<Value> = text(&output.stdout)
            .lines()
            .map(|line| serde_json::from_str(line).expect("stdout holds only JSON lines"))
            .collect();
        assert_eq!(records.len(), *expected, "{name}: {}", text(&output.stderr));
        let mut ids: Vec<u64> = records.iter().map(|r| r["id"].as_u64().unwrap()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), *expected, "{name}: every record once");
    }
    api.shutdown().await;
}

#[test]
fn every_spec_init_combination_validates() {
    let dir = tempfile::tempdir().unwrap();
    for pagination in ["offset", "page", "pointer", "continuation-token", "none"] {
        for auth in ["basic", "oauth2", "key-based"] {
            let output = flowd()
                .args(["spec", "init", "--pagination", pagination, "--auth", auth])
                .args(["--name", "Starter"])
                .output()
                .unwrap();
            assert!(output.status.success(), "{}", text(&output.stderr));
            let spec: Value = serde_json::from_slice(&output.stdout).unwrap();
            assert_eq!(spec["name"], "Starter");
            assert_eq!(spec["exploreSpec"]["name"], "Resource");
            let path = dir.path().join(format!("{pagination}-{auth}.json"));
            std::fs::write(&path, &output.stdout).unwrap();
            let checked = validate(&path);
            assert_eq!(
                checked.status.code(),
                Some(0),
                "{pagination} {auth}: {}",
                text(&checked.stdout)
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spec_init_starter_runs_as_printed_against_the_demo_api() {
    let api = DemoApi::start(DemoOptions::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let spec = flowd()
        .args([
            "spec",
            "init",
            "--pagination",
            "page",
            "--auth",
            "key-based",
        ])
        .output()
        .unwrap();
    let spec_path = dir.path().join("spec.json");
    std::fs::write(&spec_path, &spec.stdout).unwrap();
    let auth = format!(
        r#"{{"specName": "API Key Authentication", "params": {{"host": "{}/key", "apiKey": "demo-key"}}}}"#,
        api.base_url()
    );
    let mut command = flowd();
    command
        .args(["spec", "test"])
        .arg(&spec_path)
        .arg("--auth")
        .arg(dir.path().join("auth.json"))
        .args(["--format", "jsonl"]);
    std::fs::write(dir.path().join("auth.json"), auth).unwrap();
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout).lines().count(), 1000);
    api.shutdown().await;
}

#[test]
fn demo_api_prints_its_url_and_the_demo_credentials() {
    let mut child = flowd()
        .args(["demo-api", "--listen", "127.0.0.1:0", "--records", "10"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = lines.next().unwrap().unwrap();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let mut description = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line == "Serving until Ctrl-C." {
            break;
        }
        description.push_str(&line);
        description.push('\n');
    }
    for expected in [
        "10 generated records",
        "GET /offset?limit=&offset=",
        "GET /cursor?page[size]=&page[after]=",
        "username demo, password demo-password",
        "header x-api-key: demo-key",
        "refreshToken demo-refresh-token",
    ] {
        assert!(description.contains(expected), "{expected}: {description}");
    }
    // The Basic prefix refuses a request without credentials.
    let address = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(
        stream,
        "GET /basic/offset?limit=5 HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    let _ = child.kill();
    let _ = child.wait();
}
