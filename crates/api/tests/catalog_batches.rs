//! Catalog as AEP clients use it: datasets with Catalog's fields, `GET /dataSets` paged by
//! `start`/`limit`, ordered by `orderBy` and cut by `properties`; `/batches` listing the
//! committed batches with their counts and run; the Data Access API listing a batch's files
//! and streaming them (whole and by range) as they are on disk; bad parameters refused naming
//! the parameter; another sandbox seeing nothing.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{Caller, TestApp, assert_flow_error};
use flowd_api::{ApiConfig, AppState, app};
use flowd_sink::{DatasetStore, LocalDatasets};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

const EXPORT_BASE: &str = "/data/foundation/export";

/// The in-process app, its Data Access routes reading the datasets of its data dir.
async fn app_with_datasets() -> (TestApp, Arc<LocalDatasets>) {
    let base = TestApp::new().await;
    let datasets = Arc::new(LocalDatasets::in_data_dir(base.data_dir.path()));
    let cipher = flowd_secrets::Cipher::new(flowd_secrets::SecretKey::from_bytes([7; 32]));
    let router = app(
        AppState::new(base.store.clone(), ApiConfig::default(), cipher)
            .with_datasets(datasets.clone()),
    );
    (TestApp { router, ..base }, datasets)
}

fn scope(caller: &Caller) -> flowd_store::Scope {
    flowd_store::Scope {
        org_id: caller.org.clone(),
        sandbox_name: caller.sandbox.clone(),
    }
}

/// Writes and commits the batch `run_id` of `dataset_id` with `records`, and records it in the
/// store as a worker does.
async fn commit_batch(
    app: &TestApp,
    datasets: &LocalDatasets,
    caller: &Caller,
    dataset_id: &str,
    run_id: &str,
    records: Vec<Value>,
) {
    let mut batch = datasets
        .begin_batch(
            dataset_id,
            run_id,
            run_id,
            jiff::Timestamp::now(),
            &Default::default(),
        )
        .unwrap();
    batch.write(records).unwrap();
    let summary = batch.commit().unwrap();
    let keep = |stored: Option<&str>| stored.unwrap_or("{}").to_owned();
    app.store
        .record_batch(
            &scope(caller),
            Some(run_id),
            &flowd_store::BatchCommit {
                dataset_id,
                batch_id: run_id,
                record_count: summary.batch.record_count,
                bytes: summary.batch.bytes,
                file_count: summary.batch.files.len() as u64,
                merge_schema: &keep,
            },
        )
        .await
        .unwrap();
    // Batches committed a few milliseconds apart order by time.
    tokio::time::sleep(std::time::Duration::from_millis(3)).await;
}

fn members(from: i64, to: i64) -> Vec<Value> {
    (from..to)
        .map(|id| json!({"id": id, "email": format!("m{id}@example.com")}))
        .collect()
}

/// A raw answer: status, headers and body bytes.
async fn download(
    app: &TestApp,
    caller: &Caller,
    path: &str,
    range: Option<&str>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let mut request = Request::builder()
        .uri(format!("{EXPORT_BASE}{path}"))
        .header("authorization", format!("Bearer {}", caller.token))
        .header("x-api-key", &caller.api_key)
        .header("x-gw-ims-org-id", &caller.org)
        .header("x-sandbox-name", &caller.sandbox)
        .header("host", "flowd.example:8080");
    if let Some(range) = range {
        request = request.header("range", range);
    }
    let response = app
        .router
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, bytes.to_vec())
}

async fn export_json(app: &TestApp, caller: &Caller, path: &str) -> (StatusCode, Value) {
    let (status, _, bytes) = download(app, caller, path, None).await;
    (status, serde_json::from_slice(&bytes).unwrap())
}

fn keys(body: &Value) -> Vec<String> {
    body.as_object()
        .unwrap_or_else(|| panic!("an object keyed by id: {body}"))
        .keys()
        .cloned()
        .collect()
}

