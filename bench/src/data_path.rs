//! `flowd-bench data-path`: the data path at three sizes, in one run.
//!
//! For 100,000, 1,000,000 and 5,000,000 generated records (~350 bytes, 100 per page, one
//! `flowd-mockapi` per size): the floor (sequential GET + parse into `serde_json::Value`, in
//! this process), `flowd spec test --format jsonl > /dev/null`, and one ad hoc run through
//! `flowd serve` into committed Parquet (`end_to_end.rs`), with peak RSS and CPU time. Then
//! dlt's `rest_api` into Parquet on the 100,000-record mock (installed into a throwaway venv;
//! skipped with the reason when it cannot be), and a scheduled run's concurrent fetching: the
//! same run with `flowd.pageConcurrency` 1 and 8 against a mock answering each page after
//! 100 ms.

use std::path::Path;
use std::process::ExitCode;

use serde_json::json;

use crate::end_to_end::{self, EndToEndRun};
use crate::mock::MockServer;
use crate::report::{Row, megabytes, per_second, thousands};
use crate::{dlt, engine, floor};

/// Targets of issue 13.
const MIN_SPEC_TEST_TO_FLOOR: f64 = 1.5;
const MIN_END_TO_END_TO_SPEC_TEST: f64 = 0.9;
const MAX_SERVE_RSS_BYTES: f64 = 64e6;
const MAX_SERVE_RSS_SPREAD: f64 = 1.2;
const MIN_END_TO_END_TO_DLT: f64 = 12.0;
const MIN_CONCURRENT_SPEEDUP: f64 = 6.0;

/// Records of the mock the concurrent-fetching runs read, and its latency per page.
const LATENCY_RECORDS: usize = 10_000;
const LATENCY_MS: u64 = 100;
const PAGE_CONCURRENCY: u64 = 8;

/// What one size measured.
struct Size {
    records: usize,
    floor: f64,
    spec_test: f64,
    spec_test_rss_kib: u64,
    end_to_end: EndToEndRun,
}

fn measure_size(flowd: &Path, mockapi: &Path, records: usize, work: &Path) -> Result<Size, String> {
    let mock = MockServer::start(mockapi, records, 0)?;
    let spec = work.join(format!("offset-{records}.json"));
    std::fs::write(
        &spec,
        serde_json::to_string_pretty(&engine::offset_spec(mock.base_url()))
            .map_err(|e| e.to_string())?,
    )
    .map_err(|e| format!("writing {}: {e}", spec.display()))?;
    // Warm-up (not measured): the server's first connection and page cache.
    floor::run(mock.base_url())?;
    let floor = floor::run(mock.base_url())?;
    let floor_rate = per_second(floor.records as f64, floor.wall);
    eprintln!("{records}: floor {} records/s", thousands(floor_rate));
    let engine = engine::run(flowd, &spec, 1)?;
    if engine.records != records as u64 {
        return Err(format!(
            "spec test delivered {} of {records} records",
            engine.records
        ));
    }
    let spec_test = per_second(engine.records as f64, engine.wall);
    eprintln!(
        "{records}: spec test {} records/s, peak RSS {:.1} MB",
        thousands(spec_test),
        megabytes(engine.peak_rss_kib)
    );
    let end_to_end = end_to_end::run(flowd, &mock, &work.join(format!("serve-{records}")))?;
    eprintln!(
        "{records}: end to end {} records/s, peak RSS {:.1} MB, CPU {:.2} s",
        thousands(per_second(
            end_to_end.output_records as f64,
            end_to_end.wall
        )),
        megabytes(end_to_end.peak_rss_kib),
        end_to_end.cpu_user + end_to_end.cpu_system
    );
    Ok(Size {
        records,
        floor: floor_rate,
        spec_test,
        spec_test_rss_kib: engine.peak_rss_kib,
        end_to_end,
    })
}

