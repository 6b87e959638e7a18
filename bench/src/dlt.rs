//! dlt's `rest_api` source into Parquet files, on the same mock: the Python tool people use for
//! this today, installed into a throwaway virtual environment by the benchmark itself.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The pipeline dlt runs: the mock's `/offset` route, 100 records per page, `items` as the
/// records, loaded as Parquet into a local filesystem destination. Only `pipeline.run` is
/// timed (Python's start-up and dlt's import are left out, in dlt's favour).
const SCRIPT: &str = r#"
import json, sys, time
import dlt
from dlt.sources.rest_api import rest_api_source

base_url, out_dir, pipelines_dir = sys.argv[1], sys.argv[2], sys.argv[3]
source = rest_api_source({
    "client": {
        "base_url": base_url,
        "paginator": {"type": "offset", "limit": 100, "offset_param": "offset",
                      "limit_param": "limit", "total_path": "total_items"},
    },
    "resources": [{"name": "items", "endpoint": {"path": "offset", "data_selector": "items"}}],
})
pipeline = dlt.pipeline(pipeline_name="flowd_bench", pipelines_dir=pipelines_dir,
                        destination=dlt.destinations.filesystem(bucket_url=out_dir),
                        dataset_name="bench")
started = time.monotonic()
pipeline.run(source, loader_file_format="parquet")
wall = time.monotonic() - started
rows = pipeline.last_trace.last_normalize_info.row_counts.get("items", 0)
print(json.dumps({"rows": rows, "seconds": wall}))
"#;

/// What dlt did.
pub struct DltRun {
    pub version: String,
    pub records: u64,
    pub wall: Duration,
}

/// Installs dlt into `work_dir/venv` and runs the pipeline against `base_url`; `Err` says why
/// it could not (no Python, no network to PyPI…), which the report shows as skipped.
pub fn run(work_dir: &Path, base_url: &str) -> Result<DltRun, String> {
    let venv = work_dir.join("venv");
    let python = venv.join("bin").join("python");
    run_quietly(
        Command::new("python3").arg("-m").arg("venv").arg(&venv),
        "python3 -m venv",
    )?;
    eprintln!("dlt: installing dlt[parquet] into a throwaway virtual environment");
    run_quietly(
        Command::new(&python).args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "dlt[parquet]",
        ]),
        "pip install dlt[parquet]",
    )?;
    let version = Command::new(&python)
        .args(["-c", "import dlt; print(dlt.__version__)"])
        .output()
        .ok()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        .unwrap_or_default();
    let script = work_dir.join("run_dlt.py");
    std::fs::write(&script, SCRIPT).map_err(|e| format!("writing the dlt script: {e}"))?;
    let out_dir = work_dir.join("out");
    let output = Command::new(&python)
        .arg(&script)
        .arg(base_url)
        .arg(format!("file://{}", out_dir.display()))
        .arg(work_dir.join("pipelines"))
        .env("RUNTIME__LOG_LEVEL", "WARNING")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run the dlt pipeline: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "the dlt pipeline failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
                .lines()
                .last()
                .unwrap_or_default()
        ));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    let result: serde_json::Value = serde_json::from_str(line)
        .map_err(|e| format!("the dlt pipeline printed no result ({e}): {line:?}"))?;
    Ok(DltRun {
        version,
        records: result["rows"].as_u64().unwrap_or(0),
        wall: Duration::from_secs_f64(result["seconds"].as_f64().unwrap_or(0.0)),
    })
}

fn run_quietly(command: &mut Command, what: &str) -> Result<(), String> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{what}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
                .lines()
                .last()
                .unwrap_or_default()
        ))
    }
}
