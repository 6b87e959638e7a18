//! A dataset written by flowd reads back outside Rust (pyarrow) and through
//! `flowd dataset head`: every record of the committed batches, once, and
//! nothing of a batch that was never committed, though row groups of it are on disk.
//!
//! pyarrow is optional on a developer machine (the test says it skipped);
//! CI installs it and sets `FLOWD_REQUIRE_PYARROW=1`, so there it must run.

mod common;

use std::process::Command;

use flowd_sink::Dataset;
use serde_json::{Value, json};

fn pyarrow_available() -> bool {
    Command::new("python3")
        .args(["-c", "import pyarrow.dataset"])
        .status()
        .is_ok_and(|status| status.success())
}

fn page(from: i64, to: i64) -> Vec<Value> {
    (from..to)
        .map(|id| json!({"id": id, "email": format!("m{id}@example.com"), "tags": ["a", "b"], "merge": {"FNAME": "F", "score": id % 7}}))
        .collect()
}

#[test]
fn pyarrow_and_dataset_head_read_every_committed_record_once() {
    let data_dir = tempfile::tempdir().unwrap();
    let root = data_dir.path().join("datasets");
    let dataset = Dataset::open(&root, "0123456789abcdef01234567").unwrap();
    let at = jiff::Timestamp::now();
    let mut first = dataset
        .begin_batch("run-1", "run-1", at, &dataset.record_type().unwrap())
        .unwrap();
    first.write(page(0, 100)).unwrap();
    first.commit().unwrap();
    // A retried run replaces its own batch: no record twice.
    let mut retried = dataset
        .begin_batch("run-1", "run-1", at, &dataset.record_type().unwrap())
        .unwrap();
    retried.write(page(0, 100)).unwrap();
    retried.commit().unwrap();
    let mut second = dataset
        .begin_batch("run-2", "run-2", at, &dataset.record_type().unwrap())
        .unwrap();
    second.write(page(100, 150)).unwrap();
    second.commit().unwrap();
    // A batch in progress (never committed) is invisible, though two full row groups of it
    // (10,000 records each) are already written in staging.
    let mut pending = dataset
        .begin_batch("run-3", "run-3", at, &dataset.record_type().unwrap())
        .unwrap();
    pending.write(page(150, 25_150)).unwrap();
    assert_eq!(
        pending.buffered_records(),
        5_000,
        "two row groups were written"
    );
    let staged: u64 = std::fs::read_dir(pending.staging_dir())
        .unwrap()
        .map(|entry| entry.unwrap().metadata().unwrap().len())
        .sum();
    assert!(
        staged > 100_000,
        "row groups are on disk in staging: {staged} bytes"
    );

    let output = common::flowd()
        .args([
            "dataset",
            "head",
            "0123456789abcdef01234567",
            "-n",
            "1000",
            "--data-dir",
        ])
        .arg(data_dir.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut ids: Vec<i64> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            serde_json::from_str::<Value>(line).unwrap()["id"]
                .as_i64()
                .unwrap()
        })
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, (0..150).collect::<Vec<_>>());

    if !pyarrow_available() {
        assert!(
            std::env::var_os("FLOWD_REQUIRE_PYARROW").is_none(),
            "FLOWD_REQUIRE_PYARROW is set but pyarrow cannot be imported"
        );
        eprintln!("skipped the pyarrow half: python3 cannot import pyarrow (CI installs it)");
        return;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/read_dataset.py");
    let output = Command::new("python3")
        .arg(script)
        .arg(dataset.dir())
        .arg("id")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let read: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(read["rows"], 150);
    let mut ids: Vec<i64> = read["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_i64().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, (0..150).collect::<Vec<_>>());
    let columns: Vec<&str> = read["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|name| name.as_str().unwrap())
        .collect();
    for expected in [
        "id",
        "email",
        "tags",
        "merge",
        "_flowd_run_id",
        "_flowd_ingested_at",
    ] {
        assert!(columns.contains(&expected), "{columns:?}");
    }
    drop(pending);
}
