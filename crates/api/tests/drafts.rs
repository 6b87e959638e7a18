//! Drafts as Adobe's drafts tutorial makes them: `?mode=draft` stores an incomplete resource
//! with `state: draft` that never runs; PATCH completes it; `op=publish` (or FINALIZE) validates
//! it fully, refuses while what it refers to is still a draft, and enables it; flows list their
//! `inheritedAttributes.properties`.

mod common;

use axum::http::StatusCode;
use common::chain::{
    REST_STORAGE_TO_AEP, base_connection, create, list_spec_in_flow_spec, mock, pointers,
    source_body, target_body,
};
use common::{TestApp, assert_flow_error};
use flowd_store::Scope;
use serde_json::{Value, json};

/// Posts a draft (`?mode=<mode>`) to `collection`: (id, etag) of the 201.
async fn create_draft(
    app: &TestApp,
    caller: &common::Caller,
    collection: &str,
    mode: &str,
    body: &Value,
) -> (String, String) {
    let created = app
        .post(caller, &format!("{collection}?mode={mode}"), body)
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    (
        created.body["id"].as_str().unwrap().to_owned(),
        created.body["etag"].as_str().unwrap().to_owned(),
    )
}

async fn state_of(app: &TestApp, caller: &common::Caller, path: &str) -> Value {
    app.get(caller, path).await.body["items"][0]["state"].clone()
}

