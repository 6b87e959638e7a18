//! The documented workflow with a schema, through a real `flowd serve`: a Schema Registry
//! schema, a dataset on it, a mapping set mixing attribute and expression mappings (renames,
//! nested destinations, an array, a date parsed from a string, a concatenation, a conditional)
//! and flows naming it. The Parquet rows are exactly the mapped records with the schema's
//! column types (read back with pyarrow: timestamps as timestamps); records that cannot be
//! converted fail a run without partial ingestion, are counted and retrievable under the
//! threshold while the good records land, and fail the run above it.

mod common;

use std::process::Command;
use std::time::Duration;

use common::runs::schedule_params;
use common::workflow::{DATA_LAKE, REST_STORAGE_TO_AEP, call, create_connection, runs_of};
use common::{Credential, Server, data_dir, fixture};
use flowd_mockapi::{Auth, DEFAULT_LIST_ID, MockApi, Scenario};
use reqwest::Method;
use serde_json::{Value, json};

const PASSWORD: &str = "typed-runs-password";
const CONTENT_TYPE: &str = "application/vnd.adobe.xed-full+json;version=1";

/// Six members of one window; `bad` of them carry values the schema cannot take (`tags` a
/// single string, `balance` `"n/a"`).
fn members(window_start: i64, bad: &[i64]) -> Vec<Value> {
    (0..6)
        .map(|id| {
            let changed = jiff::Timestamp::from_second(window_start + id * 60).unwrap();
            let mut member = json!({
                "id": id,
                "email_address": format!("m{id}@example.com"),
                "last_changed": changed.to_string(),
                "signup": format!("2024/0{}/1{id}", id + 1),
                "tags": ["a", format!("t{id}")],
                "balance": format!("{id}.5"),
                "visits": id * 10,
            });
            if bad.contains(&id) {
                member["tags"] = json!("single");
                member["balance"] = json!("n/a");
            }
            member
        })
        .collect()
}

