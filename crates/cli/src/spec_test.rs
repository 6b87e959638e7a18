//! `flowd spec test SPEC.json`: runs a connection spec against the live API
//! from the author's machine and shows, per page, the request (secrets
//! redacted), status, timing and record count; then the records (JSON lines
//! or a table), the schema inferred from them, and a summary. With
//! `--format jsonl`, stdout carries nothing but one record per line and
//! everything else goes to stderr.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::ValueEnum;
use flowd_connector::trial::{LimitNames, UNSAVED_TOKENS_NOTE, UnsavedTokens, describe_stop};
use flowd_connector::{
    Credentials, HttpClient, HttpOptions, RunEvent, RunInputs, RunLimits, TokenCallback, Window,
};
use flowd_model::record_type::StructType;
use futures::StreamExt;
use serde_json::{Map, Value};

/// Records kept to infer the schema and fill the table.
const SAMPLE_RECORDS: usize = flowd_connector::trial::SCHEMA_SAMPLE_RECORDS;
/// Rows the table shows.
const TABLE_ROWS: usize = 50;
/// Pages described on stderr in jsonl mode.
const JSONL_PAGES_SHOWN: u64 = 20;
/// A progress line is printed this often during long runs.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

#[derive(clap::Args, Debug)]
pub struct SpecTestArgs {
    /// The connection spec (JSON), as POSTed to /connectionSpecs.
    spec: PathBuf,
    /// The base connection's `auth` object: `{"specName": ..., "params": {...}}`.
    #[arg(long)]
    auth: Option<PathBuf>,
    /// The source connection's `params` object, as JSON text (or @FILE).
    #[arg(long)]
    params: Option<String>,
    /// Time window `START/END` in RFC 3339; either side may be empty.
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
    match runtime.block_on(run_spec_test(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("flowd: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn read_json(path: &PathBuf) -> anyhow::Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", path.display()))
}

fn parse_params(params: Option<&str>) -> anyhow::Result<Map<String, Value>> {
    let Some(params) = params else {
        return Ok(Map::new());
    };
    let value: Value = match params.strip_prefix('@') {
        Some(path) => read_json(&PathBuf::from(path))?,
        None => serde_json::from_str(params).context("--params is not valid JSON")?,
    };
    match value {
        Value::Object(params) => Ok(params),
        _ => bail!("--params must be a JSON object"),
    }
}

fn parse_window(window: Option<&str>) -> anyhow::Result<Option<Window>> {
    let Some(window) = window else {
        return Ok(None);
    };
    let (start, end) = window.split_once('/').context(
        "--window must be START/END (RFC 3339 instants or epoch seconds, either side may be empty)",
    )?;
    let window =
        flowd_connector::trial::parse_window(Some(start), Some(end), jiff::Timestamp::now())
            .map_err(|error| anyhow::anyhow!("--window: {error}"))?;
    Ok(Some(window))
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

async fn run_spec_test(args: SpecTestArgs) -> anyhow::Result<()> {
    let spec = read_json(&args.spec)?;
    let problems = flowd_spec::validate_connection_spec(&spec);
    if !problems.is_empty() {
        return Err(problems_error(
            &format!("the spec {}", args.spec.display()),
            &problems,
        ));
    }
    let source_params = parse_params(args.params.as_deref())?;
    let window = parse_window(args.window.as_deref())?;
    let connection_auth = args.auth.as_ref().map(read_json).transpose()?;
    let auth_params = connection_auth
        .as_ref()
        .and_then(|auth| auth.get("params"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let credentials = connection_auth.as_ref().map(|auth| Credentials {
        spec_name: auth
            .get("specName")
            .and_then(Value::as_str)
            .unwrap_or_default(),
        params: &auth_params,
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
    })
    .map_err(|error| problems_error("the run (spec, --params and --auth)", &error.problems()))?;
    let client = HttpClient::new(HttpOptions {
        request_timeout: Duration::from_secs(args.timeout),
        retries: args.http_retries,
        requests_per_second: args.rate_limit,
        ..HttpOptions::default()
    })?;
    let jsonl = args.format == RecordFormat::Jsonl;
    let stdout = std::io::stdout();
    let mut records_out = BufWriter::with_capacity(256 * 1024, stdout.lock());
    // In jsonl mode stdout is for records only.
    let mut report: Box<dyn Write> = if jsonl {
        Box::new(std::io::stderr())
    } else {
        Box::new(std::io::stdout())
    };
    let started = Instant::now();
    let mut last_progress = Instant::now();
    let mut sample: Vec<Value> = Vec::new();
    let mut stream = std::pin::pin!(flowd_connector::run(client, plan));
    let mut summary = None;
    while let Some(event) = stream.next().await {
        match event? {
            RunEvent::Page(page) => {
                // With jsonl a long run would flood stderr: show the first
                // pages, then progress lines.
                if !jsonl || page.number < JSONL_PAGES_SHOWN {
                    writeln!(
                        report,
                        "page {}: {} {} -> {} in {} ms, {} items, {} records{}",
                        page.number + 1,
                        page.request.method,
                        page.request.url,
                        page.status,
                        page.elapsed.as_millis(),
                        page.item_count,
                        page.records.len(),
                        if page.attempts > 1 {
                            format!(" ({} attempts)", page.attempts)
                        } else {
                            String::new()
                        }
                    )?;
                    for (name, value) in &page.request.headers {
                        writeln!(report, "    {name}: {value}")?;
                    }
                }
                if last_progress.elapsed() >= PROGRESS_EVERY {
                    eprintln!(
                        "... {} pages so far, {:.1} s",
                        page.number + 1,
                        started.elapsed().as_secs_f64()
                    );
                    last_progress = Instant::now();
                }
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
            RunEvent::Finished(finished) => summary = Some(finished),
        }
    }
    records_out.flush()?;
    drop(records_out);
    let summary = summary.context("the run ended without a summary")?;
    if !jsonl {
        print_table(&mut report, &sample, summary.records)?;
    }
    writeln!(
        report,
        "\nschema (inferred from the first {} records):",
        sample.len().min(SAMPLE_RECORDS)
    )?;
    for (name, column_type) in StructType::of_records(sample.iter()).columns() {
        writeln!(report, "  {name}: {column_type}")?;
    }
    let elapsed = started.elapsed();
    writeln!(
        report,
        "\nsummary: {} pages, {} records, {} bytes in {:.2} s ({:.0} records/s); stopped: {}",
        summary.pages,
        summary.records,
        summary.body_bytes,
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
    Ok(())
}

fn cell(record: &Value, dotted: &str) -> String {
    let pointer = format!("/{}", dotted.replace('.', "/"));
    let text = match record.pointer(&pointer) {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    };
    let mut shown: String = text.chars().take(32).collect();
    if text.chars().count() > 32 {
        shown.push('…');
    }
    shown.replace(['\n', '\t'], " ")
}

fn print_table(out: &mut dyn Write, records: &[Value], total: u64) -> anyhow::Result<()> {
    let columns: Vec<String> = StructType::of_records(records.iter())
        .flattened_columns()
        .into_iter()
        .filter(|(_, column_type)| *column_type != "object")
        .map(|(name, _)| name)
        .collect();
    let rows: Vec<Vec<String>> = records
        .iter()
        .take(TABLE_ROWS)
        .map(|record| columns.iter().map(|column| cell(record, column)).collect())
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(index, name)| {
            rows.iter()
                .map(|row| row[index].chars().count())
                .chain([name.chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    writeln!(out, "\nrecords:")?;
    let line = |cells: Vec<&str>| {
        cells
            .iter()
            .zip(&widths)
            .map(|(text, width)| format!("{text:<width$}"))
            .collect::<Vec<_>>()
            .join(" | ")
    };
    writeln!(
        out,
        "{}",
        line(columns.iter().map(String::as_str).collect())
    )?;
    for row in &rows {
        writeln!(out, "{}", line(row.iter().map(String::as_str).collect()))?;
    }
    if total as usize > rows.len() {
        writeln!(
            out,
            "... {} more records (use --format jsonl to see them all)",
            total as usize - rows.len()
        )?;
    }
    Ok(())
}
