//! Every operation of Adobe's OpenAPI file for Flow Service
//! (`../shared/aep-flow-service/flow-service.openapi.yaml`, next to the repository), read from
//! the file itself: each is sent as a well-formed request against a sandbox holding real
//! resources, and must be routed (no 404 or 405 of an unknown route) and answer one of the
//! success statuses the file declares for it. An operation the file adds without a request
//! here fails the test, as does a request here for an operation the file does not have.

mod common;

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::Request;
use common::world::{World, source_params};
use common::{BASE, Reply, fixture};
use serde_json::{Value, json};
use yaml_rust2::{Yaml, YamlLoader};

/// Where Adobe's OpenAPI file lies, beside the repository.
fn openapi_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/aep-flow-service/flow-service.openapi.yaml")
}

/// One operation of the file.
#[derive(Debug, Clone)]
struct Operation {
    method: String,
    path: String,
    id: String,
    /// The statuses the file declares, e.g. `["200", "403", "503"]`.
    statuses: Vec<u16>,
}

fn operations() -> Vec<Operation> {
    let path = openapi_path();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!(
            "Adobe's OpenAPI file is read from {} ({error}); the tests need it next to the repository",
            path.display()
        )
    });
    let documents = YamlLoader::load_from_str(&text).expect("the OpenAPI file is YAML");
    let paths = documents[0]["paths"].as_hash().expect("paths");
    let mut operations = Vec::new();
    for (path, methods) in paths {
        let path = path.as_str().expect("a path").to_owned();
        for (method, operation) in methods.as_hash().expect("methods") {
            let method = method.as_str().expect("a method").to_ascii_uppercase();
            if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&method.as_str()) {
                continue;
            }
            let statuses = operation["responses"]
                .as_hash()
                .expect("responses")
                .keys()
                .map(|status| match status {
                    Yaml::String(text) => text.parse().expect("a status"),
                    Yaml::Integer(number) => *number as u16,
                    other => panic!("a status: {other:?}"),
                })
                .collect();
            operations.push(Operation {
                method: method.clone(),
                path: path.clone(),
                id: operation["operationId"]
                    .as_str()
                    .expect("operationId")
                    .to_owned(),
                statuses,
            });
        }
    }
    operations
}

/// What to send for one operation: query, body and whether it needs the resource's etag.
struct Call {
    query: String,
    body: Option<Value>,
    if_match: bool,
}

fn call(query: &str, body: Option<Value>) -> Call {
    Call {
        query: query.to_owned(),
        body,
        if_match: false,
    }
}

fn with_if_match(mut call: Call) -> Call {
    call.if_match = true;
    call
}

