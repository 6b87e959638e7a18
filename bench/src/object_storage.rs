//! Object storage: one ad hoc run of the end-to-end measurement (`end_to_end.rs`: `flowd serve`,
//! the documented workflow, one run of every record of the mock into Parquet) into the local
//! data dir and then into an S3-compatible bucket (a moto server on loopback, as the tests
//! use), in the same run, with the peak RSS of `flowd serve` for each.

use std::path::Path;
use std::process::ExitCode;

use flowd_sink::moto::MotoServer;

use crate::end_to_end::{self, EndToEndRun};
use crate::mock::MockServer;
use crate::report::{Row, megabytes, thousands};

fn describe(run: &EndToEndRun) -> String {
    format!(
        "{} records in {:.1} s ({} records/s), peak RSS {:.1} MB",
        thousands(run.output_records as f64),
        run.wall.as_secs_f64(),
        thousands(run.output_records as f64 / run.wall.as_secs_f64()),
        megabytes(run.peak_rss_kib)
    )
}

pub fn run(flowd: &Path, mockapi: &Path, records: usize) -> Result<Vec<Row>, String> {
    let s3 = MotoServer::start()?;
    let mock = MockServer::start(mockapi, records, 0)?;
    let work = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
    eprintln!("object storage: {records} records to the local data dir");
    let local = end_to_end::run(flowd, &mock, &work.path().join("local"))?;
    eprintln!("  {}", describe(&local));
    eprintln!(
        "object storage: {records} records to s3://{}/bench",
        s3.bucket()
    );
    let environment = s3.environment();
    let environment: Vec<(&str, &str)> = environment
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    let url = format!("s3://{}/bench", s3.bucket());
    let object = end_to_end::run_into(
        flowd,
        &mock,
        &work.path().join("s3"),
        Some(&url),
        &environment,
    )?;
    eprintln!("  {}", describe(&object));
    let complete = |run: &EndToEndRun| {
        run.output_records == records as u64 && run.dataset_records == records as u64
    };
    let ratio = megabytes(object.peak_rss_kib) / megabytes(local.peak_rss_kib).max(1e-9);
    Ok(vec![
        Row::check(
            "end to end into the local data dir",
            describe(&local),
            "every record committed",
            complete(&local),
        ),
        Row::check(
            "end to end into S3 (moto on loopback)",
            describe(&object),
            "every record committed",
            complete(&object),
        ),
        Row::info(
            "peak RSS, S3 / local",
            format!(
                "{ratio:.2}× ({:.1} MB more)",
                megabytes(object.peak_rss_kib) - megabytes(local.peak_rss_kib)
            ),
        ),
    ])
}

/// `flowd-bench object-storage [--records N]`.
pub fn command() -> ExitCode {
    match crate::records_option("object-storage", 1_000_000) {
        Ok(records) => crate::report::finish(
            crate::binaries(None).and_then(|(flowd, mockapi)| run(&flowd, &mockapi, records)),
        ),
        Err(usage) => usage,
    }
}