fn size_rows(size: &Size) -> Vec<Row> {
    let n = thousands(size.records as f64);
    let run = &size.end_to_end;
    let end_to_end = per_second(run.output_records as f64, run.wall);
    let cpu = run.cpu_user + run.cpu_system;
    vec![
        Row::info(
            format!("{n} records: floor (sequential GET + parse into `Value`)"),
            format!("{} records/s", thousands(size.floor)),
        ),
        Row::info(
            format!("{n} records: `flowd spec test --format jsonl > /dev/null`"),
            format!(
                "{} records/s, peak RSS {:.1} MB",
                thousands(size.spec_test),
                megabytes(size.spec_test_rss_kib)
            ),
        ),
        Row::check(
            format!("{n} records: spec test / floor"),
            format!("{:.2}×", size.spec_test / size.floor),
            format!("≥ {MIN_SPEC_TEST_TO_FLOOR}×"),
            size.spec_test / size.floor >= MIN_SPEC_TEST_TO_FLOOR,
        ),
        Row::info(
            format!("{n} records: end to end (`flowd serve`, `POST /runs` to `success`)"),
            format!(
                "{} records/s ({:.2} s)",
                thousands(end_to_end),
                run.wall.as_secs_f64()
            ),
        ),
        Row::check(
            format!("{n} records: end to end / spec test"),
            format!("{:.2}×", end_to_end / size.spec_test),
            format!("≥ {MIN_END_TO_END_TO_SPEC_TEST}×"),
            end_to_end / size.spec_test >= MIN_END_TO_END_TO_SPEC_TEST,
        ),
        Row::check(
            format!("{n} records: peak RSS of `flowd serve` (idle before the run)"),
            format!(
                "{:.1} MB ({:.1} MB)",
                megabytes(run.peak_rss_kib),
                megabytes(run.idle_rss_kib)
            ),
            format!("≤ {:.0} MB", MAX_SERVE_RSS_BYTES / 1e6),
            megabytes(run.peak_rss_kib) * 1e6 <= MAX_SERVE_RSS_BYTES,
        ),
        Row::info(
            format!("{n} records: CPU time of `flowd serve` (user + system; per 1,000 records)"),
            format!(
                "{:.2} s + {:.2} s ({:.2} ms per 1,000 records; {:.0}% of the wall time)",
                run.cpu_user,
                run.cpu_system,
                cpu * 1e3 / (run.output_records.max(1) as f64 / 1e3),
                100.0 * cpu / run.wall.as_secs_f64().max(1e-9)
            ),
        ),
        Row::check(
            format!("{n} records: in the run's metrics and in the dataset's Parquet"),
            format!(
                "{} and {} ({} batch; {:.1} MB)",
                thousands(run.output_records as f64),
                thousands(run.dataset_records as f64),
                run.batches,
                run.parquet_bytes as f64 / 1e6
            ),
            "every record",
            run.output_records == size.records as u64 && run.dataset_records == size.records as u64,
        ),
    ]
}

