//! Explore and datasets read types off the same inference lattice: for the same records, the
//! columns a preview shows and the columns of the dataset a run writes agree, nulls,
//! conflicts, nesting and arrays included.

mod common;

use axum::http::StatusCode;
use common::TestApp;
use common::chain::{DATA_LAKE, REST_STORAGE_TO_AEP, create, list_spec_in_flow_spec};
use flowd_mockapi::{Auth, MockApi, Scenario};
use serde_json::{Value, json};

fn records() -> Vec<Value> {
    vec![
        json!({"id": 1, "score": 1.5, "name": "a", "active": true, "tags": ["x"],
               "address": {"city": "Paris"}, "note": null, "mixed": 1, "count": 1}),
        json!({"id": 2, "score": 2, "name": "b", "active": false, "tags": [],
               "address": {"city": "Oslo", "zip": "0150"}, "note": null, "mixed": "one", "count": 2.5}),
    ]
}

fn spec() -> Value {
    json!({
        "name": "Plain records",
        "providerId": "0ed90a81-07f4-4586-8190-b40eccef1c5a",
        "type": "generic-rest",
        "authSpec": [{
            "name": "Basic Authentication",
            "type": "BasicAuthentication",
            "spec": {"type": "object", "required": ["host", "username", "password"], "properties": {
                "host": {"type": "string"},
                "username": {"type": "string"},
                "password": {"type": "string", "format": "password"}
            }}
        }],
        "sourceSpec": {"attributes": {
            "urlParams": {"host": "${host}", "path": "/none", "method": "GET"},
            "contentPath": {"path": "$.records"}
        }},
        "exploreSpec": {"name": "Resource", "type": "Resource"}
    })
}

/// The explore name of the type a dataset column has in Arrow.
fn json_name_of_arrow(arrow_type: &str) -> &'static str {
    match arrow_type {
        "Int64" => "integer",
        "Float64" => "number",
        "Utf8" | "Null" => "string",
        "Boolean" => "boolean",
        other if other.starts_with("List") => "array",
        other if other.starts_with("Struct") => "object",
        other => panic!("unexpected column type {other}"),
    }
}

fn columns(listed: &Value) -> Vec<(String, String)> {
    listed
        .as_array()
        .unwrap()
        .iter()
        .map(|column| {
            (
                column["name"].as_str().unwrap().to_owned(),
                column["type"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn explore_columns_and_dataset_columns_agree_for_the_same_records() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let mock = MockApi::start(Scenario::explicit(records()).with_auth(Auth::Basic {
        username: "user".into(),
        password: "secret-password".into(),
    }))
    .await;
    let spec_id = app.create_connection_spec(&caller, &spec()).await;
    list_spec_in_flow_spec(&app, &caller, &spec_id).await;
    let (connection_id, _) = create(
        &app,
        &caller,
        "/connections",
        &json!({"name": "records", "connectionSpec": {"id": spec_id, "version": "1.0"},
                "auth": {"specName": "Basic Authentication", "params": {
                    "host": mock.base_url(), "username": "user", "password": "secret-password"}}}),
    )
    .await;
    let (source_id, _) = create(
        &app,
        &caller,
        "/sourceConnections",
        &json!({"name": "records", "baseConnectionId": connection_id,
                "connectionSpec": {"id": spec_id, "version": "1.0"}, "data": {"format": "json"}}),
    )
    .await;
    let dataset_id = app.create_dataset(&caller, "records").await;
    let (target_id, _) = create(
        &app,
        &caller,
        "/targetConnections",
        &json!({"connectionSpec": {"id": DATA_LAKE, "version": "1.0"}, "data": {"format": "parquet_xdm"},
                "params": {"dataSetId": dataset_id}}),
    )
    .await;
    let (flow_id, _) = create(
        &app,
        &caller,
        "/flows",
        &json!({"name": "records", "flowSpec": {"id": REST_STORAGE_TO_AEP, "version": "1.0"},
                "sourceConnectionIds": [source_id], "targetConnectionIds": [target_id],
                "scheduleParams": {"startTime": 1_700_000_000, "frequency": "hour", "interval": 1}}),
    )
    .await;

    let preview = app
        .get(&caller, &format!("/connections/{connection_id}/explore?objectType=rest&object=json&fileType=json&preview=true"))
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    let explored = columns(&preview.body["schema"]["columns"]);
    assert_eq!(
        explored
            .iter()
            .map(|(name, column_type)| (name.as_str(), column_type.as_str()))
            .collect::<Vec<_>>(),
        [
            ("id", "integer"),
            ("score", "number"),
            ("name", "string"),
            ("active", "boolean"),
            ("tags", "array"),
            ("address", "object"),
            ("note", "string"),
            ("mixed", "string"),
            ("count", "number"),
        ]
    );

    // A run of the flow, executed by a worker as `flowd serve` runs it.
    let run = app
        .post(
            &caller,
            "/runs",
            &json!({"flowId": flow_id, "params": {"windowEndTime": 1_800_000_000}}),
        )
        .await;
    assert_eq!(run.status, StatusCode::CREATED, "{}", run.body);
    common::worker::execute_due_run(&app, &common::worker::run_context(&app)).await;
    let finished = app
        .get(
            &caller,
            &format!("/runs/{}", run.body["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(
        finished.body["items"][0]["metrics"]["statusSummary"]["status"], "success",
        "{}",
        finished.body
    );

    let dataset = app
        .catalog(&caller, "GET", &format!("/dataSets/{dataset_id}"), None)
        .await;
    let stored: Vec<(String, String)> = columns(&dataset.body[&dataset_id]["schema"]["columns"])
        .into_iter()
        .filter(|(name, _)| !name.starts_with("_flowd_"))
        .map(|(name, arrow_type)| (name, json_name_of_arrow(&arrow_type).to_owned()))
        .collect();
    assert_eq!(
        stored, explored,
        "the dataset's columns, named as explore names them"
    );
}
