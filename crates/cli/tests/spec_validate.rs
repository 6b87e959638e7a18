//! `flowd spec validate`: offline checks with exit codes and both formats.

mod common;

use common::{fixture, flowd};
use serde_json::{Value, json};

fn write(dir: &std::path::Path, name: &str, value: &Value) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, value.to_string()).unwrap();
    path
}

#[test]
fn valid_specs_exit_zero() {
    let dir = tempfile::tempdir().unwrap();
    let seed = write(
        dir.path(),
        "seed.json",
        &fixture("seed_mailchimp_update.json"),
    );
    let members = write(
        dir.path(),
        "members.json",
        &fixture("mailchimp_members_create.json"),
    );
    let output = flowd()
        .args(["spec", "validate"])
        .arg(&seed)
        .arg(&members)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        text.lines()
            .filter(|line| line.ends_with(": valid"))
            .count(),
        2,
        "{text}"
    );
}

#[test]
fn invalid_specs_exit_one_and_name_every_problem_by_pointer() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = fixture("seed_mailchimp_update.json");
    spec.as_object_mut().unwrap().remove("name");
    spec["sourceSpec"]["attributes"]["urlParams"]["method"] = json!("DELETE");
    let path = write(dir.path(), "broken.json", &spec);
    let output = flowd()
        .args(["spec", "validate"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("broken.json: /name: "), "{text}");
    assert!(
        text.contains("broken.json: /sourceSpec/attributes/urlParams/method: "),
        "{text}"
    );

    let json_output = flowd()
        .args(["spec", "validate", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(json_output.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&json_output.stdout).unwrap();
    let file = &report["files"][0];
    assert_eq!(file["valid"], false);
    let mut pointers: Vec<&str> = file["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|problem| problem["pointer"].as_str().unwrap())
        .collect();
    pointers.sort_unstable();
    assert_eq!(
        pointers,
        ["/name", "/sourceSpec/attributes/urlParams/method"]
    );
}

#[test]
fn unreadable_and_malformed_files_are_reported_not_crashed_on() {
    let dir = tempfile::tempdir().unwrap();
    let malformed = dir.path().join("malformed.json");
    std::fs::write(&malformed, "{ not json").unwrap();
    let output = flowd()
        .args(["spec", "validate"])
        .arg(&malformed)
        .arg(dir.path().join("missing.json"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("malformed.json: (root): the file is not valid JSON"),
        "{text}"
    );
    assert!(
        text.contains("missing.json: (root): cannot read the file"),
        "{text}"
    );
}

#[test]
fn a_saved_get_response_is_checked_item_by_item() {
    let dir = tempfile::tempdir().unwrap();
    let mut broken = fixture("seed_mailchimp_update.json");
    broken.as_object_mut().unwrap().remove("providerId");
    let path = write(
        dir.path(),
        "get.json",
        &json!({"items": [fixture("seed_mailchimp_update.json"), broken]}),
    );
    let output = flowd()
        .args(["spec", "validate"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        text.trim(),
        format!(
            "{}: /items/1/providerId: {}",
            path.display(),
            text.trim().rsplit(": ").next().unwrap()
        )
    );
}