pub fn run(flowd: &Path, mockapi: &Path, sizes: &[usize]) -> Result<Vec<Row>, String> {
    let work = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
    let mut measured = Vec::new();
    for &records in sizes {
        measured.push(measure_size(flowd, mockapi, records, work.path())?);
    }
    let mut rows: Vec<Row> = measured.iter().flat_map(size_rows).collect();
    let peaks: Vec<f64> = measured
        .iter()
        .map(|size| megabytes(size.end_to_end.peak_rss_kib))
        .collect();
    let smallest = peaks.iter().copied().fold(f64::INFINITY, f64::min);
    let largest = peaks.iter().copied().fold(0.0, f64::max);
    rows.push(Row::check(
        "peak RSS of `flowd serve`, largest / smallest size",
        format!("{:.2}×", largest / smallest.max(1e-9)),
        format!("≤ {MAX_SERVE_RSS_SPREAD}× (within 20%)"),
        largest / smallest.max(1e-9) <= MAX_SERVE_RSS_SPREAD,
    ));

    // dlt on the smallest size's mock.
    let dlt_records = sizes.iter().copied().min().unwrap_or(100_000);
    let mock = MockServer::start(mockapi, dlt_records, 0)?;
    let flowd_rate = measured
        .iter()
        .find(|size| size.records == dlt_records)
        .map(|size| per_second(size.end_to_end.output_records as f64, size.end_to_end.wall));
    match dlt::run(&work.path().join("dlt"), mock.base_url()) {
        Ok(run) if run.records == dlt_records as u64 => {
            let rate = per_second(run.records as f64, run.wall);
            eprintln!("dlt {}: {} records/s", run.version, thousands(rate));
            rows.push(Row::info(
                format!(
                    "{} records: dlt {} `rest_api` → Parquet (`pipeline.run` only)",
                    thousands(dlt_records as f64),
                    run.version
                ),
                format!(
                    "{} records/s ({:.2} s)",
                    thousands(rate),
                    run.wall.as_secs_f64()
                ),
            ));
            if let Some(flowd_rate) = flowd_rate {
                rows.push(Row::check(
                    format!(
                        "{} records: flowd end to end / dlt",
                        thousands(dlt_records as f64)
                    ),
                    format!("{:.1}×", flowd_rate / rate),
                    format!("≥ {MIN_END_TO_END_TO_DLT}×"),
                    flowd_rate / rate >= MIN_END_TO_END_TO_DLT,
                ));
            }
        }
        Ok(run) => rows.push(Row::check(
            "dlt `rest_api` → Parquet",
            format!("delivered {} of {dlt_records} records", run.records),
            "every record",
            false,
        )),
        Err(reason) => {
            eprintln!("dlt skipped: {reason}");
            rows.push(Row::info(
                "dlt `rest_api` → Parquet",
                format!("skipped: {reason}"),
            ));
        }
    }
    drop(mock);

    // A scheduled run's concurrent fetching on a slow upstream.
    let slow = MockServer::start(mockapi, LATENCY_RECORDS, LATENCY_MS)?;
    let mut walls = Vec::new();
    for pages in [1, PAGE_CONCURRENCY] {
        let run = end_to_end::run_with_source(
            flowd,
            &slow,
            &work.path().join(format!("slow-{pages}")),
            &json!({"flowd": {"pageConcurrency": pages}}),
        )?;
        eprintln!(
            "pageConcurrency {pages}: {:.2} s for {} records",
            run.wall.as_secs_f64(),
            run.output_records
        );
        if run.dataset_records != LATENCY_RECORDS as u64 {
            return Err(format!(
                "pageConcurrency {pages}: {} of {LATENCY_RECORDS} records in the dataset",
                run.dataset_records
            ));
        }
        rows.push(Row::info(
            format!(
                "{} records, {LATENCY_MS} ms per page: one run with `flowd.pageConcurrency` {pages}",
                thousands(LATENCY_RECORDS as f64)
            ),
            format!("{:.2} s", run.wall.as_secs_f64()),
        ));
        walls.push(run.wall.as_secs_f64());
    }
    let speedup = walls[0] / walls[1].max(1e-9);
    rows.push(Row::check(
        format!("speed-up of pageConcurrency {PAGE_CONCURRENCY} over 1"),
        format!("{speedup:.1}×"),
        format!("≥ {MIN_CONCURRENT_SPEEDUP}×"),
        speedup >= MIN_CONCURRENT_SPEEDUP,
    ));
    Ok(rows)
}

/// `flowd-bench data-path [--sizes N,N,N]`.
pub fn command() -> ExitCode {
    let mut sizes = vec![100_000_usize, 1_000_000, 5_000_000];
    let mut arguments = std::env::args().skip(2);
    while let Some(flag) = arguments.next() {
        let parsed = arguments.next().and_then(|value| {
            value
                .split(',')
                .map(|size| size.trim().parse().ok().filter(|n: &usize| *n > 0))
                .collect::<Option<Vec<usize>>>()
        });
        match (flag.as_str(), parsed) {
            ("--sizes", Some(list)) if !list.is_empty() => sizes = list,
            _ => {
                eprintln!(
                    "usage: flowd-bench data-path [--sizes N,N,… (default 100000,1000000,5000000)]"
                );
                return ExitCode::from(2);
            }
        }
    }
    crate::report::finish(
        crate::binaries(None).and_then(|(flowd, mockapi)| run(&flowd, &mockapi, &sizes)),
    )
}
