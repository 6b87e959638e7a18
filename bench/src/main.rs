//! `flowd-bench`: the engine's throughput, memory and speculative-mode
//! speed-up, measured in one run next to a plain fetch loop (the floor).
//!
//! Build and run (release, from the workspace root):
//!
//! ```text
//! cargo build --release -p flowd -p flowd-mockapi -p flowd-bench && target/release/flowd-bench
//! ```
//!
//! 1. Starts `flowd-mockapi` (a separate process, loopback) with 1,000,000
//!    generated records of ~300 bytes at 100 per page, and another with
//!    100,000.
//! 2. Each round, against the 1M server: the floor (sequential GET + parse
//!    into `serde_json::Value` + count, in this process), then the engine
//!    (`flowd spec test SPEC --format jsonl > /dev/null`, a child process,
//!    OFFSET spec), timed from spawn to exit, with its peak RSS.
//! 3. The engine against the 100k server, for peak RSS.
//! 4. A third server with 20 ms added latency and 20,000 records: the engine
//!    with `--concurrency 1` and `--concurrency 8`.
//! 5. End to end, against the 1M server: `flowd serve` (a child process,
//!    fresh data dir, one worker), the documented workflow over HTTP, one ad
//!    hoc `POST /runs` timed until the run succeeds, with the server's peak
//!    RSS; the dataset's record count is read back from the Parquet files
//!    (see `end_to_end.rs`).
//! 6. Prints a Markdown table on stdout (progress goes to stderr) and exits
//!    with 1 when a target is missed, 2 when the benchmark could not run.
//!
//! Figures are medians over the rounds (peak RSS: the maximum). This is a
//! binary, not a test: `cargo test` never runs it.
//!
//! `flowd-bench control-plane [--samples N]` measures the control plane
//! instead: planner ticks and API reads on a store with 10,000 flows and
//! 1,000,000 runs next to one with 10 flows and 100 runs (see
//! `control_plane.rs`).
//!
//! `flowd-bench data-path [--sizes N,N,N]` measures the data path at 100,000, 1,000,000 and
//! 5,000,000 records (floor, `spec test`, end to end), dlt's `rest_api` on the same mock, and
//! a scheduled run's concurrent page fetching (see `data_path.rs`).
//!
//! `flowd-bench compression [--records N]` writes the same records with each Parquet codec
//! (see `compression.rs`).
//!
//! `flowd-bench mapping [--records N]` compares a run with a 20-field Data Prep mapping into a
//! typed dataset with the same run without one (see `mapping.rs`).
//!
//! `flowd-bench fleet [--flows N] [--windows N] [--bin-dir DIR]` measures tiny runs per second
//! with one process on SQLite, one on PostgreSQL and three on one PostgreSQL, and the API's
//! list latency meanwhile (see `fleet.rs`).

mod compression;
mod control_plane;
mod data_path;
mod dlt;
mod end_to_end;
mod engine;
mod fleet;
mod floor;
mod mapping;
mod mock;
mod object_storage;
mod proc_stats;
mod report;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use mock::MockServer;
use report::{Row, median, megabytes, thousands};

/// Targets from issue 3.
const MIN_ENGINE_TO_FLOOR: f64 = 0.8;
const MAX_PEAK_RSS_BYTES: f64 = 64e6;
const MAX_RSS_SPREAD: f64 = 1.2;
const MIN_SPECULATIVE_SPEEDUP: f64 = 5.0;
/// Not from an issue: `flowd serve` during a 1M-record run to Parquet stays
/// well below this (row groups of 10,000 records are flushed as they fill).
const MAX_END_TO_END_RSS_BYTES: f64 = 256e6;