#[tokio::test]
async fn a_draft_dataflow_is_stored_never_runs_and_is_published_once_complete() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let mock = mock().await;
    let (spec_id, base_id) = base_connection(&app, &caller, &mock).await;
    list_spec_in_flow_spec(&app, &caller, &spec_id).await;

    // A draft source connection without its base connection or params.
    let (source_id, source_etag) = create_draft(
        &app,
        &caller,
        "/sourceConnections",
        "draft",
        &json!({"name": "draft source", "connectionSpec": {"id": spec_id, "version": "1.0"}, "data": {"format": "json"}}),
    )
    .await;
    let source_path = format!("/sourceConnections/{source_id}");
    assert_eq!(state_of(&app, &caller, &source_path).await, "draft");
    // A draft flow naming only its flow spec and the draft source.
    let (flow_id, flow_etag) = create_draft(
        &app,
        &caller,
        "/flows",
        "DRAFT",
        &json!({"name": "draft flow", "flowSpec": {"id": REST_STORAGE_TO_AEP, "version": "1.0"}, "sourceConnectionIds": [source_id]}),
    )
    .await;
    let flow_path = format!("/flows/{flow_id}");
    assert_eq!(state_of(&app, &caller, &flow_path).await, "draft");
    let drafts = app.get(&caller, "/flows?property=state==draft").await;
    assert_eq!(drafts.body["items"][0]["id"], flow_id.as_str());

    // It never runs: not scheduled, no ad hoc run, no ENABLE.
    let scope = Scope {
        org_id: caller.org.clone(),
        sandbox_name: caller.sandbox.clone(),
    };
    let schedule = app.store.flow_schedule(&scope, &flow_id).await.unwrap();
    assert!(
        schedule.as_ref().is_none_or(|schedule| !schedule.enabled),
        "{schedule:?}"
    );
    assert_flow_error(
        &app.post(
            &caller,
            "/runs",
            &json!({"flowId": flow_id, "params": {"windowEndTime": 100}}),
        )
        .await,
        "1409-400",
    );
    assert_flow_error(
        &app.post(
            &caller,
            &format!("{flow_path}/action?op=ENABLE"),
            &json!({}),
        )
        .await,
        "1409-400",
    );

    // Publishing checks the whole flow: what is missing is named.
    let incomplete = app
        .post(
            &caller,
            &format!("{flow_path}/action?op=PUBLISH"),
            &json!({}),
        )
        .await;
    assert!(
        pointers(&incomplete).contains(&"/targetConnectionIds".to_owned()),
        "{}",
        incomplete.body
    );

    // Complete the drafts with PATCH; they stay drafts.
    let patched = app
        .patch(
            &caller,
            &source_path,
            Some(&source_etag),
            &json!([
                {"op": "add", "path": "/baseConnectionId", "value": base_id},
                {"op": "add", "path": "/params", "value": source_body(&spec_id, &base_id)["params"]}
            ]),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(state_of(&app, &caller, &source_path).await, "draft");
    let dataset_id = app.create_dataset(&caller, "members").await;
    let (target_id, _) = create(
        &app,
        &caller,
        "/targetConnections",
        &target_body(&dataset_id),
    )
    .await;
    let patched = app
        .patch(
            &caller,
            &flow_path,
            Some(&flow_etag),
            &json!([
                {"op": "add", "path": "/targetConnectionIds", "value": [target_id]},
                {"op": "add", "path": "/scheduleParams", "value": {"startTime": "1632809759", "frequency": "minute", "interval": 15}}
            ]),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);

    // The flow waits for its source connection to be published.
    let blocked = app
        .post(
            &caller,
            &format!("{flow_path}/action?op=publish"),
            &json!({}),
        )
        .await;
    assert_flow_error(&blocked, "1409-400");
    assert_eq!(
        blocked.body["problems"][0]["pointer"],
        "/sourceConnectionIds/0"
    );
    assert!(
        blocked.body["errorMessage"]
            .as_str()
            .unwrap()
            .contains(&source_id),
        "{}",
        blocked.body
    );

    let published = app
        .post(
            &caller,
            &format!("{source_path}/action?op=publish"),
            &json!({}),
        )
        .await;
    assert_eq!(published.status, StatusCode::OK, "{}", published.body);
    assert_eq!(state_of(&app, &caller, &source_path).await, "enabled");

    // FINALIZE with APPLY publishes too (op and subOp in any case).
    let published = app
        .post(
            &caller,
            &format!("{flow_path}/action?op=finalize&subOp=apply"),
            &json!({}),
        )
        .await;
    assert_eq!(published.status, StatusCode::OK, "{}", published.body);
    let flow = app.get(&caller, &flow_path).await.body["items"][0].clone();
    assert_eq!(flow["state"], "enabled");
    assert_eq!(flow["etag"], published.body["etag"]);
    assert_eq!(flow["lastOperation"]["operation"], "publish");
    assert_eq!(
        flow["inheritedAttributes"]["properties"]["isSourceFlow"],
        true
    );
    let schedule = app
        .store
        .flow_schedule(&scope, &flow_id)
        .await
        .unwrap()
        .unwrap();
    assert!(schedule.enabled, "a published flow runs on its schedule");

    // Publishing again changes nothing; there is nothing to roll back.
    let again = app
        .post(
            &caller,
            &format!("{flow_path}/action?op=PUBLISH"),
            &json!({}),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body["etag"], flow["etag"]);
    assert_flow_error(
        &app.post(
            &caller,
            &format!("{flow_path}/action?op=FINALIZE_UPDATE&subOp=ROLLBACK"),
            &json!({}),
        )
        .await,
        "1409-400",
    );
    let source_flows = app
        .get(
            &caller,
            "/flows?property=inheritedAttributes.properties.isSourceFlow==true",
        )
        .await;
    assert_eq!(source_flows.body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn drafts_need_the_fields_adobe_requires_and_modes_and_ops_are_checked() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let missing = app
        .post(&caller, "/flows?mode=draft", &json!({"name": "no spec"}))
        .await;
    assert_eq!(pointers(&missing), ["/flowSpec"]);
    let missing = app
        .post(
            &caller,
            "/targetConnections?mode=draft",
            &json!({"name": "t"}),
        )
        .await;
    assert_eq!(pointers(&missing), ["/connectionSpec", "/data"]);
    let bad_mode = app
        .post(
            &caller,
            "/flows?mode=sketch",
            &json!({"flowSpec": {"id": REST_STORAGE_TO_AEP, "version": "1.0"}}),
        )
        .await;
    assert_flow_error(&bad_mode, "1100-400");
    assert_eq!(bad_mode.body["report"]["parameter"], "mode");

    let (target_id, _) = create_draft(
        &app,
        &caller,
        "/targetConnections",
        "draft",
        &json!({"connectionSpec": {"id": common::chain::DATA_LAKE, "version": "1.0"}, "data": {"format": "parquet_xdm"}}),
    )
    .await;
    let action = |op: &str| format!("/targetConnections/{target_id}/action?op={op}");
    let unknown = app.post(&caller, &action("EXPLODE"), &json!({})).await;
    assert_flow_error(&unknown, "1100-400");
    assert_eq!(unknown.body["report"]["parameter"], "op");
    assert_flow_error(
        &app.post(
            &caller,
            &format!("{}&subOp=BOUNCE", action("FINALIZE")),
            &json!({}),
        )
        .await,
        "1100-400",
    );
    // The draft names no dataset: publishing says so.
    let incomplete = app.post(&caller, &action("PUBLISH"), &json!({})).await;
    assert!(
        pointers(&incomplete).contains(&"/params".to_owned())
            || pointers(&incomplete).contains(&"/params/dataSetId".to_owned()),
        "{}",
        incomplete.body
    );
    assert_flow_error(
        &app.post(
            &caller,
            "/connections/00000000-0000-4000-8000-000000000000/action?op=PUBLISH",
            &json!({}),
        )
        .await,
        "1439-404",
    );
}
