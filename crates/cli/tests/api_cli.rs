//! `flowd api …` against a real `flowd serve` on port 0, with its profiles in a temporary
//! config dir: login stores an owner-only profile without echoing the token; a connection
//! spec is created from a file, listed, read and deleted; a refused create prints the API's
//! pointers; a flow is disabled and enabled; a triggered run is watched until it succeeds,
//! with its record count.

mod common;

use std::path::Path;
use std::process::Output;

use common::runs::{members, schedule_params};
use common::{Credential, Server, data_dir, fixture, flowd};
use flowd_mockapi::{Auth, DEFAULT_LIST_ID, MockApi, Scenario};
use serde_json::Value;

const PASSWORD: &str = "api-cli-password";

/// `flowd api ARGS…` with the profiles under `config_dir`.
fn api(config_dir: &Path, arguments: &[&str]) -> Output {
    flowd()
        .arg("api")
        .args(arguments)
        .env("FLOWD_CONFIG_DIR", config_dir)
        .env_remove("FLOWD_PROFILE")
        .output()
        .expect("flowd api runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `api` that must succeed; its stdout.
fn api_ok(config_dir: &Path, arguments: &[&str]) -> String {
    let output = api(config_dir, arguments);
    assert!(
        output.status.success(),
        "flowd api {arguments:?} failed:\n{}\n{}",
        stdout(&output),
        stderr(&output)
    );
    stdout(&output)
}

/// Logs in with the credential the server printed, written to a file as `flowd serve` leaves it.
fn login(server: &Server, config_dir: &Path) -> String {
    let credential = server.printed_credential.as_ref().unwrap();
    let file = config_dir.join("credential.json");
    std::fs::write(&file, credential.to_string()).unwrap();
    api_ok(
        config_dir,
        &[
            "login",
            "--url",
            &server.base_url,
            "--credential-file",
            file.to_str().unwrap(),
        ],
    )
}

#[test]
fn login_stores_an_owner_only_profile_and_resources_are_created_listed_read_and_deleted() {
    let (_dir, data_dir) = data_dir();
    let server = Server::start(&data_dir);
    let config = tempfile::tempdir().unwrap();
    let token = server.printed_credential.as_ref().unwrap()["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();

    // A wrong token is refused at login, and nothing is stored.
    let refused = api(
        config.path(),
        &[
            "login",
            "--url",
            &server.base_url,
            "--api-key",
            "wrong",
            "--access-token",
            "wrong",
            "--org",
            "org@AdobeOrg",
        ],
    );
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("the credential was not accepted; nothing stored"),
        "{}",
        stderr(&refused)
    );
    assert!(!config.path().join("profiles.toml").exists());

    let logged_in = login(&server, config.path());
    assert!(
        logged_in.contains("saved as profile `default`"),
        "{logged_in}"
    );
    assert!(!logged_in.contains(&token));
    let profiles_file = config.path().join("profiles.toml");
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(&profiles_file)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let listed_profiles = api_ok(config.path(), &["profiles"]);
    assert!(listed_profiles.contains("default"), "{listed_profiles}");
    assert!(listed_profiles.contains("********"), "{listed_profiles}");
    assert!(!listed_profiles.contains(&token), "{listed_profiles}");

    // Create from a file, list, get, delete.
    let spec_file = config.path().join("spec.json");
    let mut spec = fixture("seed_mailchimp_update.json");
    spec["name"] = "api-cli spec".into();
    std::fs::write(&spec_file, spec.to_string()).unwrap();
    let created = api(
        config.path(),
        &[
            "create",
            "connection-specs",
            "--file",
            spec_file.to_str().unwrap(),
        ],
    );
    assert!(created.status.success(), "{}", stderr(&created));
    let spec_id = stdout(&created).trim().to_owned();
    assert_eq!(spec_id.len(), 36, "{spec_id}");
    assert!(stderr(&created).contains(&format!("created connection-specs {spec_id}")));

    let listed = api_ok(config.path(), &["list", "connection-specs"]);
    let header = listed.lines().next().unwrap();
    assert!(header.starts_with("ID"), "{listed}");
    assert!(header.contains("NAME") && header.contains("STATE") && header.contains("UPDATED"));
    let row = listed
        .lines()
        .find(|line| line.starts_with(&spec_id))
        .unwrap_or_else(|| panic!("{listed}"));
    assert!(row.contains("api-cli spec"), "{row}");
    let as_json: Value = serde_json::from_str(&api_ok(
        config.path(),
        &["list", "connection-specs", "--output", "json"],
    ))
    .unwrap();
    assert!(
        as_json
            .as_array()
            .unwrap()
            .iter()
            .any(|item| item["id"] == spec_id.as_str())
    );

    let got: Value = serde_json::from_str(&api_ok(
        config.path(),
        &["get", "connection-specs", &spec_id],
    ))
    .unwrap();
    assert_eq!(got["id"], spec_id.as_str());
    assert_eq!(got["name"], "api-cli spec");

    let deleted = api_ok(config.path(), &["delete", "connection-specs", &spec_id]);
    assert_eq!(
        deleted.trim(),
        format!("deleted connection-specs {spec_id}")
    );
    let listed = api_ok(config.path(), &["list", "connection-specs"]);
    assert!(!listed.contains(&spec_id), "{listed}");
    let gone = api(config.path(), &["get", "connection-specs", &spec_id]);
    assert!(!gone.status.success());
    assert!(
        stderr(&gone).contains("HTTP 404 (FLOW-1439-404)"),
        "{}",
        stderr(&gone)
    );

    // A refused create prints the message and each problem at its pointer.
    let mut invalid = fixture("seed_mailchimp_update.json");
    invalid.as_object_mut().unwrap().remove("name");
    std::fs::write(&spec_file, invalid.to_string()).unwrap();
    let refused = api(
        config.path(),
        &[
            "create",
            "connection-specs",
            "--file",
            spec_file.to_str().unwrap(),
        ],
    );
    assert!(!refused.status.success());
    let message = stderr(&refused);
    assert!(message.contains("HTTP 400 (FLOW-1100-400)"), "{message}");
    assert!(message.contains("\n  at /name: "), "{message}");
    assert!(stdout(&refused).is_empty());

    // --sandbox overrides the profile's per call: another sandbox has its own copy of the seeds.
    let other = api_ok(config.path(), &["--sandbox", "dev", "list", "flow-specs"]);
    assert!(other.lines().count() > 1, "{other}");

    // An unknown profile names the stored ones.
    let unknown = api(config.path(), &["--profile", "staging", "list", "flows"]);
    assert!(!unknown.status.success());
    assert!(
        stderr(&unknown).contains("no profile `staging`: the stored ones are default"),
        "{}",
        stderr(&unknown)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flow_is_disabled_and_enabled_and_a_triggered_run_is_watched_until_it_succeeds() {
    let now = jiff::Timestamp::now().as_second();
    // One member a minute over the last hour.
    let mock = MockApi::start(Scenario::explicit(members(60, now - 3600, 3600)).with_auth(
        Auth::Basic {
            username: "anystring".into(),
            password: PASSWORD.into(),
        },
    ))
    .await;
    let (_dir, data_dir) = data_dir();
    let server = Server::start_with_args(&data_dir, &["--planner-tick-ms", "100"]);
    let credential = Credential::from_json(server.printed_credential.as_ref().unwrap());
    let client = reqwest::Client::new();
    // Scheduled to start tomorrow: only the ad hoc run below runs.
    let workflow = common::workflow::create(
        &client,
        &credential,
        &server,
        &mock.base_url(),
        ("anystring", PASSWORD),
        DEFAULT_LIST_ID,
        schedule_params(now + 24 * 3600),
    )
    .await;
    let flow = workflow.flow_id.clone();
    let dataset_id = workflow.dataset_id.clone();
    let config = tempfile::tempdir().unwrap();
    let config_dir = config.path().to_owned();
    let server_url = server.base_url.clone();
    let output = tokio::task::spawn_blocking(move || {
        let run = |arguments: &[&str]| api_ok(&config_dir, arguments);
        let credential_file = config_dir.join("credential.json");
        std::fs::write(
            &credential_file,
            serde_json::json!({"apiKey": credential.api_key, "accessToken": credential.token, "imsOrgId": credential.org}).to_string(),
        )
        .unwrap();
        run(&["login", "--url", &server_url, "--credential-file", credential_file.to_str().unwrap()]);

        let disabled = run(&["flows", "disable", &flow]);
        assert!(disabled.starts_with(&format!("flow {flow} disabled")), "{disabled}");
        let state = |config_dir: &Path| -> Value {
            let text = api_ok(config_dir, &["get", "flows", &flow]);
            serde_json::from_str::<Value>(&text).unwrap()["state"].clone()
        };
        assert_eq!(state(&config_dir), "disabled");
        let enabled = run(&["flows", "enable", &flow]);
        assert!(enabled.starts_with(&format!("flow {flow} enabled")), "{enabled}");
        assert_eq!(state(&config_dir), "enabled");

        // The window in both forms: RFC 3339 start, epoch seconds end.
        let start = jiff::Timestamp::from_second(now - 2 * 3600).unwrap().to_string();
        let window = format!("{start}/{}", now + 60);
        let run_id = run(&["runs", "trigger", &flow, "--window", &window]).trim().to_owned();
        assert_eq!(run_id.len(), 36, "{run_id}");
        let watched = run(&["runs", "watch", &flow, "--until-idle"]);

        // The run in the runs listing, the dataset with its records in Catalog's.
        let runs = run(&["list", "runs"]);
        let row = runs.lines().find(|line| line.starts_with(&run_id)).unwrap_or_else(|| panic!("{runs}"));
        assert!(row.contains(&format!("flow {flow}")) && row.contains("success"), "{row}");
        let datasets = run(&["list", "datasets"]);
        assert!(datasets.lines().any(|line| line.starts_with(&dataset_id) && line.contains("members")), "{datasets}");
        let dataset: Value = serde_json::from_str(&run(&["get", "datasets", &dataset_id])).unwrap();
        assert_eq!(dataset["recordCount"], 60, "{dataset}");

        // A second ad hoc run over the same window is refused naming the first; re-triggering
        // the first runs its window again.
        let overlapping = api(&config_dir, &["runs", "trigger", &flow, "--window", &window]);
        assert!(!overlapping.status.success());
        let refusal = stderr(&overlapping);
        assert!(refusal.contains("(FLOW-1409-400)") && refusal.contains(&run_id), "{refusal}");
        let retriggered = run(&["runs", "retrigger", &run_id]);
        assert!(retriggered.starts_with(&format!("run {run_id} re-triggered: pending over ")), "{retriggered}");
        let rewatched = run(&["runs", "watch", &flow, "--until-idle"]);
        (run_id, watched, rewatched)
    })
    .await
    .unwrap();
    let (run_id, watched, rewatched) = output;
    let last_again = rewatched
        .lines()
        .rfind(|line| line.starts_with(&run_id))
        .unwrap();
    assert!(
        last_again.contains("  success  ") && last_again.contains("records 60"),
        "{rewatched}"
    );
    let last = watched
        .lines()
        .rfind(|line| line.starts_with(&run_id))
        .unwrap_or_else(|| panic!("{watched}\n{}", server.logs()));
    assert!(last.contains("  success  "), "{watched}\n{}", server.logs());
    assert!(last.contains("records 60"), "{watched}");
    assert!(last.ends_with(" s"), "{watched}");
    drop(mock);
}