async fn create_dataset_with(app: &TestApp, caller: &Caller, body: Value) -> String {
    let reply = app.catalog(caller, "POST", "/dataSets", Some(&body)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body[0].as_str().unwrap()["@/dataSets/".len()..].to_owned()
}

fn dataset_body(name: &str) -> Value {
    json!({"name": name, "schemaRef": {"id": "https://ns.adobe.com/t/schemas/m", "contentType": "application/vnd.adobe.xed-full+json;version=1"}})
}

#[tokio::test]
async fn datasets_carry_catalog_fields_defaulted_or_as_the_client_gave_them() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let plain = app.create_dataset(&caller, "plain").await;
    let mut given = dataset_body("given");
    given["classification"] = json!({"dataBehavior": "record", "managedBy": "CUSTOMER"});
    given["tags"] = json!({"owner": ["data-team"], "adobe/pqs/table": ["given"]});
    given["version"] = json!("9.9.9");
    let given = create_dataset_with(&app, &caller, given).await;

    let read = app
        .catalog(&caller, "GET", &format!("/dataSets/{plain}"), None)
        .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    let dataset = &read.body[&plain];
    assert_eq!(
        dataset["classification"],
        json!({"dataBehavior": "time-series", "managedBy": "CUSTOMER"})
    );
    assert_eq!(dataset["tags"], json!({}));
    assert_eq!(dataset["version"], "1.0.0");
    assert_eq!(dataset["imsOrg"], caller.org.as_str());
    assert!(dataset["sandboxId"].is_string(), "{dataset}");
    assert_eq!(dataset["createdUser"], dataset["createdBy"]);
    assert_eq!(dataset["updatedUser"], dataset["createdBy"]);
    assert_eq!(dataset["createdClient"], caller.api_key.as_str());
    assert!(dataset["created"].is_i64() && dataset["updated"].is_i64());
    assert_eq!(
        dataset["schemaRef"]["id"],
        "https://ns.adobe.com/tenant/schemas/0123456789abcdef"
    );
    assert!(
        dataset.get("lastBatchId").is_none(),
        "no batch yet: {dataset}"
    );

    let listed = app.catalog(&caller, "GET", "/dataSets", None).await;
    let given = &listed.body[&given];
    assert_eq!(given["classification"]["dataBehavior"], "record");
    assert_eq!(
        given["tags"],
        json!({"owner": ["data-team"], "adobe/pqs/table": ["given"]})
    );
    assert_eq!(given["version"], "1.0.0", "Catalog's own field");

    let mut wrong = dataset_body("wrong");
    wrong["classification"] = json!({"dataBehavior": 3});
    wrong["tags"] = json!({"owner": "data-team"});
    let refused = app
        .catalog(&caller, "POST", "/dataSets", Some(&wrong))
        .await;
    assert_flow_error(&refused, "1100-400");
    let pointers: Vec<&str> = refused.body["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|problem| problem["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(pointers, ["/classification/dataBehavior", "/tags/owner"]);
}

#[tokio::test]
async fn paging_datasets_by_start_visits_each_once_and_a_start_past_the_end_answers_nothing() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let mut created = BTreeSet::new();
    for index in 0..25 {
        created.insert(app.create_dataset(&caller, &format!("d{index:02}")).await);
    }
    let first = app.catalog(&caller, "GET", "/dataSets", None).await;
    assert_eq!(keys(&first.body).len(), 20, "Catalog's default limit");

    for order in [
        "",
        "&orderBy=desc:name",
        "&orderBy=desc:description,asc:created",
    ] {
        let mut seen = Vec::new();
        let mut start = 0;
        loop {
            let page = app
                .catalog(
                    &caller,
                    "GET",
                    &format!("/dataSets?limit=7&start={start}{order}"),
                    None,
                )
                .await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.body);
            let ids = keys(&page.body);
            if ids.is_empty() {
                break;
            }
            assert!(ids.len() <= 7);
            seen.extend(ids);
            start += 7;
            assert!(start < 100, "paging never stopped");
        }
        assert_eq!(seen.len(), 25, "{order}: every dataset once");
        assert_eq!(seen.iter().cloned().collect::<BTreeSet<_>>(), created);
    }
    assert_eq!(
        app.catalog(&caller, "GET", "/dataSets?start=25", None)
            .await
            .body,
        json!({})
    );
    assert_eq!(
        keys(
            &app.catalog(&caller, "GET", "/dataSets?limit=100", None)
                .await
                .body
        )
        .len(),
        25
    );
}

