//! The fleet: tiny runs claimed and completed per second by one `flowd serve` on SQLite, one
//! on PostgreSQL and three sharing one PostgreSQL, measured in the same run, with the latency
//! of a list call to the API while they work.
//!
//! Each configuration gets a fresh store (a fresh database of one throwaway PostgreSQL
//! cluster, started from the server binaries as the tests start theirs but flushing every
//! commit to disk, as SQLite's `synchronous=FULL` does) and a fresh datasets directory. Over the API of a process that runs no workers: one OFFSET connection spec over a mock serving one record,
//! and `--flows` flows scheduled every 15 minutes (the shortest interval) since `--windows`
//! intervals ago, so each has that many windows due and the fleet has `flows × windows` runs of one record each, one page and
//! one Parquet batch, to claim, run, commit and record. That process stops; the measured ones
//! start together (`--workers 4 --planner-tick-ms 50`, no per-sandbox cap), and the clock runs
//! from their start until every run has succeeded, while a client calls `GET /flows?limit=20`
//! on the first of them back to back, for p50 and p99.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use flowd_store::conformance::PostgresCluster;
use flowd_store::{ListQuery, RunFilter, RunStatus, Scope, Store, StoreUrl};
use serde_json::json;

use crate::end_to_end::{self, Api, FLOW_SERVICE, Serve};
use crate::mock::MockServer;
use crate::report::{Row, thousands};

/// The key every process of a fleet seals secrets with (base64 of 32 bytes).
const SECRET_KEY: &str = "YmVuY2gtZmxlZXQta2V5LW9mLXRoaXJ0eS10d28tYnk=";
/// A configuration that has not finished by then is reported as a failure.
const TIMEOUT: Duration = Duration::from_secs(900);