const USAGE: &str = "usage: flowd-bench [--rounds N] [--records N] [--small-records N]
                   [--latency-records N] [--latency-ms MS] [--concurrency K] [--bin-dir DIR]

  --rounds N           measured repetitions of each figure (default 5)
  --records N          records of the large server (default 1000000)
  --small-records N    records of the small server, for peak RSS (default 100000)
  --latency-records N  records of the slow server (default 20000)
  --latency-ms MS      latency of the slow server (default 20)
  --concurrency K      speculative pages compared with 1 (default 8)
  --bin-dir DIR        where flowd and flowd-mockapi are (default: this binary's directory)";

struct Args {
    rounds: usize,
    records: usize,
    small_records: usize,
    latency_records: usize,
    latency_ms: u64,
    concurrency: usize,
    bin_dir: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        rounds: 5,
        records: 1_000_000,
        small_records: 100_000,
        latency_records: 20_000,
        latency_ms: 20,
        concurrency: 8,
        bin_dir: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            return Err(String::new());
        }
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = |v: &str| -> Result<usize, String> {
            v.parse()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("{flag} {v:?}: not a positive integer"))
        };
        match flag.as_str() {
            "--rounds" => args.rounds = number(&value)?,
            "--records" => args.records = number(&value)?,
            "--small-records" => args.small_records = number(&value)?,
            "--latency-records" => args.latency_records = number(&value)?,
            "--latency-ms" => args.latency_ms = number(&value)? as u64,
            "--concurrency" => args.concurrency = number(&value)?,
            "--bin-dir" => args.bin_dir = Some(PathBuf::from(value)),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(args)
}

