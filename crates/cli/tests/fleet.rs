//! flowd as a fleet: three `flowd serve` processes on one throwaway PostgreSQL and one shared
//! datasets directory run the due windows of 20 flows while one process is SIGKILLed (and later
//! restarted) and another is stopped with SIGTERM. Every window runs and succeeds exactly once,
//! every record lands once, no window was ever fetched by two live attempts at once, and every
//! live process answers the API throughout.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::runs::{members, schedule_params, schedule_with_due_windows};
use common::{Credential, Endpoint, Server, fixture};
use flowd_mockapi::{Auth, MockApi, Scenario};
use flowd_store::conformance::PostgresCluster;
use flowd_store::prelude::*;
use flowd_store::{ListQuery, PostgresStore, RunFilter, RunStatus, Scope};
use serde_json::json;

const FLOWS: usize = 20;
const WINDOWS: i64 = 4;
const PAGE: i64 = 5;
const PASSWORD: &str = "fleet-secret-password";
/// Base64 of 32 bytes: the key every process of the fleet seals secrets with.
const SECRET_KEY: &str = "ZmxlZXQtdGVzdC1rZXktb2YtdGhpcnR5LXR3by1ieXQ=";

/// One process of the fleet and whether the API poller expects it to answer.
struct Member {
    server: Mutex<Option<Server>>,
    up: AtomicBool,
    data_dir: PathBuf,
}

