//! Moving up: a single-node install (SQLite file, local datasets) copied with `flowd store copy`
//! into an empty PostgreSQL serves the same resources, credentials, runs and dataset
//! statistics, its sealed secrets still open with the install's key, and a second copy into
//! the now non-empty store is refused.

mod common;

use std::time::Duration;

use common::runs::{members, schedule_params, schedule_with_due_windows};
use common::workflow::{self, call, preview_status, wait_for_successes};
use common::{Credential, Server, data_dir, flowd};
use flowd_mockapi::{Auth, DEFAULT_LIST_ID, MockApi, Scenario};
use flowd_store::conformance::PostgresCluster;
use serde_json::Value;

const PASSWORD: &str = "copy-secret-password";

/// What a client sees of an install: every list the workflow touched, and the dataset.
async fn snapshot(
    client: &reqwest::Client,
    credential: &Credential,
    server: &Server,
    dataset_id: &str,
) -> Vec<Value> {
    let mut seen = Vec::new();
    for path in [
        "/connectionSpecs?property=type==generic-rest",
        "/connections",
        "/sourceConnections",
        "/targetConnections",
        "/flows",
        "/runs",
    ] {
        let (status, listed) =
            call(client, credential, server, reqwest::Method::GET, path, None).await;
        assert_eq!(status, 200, "{path}: {listed}");
        seen.push(listed["items"].clone());
    }
    let (status, dataset) = call(
        client,
        credential,
        server,
        reqwest::Method::GET,
        &format!("/data/foundation/catalog/dataSets/{dataset_id}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{dataset}");
    seen.push(dataset);
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copied_install_serves_the_same_resources_credentials_and_runs_from_postgres() {
    let Some(cluster) = PostgresCluster::start_or_skip(
        "a_copied_install_serves_the_same_resources_credentials_and_runs_from_postgres",
    ) else {
        return;
    };
    let (start_time, window_start) = schedule_with_due_windows(2);
    let mock = MockApi::start(
        Scenario::explicit(members(10, window_start, 30 * 60)).with_auth(Auth::Basic {
            username: "anystring".into(),
            password: PASSWORD.into(),
        }),
    )
    .await;
    let client = reqwest::Client::new();

    // The single-node install: two windows run into the local dataset.
    let (_dir, data_dir) = data_dir();
    let server = Server::start_with_args(&data_dir, &["--planner-tick-ms", "200"]);
    let credential = Credential::from_json(server.printed_credential.as_ref().unwrap());
    let workflow = workflow::create(
        &client,
        &credential,
        &server,
        &mock.base_url(),
        ("anystring", PASSWORD),
        DEFAULT_LIST_ID,
        schedule_params(start_time),
    )
    .await;
    wait_for_successes(
        &client,
        &credential,
        &server,
        &workflow.flow_id,
        2,
        Duration::from_secs(60),
    )
    .await;
    let before = snapshot(&client, &credential, &server, &workflow.dataset_id).await;
    assert!(server.terminate().success());
    let other = flowd()
        .args([
            "credentials",
            "create",
            "--org",
            "OTHER@AdobeOrg",
            "--data-dir",
        ])
        .arg(&data_dir)
        .output()
        .unwrap();
    assert!(other.status.success());
    let other: Value = serde_json::from_slice(&other.stdout).unwrap();
    let other = Credential::from_json(&other);

    // The copy, datasets included.
    let store_url = cluster.fresh_database().await;
    let copied_datasets = data_dir.parent().unwrap().join("shared-datasets");
    let sqlite_url = format!("sqlite://{}", data_dir.join("flowd.sqlite").display());
    let copy = flowd()
        .args(["store", "copy", "--from", &sqlite_url, "--to", &store_url])
        .arg("--datasets-to")
        .arg(&copied_datasets)
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&copy.stdout);
    assert!(
        copy.status.success(),
        "{printed}{}",
        String::from_utf8_lossy(&copy.stderr)
    );
    assert!(printed.contains("runs: 2 rows"), "{printed}");
    assert!(printed.contains("credentials: 2 rows"), "{printed}");

    // A process on PostgreSQL, with the install's key and the copied datasets.
    let (_fleet_dir, fleet_data_dir) = common::data_dir();
    let key_file = data_dir.join("secret.key");
    let moved = Server::start_with_args(
        &fleet_data_dir,
        &[
            "--store",
            &store_url,
            "--datasets-url",
            copied_datasets.to_str().unwrap(),
            "--secret-key-file",
            key_file.to_str().unwrap(),
        ],
    );
    assert!(
        moved.printed_credential.is_none(),
        "the copied credentials are there: no new bootstrap"
    );
    let after = snapshot(&client, &credential, &moved, &workflow.dataset_id).await;
    assert_eq!(after, before, "the same resources, runs and dataset");
    let (status, _) = call(
        &client,
        &other,
        &moved,
        reqwest::Method::GET,
        "/flows",
        None,
    )
    .await;
    assert_eq!(status, 200, "the credential created before the copy works");
    assert_eq!(
        preview_status(
            &moved,
            &credential,
            &workflow.connection_id,
            DEFAULT_LIST_ID,
            PASSWORD
        )
        .await,
        200,
        "the connection's sealed password opens with the install's key"
    );
    let dataset = flowd_sink::Dataset::open(&copied_datasets, &workflow.dataset_id).unwrap();
    assert_eq!(
        dataset.head(100).unwrap().len(),
        10,
        "every record was copied"
    );

    // A second copy into the same store is refused and changes nothing.
    let again = flowd()
        .args(["store", "copy", "--from", &sqlite_url, "--to", &store_url])
        .output()
        .unwrap();
    assert!(!again.status.success());
    let message = String::from_utf8_lossy(&again.stderr);
    assert!(message.contains("not empty"), "{message}");
    let unchanged = snapshot(&client, &credential, &moved, &workflow.dataset_id).await;
    assert_eq!(unchanged, before);
    assert!(moved.terminate().success());
}
