//! `flowd serve` as a real process: first-start credential, the seed's
//! workflow over HTTP, clean shutdown on SIGTERM, and data surviving restarts.

mod common;

use common::{Credential, Server, data_dir, fixture};
use serde_json::{Value, json};

#[tokio::test]
async fn first_start_prints_a_credential_and_keeps_it_in_an_owner_only_file() {
    let (_dir, data_dir) = data_dir();
    let server = Server::start(&data_dir);
    let printed = server
        .printed_credential
        .clone()
        .expect("a credential is printed on first start");
    assert_eq!(printed["imsOrgId"], "flowd@AdobeOrg");
    let file = data_dir.join("initial-credential.json");
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(saved, printed);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(
            mode, 0o600,
            "the credential file is readable only by its owner"
        );
    }
    let health = reqwest::get(format!("{}/healthz", server.base_url))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    assert!(server.terminate().success());
    let restarted = Server::start(&data_dir);
    assert!(
        restarted.printed_credential.is_none(),
        "the credential is printed once only"
    );
}

#[tokio::test]
async fn the_seed_workflow_runs_against_a_real_server_and_survives_a_restart() {
    let (_dir, data_dir) = data_dir();
    let server = Server::start(&data_dir);
    let credential = Credential::from_json(server.printed_credential.as_ref().unwrap());
    let client = reqwest::Client::new();

    let created = credential
        .apply(client.post(server.url("/connectionSpecs")))
        .json(&fixture("mailchimp_members_create.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();

    let updated = credential
        .apply(client.put(server.url(&format!("/connectionSpecs/{id}"))))
        .json(&fixture("seed_mailchimp_update.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.status(), 200);
    let updated: Value = updated.json().await.unwrap();
    assert_eq!(updated["name"], "MailChimp source update 1.0");
    assert_eq!(updated["createdAt"], created["createdAt"]);

    let status = server.terminate();
    assert!(status.success(), "SIGTERM ends flowd cleanly: {status:?}");

    let restarted = Server::start(&data_dir);
    let read: Value = credential
        .apply(client.get(restarted.url(&format!("/connectionSpecs/{id}"))))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(read, json!({"items": [updated]}));
}

#[tokio::test]
async fn credentials_create_issues_a_credential_bound_to_its_org() {
    let (_dir, data_dir) = data_dir();
    let output = common::flowd()
        .args([
            "credentials",
            "create",
            "--org",
            "ACME@AdobeOrg",
            "--data-dir",
        ])
        .arg(&data_dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let issued: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(issued["imsOrgId"], "ACME@AdobeOrg");
    let server = Server::start(&data_dir);
    assert!(
        server.printed_credential.is_none(),
        "a data dir with a credential needs no bootstrap"
    );
    let acme = Credential::from_json(&issued);
    let client = reqwest::Client::new();
    let listed = acme
        .apply(client.get(server.url("/flowSpecs")))
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    let mut wrong_org = acme.clone();
    wrong_org.org = "flowd@AdobeOrg".into();
    let refused: Value = wrong_org
        .apply(client.get(server.url("/flowSpecs")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(refused["error_code"], "403025");
}

/// Three processes started at once on one empty data dir: exactly one bootstraps and prints
/// the first credential, and it works on all three.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_starting_together_on_an_empty_store_bootstrap_one_credential() {
    let (_dir, data_dir) = data_dir();
    let starts: Vec<_> = (0..3)
        .map(|_| {
            let data_dir = data_dir.clone();
            std::thread::spawn(move || Server::start(&data_dir))
        })
        .collect();
    let servers: Vec<Server> = starts
        .into_iter()
        .map(|start| start.join().unwrap())
        .collect();
    let printed: Vec<&Value> = servers
        .iter()
        .filter_map(|server| server.printed_credential.as_ref())
        .collect();
    assert_eq!(printed.len(), 1, "one first credential");
    let credential = Credential::from_json(printed[0]);
    for server in &servers {
        let response = credential
            .apply(reqwest::Client::new().get(server.url("/connectionSpecs")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    for server in servers {
        assert!(server.terminate().success());
    }
}

/// An API process and a worker process on one store split the work: a flow created through
/// the API process is run by the worker process (the API process runs nothing), each reports
/// its role and the store in /healthz and is ready, and the worker serves no Flow Service API.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_process_and_a_worker_process_split_the_work() {
    use common::runs::{member_ids, members, schedule_params, schedule_with_due_windows};
    use flowd_mockapi::{Auth, DEFAULT_LIST_ID, MockApi, Scenario};
    let (start_time, window_start) = schedule_with_due_windows(1);
    let mock = MockApi::start(
        Scenario::explicit(members(40, window_start, 15 * 60)).with_auth(Auth::Basic {
            username: "anystring".into(),
            password: "roles-password".into(),
        }),
    )
    .await;
    let (_dir, data_dir) = data_dir();
    let api = Server::start_with_args(&data_dir, &["--role", "api", "--planner-tick-ms", "100"]);
    let credential = Credential::from_json(api.printed_credential.as_ref().unwrap());
    let client = reqwest::Client::new();
    let workflow = common::workflow::create(
        &client,
        &credential,
        &api,
        &mock.base_url(),
        ("anystring", "roles-password"),
        DEFAULT_LIST_ID,
        schedule_params(start_time),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(mock.request_count(), 0, "the API process runs nothing");

    let worker =
        Server::start_with_args(&data_dir, &["--role", "worker", "--planner-tick-ms", "100"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let runs = common::workflow::runs_of(&client, &credential, &api, &workflow.flow_id).await;
        if runs
            .first()
            .is_some_and(|run| run["metrics"]["statusSummary"]["status"] == "success")
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{runs:#?}\n{}",
            worker.logs()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        member_ids(&data_dir, &workflow.dataset_id),
        (0..40).collect::<Vec<_>>()
    );

    for (server, role) in [(&api, "api"), (&worker, "worker")] {
        let health: Value = reqwest::get(format!("{}/healthz", server.base_url))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            health,
            json!({"status": "ok", "role": role, "store": "reachable"})
        );
        let ready = reqwest::get(format!("{}/readyz", server.base_url))
            .await
            .unwrap();
        assert_eq!(ready.status(), 200);
    }
    let on_worker = credential
        .apply(client.get(worker.url("/connectionSpecs")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        on_worker.status(),
        404,
        "a worker serves no Flow Service API"
    );
    assert!(worker.terminate().success());
    assert!(api.terminate().success());
}