/// What one configuration measured.
struct Measured {
    runs: usize,
    wall: Duration,
    list_p50: Duration,
    list_p99: Duration,
    list_calls: usize,
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// Runs one configuration: `processes` flowd processes on the store `store_url` (a SQLite
/// file in `work_dir` when `None`).
async fn measure(
    flowd: &Path,
    mock: &MockServer,
    work_dir: &Path,
    store_url: Option<&str>,
    processes: usize,
    flows: usize,
    windows: i64,
) -> Result<Measured, String> {
    let datasets = work_dir.join("datasets");
    let datasets_arg = datasets.to_string_lossy().into_owned();
    let mut arguments = vec![
        "--workers",
        "4",
        "--planner-tick-ms",
        "50",
        "--max-runs-per-sandbox",
        "0",
        "--datasets-url",
        &datasets_arg,
    ];
    if let Some(url) = store_url {
        arguments.extend(["--store", url]);
    }
    // The flows are created through a process that runs no workers, stopped before the
    // measured processes start, so that the clock sees every run.
    let mut setup_arguments = arguments.clone();
    setup_arguments.extend(["--role", "api"]);
    let setup = Serve::start_with(
        flowd,
        &work_dir.join("setup"),
        &setup_arguments,
        &[("FLOWD_SECRET_KEY", SECRET_KEY)],
        true,
    )?;
    let credential = setup.credential.clone();
    {
        let api = Api {
            client: reqwest::Client::new(),
            serve: &setup,
            credential: None,
        };
        let (spec_id, connection_id) = end_to_end::create_connection(&api, mock.base_url()).await?;
        let start_time = end_to_end::now_seconds() - (windows - 1) * 15 * 60 - 30;
        for _ in 0..flows {
            let schedule = json!({"startTime": start_time.to_string(), "frequency": "minute",
                                  "interval": "15", "backfill": "false"});
            end_to_end::add_flow(&api, &spec_id, &connection_id, schedule).await?;
        }
    }
    setup.stop();
    let store: std::sync::Arc<dyn Store> = flowd_store::open_store(&match store_url {
        Some(url) => StoreUrl::parse(url).map_err(|e| e.to_string())?,
        None => StoreUrl::in_data_dir(&work_dir.join("setup")),
    })
    .await
    .map_err(|e| format!("opening the store beside the fleet: {e}"))?;
    let scope = Scope {
        org_id: "flowd@AdobeOrg".into(),
        sandbox_name: "prod".into(),
    };
    let succeeded = || async {
        store
            .list_runs(&scope, &RunFilter::default(), &ListQuery::default())
            .await
            .map(|runs| {
                runs.iter()
                    .filter(|run| run.status == RunStatus::Success)
                    .count()
            })
            .map_err(|e| e.to_string())
    };
    // The measured processes start together; the SQLite one on the setup's data dir.
    let sqlite_store = format!(
        "sqlite://{}",
        work_dir.join("setup").join("flowd.sqlite").display()
    );
    if store_url.is_none() {
        arguments.extend(["--store", &sqlite_store]);
    }
    let started = Instant::now();
    let starting: Vec<_> = (0..processes)
        .map(|index| {
            let (flowd, data_dir) = (flowd.to_path_buf(), work_dir.join(format!("node{index}")));
            let arguments: Vec<String> = arguments.iter().map(|a| (*a).to_owned()).collect();
            std::thread::spawn(move || {
                let arguments: Vec<&str> = arguments.iter().map(String::as_str).collect();
                Serve::start_with(
                    &flowd,
                    &data_dir,
                    &arguments,
                    &[("FLOWD_SECRET_KEY", SECRET_KEY)],
                    false,
                )
            })
        })
        .collect();
    let mut servers = Vec::new();
    for thread in starting {
        servers.push(thread.join().map_err(|_| "a process start panicked")??);
    }
    let api = Api {
        client: reqwest::Client::new(),
        serve: &servers[0],
        credential: Some(&credential),
    };
    let total = flows * windows as usize;
    let done_before = succeeded().await?;
    let mut latencies = Vec::new();
    let mut checked = Instant::now();
    loop {
        let call = Instant::now();
        let (status, _) = api
            .call(
                reqwest::Method::GET,
                &format!("{FLOW_SERVICE}/flows?limit=20"),
                None,
            )
            .await?;
        if status != 200 {
            return Err(format!("GET /flows answered {status} under load"));
        }
        latencies.push(call.elapsed());
        if checked.elapsed() >= Duration::from_millis(100) {
            checked = Instant::now();
            let done = succeeded().await?;
            if done >= total {
                break;
            }
            if started.elapsed() > TIMEOUT {
                return Err(format!("{done} of {total} runs after {TIMEOUT:?}"));
            }
        }
    }
    let wall = started.elapsed();
    drop(api);
    store.close().await;
    for server in servers {
        server.stop();
    }
    latencies.sort_unstable();
    Ok(Measured {
        runs: total - done_before,
        wall,
        list_p50: percentile(&latencies, 0.5),
        list_p99: percentile(&latencies, 0.99),
        list_calls: latencies.len(),
    })
}

/// Every configuration, in one run; rows for the report.
pub async fn run(
    flowd: &Path,
    mockapi: &Path,
    flows: usize,
    windows: i64,
) -> Result<Vec<Row>, String> {
    let cluster = PostgresCluster::start_durable()?;
    let mock = MockServer::start(mockapi, 1, 0)?;
    let work = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
    let mut rows = Vec::new();
    let mut baseline = None;
    let configurations: [(&str, bool, usize); 3] = [
        ("1 process, SQLite", false, 1),
        ("1 process, PostgreSQL", true, 1),
        ("3 processes, one PostgreSQL", true, 3),
    ];
    for (index, (name, postgres, processes)) in configurations.into_iter().enumerate() {
        let dir = work.path().join(format!("configuration{index}"));
        let url = if postgres {
            Some(cluster.fresh_database().await)
        } else {
            None
        };
        eprintln!("fleet: {name}");
        let measured = measure(
            flowd,
            &mock,
            &dir,
            url.as_deref(),
            processes,
            flows,
            windows,
        )
        .await?;
        let per_second = measured.runs as f64 / measured.wall.as_secs_f64();
        let ratio = match baseline {
            None => {
                baseline = Some(per_second);
                String::from("baseline")
            }
            Some(base) => format!("{:.2}× the SQLite process", per_second / base),
        };
        eprintln!(
            "fleet: {name}: {} runs in {:.1} s, {} list calls",
            measured.runs,
            measured.wall.as_secs_f64(),
            measured.list_calls
        );
        rows.push(Row::info(
            format!("{name}: tiny runs completed"),
            format!("{} runs/s ({ratio})", thousands(per_second)),
        ));
        rows.push(Row::info(
            format!("{name}: `GET /flows?limit=20` under that load"),
            format!(
                "p50 {:.1} ms, p99 {:.1} ms ({} calls)",
                measured.list_p50.as_secs_f64() * 1e3,
                measured.list_p99.as_secs_f64() * 1e3,
                measured.list_calls
            ),
        ));
    }
    Ok(rows)
}

/// `flowd-bench fleet [--flows N] [--windows N] [--bin-dir DIR]`.
pub fn command() -> ExitCode {
    let (mut flows, mut windows, mut bin_dir) = (40_usize, 50_i64, None::<PathBuf>);
    let mut arguments = std::env::args().skip(2);
    while let Some(flag) = arguments.next() {
        let value = arguments.next();
        let number = value
            .as_deref()
            .and_then(|value| value.parse::<usize>().ok())
            .filter(|n| *n > 0);
        match (flag.as_str(), number) {
            ("--flows", Some(n)) => flows = n,
            ("--windows", Some(n)) => windows = n as i64,
            ("--bin-dir", _) if value.is_some() => bin_dir = value.map(PathBuf::from),
            _ => {
                eprintln!(
                    "usage: flowd-bench fleet [--flows N (default 40)] [--windows N (default 50)] [--bin-dir DIR]"
                );
                return ExitCode::from(2);
            }
        }
    }
    let binaries = crate::binaries(bin_dir);
    let (flowd, mockapi) = match binaries {
        Ok(binaries) => binaries,
        Err(error) => {
            eprintln!("flowd-bench: {error}");
            return ExitCode::from(2);
        }
    };
    let outcome = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
        .and_then(|runtime| runtime.block_on(run(&flowd, &mockapi, flows, windows)));
    match outcome {
        Ok(rows) => {
            println!(
                "{}\n\nMachine: {}",
                crate::report::table(&rows),
                crate::report::machine()
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("flowd-bench: {error}");
            ExitCode::from(2)
        }
    }
}