#[tokio::test]
async fn datasets_are_ordered_by_catalogs_order_by() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let mut ids = Vec::new();
    for (name, description) in [("beta", Some("z")), ("alpha", None), ("gamma", Some("a"))] {
        let mut body = dataset_body(name);
        if let Some(description) = description {
            body["description"] = json!(description);
        }
        ids.push(create_dataset_with(&app, &caller, body).await);
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    }
    let names = |body: &Value| -> Vec<String> {
        body.as_object()
            .unwrap()
            .values()
            .map(|dataset| dataset["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let ordered = |order: &'static str| {
        let app = &app;
        let caller = &caller;
        async move {
            let reply = app
                .catalog(caller, "GET", &format!("/dataSets?orderBy={order}"), None)
                .await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
            names(&reply.body)
        }
    };
    assert_eq!(ordered("name").await, ["alpha", "beta", "gamma"]);
    assert_eq!(ordered("asc:name").await, ["alpha", "beta", "gamma"]);
    assert_eq!(ordered("desc:name").await, ["gamma", "beta", "alpha"]);
    assert_eq!(ordered("desc:created").await, ["gamma", "alpha", "beta"]);
    assert_eq!(ordered("asc:created").await, ["beta", "alpha", "gamma"]);
    // In memory: a missing description sorts last either way.
    assert_eq!(ordered("description").await, ["gamma", "beta", "alpha"]);
    assert_eq!(
        ordered("desc:description").await,
        ["beta", "gamma", "alpha"]
    );
    assert_eq!(
        ordered("description,desc:name").await,
        ["gamma", "beta", "alpha"]
    );
    let paged = app
        .catalog(
            &caller,
            "GET",
            "/dataSets?orderBy=desc:name&start=1&limit=1",
            None,
        )
        .await;
    assert_eq!(names(&paged.body), ["beta"]);
}

#[tokio::test]
async fn properties_cut_each_dataset_to_the_named_top_level_fields() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let id = app.create_dataset(&caller, "members").await;
    let listed = app
        .catalog(
            &caller,
            "GET",
            "/dataSets?properties=name,schemaRef,missing",
            None,
        )
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(
        listed.body,
        json!({&id: {
            "name": "members",
            "schemaRef": {"id": "https://ns.adobe.com/tenant/schemas/0123456789abcdef", "contentType": "application/vnd.adobe.xed-full+json;version=1"}
        }})
    );
    let read = app
        .catalog(
            &caller,
            "GET",
            &format!("/dataSets/{id}?properties=recordCount,tags"),
            None,
        )
        .await;
    assert_eq!(read.body, json!({&id: {"recordCount": 0, "tags": {}}}));
    let none = app
        .catalog(&caller, "GET", "/dataSets?properties=unknown", None)
        .await;
    assert_eq!(
        none.body,
        json!({&id: {}}),
        "an object holding none of them is empty"
    );
}

#[tokio::test]
async fn bad_catalog_parameters_are_refused_naming_the_parameter() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let id = app.create_dataset(&caller, "members").await;
    for (path, code, parameter) in [
        ("/dataSets?limit=0", "1100-400", "limit"),
        ("/dataSets?limit=101", "1100-400", "limit"),
        ("/dataSets?limit=many", "1100-400", "limit"),
        ("/dataSets?start=-1", "1100-400", "start"),
        ("/dataSets?orderBy=sideways:name", "1432-400", "orderBy"),
        ("/dataSets?orderBy=desc:colour", "1433-400", "orderBy"),
        (
            "/dataSets?properties=schemaRef.id",
            "1100-400",
            "properties",
        ),
        ("/batches?dataSet=not-a-dataset", "1100-400", "dataSet"),
        ("/batches?orderBy=desc:recordCount", "1433-400", "orderBy"),
        ("/batches?limit=0", "1100-400", "limit"),
    ] {
        let reply = app.catalog(&caller, "GET", path, None).await;
        assert_flow_error(&reply, code);
        assert_eq!(
            reply.body["report"]["parameter"], parameter,
            "{path}: {}",
            reply.body
        );
        let message = reply.body["report"]["detailed-message"].as_str().unwrap();
        assert!(message.contains(parameter), "{path}: {message}");
    }
    let read = app
        .catalog(&caller, "GET", &format!("/dataSets/{id}?properties="), None)
        .await;
    assert_flow_error(&read, "1100-400");
}