/// The schema of the dataset: typed fields, nested objects, an array, dates.
fn schema() -> Value {
    json!({
        "type": "object",
        "title": "Members",
        "description": "Members as the mapping writes them",
        "required": ["_id"],
        "properties": {
            "_id": {"type": "integer"},
            "visits": {"type": "integer", "meta:xdmType": "int"},
            "balance": {"type": "number"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "signupDate": {"type": "string", "format": "date"},
            "person": {"type": "object", "properties": {
                "label": {"type": "string"},
                "cohort": {"type": "string", "enum": ["early", "late"]},
            }},
            "personalEmail": {"type": "object", "properties": {"address": {"type": "string"}}},
            "_repo": {"type": "object", "properties": {"modifyDate": {"type": "string", "format": "date-time"}}},
        }
    })
}

fn mapping_set(schema_id: &str) -> Value {
    json!({
        "outputSchema": {"schemaRef": {"id": schema_id, "contentType": CONTENT_TYPE}},
        "mappings": [
            {"sourceType": "ATTRIBUTE", "source": "member.id", "destination": "_id"},
            {"sourceType": "ATTRIBUTE", "source": "member.visits", "destination": "visits"},
            {"sourceType": "ATTRIBUTE", "source": "member.balance", "destination": "balance"},
            {"sourceType": "ATTRIBUTE", "source": "member.tags", "destination": "tags"},
            {"sourceType": "ATTRIBUTE", "source": "member.email_address", "destination": "personalEmail.address"},
            {"sourceType": "EXPRESSION", "source": "concat(\"member-\", member.id)", "destination": "person.label"},
            {"sourceType": "EXPRESSION", "source": "iif(member.id > 2, \"late\", \"early\")", "destination": "person.cohort"},
            {"sourceType": "EXPRESSION", "source": "date(member.signup, \"yyyy/MM/dd\")", "destination": "signupDate"},
            {"sourceType": "EXPRESSION", "source": "date(member.last_changed, \"yyyy-MM-dd'T'HH:mm:ssX\")", "destination": "_repo.modifyDate"},
        ]
    })
}

struct Setup {
    client: reqwest::Client,
    credential: Credential,
    server: Server,
    _mock: MockApi,
    _dir: tempfile::TempDir,
    data_dir: std::path::PathBuf,
    spec_id: String,
    connection_id: String,
    schema_id: String,
    mapping_id: String,
    start_time: i64,
}

async fn post(setup: &Setup, path: &str, body: Value) -> (u16, Value) {
    call(
        &setup.client,
        &setup.credential,
        &setup.server,
        Method::POST,
        path,
        Some(&body),
    )
    .await
}

async fn get(setup: &Setup, path: &str) -> (u16, Value) {
    call(
        &setup.client,
        &setup.credential,
        &setup.server,
        Method::GET,
        path,
        None,
    )
    .await
}

/// A server, a mock serving `members`, the connection, the schema and the mapping set.
async fn setup(bad: &[i64]) -> Setup {
    let now = jiff::Timestamp::now().as_second();
    let start_time = now - 60;
    let window_start = start_time - 15 * 60;
    let mock = MockApi::start(Scenario::explicit(members(window_start, bad)).with_auth(
        Auth::Basic {
            username: "anystring".into(),
            password: PASSWORD.into(),
        },
    ))
    .await;
    let (dir, data_dir) = data_dir();
    let server = Server::start_with_args(&data_dir, &["--planner-tick-ms", "100"]);
    let credential = Credential::from_json(server.printed_credential.as_ref().unwrap());
    let client = reqwest::Client::new();
    let auth = json!({"specName": "Basic Authentication", "params": {"host": mock.base_url(), "username": "anystring", "password": PASSWORD}});
    let (spec_id, connection_id) = create_connection(
        &client,
        &credential,
        &server,
        fixture("seed_mailchimp_update.json"),
        auth,
    )
    .await;
    let mut setup = Setup {
        client,
        credential,
        server,
        _mock: mock,
        _dir: dir,
        data_dir,
        spec_id,
        connection_id,
        schema_id: String::new(),
        mapping_id: String::new(),
        start_time,
    };
    let (status, schema) = post(
        &setup,
        "/data/foundation/schemaregistry/tenant/schemas",
        schema(),
    )
    .await;
    assert_eq!(status, 201, "{schema}");
    setup.schema_id = schema["$id"].as_str().unwrap().to_owned();
    let (status, mapping) = post(
        &setup,
        "/data/foundation/conversion/mappingSets",
        mapping_set(&setup.schema_id),
    )
    .await;
    assert_eq!(status, 200, "{mapping}");
    setup.mapping_id = mapping["id"].as_str().unwrap().to_owned();
    setup
}

/// A dataset on the schema and a flow into it with `options`, due now; returns
/// `(dataset id, flow id)`.
async fn flow_with(setup: &Setup, options: Value) -> (String, String) {
    let (status, source) = post(
        setup,
        "/sourceConnections",
        json!({"name": "source", "baseConnectionId": setup.connection_id,
               "connectionSpec": {"id": setup.spec_id, "version": "1.0"},
               "data": {"format": "json"}, "params": {"listId": DEFAULT_LIST_ID}}),
    )
    .await;
    assert_eq!(status, 201, "{source}");
    let (status, dataset) = post(
        setup,
        "/data/foundation/catalog/dataSets",
        json!({"name": "members", "schemaRef": {"id": setup.schema_id, "contentType": CONTENT_TYPE}}),
    )
    .await;
    assert_eq!(status, 201, "{dataset}");
    let dataset_id = dataset[0]
        .as_str()
        .unwrap()
        .trim_start_matches("@/dataSets/")
        .to_owned();
    let (status, target) = post(
        setup,
        "/targetConnections",
        json!({"name": "target", "connectionSpec": {"id": DATA_LAKE, "version": "1.0"},
               "data": {"format": "parquet_xdm", "schema": {"id": setup.schema_id, "version": "1.0"}},
               "params": {"dataSetId": dataset_id}}),
    )
    .await;
    assert_eq!(status, 201, "{target}");
    let (status, flow) = post(
        setup,
        "/flows",
        json!({"name": "members", "flowSpec": {"id": REST_STORAGE_TO_AEP, "version": "1.0"},
               "sourceConnectionIds": [source["id"]], "targetConnectionIds": [target["id"]],
               "transformations": [{"name": "Mapping", "params": {"mappingId": setup.mapping_id, "mappingVersion": 0}}],
               "options": options,
               "scheduleParams": schedule_params(setup.start_time)}),
    )
    .await;
    assert_eq!(status, 201, "{flow}");
    (dataset_id, flow["id"].as_str().unwrap().to_owned())
}

/// The flow's one run once it has ended.
async fn finished_run(setup: &Setup, flow_id: &str) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let runs = runs_of(&setup.client, &setup.credential, &setup.server, flow_id).await;
        if let Some(run) = runs.first()
            && run["metrics"]["statusSummary"]["status"] != "inProgress"
            && run["metrics"]["statusSummary"]["status"] != "pending"
        {
            return run.clone();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{runs:#?}\n{}",
            setup.server.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn status(run: &Value) -> &str {
    run["metrics"]["statusSummary"]["status"].as_str().unwrap()
}

fn record_summary(run: &Value) -> (i64, i64, i64) {
    let summary = &run["metrics"]["recordSummary"];
    (
        summary["inputRecordCount"].as_i64().unwrap(),
        summary["outputRecordCount"].as_i64().unwrap(),
        summary["failedRecordCount"].as_i64().unwrap(),
    )
}

/// The dataset as pyarrow reads it: column types and rows (timestamps as ISO text), or
/// `None` when python3 cannot import pyarrow.
fn pyarrow_table(dir: &std::path::Path) -> Option<Value> {
    if !common::runs::pyarrow_available() {
        return None;
    }
    let script = r#"
import json, sys
import pyarrow.dataset as ds
table = ds.dataset(sys.argv[1], format="parquet").to_table()
types = {field.name: str(field.type) for field in table.schema}
rows = table.to_pylist()
print(json.dumps({"types": types, "rows": rows}, default=lambda value: value.isoformat()))
"#;
    let output = Command::new("python3")
        .args(["-c", script])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(serde_json::from_slice(&output.stdout).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mapped_records_land_with_the_schemas_column_types() {
    let setup = setup(&[]).await;
    let (dataset_id, flow_id) = flow_with(&setup, json!({})).await;
    let run = finished_run(&setup, &flow_id).await;
    assert_eq!(status(&run), "success", "{run}\n{}", setup.server.logs());
    assert_eq!(record_summary(&run), (6, 6, 0));

    let (status_code, dataset) = get(
        &setup,
        &format!("/data/foundation/catalog/dataSets/{dataset_id}"),
    )
    .await;
    assert_eq!(status_code, 200);
    let shown = dataset[&dataset_id]["schema"].clone();
    assert_eq!(shown["typed"], true, "{shown}");

    let dir = setup.data_dir.join("datasets").join(&dataset_id);
    let Some(table) = pyarrow_table(&dir) else {
        return;
    };
    let types = &table["types"];
    assert_eq!(types["_id"], "int64");
    assert_eq!(types["visits"], "int32");
    assert_eq!(types["balance"], "double");
    assert_eq!(types["tags"], "list<item: string>");
    assert_eq!(types["signupDate"], "date32[day]");
    assert_eq!(
        types["_repo"], "struct<modifyDate: timestamp[us, tz=UTC]>",
        "{types}"
    );
    let mut rows = table["rows"].as_array().unwrap().clone();
    rows.sort_by_key(|row| row["_id"].as_i64());
    assert_eq!(rows.len(), 6);
    let window_start = setup.start_time - 15 * 60;
    for (id, row) in rows.iter().enumerate() {
        let id = id as i64;
        let changed = jiff::Timestamp::from_second(window_start + id * 60).unwrap();
        let expected = json!({
            "_id": id,
            "visits": id * 10,
            "balance": id as f64 + 0.5,
            "tags": ["a", format!("t{id}")],
            "signupDate": format!("2024-0{}-1{id}", id + 1),
            "person": {"label": format!("member-{id}"), "cohort": if id > 2 { "late" } else { "early" }},
            "personalEmail": {"address": format!("m{id}@example.com")},
            "_repo": {"modifyDate": changed.strftime("%Y-%m-%dT%H:%M:%S+00:00").to_string()},
        });
        let mut mapped = row.clone();
        let object = mapped.as_object_mut().unwrap();
        object.remove("_flowd_run_id");
        object.remove("_flowd_ingested_at");
        assert_eq!(mapped, expected);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_the_schema_refuses_fail_a_run_without_partial_ingestion_and_nothing_lands() {
    let setup = setup(&[1, 4]).await;
    let (dataset_id, flow_id) = flow_with(&setup, json!({})).await;
    let run = finished_run(&setup, &flow_id).await;
    assert_eq!(status(&run), "failed", "{run}");
    let (_, _, failed) = record_summary(&run);
    assert_eq!(failed, 2, "{run}");
    let error = &run["metrics"]["statusSummary"]["errors"][0];
    assert_eq!(error["code"], "RECORDS_REJECTED");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("partialIngestionPercent"),
        "{error}"
    );
    let dir = setup.data_dir.join("datasets").join(&dataset_id);
    assert!(
        common::runs::parquet_files(&dir).is_empty(),
        "nothing of the failed batch is visible"
    );
    let run_id = run["id"].as_str().unwrap();
    let (code, batch) = get(
        &setup,
        &format!("/data/foundation/catalog/batches/{run_id}"),
    )
    .await;
    assert_eq!(code, 200, "{batch}");
    assert_eq!(batch[run_id]["status"], "failed");
    assert_eq!(batch[run_id]["errors"][0]["code"], "INGEST-1211-400");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_the_threshold_good_records_land_and_the_rejected_ones_are_retrievable() {
    let setup = setup(&[1, 4]).await;
    let options = json!({"partialIngestionPercent": "50", "errorDiagnosticsEnabled": true});
    let (dataset_id, flow_id) = flow_with(&setup, options).await;
    let run = finished_run(&setup, &flow_id).await;
    assert_eq!(status(&run), "success", "{run}\n{}", setup.server.logs());
    assert_eq!(record_summary(&run), (6, 4, 2));
    let run_id = run["id"].as_str().unwrap();

    let (code, batch) = get(
        &setup,
        &format!("/data/foundation/catalog/batches/{run_id}"),
    )
    .await;
    assert_eq!(code, 200, "{batch}");
    let batch = &batch[run_id];
    assert_eq!(batch["status"], "success");
    let codes: Vec<&str> = batch["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|error| error["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["INGEST-1212-400", "INGEST-1402-400"], "{batch}");
    assert_eq!(batch["errors"][1]["recordCount"], 2);

    let meta = format!("/data/foundation/export/batches/{run_id}/meta?path=row_errors");
    let (code, files) = get(&setup, &meta).await;
    assert_eq!(code, 200, "{files}");
    assert_eq!(files["data"][0]["name"], "conversion_errors_0.json");
    let response = setup
        .credential
        .apply(setup.client.get(format!(
            "{}{meta}%2Fconversion_errors_0.json",
            setup.server.base_url
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let failed: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let ids: Vec<i64> = failed
        .iter()
        .map(|record| record["_id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [1, 4]);
    let columns: Vec<&str> = failed[0]["_errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|error| error["column"].as_str().unwrap())
        .collect();
    assert_eq!(columns, ["balance", "tags"], "{}", failed[0]);

    let dataset = flowd_sink::Dataset::open(setup.data_dir.join("datasets"), &dataset_id).unwrap();
    let mut landed: Vec<i64> = dataset
        .head(100)
        .unwrap()
        .iter()
        .map(|row| row["_id"].as_i64().unwrap())
        .collect();
    landed.sort_unstable();
    assert_eq!(landed, [0, 2, 3, 5]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn above_the_threshold_the_run_fails_and_nothing_lands() {
    let setup = setup(&[1, 4]).await;
    let options = json!({"partialIngestionPercent": 10, "errorDiagnosticsEnabled": true});
    let (dataset_id, flow_id) = flow_with(&setup, options).await;
    let run = finished_run(&setup, &flow_id).await;
    assert_eq!(status(&run), "failed", "{run}");
    assert_eq!(record_summary(&run).2, 2);
    assert!(
        run["metrics"]["statusSummary"]["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("more than partialIngestionPercent 10"),
        "{run}"
    );
    let dir = setup.data_dir.join("datasets").join(&dataset_id);
    assert!(common::runs::parquet_files(&dir).is_empty());
    let run_id = run["id"].as_str().unwrap();
    let (code, files) = get(
        &setup,
        &format!("/data/foundation/export/batches/{run_id}/meta?path=row_errors"),
    )
    .await;
    assert_eq!(code, 200, "{files}");
    assert_eq!(files["_page"]["count"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flow_whose_mapping_writes_fields_the_schema_lacks_is_refused() {
    let setup = setup(&[]).await;
    let mut body = mapping_set(&setup.schema_id);
    body["mappings"].as_array_mut().unwrap().push(
        json!({"sourceType": "ATTRIBUTE", "source": "member.id", "destination": "person.age"}),
    );
    let (status_code, mapping) =
        post(&setup, "/data/foundation/conversion/mappingSets", body).await;
    assert_eq!(status_code, 200, "{mapping}");
    let setup = Setup {
        mapping_id: mapping["id"].as_str().unwrap().to_owned(),
        ..setup
    };
    let (status_code, source) = post(
        &setup,
        "/sourceConnections",
        json!({"name": "source", "baseConnectionId": setup.connection_id,
               "connectionSpec": {"id": setup.spec_id, "version": "1.0"},
               "data": {"format": "json"}, "params": {"listId": DEFAULT_LIST_ID}}),
    )
    .await;
    assert_eq!(status_code, 201);
    let (_, dataset) = post(
        &setup,
        "/data/foundation/catalog/dataSets",
        json!({"name": "members", "schemaRef": {"id": setup.schema_id, "contentType": CONTENT_TYPE}}),
    )
    .await;
    let dataset_id = dataset[0]
        .as_str()
        .unwrap()
        .trim_start_matches("@/dataSets/");
    let (_, target) = post(
        &setup,
        "/targetConnections",
        json!({"name": "target", "connectionSpec": {"id": DATA_LAKE, "version": "1.0"},
               "data": {"format": "parquet_xdm"}, "params": {"dataSetId": dataset_id}}),
    )
    .await;
    let (status_code, refused) = post(
        &setup,
        "/flows",
        json!({"name": "members", "flowSpec": {"id": REST_STORAGE_TO_AEP, "version": "1.0"},
               "sourceConnectionIds": [source["id"]], "targetConnectionIds": [target["id"]],
               "transformations": [{"name": "Mapping", "params": {"mappingId": setup.mapping_id, "mappingVersion": 0}}],
               "scheduleParams": schedule_params(setup.start_time)}),
    )
    .await;
    assert_eq!(status_code, 400, "{refused}");
    assert!(
        refused["type"].as_str().unwrap().ends_with("FLOW-1419-400"),
        "{refused}"
    );
    assert!(refused.to_string().contains("person.age"), "{refused}");
}
