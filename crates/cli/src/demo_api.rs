//! `flowd demo-api`: the demo upstream that ships with flowd ([`flowd_mockapi::DemoApi`]),
//! for the tutorial and `examples/`: prints its base URL and what it serves, then serves
//! until Ctrl-C.

use std::io::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use flowd_mockapi::{DemoApi, DemoOptions};

#[derive(clap::Args, Debug)]
pub struct DemoApiArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "FLOWD_DEMO_LISTEN", default_value = "127.0.0.1:8081")]
    listen: SocketAddr,
    /// Generated records served by every route.
    #[arg(long, default_value_t = 1000)]
    records: usize,
    /// Page size when a request names none.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    page_size: u64,
    /// Delay added to every answer, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
}

pub async fn run(args: DemoApiArgs) -> anyhow::Result<()> {
    let options = DemoOptions {
        records: args.records,
        page_size: usize::try_from(args.page_size).unwrap_or(usize::MAX),
        latency: Duration::from_millis(args.latency_ms),
        listen: args.listen,
    };
    let api = DemoApi::start(options)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let mut stdout = std::io::stdout();
    // The first line is the base URL alone, for scripts; the description follows.
    writeln!(stdout, "{}", api.base_url())?;
    writeln!(stdout)?;
    write!(stdout, "{}", api.describe())?;
    writeln!(stdout, "\nServing until Ctrl-C.")?;
    stdout.flush()?;
    tokio::signal::ctrl_c().await?;
    api.shutdown().await;
    Ok(())
}