/// The request of each operation of the file, by `operationId`.
fn calls(world: &World) -> BTreeMap<&'static str, Call> {
    let rename = json!([{"op": "replace", "path": "/name", "value": "renamed"}]);
    let explore = format!(
        "?objectType=rest&object=json&fileType=json&preview=True&sourceParams={}",
        source_params()
    );
    let mut spec = fixture("seed_mailchimp_update.json");
    spec["name"] = json!("a second MailChimp spec");
    BTreeMap::from([
        ("listConnections", call("?count=False&limit=5", None)),
        (
            "createConnection",
            call(
                "",
                Some(json!({
                    "name": "one more connection",
                    "connectionSpec": {"id": world.spec_id, "version": "1.0"},
                    "auth": {"specName": "Basic Authentication", "params": {
                        "host": world.mock.base_url(), "username": "anystring",
                        "password": common::chain::PASSWORD
                    }}
                })),
            ),
        ),
        ("retrieveConnection", call("", None)),
        ("testConnection", call("", None)),
        ("getByConnectionId", call(&explore, None)),
        ("performAction", call("?op=PUBLISH", Some(json!({})))),
        ("deleteConnection", call("", None)),
        (
            "patchConnection",
            with_if_match(call("", Some(rename.clone()))),
        ),
        (
            "exploreConfigByConnectionId",
            call(&format!("?sourceParams={}", source_params()), None),
        ),
        (
            "getConnectionsByFilters",
            call(
                "",
                Some(json!({"queryString": "name==\"renamed\"", "limit": 10})),
            ),
        ),
        (
            "listConnectionSpecs",
            call("?property=name=='RestStorageToAEP'", None),
        ),
        ("createConnectionSpec", call("", Some(spec.clone()))),
        ("retrieveConnectionSpec", call("", None)),
        (
            "updateConnectionSpec",
            call("", Some(fixture("seed_mailchimp_update.json"))),
        ),
        ("exploreByConnectionSpecId", call("", None)),
        ("configByConnectionSpecId", call("", None)),
        ("listFlows", call("?count=TRUE", None)),
        (
            "createFlow",
            call(
                "",
                Some({
                    let mut flow = common::chain::flow_body(&world.source_id, &world.target_id);
                    flow["name"] = json!("one more dataflow");
                    flow
                }),
            ),
        ),
        ("retrieveFlow", call("", None)),
        ("deleteByFlow", call("", None)),
        ("patchFlow", with_if_match(call("", Some(rename.clone())))),
        (
            "getFlowsByFilters",
            call(
                "",
                Some(
                    json!({"queryString": "state==enabled", "count": false, "projectionFields": "name,state"}),
                ),
            ),
        ),
        ("postStateTransition", call("?op=disable", Some(json!({})))),
        (
            "listFlowSpecs",
            call("?property=name==RestStorageToAEP", None),
        ),
        ("createFlowSpec", call("", Some(json!(null)))),
        ("retrieveFlowSpec", call("", None)),
        ("updateFlowSpec", call("", Some(json!(null)))),
        (
            "searchFlowSpecs",
            call("", Some(json!({"queryString": "name==RestStorageToAEP"}))),
        ),
        (
            "listFlowRuns",
            call(
                &format!("?property=flowId=={}&count=false", world.flow_id),
                None,
            ),
        ),
        (
            "createFlowRun",
            call(
                "",
                Some(
                    json!({"flowId": world.flow_id, "params": {"windowStartTime": "1200", "windowEndTime": "1800"}}),
                ),
            ),
        ),
        ("retrieveFlowRun", call("", None)),
        (
            "updateRun",
            with_if_match(call("", Some(json!({"flowId": world.flow_id})))),
        ),
        ("postAction", call("?op=re-trigger", Some(json!({})))),
        ("getSourceConnections", call("?count=false", None)),
        (
            "createSourceConnection",
            call(
                "",
                Some(common::chain::source_body(
                    &world.spec_id,
                    &world.connection_id,
                )),
            ),
        ),
        ("retrieveSourceConnection", call("", None)),
        ("deleteSourceConnection", call("", None)),
        (
            "patchSourceConnection",
            with_if_match(call("", Some(rename.clone()))),
        ),
        ("performAction_1", call("?op=publish", Some(json!({})))),
        ("getTargetConnections", call("?count=false", None)),
        (
            "createTargetConnection",
            call("", Some(common::chain::target_body(&world.dataset_id))),
        ),
        ("performAction_2", call("?op=PUBLISH", Some(json!({})))),
        ("retrieveTargetConnection", call("", None)),
        ("deleteTargetConnection", call("", None)),
        (
            "patchTargetConnection",
            with_if_match(call("", Some(rename))),
        ),
    ])
}

/// The file's path with the world's ids: deletes take the spares, runs the finished run.
fn concrete_path(world: &World, operation: &Operation) -> String {
    let deleting = operation.method == "DELETE";
    let pick = |kept: &str, spare: &str| {
        if deleting {
            spare.to_owned()
        } else {
            kept.to_owned()
        }
    };
    operation
        .path
        .replace(
            "{BASE_CONNECTION_ID}",
            &pick(&world.connection_id, &world.spare_connection_id),
        )
        .replace("{CONNECTION_SPEC_ID}", &world.spec_id)
        .replace("{FLOW_ID}", &pick(&world.flow_id, &world.spare_flow_id))
        .replace("{FLOW_SPEC_ID}", &world.flow_spec_id)
        .replace("{RUN_ID}", &world.finished_run_id)
        .replace(
            "{SOURCE_CONNECTION_ID}",
            &pick(&world.source_id, &world.spare_source_id),
        )
        .replace(
            "{TARGET_CONNECTION_ID}",
            &pick(&world.target_id, &world.spare_target_id),
        )
}

