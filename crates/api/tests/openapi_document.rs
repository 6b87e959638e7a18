//! flowd's own OpenAPI document (`GET /openapi.json`) held to the router and to the standard:
//! it is valid OpenAPI 3.1 (the official schema of 2022-10-07, vendored in
//! `fixtures/openapi-3.1-schema-2022-10-07.json` from PyPI's `openapi-spec-validator` 0.9.0,
//! plus what that schema cannot say: every `$ref` resolves, every Schema Object is a valid
//! 2020-12 schema, operation ids are unique, path parameters are declared); every operation
//! `served_routes(Role::All)` lists is documented and every documented one is served; and real
//! answers of the in-process app validate against the schemas documented for them.

mod common;

use std::collections::{BTreeSet, HashSet};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::chain::flow_body;
use common::world::World;
use common::{BASE, Reply, TestApp};
use serde_json::{Value, json};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

async fn fetch_document(app: &TestApp) -> Value {
    let reply = app
        .raw(
            Request::builder()
                .uri("/openapi.json")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.headers["content-type"], "application/json");
    reply.body
}

async fn document() -> Value {
    fetch_document(&TestApp::new().await).await
}

/// Every `(method, path)` the document has, paths in OpenAPI's syntax.
fn documented(document: &Value) -> BTreeSet<(String, String)> {
    let mut operations = BTreeSet::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in METHODS {
            if item.get(method).is_some() {
                operations.insert((method.to_ascii_uppercase(), path.clone()));
            }
        }
    }
    operations
}

/// axum's `{id}` and `{*path}` written as OpenAPI's `{id}` and `{path}`.
fn openapi_path(axum_path: &str) -> String {
    axum_path.replace("{*", "{")
}

fn served() -> BTreeSet<(String, String)> {
    flowd_api::served_routes(flowd_api::Role::All)
        .into_iter()
        .map(|route| (route.method.to_string(), openapi_path(&route.path)))
        .collect()
}

#[tokio::test]
async fn every_served_operation_is_documented_and_every_documented_one_is_served() {
    let document = document().await;
    let documented = documented(&document);
    let served = served();
    let undocumented: Vec<String> = served
        .difference(&documented)
        .map(|(method, path)| format!("  + {method} {path}"))
        .collect();
    let unserved: Vec<String> = documented
        .difference(&served)
        .map(|(method, path)| format!("  - {method} {path}"))
        .collect();
    assert!(
        undocumented.is_empty() && unserved.is_empty(),
        "/openapi.json and the router disagree.\n\
         Served but not documented (document them in crates/api/src/openapi/):\n{}\n\
         Documented but not served:\n{}",
        undocumented.join("\n"),
        unserved.join("\n"),
    );
}

#[tokio::test]
async fn every_role_that_serves_the_api_serves_the_document_and_a_worker_does_not() {
    let served = |role| {
        flowd_api::served_routes(role)
            .iter()
            .any(|route| route.path == "/openapi.json")
    };
    assert!(served(flowd_api::Role::All));
    assert!(served(flowd_api::Role::Api));
    assert!(!served(flowd_api::Role::Worker));
}

