//! Object storage: one ad hoc run of the end-to-end measurement (`end_to_end.rs`: `flowd serve`,
//! the documented workflow, one run of every record of the mock into Parquet) into the local
//! data dir and then into an S3-compatible bucket (a moto server on loopback, as the tests
//! use), in the same run, with the peak RSS of `flowd serve` for each.

use std::path::Path;
use std::process::ExitCode;

use flowd_sink::moto::MotoServer;

use crate::end_to_end::{self, EndToEndRun};
use crate::mock::MockServer;
use crate::report::{Row, thousands};

fn megabytes(kib: u64) -> f64 {
    kib as f64 * 1024.0 / 1e6
}

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
    let mut records = 1_000_000_usize;
    let mut arguments = std::env::args().skip(2);
    while let Some(flag) = arguments.next() {
        match (
            flag.as_str(),
            arguments.next().and_then(|value| value.parse().ok()),
        ) {
            ("--records", Some(n)) if n > 0 => records = n,
            _ => {
                eprintln!("usage: flowd-bench object-storage [--records N (default 1000000)]");
                return ExitCode::from(2);
            }
        }
    }
    let located = std::env::current_exe()
        .map_err(|e| format!("cannot locate this binary: {e}"))
        .and_then(|exe| {
            exe.parent()
                .map(Path::to_path_buf)
                .ok_or_else(|| "this binary has no directory".to_owned())
        });
    let outcome = located
        .and_then(|dir| {
            Ok((
                crate::binary(&dir, "flowd")?,
                crate::binary(&dir, "flowd-mockapi")?,
            ))
        })
        .and_then(|(flowd, mockapi)| run(&flowd, &mockapi, records));
    match outcome {
        Ok(rows) => {
            println!(
                "{}\n\nMachine: {}",
                crate::report::table(&rows),
                crate::report::machine()
            );
            if rows.iter().any(|row| row.met == Some(false)) {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(error) => {
            eprintln!("flowd-bench: {error}");
            ExitCode::from(2)
        }
    }
}