fn control_plane_main() -> ExitCode {
    let mut samples = 400;
    let mut keep: Option<PathBuf> = None;
    let mut arguments = std::env::args().skip(2);
    while let Some(flag) = arguments.next() {
        match (flag.as_str(), arguments.next()) {
            ("--samples", Some(value)) if value.parse::<usize>().is_ok_and(|n| n >= 8) => {
                samples = value.parse().unwrap_or(samples);
            }
            ("--keep", Some(value)) => keep = Some(PathBuf::from(value)),
            _ => {
                eprintln!(
                    "usage: flowd-bench control-plane [--samples N (at least 8, default 400)] [--keep DIR (build the stores there once, reuse them later)]"
                );
                return ExitCode::from(2);
            }
        }
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("flowd-bench: {error}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(control_plane::run(samples, keep.as_deref())) {
        Ok(rows) => {
            println!("{}\n\nMachine: {}", report::table(&rows), report::machine());
            if rows.iter().any(|row| row.met == Some(false)) {
                eprintln!("flowd-bench: at least one target was missed");
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

fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("control-plane") {
        return control_plane_main();
    }
    if std::env::args().nth(1).as_deref() == Some("fleet") {
        return fleet::command();
    }
    if std::env::args().nth(1).as_deref() == Some("object-storage") {
        return object_storage::command();
    }
    if std::env::args().nth(1).as_deref() == Some("data-path") {
        return data_path::command();
    }
    if std::env::args().nth(1).as_deref() == Some("mapping") {
        return mapping::command();
    }
    if std::env::args().nth(1).as_deref() == Some("compression") {
        return compression::command();
    }
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("flowd-bench: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(if e.is_empty() { 0 } else { 2 });
        }
    };
    match bench(&args) {
        Ok(rows) => {
            println!("{}", report::table(&rows));
            if rows.iter().any(|row| row.met == Some(false)) {
                eprintln!("flowd-bench: at least one target was missed");
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("flowd-bench: {e}");
            ExitCode::from(2)
        }
    }
}

/// `flowd` and `flowd-mockapi` in `bin_dir`, or next to this binary.
pub(crate) fn binaries(bin_dir: Option<PathBuf>) -> Result<(PathBuf, PathBuf), String> {
    let dir = match bin_dir {
        Some(dir) => dir,
        None => std::env::current_exe()
            .map_err(|e| format!("cannot locate this binary: {e}"))?
            .parent()
            .map(Path::to_path_buf)
            .ok_or("this binary has no directory")?,
    };
    Ok((binary(&dir, "flowd")?, binary(&dir, "flowd-mockapi")?))
}

/// The value of `--records N`, a subcommand's only option; `Err` after printing its usage.
pub(crate) fn records_option(command: &str, default: usize) -> Result<usize, ExitCode> {
    let mut records = default;
    let mut arguments = std::env::args().skip(2);
    while let Some(flag) = arguments.next() {
        match (
            flag.as_str(),
            arguments.next().and_then(|value| value.parse().ok()),
        ) {
            ("--records", Some(n)) if n > 0 => records = n,
            _ => {
                eprintln!("usage: flowd-bench {command} [--records N (default {default})]");
                return Err(ExitCode::from(2));
            }
        }
    }
    Ok(records)
}

pub(crate) fn binary(dir: &Path, name: &str) -> Result<PathBuf, String> {
    let path = dir.join(name);
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "{} not found: run `cargo build --release -p flowd -p flowd-mockapi -p flowd-bench` first",
            path.display()
        ))
    }
}

fn write_spec(dir: &Path, name: &str, server: &MockServer) -> Result<PathBuf, String> {
    let path = dir.join(name);
    let spec = engine::offset_spec(server.base_url());
    let text = serde_json::to_string_pretty(&spec).map_err(|e| e.to_string())?;
    std::fs::write(&path, text).map_err(|e| format!("writing {}: {e}", path.display()))?;
    Ok(path)
}

fn per_second(records: usize, wall: Duration) -> f64 {
    report::per_second(records as f64, wall)
}

fn spread(values: &[f64]) -> String {
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!("{}–{}", thousands(min), thousands(max))
}

/// Runs an engine pass and checks it delivered every record.
fn engine_pass(
    flowd: &Path,
    spec: &Path,
    server: &MockServer,
    concurrency: usize,
    label: &str,
    delivered_ok: &mut bool,
) -> Result<engine::EngineRun, String> {
    let run = engine::run(flowd, spec, concurrency)?;
    eprintln!(
        "  {label}: {} records in {:.2} s = {} records/s, peak RSS {:.1} MB",
        run.records,
        run.wall.as_secs_f64(),
        thousands(per_second(run.records as usize, run.wall)),
        megabytes(run.peak_rss_kib)
    );
    if run.records != server.records() as u64 {
        eprintln!(
            "  {label}: expected {} records, flowd reported {}",
            server.records(),
            run.records
        );
        *delivered_ok = false;
    }
    Ok(run)
}

fn bench(args: &Args) -> Result<Vec<Row>, String> {
    let (flowd, mockapi) = binaries(args.bin_dir.clone())?;
    let specs = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
    eprintln!("flowd-bench on {}", report::machine());
    eprintln!("binaries: {}", flowd.parent().unwrap_or(&flowd).display());

    let mut delivered_ok = true;
    let large = MockServer::start(&mockapi, args.records, 0)?;
    let small = MockServer::start(&mockapi, args.small_records, 0)?;
    eprintln!(
        "mock servers: {} records at {}, {} records at {}",
        large.records(),
        large.base_url(),
        small.records(),
        small.base_url()
    );
    let large_spec = write_spec(specs.path(), "offset-large.json", &large)?;
    let small_spec = write_spec(specs.path(), "offset-small.json", &small)?;

    // Warm-up (not measured): page cache, both servers' first connections.
    floor::run(small.base_url())?;

    let mut floor_rates = Vec::new();
    let mut engine_rates = Vec::new();
    let mut large_rss = Vec::new();
    for round in 1..=args.rounds {
        eprintln!("round {round}/{}", args.rounds);
        let floor = floor::run(large.base_url())?;
        let rate = per_second(floor.records, floor.wall);
        eprintln!(
            "  floor, {} records: {} records in {:.2} s = {} records/s",
            large.records(),
            floor.records,
            floor.wall.as_secs_f64(),
            thousands(rate)
        );
        if floor.records != large.records() {
            delivered_ok = false;
        }
        floor_rates.push(rate);
        let run = engine_pass(
            &flowd,
            &large_spec,
            &large,
            1,
            &format!("engine, {} records", large.records()),
            &mut delivered_ok,
        )?;
        engine_rates.push(per_second(run.records as usize, run.wall));
        large_rss.push(run.peak_rss_kib);
    }
    let mut small_rates = Vec::new();
    let mut small_rss = Vec::new();
    for round in 1..=args.rounds {
        let run = engine_pass(
            &flowd,
            &small_spec,
            &small,
            1,
            &format!("engine, {} records, round {round}", small.records()),
            &mut delivered_ok,
        )?;
        small_rates.push(per_second(run.records as usize, run.wall));
        small_rss.push(run.peak_rss_kib);
    }
    drop(small);

    let slow = MockServer::start(&mockapi, args.latency_records, args.latency_ms)?;
    let slow_spec = write_spec(specs.path(), "offset-slow.json", &slow)?;
    eprintln!(
        "slow mock server: {} records, {} ms latency, at {}",
        slow.records(),
        args.latency_ms,
        slow.base_url()
    );
    let mut sequential_walls = Vec::new();
    let mut speculative_walls = Vec::new();
    for round in 1..=args.rounds {
        for (k, walls) in [
            (1, &mut sequential_walls),
            (args.concurrency, &mut speculative_walls),
        ] {
            let run = engine_pass(
                &flowd,
                &slow_spec,
                &slow,
                k,
                &format!("engine, --concurrency {k}, round {round}"),
                &mut delivered_ok,
            )?;
            walls.push(run.wall.as_secs_f64());
        }
    }
    drop(slow);

    // End to end, after everything else, against the same 1M server.
    eprintln!(
        "end to end: flowd serve, one ad hoc run of {} records to Parquet",
        large.records()
    );
    let e2e = end_to_end::run(&flowd, &large, specs.path())?;
    drop(large);
    let e2e_rate = per_second(e2e.output_records as usize, e2e.wall);
    eprintln!(
        "  end to end: {} records in {:.2} s = {} records/s, peak RSS {:.1} MB (idle {:.1} MB), \
         CPU {:.2} s user + {:.2} s system, {} batch(es), {} records in the dataset, \
         {:.1} MB of Parquet, inputBytes {}, outputBytes {}",
        e2e.output_records,
        e2e.wall.as_secs_f64(),
        thousands(e2e_rate),
        megabytes(e2e.peak_rss_kib),
        megabytes(e2e.idle_rss_kib),
        e2e.cpu_user,
        e2e.cpu_system,
        e2e.batches,
        e2e.dataset_records,
        e2e.parquet_bytes as f64 / 1e6,
        e2e.input_bytes,
        e2e.output_bytes,
    );
    let e2e_complete =
        e2e.output_records == args.records as u64 && e2e.dataset_records == args.records as u64;

    let floor_rate = median(&floor_rates);
    let engine_rate = median(&engine_rates);
    let ratio = engine_rate / floor_rate;
    let round_ratios: Vec<f64> = engine_rates
        .iter()
        .zip(&floor_rates)
        .map(|(engine, floor)| engine / floor)
        .collect();
    let large_peak = large_rss.iter().copied().max().unwrap_or(0);
    let small_peak = small_rss.iter().copied().max().unwrap_or(0);
    let rss_spread = large_peak.max(small_peak) as f64 / large_peak.min(small_peak).max(1) as f64;
    let sequential = median(&sequential_walls);
    let speculative = median(&speculative_walls);
    let speedup = sequential / speculative;
    let n = args.rounds;
    let big = thousands(args.records as f64);
    let little = thousands(args.small_records as f64);
    Ok(vec![
        Row::info(
            format!("Floor: sequential GET + parse, {big} records (median of {n}; range)"),
            format!(
                "{} records/s ({})",
                thousands(floor_rate),
                spread(&floor_rates)
            ),
        ),
        Row::info(
            format!(
                "Engine: `flowd spec test --format jsonl > /dev/null`, {big} records (median of {n}; range)"
            ),
            format!(
                "{} records/s ({})",
                thousands(engine_rate),
                spread(&engine_rates)
            ),
        ),
        Row::check(
            "Engine / floor records/s (ratio of the medians; per-round range)",
            format!(
                "{ratio:.2}× ({:.2}–{:.2}×)",
                round_ratios.iter().copied().fold(f64::INFINITY, f64::min),
                round_ratios
                    .iter()
                    .copied()
                    .fold(f64::NEG_INFINITY, f64::max)
            ),
            format!("≥ {MIN_ENGINE_TO_FLOOR:.1}×"),
            ratio >= MIN_ENGINE_TO_FLOOR,
        ),
        Row::info(
            format!("Engine, {little} records (median of {n})"),
            format!("{} records/s", thousands(median(&small_rates))),
        ),
        Row::check(
            format!("Peak RSS of flowd, {big} records (max of {n})"),
            format!("{:.1} MB", megabytes(large_peak)),
            "< 64 MB",
            megabytes(large_peak) * 1e6 < MAX_PEAK_RSS_BYTES,
        ),
        Row::check(
            format!("Peak RSS of flowd, {little} records (max of {n})"),
            format!("{:.1} MB", megabytes(small_peak)),
            "< 64 MB",
            megabytes(small_peak) * 1e6 < MAX_PEAK_RSS_BYTES,
        ),
        Row::check(
            format!("Peak RSS, larger / smaller of {big} and {little} records"),
            format!("{rss_spread:.2}×"),
            format!("≤ {MAX_RSS_SPREAD:.2}× (within 20%)"),
            rss_spread <= MAX_RSS_SPREAD,
        ),
        Row::info(
            format!(
                "Wall time, {} records, {} ms latency, `--concurrency 1` (median of {n})",
                thousands(args.latency_records as f64),
                args.latency_ms
            ),
            format!("{sequential:.2} s"),
        ),
        Row::info(
            format!(
                "Wall time, same, `--concurrency {}` (median of {n})",
                args.concurrency
            ),
            format!("{speculative:.2} s"),
        ),
        Row::check(
            format!("Speed-up of `--concurrency {}` over 1", args.concurrency),
            format!("{speedup:.1}×"),
            format!("≥ {MIN_SPECULATIVE_SPEEDUP:.0}×"),
            speedup >= MIN_SPECULATIVE_SPEEDUP,
        ),
        Row::info(
            format!(
                "End to end: `flowd serve`, one ad hoc run, mock API → committed Parquet, {big} records (`POST /runs` to `success`)"
            ),
            format!(
                "{} records/s ({:.2} s)",
                thousands(e2e_rate),
                e2e.wall.as_secs_f64()
            ),
        ),
        Row::info(
            "End to end / engine records/s (this run / median of the engine above)",
            format!("{:.2}×", e2e_rate / engine_rate),
        ),
        Row::info(
            "CPU time of `flowd serve` during the end-to-end run (user + system)",
            format!(
                "{:.2} s + {:.2} s ({:.0}% of the wall time)",
                e2e.cpu_user,
                e2e.cpu_system,
                100.0 * (e2e.cpu_user + e2e.cpu_system) / e2e.wall.as_secs_f64().max(1e-9)
            ),
        ),
        Row::check(
            format!("Peak RSS of `flowd serve`, end to end, {big} records (idle before the run)"),
            format!(
                "{:.1} MB ({:.1} MB)",
                megabytes(e2e.peak_rss_kib),
                megabytes(e2e.idle_rss_kib)
            ),
            "< 256 MB",
            megabytes(e2e.peak_rss_kib) * 1e6 < MAX_END_TO_END_RSS_BYTES,
        ),
        Row::check(
            "End to end: outputRecordCount and records in the dataset's Parquet (batches; size)",
            format!(
                "{} and {} ({} batch{}; {:.1} MB)",
                thousands(e2e.output_records as f64),
                thousands(e2e.dataset_records as f64),
                e2e.batches,
                if e2e.batches == 1 { "" } else { "es" },
                e2e.parquet_bytes as f64 / 1e6
            ),
            format!("{big} each"),
            e2e_complete,
        ),
        Row::check(
            "Every run delivered every record",
            if delivered_ok { "yes" } else { "no" },
            "yes",
            delivered_ok,
        ),
    ])
}
