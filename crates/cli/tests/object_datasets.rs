//! Datasets on S3-compatible object storage, end to end: `flowd serve --datasets-url
//! s3://BUCKET/PREFIX` against a moto server on loopback runs the documented workflow, and
//! what it wrote is read back by `flowd dataset head`, the catalog API and pyarrow's S3
//! filesystem, every record once; the credentials never show in the logs.

mod common;

use std::time::Duration;

use common::runs::{members, schedule_params, schedule_with_due_windows};
use common::workflow::{self, call, runs_of};
use common::{Credential, Server, data_dir, flowd};
use flowd_mockapi::{Auth, DEFAULT_LIST_ID, MockApi, Scenario};
use flowd_sink::moto::MotoServer;
use serde_json::Value;

const PASSWORD: &str = "object-secret-password";

/// Every member id pyarrow reads from `s3://BUCKET/PREFIX/<dataset>/` through the moto server,
/// or `None` when python3 cannot import pyarrow.
fn pyarrow_member_ids(server: &MotoServer, prefix: &str, dataset_id: &str) -> Option<Vec<i64>> {
    let script = r#"
import sys, pyarrow.dataset as ds, pyarrow.fs as fs
endpoint, path = sys.argv[1], sys.argv[2]
s3 = fs.S3FileSystem(access_key="flowd-test-key", secret_key="flowd-test-secret",
                     endpoint_override=endpoint, scheme="http", region="us-east-1")
dataset = ds.dataset(path, filesystem=s3, format="parquet")
for row in dataset.to_table(columns=["member"]).to_pylist():
    print(row["member"]["id"])
"#;
    let probe = std::process::Command::new("python3")
        .args(["-c", "import pyarrow.dataset, pyarrow.fs"])
        .output();
    if !probe.is_ok_and(|output| output.status.success()) {
        assert!(
            std::env::var_os("FLOWD_REQUIRE_PYARROW").is_none(),
            "FLOWD_REQUIRE_PYARROW is set but pyarrow cannot be imported"
        );
        eprintln!("skipped the pyarrow half: python3 cannot import pyarrow (CI installs it)");
        return None;
    }
    let output = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(server.endpoint().trim_start_matches("http://"))
        .arg(format!("{}/{prefix}/{dataset_id}/", server.bucket()))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut ids: Vec<i64> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| line.trim().parse().unwrap())
        .collect();
    ids.sort_unstable();
    Some(ids)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_runs_land_in_object_storage_and_read_back_everywhere_once() {
    let Some(s3) = MotoServer::start_or_skip(
        "scheduled_runs_land_in_object_storage_and_read_back_everywhere_once",
    ) else {
        return;
    };
    let (start_time, window_start) = schedule_with_due_windows(3);
    let count = 300;
    let mock = MockApi::start(
        Scenario::explicit(members(count, window_start, 45 * 60)).with_auth(Auth::Basic {
            username: "anystring".into(),
            password: PASSWORD.into(),
        }),
    )
    .await;
    let (_dir, data_dir) = data_dir();
    let prefix = "team/datasets";
    let url = format!("s3://{}/{prefix}", s3.bucket());
    let environment = s3.environment();
    let environment: Vec<(&str, &str)> = environment
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    let server = Server::start_with_env(
        &data_dir,
        &["--planner-tick-ms", "200", "--datasets-url", &url],
        &environment,
    );
    let credential = Credential::from_json(server.printed_credential.as_ref().unwrap());
    let client = reqwest::Client::new();
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
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let runs = runs_of(&client, &credential, &server, &workflow.flow_id).await;
        if runs.len() == 3
            && runs
                .iter()
                .all(|run| run["metrics"]["statusSummary"]["status"] == "success")
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{runs:#?}\n{}",
            server.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let expected: Vec<i64> = (0..count).collect();

    // The catalog answers from the statistics the runs recorded.
    let (status, dataset) = call(
        &client,
        &credential,
        &server,
        reqwest::Method::GET,
        &format!("/data/foundation/catalog/dataSets/{}", workflow.dataset_id),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        dataset.to_string().contains(&count.to_string()),
        "the record count is reported: {dataset}"
    );

    // `flowd dataset head` with the same --datasets-url reads the objects.
    let head = flowd()
        .args(["dataset", "head", &workflow.dataset_id, "-n", "1000"])
        .args(["--datasets-url", &url, "--data-dir"])
        .arg(&data_dir)
        .envs(environment.iter().copied())
        .output()
        .unwrap();
    assert!(
        head.status.success(),
        "{}",
        String::from_utf8_lossy(&head.stderr)
    );
    let mut ids: Vec<i64> = String::from_utf8_lossy(&head.stdout)
        .lines()
        .map(|line| {
            serde_json::from_str::<Value>(line).unwrap()["member"]["id"]
                .as_i64()
                .unwrap()
        })
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, expected, "every record once");

    if let Some(ids) = pyarrow_member_ids(&s3, prefix, &workflow.dataset_id) {
        assert_eq!(ids, expected, "pyarrow reads every record once");
    }
    let logs = server.logs();
    assert!(!logs.contains("flowd-test-secret"), "{logs}");
    assert!(server.terminate().success());
}