#[tokio::test]
async fn the_document_is_valid_openapi_3_1() {
    let document = document().await;
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/openapi-3.1-schema-2022-10-07.json"
    );
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let validator = jsonschema::draft202012::new(&schema).expect("the OpenAPI 3.1 schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&document)
        .map(|error| format!("  at {}: {error}", error.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "not valid OpenAPI 3.1:\n{}",
        errors.join("\n")
    );
    assert_eq!(document["openapi"], "3.1.0");
}

/// Every `(JSON pointer, value)` of `value` whose key is `key`.
fn members_named<'a>(
    value: &'a Value,
    key: &str,
    at: String,
    found: &mut Vec<(String, &'a Value)>,
) {
    match value {
        Value::Object(members) => {
            for (name, member) in members {
                let pointer = format!("{at}/{}", name.replace('~', "~0").replace('/', "~1"));
                if name == key {
                    found.push((pointer.clone(), member));
                }
                members_named(member, key, pointer, found);
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                members_named(item, key, format!("{at}/{index}"), found);
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn every_reference_resolves_and_every_schema_is_a_2020_12_schema() {
    let document = document().await;
    let mut references = Vec::new();
    members_named(&document, "$ref", String::new(), &mut references);
    assert!(!references.is_empty());
    let unresolved: Vec<String> = references
        .iter()
        .filter_map(|(at, reference)| {
            let target = reference.as_str()?.strip_prefix('#')?;
            document
                .pointer(target)
                .is_none()
                .then(|| format!("  {at}: {reference}"))
        })
        .collect();
    assert!(
        unresolved.is_empty(),
        "unresolved references:\n{}",
        unresolved.join("\n")
    );
    let mut schemas = Vec::new();
    members_named(&document, "schema", String::new(), &mut schemas);
    for (name, schema) in document["components"]["schemas"].as_object().unwrap() {
        schemas.push((format!("/components/schemas/{name}"), schema));
    }
    let invalid: Vec<String> = schemas
        .iter()
        .filter(|(_, schema)| schema.is_object())
        .filter_map(|(at, schema)| {
            jsonschema::draft202012::meta::validate(schema)
                .err()
                .map(|error| format!("  {at}: {error}"))
        })
        .collect();
    assert!(
        invalid.is_empty(),
        "not JSON Schema 2020-12:\n{}",
        invalid.join("\n")
    );
}

/// An operation's parameters, `$ref`s resolved.
fn parameters<'a>(document: &'a Value, operation: &'a Value) -> Vec<&'a Value> {
    operation["parameters"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|parameter| match parameter["$ref"].as_str() {
            Some(reference) => document
                .pointer(reference.trim_start_matches('#'))
                .expect("a resolving $ref"),
            None => parameter,
        })
        .collect()
}

#[tokio::test]
async fn operation_ids_are_unique_and_path_parameters_are_declared() {
    let document = document().await;
    let mut ids = HashSet::new();
    let mut problems = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        let templated: BTreeSet<String> = path
            .split('/')
            .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
            .map(str::to_owned)
            .collect();
        for method in METHODS {
            let Some(operation) = item.get(method) else {
                continue;
            };
            let id = operation["operationId"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            if id.is_empty() || !ids.insert(id.clone()) {
                problems.push(format!(
                    "{method} {path}: operationId '{id}' missing or repeated"
                ));
            }
            for field in ["summary", "tags", "responses"] {
                if operation.get(field).is_none() {
                    problems.push(format!("{method} {path}: no {field}"));
                }
            }
            if operation["responses"].get("default").is_none() {
                problems.push(format!("{method} {path}: no default (error) response"));
            }
            let declared: BTreeSet<String> = parameters(&document, operation)
                .into_iter()
                .filter(|parameter| parameter["in"] == "path")
                .filter_map(|parameter| parameter["name"].as_str().map(str::to_owned))
                .collect();
            if declared != templated {
                problems.push(format!(
                    "{method} {path}: path parameters declared {declared:?}, in the path {templated:?}"
                ));
            }
        }
    }
    let mut links = Vec::new();
    members_named(&document["paths"], "links", String::new(), &mut links);
    for (at, named) in links {
        for link in named.as_object().unwrap().values() {
            let target = link["operationId"].as_str().unwrap_or_default();
            if !ids.contains(target) {
                problems.push(format!("{at}: a link to no operation '{target}'"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The schema documented for `status` (or `default`) of `method path`, as JSON, ready to
/// compile: the document's components ride along so `#/components/...` resolves.
fn response_schema(document: &Value, method: &str, path: &str, status: u16) -> Value {
    let responses = &document["paths"][path][method.to_ascii_lowercase()]["responses"];
    assert!(responses.is_object(), "{method} {path} is not documented");
    let mut response = responses
        .get(status.to_string())
        .or_else(|| responses.get("default"))
        .unwrap_or_else(|| panic!("{method} {path}: no response for {status}"));
    if let Some(reference) = response["$ref"].as_str() {
        response = document.pointer(reference.trim_start_matches('#')).unwrap();
    }
    let mut schema = response["content"]["application/json"]["schema"].clone();
    assert!(
        schema.is_object(),
        "{method} {path} {status}: no JSON schema"
    );
    schema["components"] = document["components"].clone();
    schema
}

/// Checks `reply`, the answer to `method path` (`path` as documented), against its schema.
fn check(document: &Value, method: &str, path: &str, reply: &Reply) {
    let schema = response_schema(document, method, path, reply.status.as_u16());
    let validator = jsonschema::draft202012::new(&schema).expect("the response schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&reply.body)
        .map(|error| format!("  at {}: {error}", error.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {path} answered {} not as documented:\n{}\nbody: {}",
        reply.status,
        errors.join("\n"),
        reply.body
    );
}

#[tokio::test]
async fn real_answers_validate_against_their_documented_schemas() {
    let world = World::build().await;
    let (app, caller) = (&world.app, &world.caller);
    let document = fetch_document(app).await;
    let flow_service = |suffix: &str| format!("{BASE}{suffix}");

    let specs = app.get(caller, "/connectionSpecs").await;
    assert_eq!(specs.status, StatusCode::OK);
    check(&document, "GET", &flow_service("/connectionSpecs"), &specs);
    let count = app.get(caller, "/connectionSpecs?count=true").await;
    check(&document, "GET", &flow_service("/connectionSpecs"), &count);
    let spec = app
        .get(caller, &format!("/connectionSpecs/{}", world.spec_id))
        .await;
    check(
        &document,
        "GET",
        &flow_service("/connectionSpecs/{id}"),
        &spec,
    );

    let mut flow = flow_body(&world.spare_source_id, &world.spare_target_id);
    flow["name"] = json!("another dataflow");
    let created = app.post(caller, "/flows", &flow).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    check(&document, "POST", &flow_service("/flows"), &created);

    for (collection, id) in [
        ("connections", &world.connection_id),
        ("sourceConnections", &world.source_id),
        ("targetConnections", &world.target_id),
        ("flows", &world.flow_id),
        ("runs", &world.finished_run_id),
    ] {
        let list = app.get(caller, &format!("/{collection}")).await;
        assert_eq!(list.status, StatusCode::OK, "{}", list.body);
        check(
            &document,
            "GET",
            &flow_service(&format!("/{collection}")),
            &list,
        );
        let one = app.get(caller, &format!("/{collection}/{id}")).await;
        assert_eq!(one.status, StatusCode::OK, "{}", one.body);
        check(
            &document,
            "GET",
            &flow_service(&format!("/{collection}/{{id}}")),
            &one,
        );
    }

    let catalog = |suffix: &str| format!("{}{suffix}", flowd_api::CATALOG_BASE_PATH);
    let datasets = app
        .send_under(
            flowd_api::CATALOG_BASE_PATH,
            caller,
            "GET",
            "/dataSets",
            None,
        )
        .await;
    check(&document, "GET", &catalog("/dataSets"), &datasets);
    let dataset = app
        .send_under(
            flowd_api::CATALOG_BASE_PATH,
            caller,
            "GET",
            &format!("/dataSets/{}", world.dataset_id),
            None,
        )
        .await;
    assert_eq!(dataset.status, StatusCode::OK, "{}", dataset.body);
    check(&document, "GET", &catalog("/dataSets/{id}"), &dataset);

    // A draft keeps whatever its client wrote in the fields a draft need not have (schemathesis
    // found answers promising more): the document types only what flowd writes itself.
    let draft = app
        .post(
            caller,
            "/flows?mode=draft",
            &json!({"name": "", "flowSpec": {"id": null}, "sourceConnectionIds": [],
                    "scheduleParams": {"backfill": [null, null]}, "transformations": {}}),
        )
        .await;
    assert_eq!(draft.status, StatusCode::CREATED, "{}", draft.body);
    let draft_id = draft.body["id"].as_str().unwrap();
    let read = app.get(caller, &format!("/flows/{draft_id}")).await;
    check(&document, "GET", &flow_service("/flows/{id}"), &read);

    let missing = app
        .get(caller, "/flows/0f0c1a52-8a47-4bd5-9a89-2f5b7f6f9e11")
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    check(&document, "GET", &flow_service("/flows/{id}"), &missing);
    let not_an_id = app.get(caller, "/flows/not-a-uuid").await;
    assert_eq!(not_an_id.status, StatusCode::BAD_REQUEST);
    check(&document, "GET", &flow_service("/flows/{id}"), &not_an_id);

    let mut stranger = caller.clone();
    stranger.token = "not-a-token".into();
    let refused = app.get(&stranger, "/flows").await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    check(&document, "GET", &flow_service("/flows"), &refused);

    let health = app
        .raw(
            Request::builder()
                .uri("/healthz")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    check(&document, "GET", "/healthz", &health);
}
