//! `/flowSpecs`: the built-in RestStorageToAEP spec, the SDK's "append your
//! connection spec id" PUT, aliases of transformation specs, and references.

mod common;

use axum::http::StatusCode;
use common::{TestApp, assert_flow_error, fixture};
use serde_json::{Value, json};

const REST_STORAGE_TO_AEP: &str = "6499120c-0b15-42dc-936e-847ea3c24d72";
const DATA_LAKE: &str = "c604ff05-7f1a-43c0-8e18-33bf874cb11c";

#[tokio::test]
async fn every_sandbox_starts_with_rest_storage_to_aep_and_the_data_lake_spec() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let reply = app
        .get(&caller, &format!("/flowSpecs/{REST_STORAGE_TO_AEP}"))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let flow_spec = &reply.body["items"][0];
    assert_eq!(flow_spec["name"], "RestStorageToAEP");
    assert_eq!(flow_spec["targetConnectionSpecIds"], json!([DATA_LAKE]));
    assert_eq!(flow_spec["sandboxName"], "prod");
    let schedule = &flow_spec["scheduleSpec"]["spec"];
    assert_eq!(schedule["required"], json!(["startTime", "frequency"]));
    assert_eq!(
        schedule["properties"]["frequency"]["enum"],
        json!(["once", "minute", "hour", "day", "week"])
    );
    let data_lake = app
        .get(&caller, &format!("/connectionSpecs/{DATA_LAKE}"))
        .await;
    assert_eq!(data_lake.status, StatusCode::OK, "{}", data_lake.body);
    let listed = app
        .get(&caller, "/flowSpecs?property=name==RestStorageToAEP")
        .await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
}

async fn append_source_spec(
    app: &TestApp,
    caller: &common::Caller,
    spec_id: &str,
) -> common::Reply {
    let current = app
        .get(caller, &format!("/flowSpecs/{REST_STORAGE_TO_AEP}"))
        .await;
    let mut flow_spec = current.body["items"][0].clone();
    flow_spec["sourceConnectionSpecIds"]
        .as_array_mut()
        .unwrap()
        .push(json!(spec_id));
    app.put(
        caller,
        &format!("/flowSpecs/{REST_STORAGE_TO_AEP}"),
        &flow_spec,
    )
    .await
}

#[tokio::test]
async fn the_sdk_flow_spec_update_appends_a_new_connection_spec() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let spec_id = app
        .create_connection_spec(&caller, &fixture("mailchimp_members_create.json"))
        .await;
    let updated = append_source_spec(&app, &caller, &spec_id).await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_eq!(updated.body["sourceConnectionSpecIds"], json!([spec_id]));
    assert_eq!(updated.body["id"], REST_STORAGE_TO_AEP);
    // Only this sandbox's copy changed.
    let mut dev = caller.clone();
    dev.sandbox = "dev".into();
    let in_dev = app
        .get(&dev, &format!("/flowSpecs/{REST_STORAGE_TO_AEP}"))
        .await;
    assert_eq!(
        in_dev.body["items"][0]["sourceConnectionSpecIds"],
        json!([])
    );
}

#[tokio::test]
async fn a_flow_spec_may_only_list_connection_specs_of_its_sandbox() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let mut dev = caller.clone();
    dev.sandbox = "dev".into();
    let elsewhere = app
        .create_connection_spec(&dev, &fixture("mailchimp_members_create.json"))
        .await;
    let refused = append_source_spec(&app, &caller, &elsewhere).await;
    assert_flow_error(&refused, "1413-400");
    assert_eq!(
        refused.body["problems"][0]["pointer"],
        "/sourceConnectionSpecIds/0"
    );
}

#[tokio::test]
async fn deleting_a_connection_spec_listed_by_a_flow_spec_is_refused() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let spec_id = app
        .create_connection_spec(&caller, &fixture("mailchimp_members_create.json"))
        .await;
    assert_eq!(
        append_source_spec(&app, &caller, &spec_id).await.status,
        StatusCode::OK
    );
    let refused = app
        .delete(&caller, &format!("/connectionSpecs/{spec_id}"))
        .await;
    assert_flow_error(&refused, "1447-400");
    assert!(
        refused.body["report"]["detailed-message"]
            .as_str()
            .unwrap()
            .contains(REST_STORAGE_TO_AEP),
        "{}",
        refused.body
    );
    assert_eq!(
        app.get(&caller, &format!("/connectionSpecs/{spec_id}"))
            .await
            .status,
        StatusCode::OK
    );
    // The built-in data-lake spec is listed as a target: it cannot go either.
    assert_flow_error(
        &app.delete(&caller, &format!("/connectionSpecs/{DATA_LAKE}"))
            .await,
        "1447-400",
    );
}

fn minimal_flow_spec(transformation_key: &str) -> Value {
    json!({
        "name": "CustomFlow",
        "providerId": "0ed90a81-07f4-4586-8190-b40eccef1c5a",
        "version": "1.0",
        "sourceConnectionSpecIds": [],
        "targetConnectionSpecIds": [DATA_LAKE],
        transformation_key: [{"name": "Mapping", "spec": {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "properties": {"mappingId": {"type": "string"}}}}]
    })
}

#[tokio::test]
async fn transformation_spec_aliases_are_accepted_and_returned_as_transformation_specs() {
    let app = TestApp::new().await;
    let caller = app.caller();
    for alias in [
        "transformationSpec",
        "transformationSpecs",
        "transformationSpecDTOS",
    ] {
        let created = app
            .post(&caller, "/flowSpecs", &minimal_flow_spec(alias))
            .await;
        assert_eq!(
            created.status,
            StatusCode::CREATED,
            "{alias}: {}",
            created.body
        );
        assert_eq!(
            created.body["transformationSpecs"][0]["name"], "Mapping",
            "{alias}"
        );
        for other in ["transformationSpec", "transformationSpecDTOS"] {
            assert!(
                created.body.get(other).is_none(),
                "{alias} leaves no {other}"
            );
        }
        let id = created.body["id"].as_str().unwrap();
        let replaced = app
            .put(
                &caller,
                &format!("/flowSpecs/{id}"),
                &minimal_flow_spec(alias),
            )
            .await;
        assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
        assert_eq!(replaced.body["transformationSpecs"][0]["name"], "Mapping");
    }
}

#[tokio::test]
async fn an_invalid_flow_spec_lists_every_problem() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let reply = app
        .post(
            &caller,
            "/flowSpecs",
            &json!({"sourceConnectionSpecIds": "nope"}),
        )
        .await;
    assert_flow_error(&reply, "1100-400");
    let pointers: Vec<&str> = reply.body["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|problem| problem["pointer"].as_str().unwrap())
        .collect();
    for expected in ["/name", "/providerId", "/sourceConnectionSpecIds"] {
        assert!(pointers.contains(&expected), "{pointers:?}");
    }
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_the_flow_service_format() {
    let app = TestApp::new().await;
    let caller = app.caller();
    assert_flow_error(&app.get(&caller, "/noSuchCollection").await, "1101-404");
    assert_flow_error(
        &app.delete(&caller, &format!("/flowSpecs/{REST_STORAGE_TO_AEP}"))
            .await,
        "1101-405",
    );
}