#[tokio::test]
async fn committed_batches_are_listed_with_their_counts_dataset_and_run() {
    let (app, datasets) = app_with_datasets().await;
    let caller = app.caller();
    let members_id = app.create_dataset(&caller, "members").await;
    let other_id = app.create_dataset(&caller, "other").await;
    commit_batch(
        &app,
        &datasets,
        &caller,
        &members_id,
        "run-1",
        members(0, 10),
    )
    .await;
    commit_batch(&app, &datasets, &caller, &other_id, "run-x", members(0, 1)).await;
    commit_batch(
        &app,
        &datasets,
        &caller,
        &members_id,
        "run-2",
        members(10, 15),
    )
    .await;

    let listed = app
        .catalog(
            &caller,
            "GET",
            &format!("/batches?dataSet={members_id}"),
            None,
        )
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(keys(&listed.body), ["run-1", "run-2"], "oldest first");
    let batch = &listed.body["run-1"];
    assert_eq!(batch["status"], "success");
    assert_eq!(batch["recordCount"], 10);
    assert_eq!(batch["metrics"]["recordCount"], 10);
    assert_eq!(batch["metrics"]["recordsWritten"], 10);
    assert!(batch["metrics"]["outputByteSize"].as_u64().unwrap() > 0);
    assert_eq!(batch["metrics"]["outputFileCount"], 1);
    assert_eq!(
        batch["relatedObjects"],
        json!([{"type": "dataSet", "id": members_id}, {"type": "flowRun", "id": "run-1"}])
    );
    assert_eq!(batch["imsOrg"], caller.org.as_str());
    assert!(batch["sandboxId"].is_string());
    assert!(
        batch["created"].as_i64().unwrap() <= listed.body["run-2"]["created"].as_i64().unwrap()
    );
    assert_eq!(batch["updated"], batch["created"]);

    let newest_first = app
        .catalog(
            &caller,
            "GET",
            &format!("/batches?dataSet={members_id}&orderBy=desc:created&limit=1"),
            None,
        )
        .await;
    assert_eq!(keys(&newest_first.body), ["run-2"]);
    let second_page = app
        .catalog(
            &caller,
            "GET",
            &format!("/batches?dataSet={members_id}&limit=1&start=1"),
            None,
        )
        .await;
    assert_eq!(keys(&second_page.body), ["run-2"]);
    let past_the_end = app
        .catalog(
            &caller,
            "GET",
            &format!("/batches?dataSet={members_id}&start=2"),
            None,
        )
        .await;
    assert_eq!(past_the_end.body, json!({}));
    let every = app
        .catalog(&caller, "GET", "/batches?orderBy=id", None)
        .await;
    assert_eq!(keys(&every.body), ["run-1", "run-2", "run-x"]);
    let cut = app
        .catalog(
            &caller,
            "GET",
            "/batches/run-x?properties=status,recordCount",
            None,
        )
        .await;
    assert_eq!(
        cut.body,
        json!({"run-x": {"status": "success", "recordCount": 1}})
    );
    assert_flow_error(
        &app.catalog(&caller, "GET", "/batches/run-404", None).await,
        "1439-404",
    );

    let dataset = app
        .catalog(&caller, "GET", &format!("/dataSets/{members_id}"), None)
        .await;
    assert_eq!(dataset.body[&members_id]["lastBatchId"], "run-2");
    assert_eq!(dataset.body[&members_id]["lastBatchStatus"], "success");
    assert_eq!(dataset.body[&members_id]["recordCount"], 15);
    let listed = app.catalog(&caller, "GET", "/dataSets", None).await;
    assert_eq!(listed.body[&other_id]["lastBatchId"], "run-x");
}

