//! Datasets on S3-compatible object storage, end to end: `flowd serve --datasets-url
//! s3://BUCKET/PREFIX` against a moto server on loopback runs the documented workflow, and
//! what it wrote is read back by `flowd dataset head`, the catalog API and pyarrow's S3
//! filesystem, every record once; the credentials never show in the logs.

mod common;

use std::time::Duration;

use common::runs::{members, schedule_params, schedule_with_due_windows};
use common::workflow::{self, call, wait_for_successes};
use common::{Credential, Server, data_dir, flowd};
use flowd_mockapi::{Auth, DEFAULT_LIST_ID, MockApi, Scenario};
use flowd_sink::moto::MotoServer;
use serde_json::Value;

const PASSWORD: &str = "object-secret-password";

/// Variables as `Server::start_with_env` takes them.
fn borrowed<'a>(environment: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    environment
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect()
}

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
    let environment = borrowed(&environment);
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
    wait_for_successes(
        &client,
        &credential,
        &server,
        &workflow.flow_id,
        3,
        Duration::from_secs(60),
    )
    .await;
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

/// Record counts of the Parquet objects a reader sees under `prefix/<dataset>/` (keys
/// without a segment starting with `_` or `.`), read from each object's footer.
async fn visible_batches(s3: &MotoServer, prefix: &str, dataset_id: &str) -> Vec<i64> {
    use futures::TryStreamExt as _;
    use object_store::{ObjectStore as _, ObjectStoreExt as _};
    let client = s3.client().unwrap();
    let root = object_store::path::Path::from(format!("{prefix}/{dataset_id}"));
    let keys: Vec<object_store::path::Path> = client
        .list(Some(&root))
        .map_ok(|meta| meta.location)
        .try_collect()
        .await
        .unwrap();
    let mut counts = Vec::new();
    for key in keys {
        let visible = key.as_ref().ends_with(".parquet")
            && key
                .parts()
                .all(|part| !part.as_ref().starts_with(['_', '.']));
        if !visible {
            continue;
        }
        let Ok(object) = client.get(&key).await else {
            continue; // replaced or removed since the listing
        };
        let bytes = object.bytes().await.unwrap();
        let reader =
            parquet::file::reader::SerializedFileReader::new(bytes).unwrap_or_else(|error| {
                panic!("a visible object is not whole Parquet: {key}: {error}")
            });
        counts.push(
            parquet::file::reader::FileReader::metadata(&reader)
                .file_metadata()
                .num_rows(),
        );
    }
    counts
}

/// One crash of `flowd serve` at `point` while it uploads a 50,000-record batch, a restart,
/// and a reader polling the bucket throughout.
async fn crash_while_uploading(point: &str) {
    let Some(s3) = MotoServer::start_or_skip(&format!("a crash at {point} while uploading")) else {
        return;
    };
    const RECORDS: i64 = 50_000;
    let (start_time, window_start) = schedule_with_due_windows(1);
    let mock = MockApi::start(
        Scenario::explicit(members(RECORDS, window_start, 15 * 60)).with_auth(Auth::Basic {
            username: "anystring".into(),
            password: PASSWORD.into(),
        }),
    )
    .await;
    let (_dir, data_dir) = data_dir();
    let prefix = "crash";
    let url = format!("s3://{}/{prefix}", s3.bucket());
    let environment = s3.environment();
    let mut environment = borrowed(&environment);
    let arguments = [
        "--planner-tick-ms",
        "100",
        "--lease-ms",
        "1000",
        "--retry-backoff-ms",
        "100",
        "--datasets-url",
        &url,
    ];
    let failpoints = format!("{point}=crash");
    environment.push(("FLOWD_FAILPOINTS", &failpoints));
    let server = Server::start_with_env(&data_dir, &arguments, &environment);
    environment.pop();
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

    // A reader polls the bucket the whole time: every object it sees is a whole batch.
    let polling = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let observations = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let reader = {
        let (polling, observations, dataset_id) = (
            polling.clone(),
            observations.clone(),
            workflow.dataset_id.clone(),
        );
        let s3 = std::sync::Arc::new(s3);
        let handle = s3.clone();
        (
            tokio::spawn(async move {
                while polling.load(std::sync::atomic::Ordering::SeqCst) {
                    for count in visible_batches(&handle, prefix, &dataset_id).await {
                        assert_eq!(count, RECORDS, "a partial batch was visible");
                    }
                    observations.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }),
            s3,
        )
    };
    let (reader, s3) = reader;
    let status = server.wait_for_exit(Duration::from_secs(60));
    assert!(!status.success(), "flowd stopped at {point}");
    let restarted = Server::start_with_env(&data_dir, &arguments, &environment);
    wait_for_successes(
        &client,
        &credential,
        &restarted,
        &workflow.flow_id,
        1,
        Duration::from_secs(90),
    )
    .await;
    polling.store(false, std::sync::atomic::Ordering::SeqCst);
    reader.await.unwrap();
    assert!(observations.load(std::sync::atomic::Ordering::SeqCst) > 0);
    assert_eq!(
        visible_batches(&s3, prefix, &workflow.dataset_id).await,
        [RECORDS],
        "one whole batch in the end"
    );
    let expected: Vec<i64> = (0..RECORDS).collect();
    if let Some(ids) = pyarrow_member_ids(&s3, prefix, &workflow.dataset_id) {
        assert_eq!(ids, expected, "pyarrow reads every record once");
    }
    assert!(restarted.terminate().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_before_the_upload_leaves_nothing_visible_and_the_retry_lands_every_record_once() {
    crash_while_uploading("object-batch-uploading").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_the_object_and_its_manifest_is_replaced_whole_by_the_retry() {
    crash_while_uploading("object-batch-before-manifest").await;
}
