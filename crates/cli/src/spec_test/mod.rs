//! `flowd spec test SPEC.json`: runs a connection spec against the live API
//! from the author's machine and shows, per page, the request (secrets
//! masked, the auth headers included), status, timing and record count; a
//! progress line; then the records (JSON lines or a table), the schema
//! inferred from them, and a summary with the run's warnings. With
//! `--format jsonl`, stdout carries nothing but one record per line and
//! everything else goes to stderr.
//!
//! The inputs are read in [`inputs`], the trace and progress in [`report`],
//! the table and schema in [`table`].

mod inputs;
mod report;
mod table;

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::ValueEnum;
use flowd_connector::trial::{LimitNames, UNSAVED_TOKENS_NOTE, UnsavedTokens, describe_stop};
use flowd_connector::{
    Credentials, HttpClient, HttpOptions, RunEvent, RunInputs, RunLimits, TokenCallback,
};
use futures::StreamExt;
use serde_json::Value;

use report::{Progress, Trace, count};

/// Records kept to infer the schema and fill the table.
const SAMPLE_RECORDS: usize = flowd_connector::trial::SCHEMA_SAMPLE_RECORDS;

#[derive(clap::Args, Debug)]
pub struct SpecTestArgs {
    /// The connection spec (JSON), as POSTed to /connectionSpecs.
    spec: PathBuf,
    /// The base connection's `auth` object, `{"specName": ..., "params": {...}}`, as JSON
    /// text or @FILE (a plain path to a file still works too).
    #[arg(long)]
    auth: Option<String>,
    /// The source connection's `params` object, as JSON text or @FILE.
    #[arg(long)]
    params: Option<String>,
    /// Time window `START/END`, each side an RFC 3339 instant or epoch seconds; either side
    /// may be empty (from the beginning, until now).
    #[arg(long)]
    window: Option<String>,
    /// Stop after this many pages.
    #[arg(long)]
    max_pages: Option<u64>,
    /// Stop after this many records.
    #[arg(long)]
    max_records: Option<u64>,
    /// How records are shown.
    #[arg(long, value_enum, default_value_t = RecordFormat::Table)]
    format: RecordFormat,
    /// Which pages the trace describes: all, first:N or none (default: all with the table,
    /// first:20 with jsonl); what is left out is counted.
    #[arg(long, value_parser = Trace::parse)]
    trace: Option<Trace>,
    /// Exit 1 when the run gave a warning (0 records from non-empty pages, say).
    #[arg(long)]
    strict: bool,
    /// Pages fetched at once for OFFSET and PAGE pagination (speculative mode).
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
    /// Retries of a request that failed with a connection error, 429 or 5xx.
    #[arg(long, default_value_t = 5)]
    http_retries: u32,
    /// Client-side rate limit, in requests per second.
    #[arg(long)]
    rate_limit: Option<f64>,
    /// Timeout of one request, in seconds.
    #[arg(long, default_value_t = 60)]
    timeout: u64,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordFormat {
    Table,
    Jsonl,
}

/// How a test ended that did not fail.
enum Outcome {
    Clean,
    Warned(usize),
}

pub fn run(args: SpecTestArgs) -> ExitCode {
    // One thread: the run loop parses a page at a time and requests are IO,
    // so worker threads only added cross-thread wake-ups and frees (measured
    // with `flowd-bench`: about a third less CPU, a quarter less wall time,
    // the same speculative speed-up).
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("flowd: error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let strict = args.strict;
    match runtime.block_on(run_spec_test(args)) {
        Ok(Outcome::Warned(warnings)) if strict => {
            eprintln!(
                "flowd: error: --strict: the run gave {}",
                count(warnings as u64, "warning", "warnings")
            );
            ExitCode::FAILURE
        }
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("flowd: error: {}", report::error_text(&error));
            ExitCode::FAILURE
        }
    }
}

fn problems_error(what: &str, problems: &[flowd_spec::Problem]) -> anyhow::Error {
    let lines: Vec<String> = problems
        .iter()
        .map(|problem| {
            let pointer = if problem.pointer.is_empty() {
                "(root)"
            } else {
                &problem.pointer
            };
            format!("  {pointer}: {}", problem.message)
        })
        .collect();
    anyhow::anyhow!("{what} is invalid:\n{}", lines.join("\n"))
}

async fn run_spec_test(args: SpecTestArgs) -> anyhow::Result<Outcome> {
    let spec = inputs::read_json(&args.spec)?;
    let problems = flowd_spec::validate_connection_spec(&spec);
    if !problems.is_empty() {
        return Err(problems_error(
            &format!("the spec {}", args.spec.display()),
            &problems,
        ));
    }
    let source_params = inputs::parse_params(args.params.as_deref())?;
    for warning in inputs::unknown_params_warnings(&spec, &source_params) {
        eprintln!("warning: {warning}");
    }
    let window = inputs::parse_window(args.window.as_deref())?;
    let auth = inputs::parse_auth(&spec, args.auth.as_deref())?;
    // Without credentials a spec that declares them fails on what the auth params would have
    // given (`${host}` has no value): say what is missing instead.
    if auth.is_none()
        && let Some(missing) = inputs::missing_auth(&spec)
    {
        anyhow::bail!("{missing}");
    }
    let credentials = auth.as_ref().map(|auth| Credentials {
        spec_name: &auth.spec_name,
        params: &auth.params,
    });
    let unsaved_tokens = Arc::new(UnsavedTokens::default());
    let on_refresh: TokenCallback = unsaved_tokens.clone();
    let plan = flowd_connector::prepare_run(RunInputs {
        connection_spec: &spec,
        credentials,
        source_params: &source_params,
        window,
        limits: RunLimits {
            max_pages: args.max_pages,
            max_records: args.max_records,
            concurrency: args.concurrency.max(1),
            ..RunLimits::default()
        },
        on_refresh: Some(on_refresh),
    });
    let plan = plan.map_err(|error| {
        problems_error("the run (spec, --params and --auth)", &error.problems())
    })?;
    let client = HttpClient::new(HttpOptions {
        request_timeout: Duration::from_secs(args.timeout),
        retries: args.http_retries,
        requests_per_second: args.rate_limit,
        ..HttpOptions::default()
    })?;
    let jsonl = args.format == RecordFormat::Jsonl;
    let trace = args.trace.unwrap_or(if jsonl {
        Trace::First(report::JSONL_TRACED_PAGES)
    } else {
        Trace::All
    });
    let stdout = std::io::stdout();
    let mut records_out = BufWriter::with_capacity(256 * 1024, stdout.lock());
    // In jsonl mode stdout is for records only.
    let mut report: Box<dyn Write> = if jsonl {
        Box::new(std::io::stderr())
    } else {
        Box::new(std::io::stdout())
    };
    let bound = match (args.max_records, args.max_pages) {
        (Some(records), _) => Some(report::Bound::Records(records)),
        (None, Some(pages)) => Some(report::Bound::Pages(pages)),
        (None, None) => None,
    };
    let mut progress = Progress::start(bound);
    let mut sample: Vec<Value> = Vec::new();
    let mut stream = std::pin::pin!(flowd_connector::run(client, plan));
    let mut summary = None;
    let (mut pages, mut records) = (0u64, 0u64);
    while let Some(event) = stream.next().await {
        match event? {
            RunEvent::Page(page) => {
                pages += 1;
                records += page.records.len() as u64;
                if trace.shows(page.number + 1) {
                    progress.write(&mut report, &report::page_lines(&page))?;
                }
                progress.update(pages, records);
                if jsonl {
                    page.records.write_json_lines(&mut records_out)?;
                }
                if sample.len() < SAMPLE_RECORDS {
                    let wanted = SAMPLE_RECORDS - sample.len();
                    let mut page = page;
                    page.records.truncate(wanted);
                    sample.extend(page.into_values()?);
                }
            }
            // Shown whatever `--trace` says: a retry is what makes a slow run slow.
            RunEvent::Retry { page, retry } => {
                progress.write(&mut report, &[format!("page {}: {retry}", page + 1)])?;
            }
            RunEvent::Finished(finished) => summary = Some(finished),
        }
    }
    progress.finish();
    records_out.flush()?;
    drop(records_out);
    let summary = summary.context("the run ended without a summary")?;
    if let Some(left_out) = trace.left_out(summary.pages) {
        writeln!(report, "{left_out}")?;
    }
    if !jsonl {
        table::print_table(&mut report, &sample, summary.records)?;
    }
    table::print_schema(&mut report, &sample[..sample.len().min(SAMPLE_RECORDS)])?;
    let elapsed = progress.elapsed();
    writeln!(
        report,
        "\nsummary: {}, {}, {} in {:.2} s ({:.0} records/s); stopped: {}",
        count(summary.pages, "page", "pages"),
        count(summary.records, "record", "records"),
        count(summary.body_bytes, "byte", "bytes"),
        elapsed.as_secs_f64(),
        summary.records as f64 / elapsed.as_secs_f64().max(1e-9),
        describe_stop(
            &summary.stop,
            LimitNames {
                max_pages: "--max-pages",
                max_records: "--max-records",
            }
        )
    )?;
    for warning in &summary.warnings {
        writeln!(report, "warning: {warning}")?;
    }
    if unsaved_tokens.refreshes() > 0 {
        writeln!(report, "note: {UNSAVED_TOKENS_NOTE}")?;
    }
    report.flush()?;
    Ok(if summary.warnings.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Warned(summary.warnings.len())
    })
}
