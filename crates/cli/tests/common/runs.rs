//! Helpers of tests that run flows end to end: schedules with due windows, members spread
//! over a window, and what a reader of the dataset directory sees.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

/// One window of `frequency: minute, interval: 15` is due per 15 minutes
/// before now; returns `(startTime, start of the first window)` for a flow
/// with `windows` due windows (backfill off).
pub fn schedule_with_due_windows(windows: i64) -> (i64, i64) {
    let now = jiff::Timestamp::now().as_second();
    let start_time = now - (windows - 1) * 15 * 60 - 60;
    (start_time, start_time - 15 * 60)
}

pub fn schedule_params(start_time: i64) -> Value {
    json!({"startTime": start_time.to_string(), "frequency": "minute", "interval": "15", "backfill": "false"})
}

/// `count` members with ids `0..count` whose `last_changed` spreads evenly
/// over `[from, from + span_seconds)`.
pub fn members(count: i64, from: i64, span_seconds: i64) -> Vec<Value> {
    (0..count)
        .map(|id| {
            let changed = jiff::Timestamp::from_second(from + id * span_seconds / count).unwrap();
            json!({"id": id, "email_address": format!("m{id}@example.com"), "last_changed": changed.to_string()})
        })
        .collect()
}

/// Every `*.parquet` file under `dir`, at any depth.
pub fn parquet_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.map(Result::unwrap) {
        let path = entry.path();
        if path.is_dir() {
            found.extend(parquet_files(&path));
        } else if path
            .extension()
            .is_some_and(|extension| extension == "parquet")
        {
            found.push(path);
        }
    }
    found
}

pub fn member_ids(data_dir: &Path, dataset_id: &str) -> Vec<i64> {
    let dataset = flowd_sink::Dataset::open(data_dir.join("datasets"), dataset_id).unwrap();
    let mut ids: Vec<i64> = dataset
        .head(1_000_000)
        .unwrap()
        .iter()
        .map(|record| record["member"]["id"].as_i64().unwrap())
        .collect();
    ids.sort_unstable();
    ids
}

/// Whether `python3` can import pyarrow (the tests' pyarrow halves skip, saying so, when it
/// cannot); with `FLOWD_REQUIRE_PYARROW` set, as CI sets it, a missing pyarrow fails the test.
pub fn pyarrow_available() -> bool {
    let probe = std::process::Command::new("python3")
        .args(["-c", "import pyarrow.dataset"])
        .output();
    if probe.is_ok_and(|output| output.status.success()) {
        return true;
    }
    assert!(
        std::env::var_os("FLOWD_REQUIRE_PYARROW").is_none(),
        "FLOWD_REQUIRE_PYARROW is set but pyarrow cannot be imported"
    );
    eprintln!("skipped the pyarrow half: python3 cannot import pyarrow (CI installs it)");
    false
}
