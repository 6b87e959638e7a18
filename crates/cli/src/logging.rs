//! The log output of `flowd serve`: to stderr, filtered by `FLOWD_LOG` (an `EnvFilter`
//! directive, `info` by default), as text (`FLOWD_LOG_FORMAT=text`, the default; colored on a
//! terminal) or as one JSON object a line (`FLOWD_LOG_FORMAT=json`: `timestamp`, `level`,
//! `target`, `fields` with the message and the event's fields, and the spans it happened in),
//! for a log shipper.

use std::io::IsTerminal;

use anyhow::bail;
use tracing_subscriber::EnvFilter;

/// The environment variable choosing the format.
pub const LOG_FORMAT_VAR: &str = "FLOWD_LOG_FORMAT";

/// Installs the process's subscriber; an unknown `FLOWD_LOG_FORMAT` is an error naming the
/// formats there are.
pub fn init() -> anyhow::Result<()> {
    let filter = || EnvFilter::try_from_env("FLOWD_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let format = std::env::var(LOG_FORMAT_VAR).unwrap_or_default();
    match format.trim().to_ascii_lowercase().as_str() {
        "" | "text" => tracing_subscriber::fmt()
            .with_env_filter(filter())
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal())
            .init(),
        "json" => tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_env_filter(filter())
            .with_writer(std::io::stderr)
            .init(),
        other => bail!("{LOG_FORMAT_VAR}={other} is not a log format: use text or json"),
    }
    Ok(())
}