#[tokio::test]
async fn a_batch_file_downloads_whole_and_by_range_exactly_as_on_disk() {
    let (app, datasets) = app_with_datasets().await;
    let caller = app.caller();
    let dataset_id = app.create_dataset(&caller, "members").await;
    commit_batch(
        &app,
        &datasets,
        &caller,
        &dataset_id,
        "run-1",
        members(0, 500),
    )
    .await;

    let (status, files) = export_json(&app, &caller, "/batches/run-1/files").await;
    assert_eq!(status, StatusCode::OK, "{files}");
    assert_eq!(files["_page"], json!({"limit": 100, "count": 1}));
    let file = &files["data"][0];
    assert_eq!(file["dataSetFileId"], "run-1-1");
    assert_eq!(file["dataSetId"], dataset_id.as_str());
    assert_eq!(file["isValid"], true);
    assert!(file["created"].as_str().unwrap().parse::<i64>().is_ok());
    assert_eq!(
        file["_links"]["self"]["href"],
        "http://flowd.example:8080/data/foundation/export/files/run-1-1"
    );

    let (status, parts) = export_json(&app, &caller, "/files/run-1-1").await;
    assert_eq!(status, StatusCode::OK, "{parts}");
    let part = &parts["data"][0];
    let name = part["name"].as_str().unwrap().to_owned();
    assert!(name.ends_with(".parquet"), "{name}");
    assert_eq!(
        part["_links"]["self"]["href"],
        format!("http://flowd.example:8080/data/foundation/export/files/run-1-1?path={name}")
    );
    let on_disk = std::fs::read(
        datasets
            .root()
            .join(&dataset_id)
            .join("batch-run-1")
            .join(&name),
    )
    .unwrap();
    assert_eq!(part["length"], on_disk.len().to_string());

    let path = format!("/files/run-1-1?path={name}");
    let (status, headers, whole) = download(&app, &caller, &path, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/octet-stream");
    assert_eq!(headers["content-length"], on_disk.len().to_string());
    assert_eq!(headers["accept-ranges"], "bytes");
    assert!(whole == on_disk, "the download is the file");

    let (status, headers, first) = download(&app, &caller, &path, Some("bytes=0-99")).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        headers["content-range"],
        format!("bytes 0-99/{}", on_disk.len())
    );
    assert_eq!(first, on_disk[..100]);
    let (status, _, tail) = download(&app, &caller, &path, Some("bytes=-8")).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(tail, on_disk[on_disk.len() - 8..]);
    assert_eq!(&tail[4..], b"PAR1");
    let (status, headers, refused) = download(
        &app,
        &caller,
        &path,
        Some(&format!("bytes={}-", on_disk.len())),
    )
    .await;
    assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        headers["content-range"],
        format!("bytes */{}", on_disk.len())
    );
    let refused: Value = serde_json::from_slice(&refused).unwrap();
    assert_eq!(refused["report"]["parameter"], "Range");

    for (path, code) in [
        ("/files/run-1-1?path=_flowd_batch.json", "1439-404"),
        ("/files/run-1-1?path=..%2F..%2Fflowd.sqlite", "1439-404"),
        ("/files/run-9-1", "1439-404"),
        ("/files/run1", "1411-400"),
        ("/batches/run-9/files", "1439-404"),
    ] {
        let (status, _, body) = download(&app, &caller, path, None).await;
        let body: Value = serde_json::from_slice(&body).unwrap();
        let reply = common::Reply {
            status,
            headers: Default::default(),
            body,
        };
        assert_flow_error(&reply, code);
    }
}

#[tokio::test]
async fn another_sandbox_sees_no_batch_and_no_file() {
    let (app, datasets) = app_with_datasets().await;
    let caller = app.caller();
    let dataset_id = app.create_dataset(&caller, "members").await;
    commit_batch(
        &app,
        &datasets,
        &caller,
        &dataset_id,
        "run-1",
        members(0, 3),
    )
    .await;
    let mut other_sandbox = caller.clone();
    other_sandbox.sandbox = "dev".into();
    let other_org = app.caller_for_new_org("ORG2@AdobeOrg").await;
    for intruder in [&other_sandbox, &other_org] {
        assert_eq!(
            app.catalog(intruder, "GET", "/batches", None).await.body,
            json!({})
        );
        assert_eq!(
            app.catalog(
                intruder,
                "GET",
                &format!("/batches?dataSet={dataset_id}"),
                None
            )
            .await
            .body,
            json!({})
        );
        assert_flow_error(
            &app.catalog(intruder, "GET", "/batches/run-1", None).await,
            "1439-404",
        );
        for path in [
            "/batches/run-1/files",
            "/files/run-1-1",
            "/files/run-1-1?path=part-00000.parquet",
        ] {
            let (status, _, _) = download(&app, intruder, path, None).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        }
    }
    let (status, _, _) = download(
        &app,
        &caller,
        "/files/run-1-1?path=part-00000.parquet",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let mut anonymous = caller.clone();
    anonymous.token = "not-a-token".into();
    let (status, _, _) = download(&app, &anonymous, "/files/run-1-1", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
