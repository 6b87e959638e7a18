//! Exactly once at every crash point of a run: a test build of `flowd serve` kills itself
//! (SIGKILL) at a named point (`FLOWD_FAILPOINTS`), is restarted, and the run is taken over.
//! Meanwhile a reader polls the dataset directory the way a globbing reader would. Checked
//! after each crash: every record of the window lands exactly once, no partial batch was ever
//! visible, nothing is left in staging, and the store (the run's metrics, the dataset's
//! statistics) agrees with the files.
//!
//! The window holds 25,000 records, so the batch spans three row groups (10,000 records each)
//! and the first crash point is reached with a row group written in staging.
//!
//! `FLOWD_CRASH_ITERATIONS=N` repeats each point N times (`scripts/crash-points.sh` runs 20
//! and prints the figures recorded in docs/crash-safety.md).

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::runs::{member_ids, members, schedule_params, schedule_with_due_windows};
use common::workflow::{self, runs_of};
use common::{Credential, Server, data_dir};
use flowd_mockapi::{Auth, DEFAULT_LIST_ID, MockApi, Scenario};
use parquet::file::reader::{FileReader, SerializedFileReader};

const RECORDS: i64 = 25_000;
const USERNAME: &str = "anystring";
const PASSWORD: &str = "crash-points-secret-password";
const ARGUMENTS: [&str; 6] = [
    "--lease-ms",
    "1000",
    "--planner-tick-ms",
    "100",
    "--retry-backoff-ms",
    "100",
];

/// What the attempt after the restart must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AfterRestart {
    /// Nothing was published: fetch the window again.
    Refetch,
    /// The batch was published but the run not recorded: record the published batch without
    /// fetching again.
    RecordPublished,
    /// The run was recorded: nothing more to do.
    Nothing,
}

/// What one crash and restart showed.
#[derive(Debug, Default)]
struct Figures {
    lost: u64,
    duplicated: u64,
    partial_batches_seen: u64,
    reader_observations: u64,
    refetched: bool,
}

/// Polls the dataset directory like a reader globbing `datasets/<id>/**/*.parquet`: every
/// batch directory it sees must hold the whole window.
struct Reader {
    stop: Arc<AtomicBool>,
    partial: Arc<AtomicU64>,
    observations: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Reader {
    fn start(dataset_dir: PathBuf) -> Reader {
        let stop = Arc::new(AtomicBool::new(false));
        let partial = Arc::new(AtomicU64::new(0));
        let observations = Arc::new(AtomicU64::new(0));
        let thread = {
            let (stop, partial, observations) =
                (stop.clone(), partial.clone(), observations.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    for rows in visible_batches(&dataset_dir) {
                        observations.fetch_add(1, Ordering::Relaxed);
                        if rows != Some(RECORDS as u64) {
                            eprintln!("partial batch visible: {rows:?} rows");
                            partial.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    std::thread::sleep(Duration::from_millis(2));
                }
            })
        };
        Reader {
            stop,
            partial,
            observations,
            thread: Some(thread),
        }
    }

    /// Stops polling; returns (partial batches seen, batches observed).
    fn finish(mut self) -> (u64, u64) {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().unwrap().join().unwrap();
        (
            self.partial.load(Ordering::Relaxed),
            self.observations.load(Ordering::Relaxed),
        )
    }
}

/// The row count of each batch directory visible under `dataset_dir`, read from the Parquet
/// footers; `None` for a file that cannot be read as Parquet. A directory that vanished while
/// being read (a replaced batch) is skipped.
fn visible_batches(dataset_dir: &Path) -> Vec<Option<u64>> {
    let Ok(entries) = std::fs::read_dir(dataset_dir) else {
        return Vec::new();
    };
    let mut batches = Vec::new();
    'batches: for entry in entries.flatten() {
        let Ok(files) = std::fs::read_dir(entry.path()) else {
            continue;
        };
        let mut rows = Some(0u64);
        for file in files.flatten() {
            let path = file.path();
            if path
                .extension()
                .is_none_or(|extension| extension != "parquet")
            {
                continue;
            }
            let Ok(opened) = std::fs::File::open(&path) else {
                continue 'batches;
            };
            rows = match (rows, SerializedFileReader::new(opened)) {
                (Some(sum), Ok(reader)) => {
                    Some(sum + reader.metadata().file_metadata().num_rows() as u64)
                }
                _ => None,
            };
        }
        batches.push(rows);
    }
    batches
}

fn status(run: &serde_json::Value) -> &str {
    run["metrics"]["statusSummary"]["status"].as_str().unwrap()
}