fn serve(data_dir: &Path, store_url: &str, datasets: &Path) -> Server {
    let datasets = datasets.to_str().unwrap();
    Server::start_with_env(
        data_dir,
        &[
            "--store",
            store_url,
            "--datasets-url",
            datasets,
            "--workers",
            "2",
            "--planner-tick-ms",
            "200",
            "--lease-ms",
            "4000",
            "--retry-backoff-ms",
            "100",
            "--shutdown-grace-seconds",
            "10",
            // The per-sandbox cap counts every process's runs; none here, so the six workers
            // of the fleet all run.
            "--max-runs-per-sandbox",
            "0",
        ],
        &[("FLOWD_SECRET_KEY", SECRET_KEY)],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_fleet_on_postgres_runs_every_window_once_through_a_kill_and_a_stop() {
    let Some(cluster) = PostgresCluster::start_or_skip(
        "a_fleet_on_postgres_runs_every_window_once_through_a_kill_and_a_stop",
    ) else {
        return;
    };
    let store_url = cluster.fresh_database().await;
    let (start_time, first_window_start) = schedule_with_due_windows(WINDOWS);
    let span = WINDOWS * 15 * 60;
    // 12 members per window, so each window takes three pages of five.
    let records = members(WINDOWS * 12, first_window_start, span);
    let list_ids: Vec<String> = (0..FLOWS).map(|index| format!("list{index:02}")).collect();
    let mut scenario = Scenario::explicit(records)
        .with_auth(Auth::Basic {
            username: "anystring".into(),
            password: PASSWORD.into(),
        })
        .with_latency(Duration::from_millis(100));
    scenario.list_ids = list_ids.clone();
    let mock = MockApi::start(scenario).await;

    let root = tempfile::tempdir().unwrap();
    let datasets = root.path().join("datasets");
    let members_of_fleet: Vec<Arc<Member>> = (0..3)
        .map(|index| {
            Arc::new(Member {
                server: Mutex::new(None),
                up: AtomicBool::new(false),
                data_dir: root.path().join(format!("node{index}")),
            })
        })
        .collect();
    // The first process bootstraps the credential; the others start on the same store.
    let mut credential = None;
    for member in &members_of_fleet {
        let server = serve(&member.data_dir, &store_url, &datasets);
        if let Some(printed) = &server.printed_credential {
            assert!(credential.is_none(), "the credential is bootstrapped once");
            credential = Some(Credential::from_json(printed));
        }
        *member.server.lock().unwrap() = Some(server);
        member.up.store(true, Ordering::SeqCst);
    }
    let credential = credential.expect("the first process printed the credential");
    let client = reqwest::Client::new();

    // The API of every live process answers throughout.
    let failures = Arc::new(AtomicUsize::new(0));
    let answered = Arc::new(AtomicUsize::new(0));
    let polling = Arc::new(AtomicBool::new(true));
    let poller = {
        let (members_of_fleet, credential, client, failures, answered, polling) = (
            members_of_fleet.clone(),
            credential.clone(),
            client.clone(),
            failures.clone(),
            answered.clone(),
            polling.clone(),
        );
        tokio::spawn(async move {
            while polling.load(Ordering::SeqCst) {
                for (index, member) in members_of_fleet.iter().enumerate() {
                    let url = match member.server.lock().unwrap().as_ref() {
                        Some(server) if member.up.load(Ordering::SeqCst) => {
                            server.url("/flows?limit=5")
                        }
                        _ => continue,
                    };
                    let answer = credential
                        .apply(client.get(&url))
                        .timeout(Duration::from_secs(5))
                        .send()
                        .await;
                    // A process stopped while the request was out does not count.
                    if !member.up.load(Ordering::SeqCst) {
                        continue;
                    }
                    match answer {
                        Ok(response) if response.status() == 200 => {
                            answered.fetch_add(1, Ordering::SeqCst);
                        }
                        other => {
                            eprintln!("process {index} did not answer: {other:?}");
                            failures.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };

    // One connection spec reading five members a page; 20 flows, each on its own list and
    // dataset, created through different processes.
    let mut spec = fixture("seed_mailchimp_update.json");
    set_page_size(&mut spec);
    let auth = json!({"specName": "Basic Authentication", "params": {"host": mock.base_url(), "username": "anystring", "password": PASSWORD}});
    let first = server_of(&members_of_fleet[0]);
    let (spec_id, connection_id) =
        common::workflow::create_connection(&client, &credential, &first, spec, auth).await;
    drop(first);
    let mut workflows = Vec::new();
    for (index, list_id) in list_ids.iter().enumerate() {
        let member = server_of(&members_of_fleet[index % 3]);
        workflows.push(
            common::workflow::add_flow(
                &client,
                &credential,
                &member,
                (&spec_id, &connection_id),
                list_id,
                schedule_params(start_time),
            )
            .await,
        );
    }

    let store = PostgresStore::connect(&store_url).await.unwrap();
    let scope = Scope {
        org_id: "flowd@AdobeOrg".into(),
        sandbox_name: "prod".into(),
    };
    let total = FLOWS * WINDOWS as usize;
    let succeeded = || async {
        store
            .list_runs(&scope, &RunFilter::default(), &ListQuery::default())
            .await
            .unwrap()
            .into_iter()
            .filter(|run| run.status == RunStatus::Success)
            .count()
    };
    // A quarter of the runs done, and process 1 in the middle of one: kill it.
    let owner_prefix = lease_owner_prefix(&take_logs(&members_of_fleet[1]));
    let fetching_in = |prefix: String| {
        let store = &store;
        let scope = &scope;
        async move {
            store
                .list_runs(scope, &RunFilter::default(), &ListQuery::default())
                .await
                .unwrap()
                .into_iter()
                .any(|run| {
                    run.status == RunStatus::InProgress
                        && run.metrics.is_none()
                        && run
                            .lease_owner
                            .as_deref()
                            .is_some_and(|owner| owner.starts_with(&prefix))
                })
        }
    };
    wait_until(Duration::from_secs(90), || async {
        succeeded().await >= total / 4
    })
    .await;
    wait_until(Duration::from_secs(30), || {
        fetching_in(owner_prefix.clone())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    members_of_fleet[1].up.store(false, Ordering::SeqCst);
    take(&members_of_fleet[1]).kill_hard();
    // Half done: stop process 2 with SIGTERM (it drains: hands its runs back or finishes).
    wait_until(Duration::from_secs(90), || async {
        succeeded().await >= total / 2
    })
    .await;
    members_of_fleet[2].up.store(false, Ordering::SeqCst);
    let stopped = take(&members_of_fleet[2]).terminate();
    assert!(stopped.success(), "SIGTERM drains and exits cleanly");
    // Restart the killed one on the same store.
    let restarted = serve(&members_of_fleet[1].data_dir, &store_url, &datasets);
    assert!(restarted.printed_credential.is_none());
    *members_of_fleet[1].server.lock().unwrap() = Some(restarted);
    members_of_fleet[1].up.store(true, Ordering::SeqCst);

    wait_until(Duration::from_secs(120), || async {
        succeeded().await == total
    })
    .await;
    polling.store(false, Ordering::SeqCst);
    poller.await.unwrap();

    // Every window of every flow ran once and succeeded.
    for workflow in &workflows {
        let runs = store
            .list_runs(
                &scope,
                &RunFilter {
                    flow_ids: Some(vec![workflow.flow_id.clone()]),
                },
                &ListQuery::default(),
            )
            .await
            .unwrap();
        let windows: BTreeSet<i64> = runs.iter().map(|run| run.window_end).collect();
        assert_eq!(runs.len(), WINDOWS as usize, "{runs:#?}");
        assert_eq!(windows.len(), WINDOWS as usize);
        assert!(runs.iter().all(|run| run.status == RunStatus::Success));
    }
    // Every record landed once in each flow's dataset.
    let expected: Vec<i64> = (0..WINDOWS * 12).collect();
    for workflow in &workflows {
        let dataset = flowd_sink::Dataset::open(&datasets, &workflow.dataset_id).unwrap();
        let mut ids: Vec<i64> = dataset
            .head(1_000_000)
            .unwrap()
            .iter()
            .map(|record| record["member"]["id"].as_i64().unwrap())
            .collect();
        ids.sort_unstable();
        assert_eq!(ids, expected, "dataset {}", workflow.dataset_id);
    }
    // No window was fetched by two live attempts at once: per list and window, each request
    // either starts over (a new attempt after a kill or a hand-back) or asks for the page
    // after the one before.
    let mut pages: BTreeMap<(String, String, String), Vec<i64>> = BTreeMap::new();
    for request in mock.requests() {
        let Some(list) = request
            .path
            .strip_prefix("/3.0/lists/")
            .and_then(|rest| rest.strip_suffix("/members"))
        else {
            continue;
        };
        let pair = |name: &str| {
            request
                .query_pairs
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
                .unwrap_or_default()
        };
        let offset: i64 = pair("offset").parse().unwrap_or(0);
        pages
            .entry((
                list.to_owned(),
                pair("since_last_changed"),
                pair("before_last_changed"),
            ))
            .or_default()
            .push(offset);
    }
    assert_eq!(pages.len(), total, "every window of every flow was fetched");
    let mut restarts = 0;
    for (window, offsets) in &pages {
        for pair in offsets.windows(2) {
            let follows = pair[1] == pair[0] + PAGE;
            let starts_over = pair[1] == 0;
            assert!(
                follows || starts_over,
                "two attempts fetched {window:?} at once: offsets {offsets:?}"
            );
            restarts += usize::from(starts_over);
        }
    }
    eprintln!(
        "{total} runs; {restarts} windows started over after the kill or the stop; {} API answers",
        answered.load(Ordering::SeqCst)
    );
    assert!(
        restarts >= 1,
        "the killed process had a window half fetched"
    );
    assert_eq!(
        failures.load(Ordering::SeqCst),
        0,
        "a live process did not answer"
    );
    assert!(answered.load(Ordering::SeqCst) > 0);
    store.close().await;
    drop(cluster);
}

/// The page size of the seeded spec's offset pagination.
fn set_page_size(spec: &mut serde_json::Value) {
    let pagination = &mut spec["sourceSpec"]["attributes"]["paginationParams"];
    pagination["limitValue"] = json!(PAGE.to_string());
}

/// Where a running member answers (the lock is released at once).
fn server_of(member: &Member) -> Endpoint {
    let guard = member.server.lock().unwrap();
    guard.as_ref().expect("the process runs").endpoint()
}

fn take_logs(member: &Member) -> String {
    member
        .server
        .lock()
        .unwrap()
        .as_ref()
        .expect("the process runs")
        .logs()
}

/// The lease-owner prefix of a process's workers, from its startup log.
fn lease_owner_prefix(logs: &str) -> String {
    let line = logs
        .lines()
        .find(|line| line.contains("workers started"))
        .unwrap_or_else(|| panic!("no workers line in {logs}"));
    line.split("lease_owner_prefix=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the prefix is logged")
        .trim_matches('"')
        .to_owned()
}

fn take(member: &Member) -> Server {
    member
        .server
        .lock()
        .unwrap()
        .take()
        .expect("the process runs")
}

async fn wait_until<F, Fut>(timeout: Duration, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while !condition().await {
        assert!(Instant::now() < deadline, "timed out");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_starting_together_bootstrap_one_credential_and_share_created_ones() {
    let Some(cluster) = PostgresCluster::start_or_skip(
        "processes_starting_together_bootstrap_one_credential_and_share_created_ones",
    ) else {
        return;
    };
    let store_url = cluster.fresh_database().await;
    let root = tempfile::tempdir().unwrap();
    let datasets = root.path().join("datasets");
    let starting: Vec<_> = (0..3)
        .map(|index| {
            let (data_dir, store_url, datasets) = (
                root.path().join(format!("node{index}")),
                store_url.clone(),
                datasets.clone(),
            );
            std::thread::spawn(move || serve(&data_dir, &store_url, &datasets))
        })
        .collect();
    let servers: Vec<Server> = starting
        .into_iter()
        .map(|thread| thread.join().unwrap())
        .collect();
    let printed: Vec<_> = servers
        .iter()
        .filter_map(|server| server.printed_credential.as_ref())
        .collect();
    assert_eq!(printed.len(), 1, "exactly one process bootstrapped");
    let bootstrap = Credential::from_json(printed[0]);
    let created = common::flowd()
        .args([
            "credentials",
            "create",
            "--org",
            "TEAM@AdobeOrg",
            "--store",
            &store_url,
        ])
        .arg("--data-dir")
        .arg(root.path().join("cli"))
        .output()
        .unwrap();
    assert!(created.status.success(), "{created:?}");
    let created = Credential::from_json(&serde_json::from_slice(&created.stdout).unwrap());
    let client = reqwest::Client::new();
    for server in &servers {
        for credential in [&bootstrap, &created] {
            let answer = credential
                .apply(client.get(server.url("/flows")))
                .send()
                .await
                .unwrap();
            assert_eq!(
                answer.status(),
                200,
                "every process accepts every credential"
            );
        }
    }
    let store = PostgresStore::connect(&store_url).await.unwrap();
    assert_eq!(store.count_credentials().await.unwrap(), 2);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_fails_while_the_postgres_store_is_down_and_its_password_never_shows() {
    let Some(cluster) = PostgresCluster::start_or_skip(
        "readiness_fails_while_the_postgres_store_is_down_and_its_password_never_shows",
    ) else {
        return;
    };
    // A password in the URL (the throwaway cluster trusts loopback, so any works): it must
    // never show.
    let store_url =
        cluster
            .fresh_database()
            .await
            .replacen("flowd@", "flowd:fleet-db-password@", 1);
    let root = tempfile::tempdir().unwrap();
    let server = serve(
        &root.path().join("node"),
        &store_url,
        &root.path().join("datasets"),
    );
    let client = reqwest::Client::new();
    let probe = |path: &'static str| {
        let (client, url) = (client.clone(), format!("{}{path}", server.base_url));
        async move {
            let response = client.get(url).send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<serde_json::Value>().await.ok())
        }
    };
    assert_eq!(probe("/readyz").await.0, 200);
    let (status, health) = probe("/healthz").await;
    assert_eq!(status, 200);
    assert_eq!(health.unwrap()["store"], "reachable");

    cluster.stop_immediately();
    let deadline = Instant::now() + Duration::from_secs(20);
    while probe("/readyz").await.0 != 503 {
        assert!(
            Instant::now() < deadline,
            "readiness still 200 with the store down"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (status, health) = probe("/healthz").await;
    assert_eq!(status, 200, "the process itself is up");
    let health = health.unwrap();
    assert_eq!(health["store"], "unreachable", "{health}");
    assert!(!health.to_string().contains("postgres://"), "{health}");
    let logs = server.logs();
    assert!(logs.contains("store opened"), "{logs}");
    assert!(!logs.contains("fleet-db-password"), "{logs}");
}
