//! `flowd api runs watch FLOW`: the flow's runs, polled every second. On a terminal the table
//! of runs is redrawn in place; otherwise (a pipe, a log) one line is printed per run whenever
//! its status, records so far or error change. Records so far come from the run's `progress`
//! (written by the worker while it fetches), the duration from `durationSummary` once an
//! attempt ended, else from when this watch first saw the run in progress.

use std::collections::HashMap;
use std::io::{IsTerminal as _, Write as _};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::Value;

use super::{Client, FLOW_SERVICE};

/// Runs shown on a terminal: the latest ones.
const SHOWN_ON_TERMINAL: usize = 20;

#[derive(clap::Args, Debug)]
pub struct WatchArgs {
    /// The flow whose runs to follow.
    flow: String,
    /// Exit once no run of the flow is pending or in progress: with status 0 when the latest
    /// run succeeded (or none ran), 1 when it failed, so a script can tell.
    #[arg(long)]
    until_idle: bool,
    /// Milliseconds between polls.
    #[arg(long, default_value_t = 1000, hide = true)]
    interval_ms: u64,
}

/// A run's window as `START → END` (RFC 3339), `…` for an open start.
pub fn window_text(run: &Value) -> String {
    let side = |field: &str| {
        run["params"][field]
            .as_i64()
            .and_then(|seconds| jiff::Timestamp::from_second(seconds).ok())
            .map(|instant| instant.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_else(|| "…".to_owned())
    };
    format!("{} → {}", side("windowStartTime"), side("windowEndTime"))
}

fn status_of(run: &Value) -> &str {
    run["metrics"]["statusSummary"]["status"]
        .as_str()
        .unwrap_or("unknown")
}

fn is_active(run: &Value) -> bool {
    matches!(status_of(run), "pending" | "inProgress")
}

/// Records so far (the run's `progress`), else the records its last attempt read.
fn records_of(run: &Value) -> i64 {
    run["progress"]["records"]
        .as_i64()
        .or_else(|| run["metrics"]["recordSummary"]["inputRecordCount"].as_i64())
        .unwrap_or(0)
}

/// One run in words: `ID  STATUS  WINDOW  records N  DURATION[  ERROR]`.
fn describe(run: &Value, first_seen_running: Option<Instant>) -> String {
    let duration = &run["metrics"]["durationSummary"];
    let seconds = match (
        duration["startedAtUTC"].as_i64(),
        duration["completedAtUTC"].as_i64(),
    ) {
        (Some(started), Some(completed)) if !is_active(run) => {
            Some((completed - started) as f64 / 1000.0)
        }
        _ if status_of(run) == "inProgress" => {
            first_seen_running.map(|since| since.elapsed().as_secs_f64())
        }
        _ => None,
    };
    let duration = seconds.map_or_else(|| "-".to_owned(), |seconds| format!("{seconds:.1} s"));
    let mut line = format!(
        "{}  {:<10}  {}  records {}  {}",
        run["id"].as_str().unwrap_or("?"),
        status_of(run),
        window_text(run),
        records_of(run),
        duration
    );
    let summary = &run["metrics"]["statusSummary"];
    if let Some(error) = summary["errors"]
        .as_array()
        .and_then(|errors| errors.first())
    {
        line.push_str(&format!(
            "  error {}: {}",
            error["code"].as_str().unwrap_or_default(),
            error["message"].as_str().unwrap_or_default()
        ));
    }
    for warning in summary["warnings"].as_array().into_iter().flatten() {
        line.push_str(&format!(
            "  warning {}",
            warning["code"].as_str().unwrap_or_default()
        ));
    }
    line
}

/// How a watch `--until-idle` ends once nothing is pending or in progress: an error naming the
/// latest run (the one with the latest window) when it failed.
fn idle_outcome(runs: &[Value]) -> anyhow::Result<()> {
    match runs.last() {
        Some(latest) if status_of(latest) == "failed" => anyhow::bail!(
            "the latest run {} failed",
            latest["id"].as_str().unwrap_or_default()
        ),
        _ => Ok(()),
    }
}

/// The flow's runs, oldest window first.
async fn runs_of(client: &Client, flow: &str) -> anyhow::Result<Vec<Value>> {
    let (_, body) = client
        .call(
            Method::GET,
            &format!("{FLOW_SERVICE}/runs?property=flowId=={flow}"),
            None,
        )
        .await?;
    let mut runs = body["items"].as_array().cloned().unwrap_or_default();
    runs.sort_by_key(|run| {
        (
            run["params"]["windowEndTime"].as_i64(),
            run["createdAt"].as_i64(),
        )
    });
    Ok(runs)
}

pub async fn run(client: &Client, args: WatchArgs) -> anyhow::Result<()> {
    let terminal = std::io::stdout().is_terminal();
    let mut printed: HashMap<String, String> = HashMap::new();
    let mut running_since: HashMap<String, Instant> = HashMap::new();
    let mut drawn_lines = 0usize;
    let mut stdout = std::io::stdout();
    loop {
        let runs = runs_of(client, &args.flow).await?;
        for run in &runs {
            if status_of(run) == "inProgress" {
                let id = run["id"].as_str().unwrap_or_default().to_owned();
                running_since.entry(id).or_insert_with(Instant::now);
            }
        }
        let line_of = |run: &Value| {
            let id = run["id"].as_str().unwrap_or_default();
            describe(run, running_since.get(id).copied())
        };
        if terminal {
            let shown = &runs[runs.len().saturating_sub(SHOWN_ON_TERMINAL)..];
            let mut frame = format!("runs of flow {} (Ctrl-C to stop)\n", args.flow);
            if shown.is_empty() {
                frame.push_str("no runs yet\n");
            }
            for run in shown {
                frame.push_str(&line_of(run));
                frame.push('\n');
            }
            if drawn_lines > 0 {
                // Up to the first line of the previous frame, and clear from there down.
                write!(stdout, "\x1b[{drawn_lines}A\x1b[J")?;
            }
            // Auto-wrap off while drawing: a line wider than the terminal is clipped rather
            // than wrapped, so the frame is exactly as many rows as lines to go back up.
            write!(stdout, "\x1b[?7l{frame}\x1b[?7h")?;
            drawn_lines = frame.lines().count();
        } else {
            if runs.is_empty() && printed.is_empty() {
                writeln!(stdout, "no runs of flow {} yet", args.flow)?;
                printed.insert(String::new(), String::new());
            }
            for run in &runs {
                let id = run["id"].as_str().unwrap_or_default().to_owned();
                // The duration of a run in progress changes every poll: not a change to print.
                let key = format!(
                    "{} {} {}",
                    status_of(run),
                    records_of(run),
                    run["metrics"]["statusSummary"]
                );
                if printed.get(&id) != Some(&key) {
                    writeln!(stdout, "{}", line_of(run))?;
                    printed.insert(id, key);
                }
            }
        }
        stdout.flush()?;
        if args.until_idle && !runs.iter().any(is_active) {
            return idle_outcome(&runs);
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(args.interval_ms)) => {}
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{describe, idle_outcome};

    #[test]
    fn an_idle_watch_fails_when_the_latest_run_failed_and_not_for_an_earlier_one() {
        let run = |id: &str, status: &str| json!({"id": id, "metrics": {"statusSummary": {"status": status}}});
        assert!(idle_outcome(&[]).is_ok());
        assert!(idle_outcome(&[run("r1", "failed"), run("r2", "success")]).is_ok());
        let error = idle_outcome(&[run("r1", "success"), run("r2", "failed")]).unwrap_err();
        assert_eq!(error.to_string(), "the latest run r2 failed");
    }

    #[test]
    fn a_finished_run_shows_its_window_records_and_duration() {
        let run = json!({
            "id": "r1",
            "params": {"windowStartTime": 1_704_067_200, "windowEndTime": 1_704_070_800},
            "progress": {"pages": 2, "records": 40},
            "metrics": {
                "durationSummary": {"startedAtUTC": 1_000, "completedAtUTC": 3_500},
                "statusSummary": {"status": "success", "errors": []},
            },
        });
        assert_eq!(
            describe(&run, None),
            "r1  success     2024-01-01T00:00:00Z → 2024-01-01T01:00:00Z  records 40  2.5 s"
        );
    }
}
