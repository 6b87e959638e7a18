//! `flowd-mockapi`: runs the mock API as a separate process for benchmarks.
//!
//! Prints the base URL (one line, flushed) once listening, then serves the demo API
//! ([`DemoApi`], the same server as `flowd demo-api`) until interrupted.

use std::io::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use flowd_mockapi::{DemoApi, DemoOptions};

const USAGE: &str =
    "usage: flowd-mockapi [--records N] [--page-size N] [--latency-ms MS] [--listen ADDR]

  --records N      generated records to serve (default 1000)
  --page-size N    page size when a request names none (default 100)
  --latency-ms MS  delay added to every answer (default 0)
  --listen ADDR    socket address (default 127.0.0.1:0)";

struct Args {
    records: usize,
    page_size: usize,
    latency_ms: u64,
    listen: SocketAddr,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        records: 1000,
        page_size: 100,
        latency_ms: 0,
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            return Err(String::new());
        }
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{flag} {value:?}: {e}");
        match flag.as_str() {
            "--records" => args.records = value.parse().map_err(|e| bad(&e))?,
            "--page-size" => args.page_size = value.parse().map_err(|e| bad(&e))?,
            "--latency-ms" => args.latency_ms = value.parse().map_err(|e| bad(&e))?,
            "--listen" => args.listen = value.parse().map_err(|e| bad(&e))?,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if args.page_size == 0 {
        return Err("--page-size must be positive".into());
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("flowd-mockapi: {e}");
            }
            eprintln!("{USAGE}");
            return if e.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
        }
    };
    let options = DemoOptions {
        records: args.records,
        page_size: args.page_size,
        latency: Duration::from_millis(args.latency_ms),
        listen: args.listen,
    };
    let api = match DemoApi::start(options).await {
        Ok(api) => api,
        Err(e) => {
            eprintln!("flowd-mockapi: cannot listen on {}: {e}", args.listen);
            return ExitCode::FAILURE;
        }
    };
    // The benchmark script reads this line to learn the port.
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "{}", api.base_url());
    let _ = stdout.flush();
    let _ = tokio::signal::ctrl_c().await;
    api.shutdown().await;
    ExitCode::SUCCESS
}