/// Crashes a run at `point`, restarts, and measures what the reader and the dataset show.
async fn crash_once(point: &str, after_restart: AfterRestart) -> Figures {
    let (start_time, window_start) = schedule_with_due_windows(1);
    let mock = MockApi::start(
        Scenario::explicit(members(RECORDS, window_start, 15 * 60)).with_auth(Auth::Basic {
            username: USERNAME.into(),
            password: PASSWORD.into(),
        }),
    )
    .await;
    let (_dir, data_dir) = data_dir();
    let failpoints = format!("{point}=crash");
    let server = Server::start_with_env(
        &data_dir,
        &ARGUMENTS,
        &[("FLOWD_FAILPOINTS", failpoints.as_str())],
    );
    let client = reqwest::Client::new();
    let credential = Credential::from_json(server.printed_credential.as_ref().unwrap());
    let workflow = workflow::create(
        &client,
        &credential,
        &server,
        &mock.base_url(),
        (USERNAME, PASSWORD),
        DEFAULT_LIST_ID,
        schedule_params(start_time),
    )
    .await;
    let dataset_dir = data_dir.join("datasets").join(&workflow.dataset_id);
    let reader = Reader::start(dataset_dir.clone());

    let exit = server.wait_for_exit(Duration::from_secs(60));
    assert!(!exit.success(), "the server stopped at {point}: {exit:?}");
    let requests_before_restart = mock.request_count();

    // A published batch is recorded even when no attempt is left to fetch it again.
    let mut arguments = ARGUMENTS.to_vec();
    if after_restart == AfterRestart::RecordPublished {
        arguments.extend(["--run-attempts", "1"]);
    }
    let restarted = Server::start_with_args(&data_dir, &arguments);
    let deadline = Instant::now() + Duration::from_secs(60);
    let run = loop {
        let runs = runs_of(&client, &credential, &restarted, &workflow.flow_id).await;
        assert!(runs.len() <= 1, "one window, one run: {runs:#?}");
        if let Some(run) = runs.first().filter(|run| status(run) == "success") {
            break run.clone();
        }
        assert!(
            runs.iter().all(|run| status(run) != "failed"),
            "the run failed after the crash at {point}: {runs:#?}\n{}",
            restarted.logs()
        );
        assert!(
            Instant::now() < deadline,
            "the run did not succeed after the crash at {point}: {runs:#?}\n{}",
            restarted.logs()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let refetched = mock.request_count() > requests_before_restart;
    match after_restart {
        AfterRestart::Refetch => assert!(refetched, "{point}: the window is fetched again"),
        AfterRestart::RecordPublished | AfterRestart::Nothing => assert!(
            !refetched,
            "{point}: the published batch is recorded without fetching again"
        ),
    }
    if after_restart == AfterRestart::Nothing {
        assert_eq!(
            run["attempts"], 1,
            "{point}: recorded before the crash: {run}"
        );
    }
    assert!(restarted.terminate().success());
    let (partial_batches_seen, reader_observations) = reader.finish();

    // The files: one batch with every record once; nothing left in staging.
    let ids = member_ids(&data_dir, &workflow.dataset_id);
    let mut distinct = ids.clone();
    distinct.dedup();
    let expected: Vec<i64> = (0..RECORDS).collect();
    let lost = expected
        .iter()
        .filter(|id| distinct.binary_search(id).is_err())
        .count() as u64;
    let dataset =
        flowd_sink::Dataset::open(data_dir.join("datasets"), &workflow.dataset_id).unwrap();
    assert_eq!(dataset.batches().unwrap().len(), 1, "{point}: one batch");
    let staging = data_dir.join("datasets").join(".flowd-staging");
    let leftovers: Vec<_> = std::fs::read_dir(&staging)
        .map(|entries| entries.map(|entry| entry.unwrap().file_name()).collect())
        .unwrap_or_default();
    assert!(
        leftovers.is_empty(),
        "{point}: left in staging: {leftovers:?}"
    );

    // The store agrees: the run's output and the dataset's statistics are the files'.
    assert_eq!(
        run["metrics"]["recordSummary"]["outputRecordCount"], RECORDS,
        "{point}: {run}"
    );
    let listed = common::flowd()
        .args(["dataset", "list", "--data-dir"])
        .arg(&data_dir)
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.contains(&format!(
            "{}\tmembers\tflowd@AdobeOrg\tprod\t1\t{RECORDS}",
            workflow.dataset_id
        )),
        "{point}: the statistics are the files': {listed}"
    );
    Figures {
        lost,
        duplicated: (ids.len() - distinct.len()) as u64,
        partial_batches_seen,
        reader_observations,
        refetched,
    }
}

/// Crashes at `point` `FLOWD_CRASH_ITERATIONS` times (default once) and requires 0 lost, 0
/// duplicated, 0 partial batches seen; prints one line of figures.
async fn crash_repeatedly(point: &str, after_restart: AfterRestart) {
    let iterations: u32 = std::env::var("FLOWD_CRASH_ITERATIONS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(1);
    let started = Instant::now();
    let mut totals = Figures::default();
    let mut refetches = 0;
    for _ in 0..iterations {
        let figures = crash_once(point, after_restart).await;
        totals.lost += figures.lost;
        totals.duplicated += figures.duplicated;
        totals.partial_batches_seen += figures.partial_batches_seen;
        totals.reader_observations += figures.reader_observations;
        refetches += u32::from(figures.refetched);
    }
    println!(
        "crash point {point:<24} runs {iterations:>3}  lost {:>2}  duplicated {:>2}  partial batches seen {:>2}  (reader saw {} batch listings; window fetched again {refetches}/{iterations}; {:.1} s)",
        totals.lost,
        totals.duplicated,
        totals.partial_batches_seen,
        totals.reader_observations,
        started.elapsed().as_secs_f64()
    );
    assert_eq!(
        (totals.lost, totals.duplicated, totals.partial_batches_seen),
        (0, 0, 0),
        "{point}: lost, duplicated, partial batches seen"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_with_a_row_group_in_staging_refetches_and_lands_each_record_once() {
    crash_repeatedly("sink-row-group-staged", AfterRestart::Refetch).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_before_the_publishing_rename_refetches_and_lands_each_record_once() {
    crash_repeatedly("sink-before-publish", AfterRestart::Refetch).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_right_after_the_publishing_rename_records_the_published_batch_once() {
    crash_repeatedly("sink-after-publish", AfterRestart::RecordPublished).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_commit_and_record_records_the_published_batch_once() {
    crash_repeatedly("run-before-record", AfterRestart::RecordPublished).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_after_the_run_is_recorded_changes_nothing() {
    crash_repeatedly("run-after-record", AfterRestart::Nothing).await;
}
