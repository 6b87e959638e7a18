//! `flowd-bench compression [--records N]`: the Parquet codec of datasets, chosen by
//! measurement. The same records (the mock's generated records, as page text, 100 per page)
//! are written as one batch through the dataset writer with each codec, in this process, one
//! after the other, each twice (the faster pass counts); the figures are the write's wall
//! time (text observed, decoded into Arrow, encoded, compressed, fsynced and published), the
//! process's CPU time meanwhile (encoding runs on a thread of its own, so a codec's cost shows
//! in CPU more than in wall time on a machine with a core to spare) and the size of the
//! Parquet it left, each against snappy's in the same run.

use std::ops::Range;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use bytestring::ByteString;
use flowd_model::records::{RecordTexts, Records};
use flowd_sink::{DatasetStore, LocalDatasets, WriterOptions};
use parquet::basic::{Compression, ZstdLevel};

use crate::report::{Row, thousands};

const RECORDS_PER_PAGE: usize = 100;

/// The mock's records as pages of text.
fn pages(records: usize) -> Vec<(ByteString, Vec<Range<usize>>)> {
    (0..records)
        .step_by(RECORDS_PER_PAGE)
        .map(|first| {
            let mut text = String::from("[");
            let mut spans = Vec::new();
            for index in first..(first + RECORDS_PER_PAGE).min(records) {
                if index > first {
                    text.push(',');
                }
                let start = text.len();
                text.push_str(&flowd_mockapi::generated_record(index).to_string());
                spans.push(start..text.len());
            }
            text.push(']');
            (ByteString::from(text), spans)
        })
        .collect()
}

/// CPU time of this process so far (user + system), from `/proc/self/stat`.
fn process_cpu() -> Duration {
    let ticks = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            let rest = stat.rsplit_once(')')?.1.to_owned();
            let fields: Vec<u64> = rest
                .split_whitespace()
                .skip(11)
                .take(2)
                .filter_map(|field| field.parse().ok())
                .collect();
            Some(fields.iter().sum::<u64>())
        })
        .unwrap_or(0);
    // Linux reports these in clock ticks of 100 per second.
    Duration::from_millis(ticks * 10)
}

/// One batch of every page with `compression`: (wall time, CPU time, Parquet bytes).
fn write_once(
    pages: &[(ByteString, Vec<Range<usize>>)],
    compression: Compression,
) -> Result<(Duration, Duration, u64), String> {
    let dir = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
    let datasets = LocalDatasets::new(dir.path()).with_writer_options(WriterOptions {
        compression,
        ..WriterOptions::default()
    });
    let started = Instant::now();
    let cpu_before = process_cpu();
    let mut batch = datasets
        .begin_batch(
            "0123456789abcdef01234567",
            "batch",
            "run",
            jiff::Timestamp::now(),
            &Default::default(),
        )
        .map_err(|e| e.to_string())?;
    for (text, spans) in pages {
        batch
            .write_records(Records::Text(RecordTexts::new(text.clone(), spans.clone())))
            .map_err(|e| e.to_string())?;
    }
    let summary = batch.commit().map_err(|e| e.to_string())?;
    Ok((
        started.elapsed(),
        process_cpu().saturating_sub(cpu_before),
        summary.batch.bytes,
    ))
}

pub fn run(records: usize) -> Result<Vec<Row>, String> {
    eprintln!("compression: generating {records} records");
    let pages = pages(records);
    let json_bytes: usize = pages.iter().map(|(text, _)| text.len()).sum();
    let codecs = [
        ("snappy (the earlier default)", Compression::SNAPPY),
        ("uncompressed", Compression::UNCOMPRESSED),
        ("lz4 (raw)", Compression::LZ4_RAW),
        (
            "zstd level 1 (flowd's choice)",
            Compression::ZSTD(ZstdLevel::try_new(1).map_err(|e| e.to_string())?),
        ),
        (
            "zstd level 3",
            Compression::ZSTD(ZstdLevel::try_new(3).map_err(|e| e.to_string())?),
        ),
        (
            "zstd level 9",
            Compression::ZSTD(ZstdLevel::try_new(9).map_err(|e| e.to_string())?),
        ),
    ];
    let mut measured = Vec::new();
    for (name, compression) in codecs {
        let mut best: Option<(Duration, Duration, u64)> = None;
        for _ in 0..2 {
            let pass = write_once(&pages, compression)?;
            if best.is_none_or(|(wall, _, _)| pass.0 < wall) {
                best = Some(pass);
            }
        }
        let (wall, cpu, bytes) = best.expect("two passes");
        eprintln!(
            "  {name}: {:.2} s, CPU {:.2} s, {:.1} MB",
            wall.as_secs_f64(),
            cpu.as_secs_f64(),
            bytes as f64 / 1e6
        );
        measured.push((name, wall, cpu, bytes));
    }
    let (_, snappy_wall, snappy_cpu, snappy_bytes) = measured[0];
    let mut rows = vec![Row::info(
        "input",
        format!(
            "{} records, {:.1} MB of JSON, written as one batch",
            thousands(records as f64),
            json_bytes as f64 / 1e6
        ),
    )];
    for (name, wall, cpu, bytes) in measured {
        rows.push(Row::info(
            format!("{name}: write time; CPU time; Parquet size"),
            format!(
                "{:.2} s ({} records/s, {:.2}× snappy's); {:.2} s ({:.2}× snappy's); {:.1} MB ({:.2}× snappy's size, {:.1}× smaller than the JSON)",
                wall.as_secs_f64(),
                thousands(records as f64 / wall.as_secs_f64().max(1e-9)),
                wall.as_secs_f64() / snappy_wall.as_secs_f64().max(1e-9),
                cpu.as_secs_f64(),
                cpu.as_secs_f64() / snappy_cpu.as_secs_f64().max(1e-9),
                bytes as f64 / 1e6,
                bytes as f64 / snappy_bytes.max(1) as f64,
                json_bytes as f64 / bytes.max(1) as f64
            ),
        ));
    }
    Ok(rows)
}

/// `flowd-bench compression [--records N]`.
pub fn command() -> ExitCode {
    match crate::records_option("compression", 1_000_000) {
        Ok(records) => crate::report::finish(run(records)),
        Err(usage) => usage,
    }
}
