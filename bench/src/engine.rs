//! The engine: `flowd spec test SPEC --format jsonl > /dev/null` as a child
//! process, timed from spawn to exit, with its peak RSS.
//!
//! Peak RSS is the kernel's high-water mark (`VmHWM` in `/proc/<pid>/status`),
//! polled every few milliseconds while the process runs; the mark only grows,
//! so the last reading is the peak up to at most one poll interval before
//! exit. (`getrusage(RUSAGE_CHILDREN)` would need `unsafe`, which the
//! workspace forbids, and mixes in the mock servers' figures.)

use std::io::Read as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

/// How often `VmHWM` is read and the child polled for exit.
const POLL: Duration = Duration::from_millis(5);

/// The OFFSET connection spec the engine runs against the mock at `base_url`.
pub fn offset_spec(base_url: &str) -> serde_json::Value {
    json!({
        "name": "flowd-bench offset source",
        "description": "OFFSET pagination over the mock API's /offset route",
        "type": "generic-rest",
        "providerId": "0ed90a81-07f4-4586-8190-b40eccef1c5a",
        "version": "1.0",
        "authSpec": [{
            "name": "Basic Authentication",
            "type": "BasicAuthentication",
            "spec": {
                "$schema": "http://json-schema.org/draft-07/schema#",
                "type": "object",
                "properties": {
                    "username": {"type": "string"},
                    "password": {"type": "string", "format": "password"}
                }
            }
        }],
        "sourceSpec": {
            "attributes": {
                "uiAttributes": {"isSource": true, "label": {"text": "flowd-bench"}},
                "urlParams": {"host": base_url, "path": "/offset", "method": "GET"},
                "contentPath": {"path": "$.items"},
                "paginationParams": {
                    "type": "OFFSET",
                    "limitName": "limit",
                    "limitValue": "100",
                    "offSetName": "offset"
                }
            },
            "spec": {
                "$schema": "http://json-schema.org/draft-07/schema#",
                "type": "object",
                "properties": {}
            }
        },
        "exploreSpec": {
            "name": "Resource",
            "type": "Resource",
            "requestSpec": {
                "$schema": "http://json-schema.org/draft-07/schema#",
                "type": "object"
            },
            "responseSpec": {
                "$schema": "http://json-schema.org/draft-07/schema#",
                "type": "object",
                "properties": {
                    "data": {"type": "array", "items": {"type": "object"}}
                }
            }
        }
    })
}

/// One engine run.
pub struct EngineRun {
    /// Records flowd's summary line reports.
    pub records: u64,
    pub wall: Duration,
    /// Peak resident set size, in KiB.
    pub peak_rss_kib: u64,
}

/// Runs `flowd spec test SPEC --format jsonl --concurrency K`, stdout to
/// `/dev/null`.
pub fn run(flowd: &Path, spec: &Path, concurrency: usize) -> Result<EngineRun, String> {
    let started = Instant::now();
    let mut child = Command::new(flowd)
        .arg("spec")
        .arg("test")
        .arg(spec)
        .args([
            "--format",
            "jsonl",
            "--concurrency",
            &concurrency.to_string(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", flowd.display()))?;
    // stderr carries the first pages, progress lines and the summary: drain
    // it on a thread so the child never blocks on a full pipe.
    let mut stderr = child.stderr.take().ok_or("no stderr pipe")?;
    let drain = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak_rss_kib = 0;
    let status = loop {
        if let Some(kib) = read_vm_hwm(&status_path) {
            peak_rss_kib = peak_rss_kib.max(kib);
        }
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => std::thread::sleep(POLL),
            Err(e) => return Err(format!("waiting for flowd: {e}")),
        }
    };
    let wall = started.elapsed();
    let stderr = drain.join().unwrap_or_default();
    if !status.success() {
        return Err(format!("flowd spec test failed ({status}):\n{stderr}"));
    }
    let records = summary_records(&stderr)
        .ok_or_else(|| format!("no summary line in flowd's stderr:\n{stderr}"))?;
    Ok(EngineRun {
        records,
        wall,
        peak_rss_kib,
    })
}

/// `VmHWM:   12345 kB` → 12345; `None` once the process is gone.
fn read_vm_hwm(status_path: &str) -> Option<u64> {
    let status = std::fs::read_to_string(status_path).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The record count of `summary: P pages, R records, ...`.
fn summary_records(stderr: &str) -> Option<u64> {
    let line = stderr
        .lines()
        .rev()
        .find_map(|line| line.strip_prefix("summary: "))?;
    let (_, rest) = line.split_once(" pages, ")?;
    rest.split_once(" records")?.0.parse().ok()
}