/// The body of a flow spec call: the built-in flow spec as read (renamed for a create).
async fn flow_spec_body(world: &World, create: bool) -> Value {
    let mut flow_spec = world
        .app
        .get(&world.caller, &format!("/flowSpecs/{}", world.flow_spec_id))
        .await
        .body["items"][0]
        .clone();
    if create {
        let fields = flow_spec.as_object_mut().unwrap();
        fields.shift_remove("id");
        fields.insert("name".into(), json!("A copy of RestStorageToAEP"));
    }
    flow_spec
}

async fn send(
    world: &World,
    method: &str,
    path: &str,
    body: Option<&Value>,
    if_match: Option<&str>,
) -> Reply {
    let caller = &world.caller;
    let mut request = Request::builder()
        .method(method)
        .uri(format!("{BASE}{path}"))
        .header("authorization", format!("Bearer {}", caller.token))
        .header("x-api-key", &caller.api_key)
        .header("x-gw-ims-org-id", &caller.org)
        .header("x-sandbox-name", &caller.sandbox);
    if body.is_some() {
        request = request.header("content-type", "application/json");
    }
    if let Some(etag) = if_match {
        request = request.header("if-match", etag);
    }
    let body = body
        .map(|value| Body::from(value.to_string()))
        .unwrap_or_default();
    world.app.raw(request.body(body).unwrap()).await
}

#[tokio::test]
async fn every_operation_of_adobes_openapi_file_is_routed_and_answers_a_documented_status() {
    let operations = operations();
    assert_eq!(operations.len(), 45, "the file's operations");
    let world = World::build().await;
    let mut calls = calls(&world);
    let unknown: Vec<&str> = operations
        .iter()
        .map(|operation| operation.id.as_str())
        .filter(|id| !calls.contains_key(id))
        .collect();
    assert!(
        unknown.is_empty(),
        "operations of the file without a request here: {unknown:?}"
    );
    let stale: Vec<&str> = calls
        .keys()
        .copied()
        .filter(|id| !operations.iter().any(|operation| operation.id == *id))
        .collect();
    assert!(
        stale.is_empty(),
        "requests for operations the file does not have: {stale:?}"
    );

    // Deletes last, so the other operations find what they read.
    let (deletes, others): (Vec<Operation>, Vec<Operation>) = operations
        .into_iter()
        .partition(|operation| operation.method == "DELETE");
    let mut failures = Vec::new();
    for operation in others.iter().chain(&deletes) {
        let call = calls.remove(operation.id.as_str()).unwrap();
        let path = concrete_path(&world, operation);
        let body = match operation.id.as_str() {
            "createFlowSpec" => Some(flow_spec_body(&world, true).await),
            "updateFlowSpec" => Some(flow_spec_body(&world, false).await),
            _ => call.body,
        };
        let etag = match call.if_match {
            true => Some(world.etag(path.trim_end_matches('/')).await),
            false => None,
        };
        let target = format!("{path}{}", call.query);
        let reply = send(
            &world,
            &operation.method,
            &target,
            body.as_ref(),
            etag.as_deref(),
        )
        .await;
        let status = reply.status.as_u16();
        let documented_success = operation
            .statuses
            .iter()
            .any(|declared| *declared == status && (200..300).contains(declared));
        if !documented_success {
            failures.push(format!(
                "{} {} ({}) answered {status}, the file declares {:?}: {}",
                operation.method, target, operation.id, operation.statuses, reply.body
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
